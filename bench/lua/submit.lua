-- POST /api/v1/applications/{id}/submit for drafts listed in BENCH_IDS (one id a line), each thread taking its own
-- slice (BENCH_THREADS threads), each draft once; a unique Idempotency-Key unless BENCH_IDEMPOTENCY=0. When a
-- thread runs out of drafts it starts again, and the answers become 409 (counted as errors: make the list long
-- enough).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local h, mine, i, run, keys
function init(args)
  h = c.headers(c.env("BENCH_TOKEN"))
  h["Content-Type"] = "application/json"
  mine = c.my_slice()
  i = 0
  run = c.env("BENCH_RUN", tostring(os.time()))
  keys = c.env("BENCH_IDEMPOTENCY", "1") ~= "0"
end

function request()
  i = i + 1
  local id = mine[(i - 1) % #mine + 1][1]
  if keys then h["Idempotency-Key"] = string.format("bench-submit-%s-%d-%d", run, tid, i) end
  return wrk.format("POST", "/api/v1/applications/" .. id .. "/submit", h, "{}")
end

setup = c.setup
done = c.done

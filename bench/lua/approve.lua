-- POST /api/v1/applications/{id}/approve with a grant of BENCH_GRANT cents (default 100000), all in the project's
-- first year, for applications in review listed in BENCH_IDS (lines "id first-year"; all of one funding line: the
-- approvals race on its budget), each thread
-- taking its own slice (BENCH_THREADS threads), each application once; a unique Idempotency-Key unless
-- BENCH_IDEMPOTENCY=0. When a thread runs out of applications it starts again, and the answers become 409 (counted
-- as errors: make the list long enough).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local h, mine, i, run, keys, grant
function init(args)
  h = c.headers(c.env("BENCH_TOKEN"))
  h["Content-Type"] = "application/json"
  mine = c.my_slice()
  i = 0
  run = c.env("BENCH_RUN", tostring(os.time()))
  keys = c.env("BENCH_IDEMPOTENCY", "1") ~= "0"
  grant = tonumber(c.env("BENCH_GRANT", "100000"))
end

function request()
  i = i + 1
  local app = mine[(i - 1) % #mine + 1]
  if keys then h["Idempotency-Key"] = string.format("bench-approve-%s-%d-%d", run, tid, i) end
  local body = string.format('{"grantedCents": %d, "years": [{"year": %s, "grantedCents": %d}], ' ..
    '"note": "Bewilligt (Benchmark)."}', grant, app[2], grant)
  return wrk.format("POST", "/api/v1/applications/" .. app[1] .. "/approve", h, body)
end

setup = c.setup
done = c.done

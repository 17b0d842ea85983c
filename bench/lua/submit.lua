-- POST /api/v1/applications/{id}/submit for drafts listed in BENCH_IDS (one id a line), each thread taking its own
-- slice (BENCH_THREADS threads), each draft once; a unique Idempotency-Key unless BENCH_IDEMPOTENCY=0. When a
-- thread runs out of drafts it starts again, and the answers become 409 (counted as errors: make the list long
-- enough).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local s
function init(args)
  s = c.each_once()
end

function request()
  return c.post_next(s, "submit", function() return "{}" end)
end

setup = c.setup
done = c.done

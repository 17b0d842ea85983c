-- POST /api/v1/applications/{id}/approve with a grant of BENCH_GRANT cents (default 100000), all in the project's
-- first year, for applications in review listed in BENCH_IDS (lines "id first-year"; all of one funding line: the
-- approvals race on its budget), each thread taking its own slice (BENCH_THREADS threads), each application once; a
-- unique Idempotency-Key unless BENCH_IDEMPOTENCY=0. When a thread runs out of applications it starts again, and the
-- answers become 409 (counted as errors: make the list long enough).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local s, grant
function init(args)
  s = c.each_once()
  grant = tonumber(c.env("BENCH_GRANT", "100000"))
end

function request()
  return c.post_next(s, "approve", function(app)
    return string.format('{"grantedCents": %d, "years": [{"year": %s, "grantedCents": %d}], ' ..
      '"note": "Bewilligt (Benchmark)."}', grant, app[2], grant)
  end)
end

setup = c.setup
done = c.done

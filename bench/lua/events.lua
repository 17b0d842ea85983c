-- GET /api/v1/events?after=X&limit=BENCH_LIMIT with X drawn between BENCH_AFTER_MIN and BENCH_AFTER_MAX
-- (the middle of the feed), as BENCH_TOKEN.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local lo, hi, limit, h
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  lo = tonumber(c.env("BENCH_AFTER_MIN", "0"))
  hi = tonumber(c.env("BENCH_AFTER_MAX", "0"))
  limit = c.env("BENCH_LIMIT", "100")
  h = c.headers(c.env("BENCH_TOKEN"))
end

function request()
  return wrk.format("GET", "/api/v1/events?after=" .. math.random(lo, hi) .. "&limit=" .. limit, h)
end

setup = c.setup
done = c.done

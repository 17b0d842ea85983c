-- GET one fixed path: BENCH_PATH (e.g. /health/live or a list URL with its cursor), BENCH_TOKEN optional.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local req
function init(args)
  req = wrk.format("GET", c.env("BENCH_PATH", "/health/live"), c.headers(c.env("BENCH_TOKEN")))
end

function request() return req end

setup = c.setup
done = c.done

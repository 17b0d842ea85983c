-- GET /api/v1/applications/{id} for ids drawn at random from BENCH_IDS (lines "id org-index").
-- With BENCH_TOKENS (lines "org-index token") each request carries the token of the application's own
-- organisation (a municipality reading its own applications); otherwise BENCH_TOKEN (ministry, service unit).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local ids, orgs, tokens, fixed = {}, {}, {}, nil
-- BENCH_PREFIX: another path before the id (bench/bare serves /applications/{id}).
local prefix = os.getenv("BENCH_PREFIX") or "/api/v1/applications/"

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  for _, line in ipairs(c.lines(c.env("BENCH_IDS"))) do
    local f = c.fields(line)
    ids[#ids + 1] = f[1]
    orgs[#orgs + 1] = f[2]
  end
  local tokfile = c.env("BENCH_TOKENS")
  if tokfile then
    for _, line in ipairs(c.lines(tokfile)) do
      local f = c.fields(line)
      tokens[f[1]] = c.headers(f[2])
    end
  else
    fixed = c.headers(c.env("BENCH_TOKEN"))
  end
end

function request()
  local i = math.random(#ids)
  local h = fixed or tokens[orgs[i]]
  return wrk.format("GET", prefix .. ids[i], h)
end

setup = c.setup
done = c.done

-- POST /api/v1/applications: a complete draft (it could be submitted as it is) for the caller's organisation, a
-- new title and, unless BENCH_IDEMPOTENCY=0, a unique Idempotency-Key on every request.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")

local h, n, run, keys
function init(args)
  h = c.headers(c.env("BENCH_TOKEN"))
  h["Content-Type"] = "application/json"
  n = 0
  run = c.env("BENCH_RUN", tostring(os.time()))
  keys = c.env("BENCH_IDEMPOTENCY", "1") ~= "0"
end

local body = '{"fundingLine": "VA", "title": "Versorgungsanalyse Benchmark %s-%d-%d", ' ..
  '"description": "Analyse der hausärztlichen Versorgung bis 2035 mit Altersstruktur der Praxen und Empfehlungen ' ..
  'für Nachbesetzungen.", "startDate": "2027-03-01", "endDate": "2028-02-29", ' ..
  '"financingPlan": {"totalCostsCents": 6000000, "ownFundsCents": 1800000, "thirdPartyFundsCents": 0, ' ..
  '"requestedCents": 4200000}, ' ..
  '"contact": {"name": "Dr. Maria Becker", "email": "foerderung@example.org", "phone": "+49 5651 302-0"}}'

function request()
  n = n + 1
  if keys then h["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, tid, n) end
  return wrk.format("POST", "/api/v1/applications", h, string.format(body, run, tid, n))
end

setup = c.setup
done = c.done

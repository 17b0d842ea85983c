-- Shared by the benchmark's wrk scripts (loaded with require; bench/run sets BENCH_LUA_DIR).
--
-- Environment: BENCH_TOKEN (a bearer token; none for anonymous requests).
-- Every script ends with the same done(): one machine-readable line "BENCHJSON {...}" that bench/run records.

local M = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

-- The lines of a file (a benchmark's sample of ids, tokens, ...).
function M.lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- Whitespace-separated fields of a line.
function M.fields(line)
  local out = {}
  for w in line:gmatch("%S+") do out[#out + 1] = w end
  return out
end

-- This thread's share of the lines of BENCH_IDS (every BENCH_THREADS-th line, from its own number on), each split
-- into fields: each item is used once, whichever thread sends it.
function M.my_slice()
  local threads = tonumber(M.env("BENCH_THREADS", "1"))
  local mine = {}
  for k, line in ipairs(M.lines(M.env("BENCH_IDS"))) do
    if (k - 1) % threads == tid then mine[#mine + 1] = M.fields(line) end
  end
  return mine
end

-- For scripts that POST a lifecycle action once to each listed application (submit.lua, approve.lua): this thread's
-- applications, the headers, and whether to send an Idempotency-Key (unless BENCH_IDEMPOTENCY=0).
function M.each_once()
  local h = M.headers(M.env("BENCH_TOKEN"))
  h["Content-Type"] = "application/json"
  return { headers = h, items = M.my_slice(), i = 0, run = M.env("BENCH_RUN", tostring(os.time())),
           keys = M.env("BENCH_IDEMPOTENCY", "1") ~= "0" }
end

-- The next request of such a script: POST /api/v1/applications/{id}/{action} with body_of(fields of the line).
-- When the thread has used all its applications it starts again (the answers become 409: make the list long enough).
function M.post_next(s, action, body_of)
  s.i = s.i + 1
  local item = s.items[(s.i - 1) % #s.items + 1]
  if s.keys then s.headers["Idempotency-Key"] = string.format("bench-%s-%s-%d-%d", action, s.run, tid, s.i) end
  return wrk.format("POST", "/api/v1/applications/" .. item[1] .. "/" .. action, s.headers, body_of(item))
end

function M.headers(token)
  local h = { ["Accept"] = "application/json" }
  if token ~= nil and token ~= "" then h["Authorization"] = "Bearer " .. token end
  return h
end

-- Numbers the threads so that each can take its own slice of a list.
local counter = 0
function M.setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

return M

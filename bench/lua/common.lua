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

-- wrk script for the baseline. It costs the load generator what seckill.lua costs it (a request
-- built per call carrying the next buyer's JWT, a response callback matching the body), so the
-- two runs differ only in the server's route: POST /hello answers "hello" and ignores the token.
local tokens = {}
local counter = 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
  counter = id * 7919
  statuses = {}
end

function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("POST", "/hello", { ["Authorization"] = "Bearer " .. token }, "")
end

function response(status, headers, body)
  local code = string.match(body, '"code":(%-?%d+)') or ("http" .. status)
  statuses[code] = (statuses[code] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end

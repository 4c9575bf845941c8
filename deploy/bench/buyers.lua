-- wrk script for both runs of deploy/bench/seckill: each request is POST $TARGET_PATH by the next
-- buyer (a JWT per line in $TOKENS); counts the ResponseVo codes (or "http<status>" without one).
-- The flash sale uses TARGET_PATH=/miaosha/<sku>; the hello baseline uses /hello with the very
-- same requests and script work, so the two runs differ only in the server's route.
local tokens = {}
local counter = 0
local path = os.getenv("TARGET_PATH")
codes = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
  counter = id * 7919
  codes = {}
end

function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token }, "")
end

function response(status, headers, body)
  local code = string.match(body, '"code":(%-?%d+)') or ("http" .. status)
  codes[code] = (codes[code] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d codes=%s\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status,
    table.concat(parts, ",")))
end

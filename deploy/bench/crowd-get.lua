-- wrk script for deploy/bench/page: GET $TARGET_PATH, each request from another client address
-- (X-Forwarded-For, believed from the local trusted proxy), as a crowd of buyers refreshing the
-- flash-sale page would arrive; counts the HTTP statuses.
local counter = 0
local path = os.getenv("TARGET_PATH")
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  counter = id * 1000003
  statuses = {}
end

function request()
  counter = counter + 1
  local ip = string.format("10.%d.%d.%d", math.floor(counter / 65536) % 256, math.floor(counter / 256) % 256, counter % 256)
  return wrk.format("GET", path, { ["X-Forwarded-For"] = ip, ["Accept"] = "application/json" })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = k .. "x" .. v end
  table.sort(parts)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d statuses=%s\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, table.concat(parts, ",")))
end

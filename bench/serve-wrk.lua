-- wrk script for bench/serve-bench.js. Each request takes the next line of
-- $REQUESTS_FILE ("<Authorization value>\t<client IP>"), so every request carries
-- a different key; the file is read once and every request pre-formatted.
local path = os.getenv("WRK_PATH") or "/v1/auth"
local reqs = {}
local f = assert(io.open(os.getenv("REQUESTS_FILE")))
for line in f:lines() do
  local auth, ip = line:match("^([^\t]+)\t(.+)$")
  reqs[#reqs + 1] = wrk.format("GET", path, { ["Host"] = "127.0.0.1", ["Authorization"] = auth, ["X-Real-IP"] = ip })
end
f:close()
local n = #reqs
local i = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  i = ((tid or 0) * 7919) % n
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

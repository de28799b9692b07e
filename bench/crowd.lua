-- wrk script for `make bench-load`'s crowd: browsers polling progress partials as htmx does.
--
-- Each wrk thread polls one partial (PATHS, comma-separated, taken in turn by the threads) with
-- HX-Request: true and If-None-Match carrying the last ETag the thread saw, as a browser
-- sends the ETag of the bar it shows. RATE (requests a second, all threads together) paces
-- the connections: each request waits for its thread's next slot, so the load is an even
-- RATE a second rather than as many as the server can take. When every connection is busy
-- the rate falls short; the generator reports what it reached, it does not make it up later.
-- At the end it prints one JSON line: counts, statuses, wrk's errors, latency percentiles (us).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } plunge_timespec;
int clock_gettime(int clk_id, plunge_timespec *tp);
]]
local clock = ffi.new("plunge_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  local paths = {}
  for path in string.gmatch(os.getenv("PATHS") or "/progress", "[^,]+") do
    table.insert(paths, path)
  end
  counter = counter + 1
  thread:set("path", paths[(counter - 1) % #paths + 1])
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  caches = {} -- nginx's X-Cache: HIT, UPDATING (the last copy while one poll refreshes it), ...
  etag = nil
  local rate = tonumber(os.getenv("RATE") or "0")
  local count = tonumber(os.getenv("THREADS") or "1")
  interval = rate > 0 and (1000 * count / rate) or 0 -- ms between this thread's requests
  slot = now_ms() + (id - 1) * interval / count     -- threads interleaved, not in step
end

function delay()
  if interval == 0 then
    return 0
  end
  local t = now_ms()
  -- Fallen more than a second behind (every connection was busy): start again from now
  -- rather than sending the missed requests all at once.
  if slot < t - 1000 then
    slot = t
  end
  local wait = slot - t
  slot = slot + interval
  return wait > 0 and wait or 0
end

function request()
  local headers = { ["HX-Request"] = "true", ["Accept-Encoding"] = "gzip" }
  if etag then
    headers["If-None-Match"] = etag
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local cache = headers["X-Cache"] or "none"
  caches[cache] = (caches[cache] or 0) + 1
  local tag = headers["ETag"] or headers["etag"]
  if tag then
    etag = tag
  end
end

function done(summary, latency, requests)
  local counts, cached = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    for cache, n in pairs(thread:get("caches")) do
      cached[cache] = (cached[cache] or 0) + n
    end
  end
  local parts, caching = {}, {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  for cache, n in pairs(cached) do
    table.insert(caching, string.format('"%s":%d', cache, n))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"statuses":{%s},"x_cache":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, table.concat(parts, ","),
    table.concat(caching, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end

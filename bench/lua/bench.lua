-- wrk script shared by every bench/run.sh measurement.
--
-- BENCH_FORGE (environment variable) picks what each request carries:
--   unset / ""  plain requests; headers come from wrk's -H flags
--   "aitbc"     X-API-Key: aitbc_client_<34 random base62>  (key-shaped, checksum wrong)
--   "foreign"   X-API-Key: <40 random base62>               (not aitbc-shaped at all)
-- BENCH_BODY (environment variable), when set, makes every plain request a POST of that JSON body
-- (bench/storage.sh: durable job submissions).
-- The done() hook prints one machine-readable line starting with "BENCH ".

local forge = os.getenv("BENCH_FORGE") or ""
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
local chars = {}
for i = 1, #alphabet do chars[i] = alphabet:sub(i, i) end

local function random_base62(n)
  local t = {}
  for i = 1, n do t[i] = chars[math.random(62)] end
  return table.concat(t)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

if forge ~= "" then
  function request()
    local key
    if forge == "aitbc" then
      key = "aitbc_client_" .. random_base62(28 + 6)
    else
      key = random_base62(40)
    end
    return wrk.format("GET", wrk.path, { ["X-API-Key"] = key })
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end

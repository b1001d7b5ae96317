-- wrk script: jobs end to end, each connection a client and a miner in turn.
--
-- Run with as many threads as connections (wrk -tN -cN): each thread then has one connection and
-- its own Lua state. Each connection loops: POST /v1/jobs (client key), POST /v1/miners/poll (miner
-- key; takes the oldest queued job, its own or another connection's), POST /v1/miners/{id}/result.
-- At most N jobs are queued at once: every job submitted is taken, nothing piles up unread, and the
-- driver (C, one Lua call per request) costs the machine a fraction of what the server spends.
--
-- Arguments after `--`: CLIENT_KEY MINER_KEY RUN (a label for this run's miner ids).
-- Miners must be registered first as flow-RUN-0 … flow-RUN-(N-1) (bench/lib/flow.sh does it).
-- done() prints one line: "FLOW connections=N jobs=… seconds=… jobs_per_second=… errors=…", errors
-- counting refusals, requests lost on the wire, and a run that completed no job.

local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  client_key = args[1]
  miner_key = args[2]
  miner = "flow-" .. args[3] .. "-" .. index
  client_headers = { ["X-API-Key"] = client_key, ["Content-Type"] = "application/json" }
  miner_headers = { ["X-API-Key"] = miner_key, ["Content-Type"] = "application/json" }
  poll_path = "/v1/miners/poll?miner_id=" .. miner
  step = "submit"
  job = nil
  sequence = 0
  completed = 0
  errors = 0
end

function request()
  if step == "submit" then
    sequence = sequence + 1
    return wrk.format("POST", "/v1/jobs", client_headers, '{"payload": {"n": ' .. sequence .. '}}')
  elseif step == "poll" then
    return wrk.format("POST", poll_path, miner_headers, '{"max_wait_seconds": 1}')
  else
    return wrk.format("POST", "/v1/miners/" .. job .. "/result?miner_id=" .. miner, miner_headers, '{"result": {"ok": true}}')
  end
end

function response(status, headers, body)
  if step == "submit" then
    if status == 201 then step = "poll" else errors = errors + 1 end
  elseif step == "poll" then
    -- 204: nothing queued for this miner within its wait (another took the job): poll again.
    if status == 200 then
      job = body:match('"job_id"%s*:%s*"([^"]+)"')
      if job then step = "result" else errors = errors + 1 end
    elseif status ~= 204 then
      errors = errors + 1
    end
  else
    if status == 200 then completed = completed + 1 else errors = errors + 1 end
    step = "submit"
  end
end

function done(summary, latency, requests)
  local jobs, failed = 0, 0
  for _, thread in ipairs(threads) do
    jobs = jobs + thread:get("completed")
    failed = failed + thread:get("errors")
  end
  -- A request lost on the wire (connect, read, write, timeout) counts as an error too: after a
  -- reconnect a connection repeats its step, which may not be what the server saw.
  local e = summary.errors
  failed = failed + e.connect + e.read + e.write + e.timeout
  if jobs == 0 then failed = failed + 1 end
  local seconds = summary.duration / 1e6
  io.write(string.format("FLOW connections=%d jobs=%d seconds=%.3f jobs_per_second=%.1f errors=%d requests=%d\n",
    #threads, jobs, seconds, jobs / seconds, failed, summary.requests))
end

#!/usr/bin/env bash
# Server CPU per request on SQLite (robust on a shared machine, unlike req/s): the coordinator's own
# CPU time (utime + stime of every thread, /proc/PID/stat) over a wrk sample of GET /v1/me and of
# durable POST /v1/jobs, divided by the requests answered; and over jobs end to end (submit → poll →
# result, aitbc-bench throughput with N miners), divided by the jobs. The driver's CPU per job is
# printed beside it. Median of --rounds rounds.
#
# Usage: bash bench/cpu.sh [--skip-build] [--bin PATH] [--bench PATH] [--duration S] [--connections N] [--rounds N]
#                          [--jobs N] [--miners N] [--submitters N] [--perf DIR]
# --perf DIR also records `perf record -g` of the server during the second POST /v1/jobs sample and
# the flow (DIR/jobs.data, DIR/flow.data; read with `perf report -i … --no-children`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION=5
CONNECTIONS=32
ROUNDS=3
JOBS=3000
MINERS=32
SUBMITTERS=32
BUILD=1
BIN=""
BENCH=""
PERF_DIR=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --skip-build) BUILD=0; shift ;;
        --bin) BIN="$2"; shift 2 ;;
        --bench) BENCH="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --miners) MINERS="$2"; shift 2 ;;
        --submitters) SUBMITTERS="$2"; shift 2 ;;
        --perf) PERF_DIR="$2"; shift 2 ;;
        -h|--help) sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

SCRATCH="$ROOT/.build-bench"
if [[ $BUILD -eq 1 ]]; then
    for product in aitbc-coordinator aitbc-bench; do
        swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2
    done
fi
BIN="${BIN:-$SCRATCH/release/aitbc-coordinator}"
BENCH="${BENCH:-$SCRATCH/release/aitbc-bench}"
[[ -x "$BIN" && -x "$BENCH" ]] || { echo "$BIN or $BENCH is not built" >&2; exit 1; }

TMP="$(mktemp -d /tmp/aitbc-cpu.XXXXXX)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
CLIENT_KEY="cpu-client-$RANDOM$RANDOM$RANDOM"
MINER_KEY="cpu-miner-$RANDOM$RANDOM$RANDOM"
OPERATOR_KEY="cpu-operator-$RANDOM$RANDOM$RANDOM"
JOB_BODY='{"payload": {"task": "bench", "prompt": "a durable submission"}}'
TICK=$(getconf CLK_TCK)

AITBC_HOST=127.0.0.1 AITBC_PORT="$PORT" AITBC_DATABASE_URL="sqlite:$TMP/coordinator.sqlite" AITBC_LOG_LEVEL=warning \
    AITBC_PLANS="free=60,pro=600,enterprise=100000000" AITBC_PLAN_QUOTAS="free=20/4/5,pro=1000/100/100,enterprise=10000000/1000/1000" \
    AITBC_AUTH_FAILURES_PER_MINUTE=1000000 CLIENT_API_KEY="$CLIENT_KEY" MINER_API_KEY="$MINER_KEY" \
    OPERATOR_API_KEY="$OPERATOR_KEY" "$BIN" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
curl -sf -X PATCH -H "X-API-Key: $OPERATOR_KEY" -H 'Content-Type: application/json' \
    -d '{"rate_limit_per_minute": 100000000}' "http://127.0.0.1:$PORT/v1/tenants/test-tenant" >/dev/null \
    || { echo "the server did not start (see $TMP/server.log)" >&2; cat "$TMP/server.log" >&2; exit 1; }

# cpu: the server's CPU time so far, in microseconds.
cpu() { awk -v tick="$TICK" '{ printf "%d\n", ($14 + $15) * 1000000 / tick }' "/proc/$PID/stat"; }

# sample URL [BODY]: prints "requests microseconds_of_server_cpu".
sample() {
    local url="$1" body="${2:-}" before after line
    before=$(cpu)
    line=$(BENCH_BODY="$body" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/lua/bench.lua \
        -H "X-API-Key: $CLIENT_KEY" "$url" | grep '^BENCH ')
    after=$(cpu)
    python3 -c 'import re, sys; v = dict(re.findall(r"(\w+)=(\S+)", sys.argv[1])); print(int(v["requests"]) - int(v["non2xx"]), int(sys.argv[2]) - int(sys.argv[3]), v["rps"])' \
        "$line" "$after" "$before"
}

# flow: prints "jobs microseconds_of_server_cpu jobs_per_second driver_microseconds".
flow() {
    local before after output driver
    before=$(cpu)
    TIMEFORMAT='%U %S'
    { time "$BENCH" throughput --url "http://127.0.0.1:$PORT" --client-key "$CLIENT_KEY" --miner-key "$MINER_KEY" \
        --miners "$MINERS" --submitters "$SUBMITTERS" --jobs "$JOBS" >"$TMP/flow.out" ; } 2>"$TMP/flow.time"
    after=$(cpu)
    output=$(cat "$TMP/flow.out")
    driver=$(awk '{ printf "%d", ($1 + $2) * 1000000 }' "$TMP/flow.time")
    python3 -c 'import re, sys; v = dict(re.findall(r"(\w+)=(\S+)", sys.argv[1])); print(v["jobs"], int(sys.argv[2]) - int(sys.argv[3]), v["jobs_per_second"], sys.argv[4])' \
        "$output" "$after" "$before" "$driver"
}

record() { # record NAME COMMAND…: runs COMMAND while perf records the server into $PERF_DIR/NAME.data
    local name="$1"; shift
    if [[ -z "$PERF_DIR" ]]; then "$@"; return; fi
    mkdir -p "$PERF_DIR"
    perf record -g -q -o "$PERF_DIR/$name.data" -p "$PID" 2>/dev/null &
    local recorder=$!
    sleep 0.3
    "$@"
    kill -INT "$recorder" 2>/dev/null || true
    wait "$recorder" 2>/dev/null || true
}

echo "warming up" >&2
wrk -t1 -c8 -d2s -H "X-API-Key: $CLIENT_KEY" "http://127.0.0.1:$PORT/v1/me" >/dev/null
BENCH_BODY="$JOB_BODY" wrk -t1 -c8 -d2s -s bench/lua/bench.lua -H "X-API-Key: $CLIENT_KEY" "http://127.0.0.1:$PORT/v1/jobs" >/dev/null
"$BENCH" throughput --url "http://127.0.0.1:$PORT" --client-key "$CLIENT_KEY" --miner-key "$MINER_KEY" \
    --miners "$MINERS" --submitters "$SUBMITTERS" --jobs 300 >/dev/null

: >"$TMP/samples"
for round in $(seq 1 "$ROUNDS"); do
    echo "me $(sample "http://127.0.0.1:$PORT/v1/me")" | tee -a "$TMP/samples" >&2
    if [[ $round -eq 2 ]]; then
        echo "jobs $(record jobs sample "http://127.0.0.1:$PORT/v1/jobs" "$JOB_BODY")" | tee -a "$TMP/samples" >&2
        echo "flow $(record flow flow)" | tee -a "$TMP/samples" >&2
    else
        echo "jobs $(sample "http://127.0.0.1:$PORT/v1/jobs" "$JOB_BODY")" | tee -a "$TMP/samples" >&2
        echo "flow $(flow)" | tee -a "$TMP/samples" >&2
    fi
done
python3 - "$TMP/samples" "$MINERS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    rows.setdefault(parts[0], []).append(parts[1:])
def per(name):
    return statistics.median(int(r[1]) / int(r[0]) for r in rows[name])
def rate(name):
    return statistics.median(float(r[2]) for r in rows[name])
me, jobs, flow = per("me"), per("jobs"), per("flow")
driver = statistics.median(int(r[3]) / int(r[0]) for r in rows["flow"])
print(f"cpu_us_per_request me={me:.1f} jobs={jobs:.1f} flow_job={flow:.1f} flow_driver_job={driver:.1f} "
      f"jobs_over_me={jobs / me:.2f} miners={sys.argv[2]}")
print(f"req_per_s me={rate('me'):.0f} jobs={rate('jobs'):.0f} flow_jobs={rate('flow'):.0f} (noisy)")
PY

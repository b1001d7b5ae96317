#!/usr/bin/env bash
# Where storage decides (issue 14), in one run: three instances behind nginx ÷ one behind nginx
# (bench/lib/scaleout.sh, as scale.sh measures it, --scaleout-rounds alternating rounds, first, on
# fresh instances), /v1/me on PostgreSQL ÷ on SQLite, PostgreSQL transactions per admitted request,
# durable POST /v1/jobs ÷ /v1/me on both backends (--rounds rounds), jobs end to end with 1/8/32
# miners on SQLite by two drivers (wrk's closed loop, bench/lua/flow.lua, --duration s each; and
# aitbc-bench's open loop, --jobs jobs each; the server's CPU and the driver's per job beside each),
# and the submit → waiting miner hand-off on SQLite and on PostgreSQL
# (bench/lib/handoff.sh, as jobs.sh and bounds.sh measure it); this build, and the baseline's
# with --baseline-bin.
#
# Installs wrk and nginx when missing (apt-get), starts its own PostgreSQL through scripts/postgres
# (unless AITBC_TEST_POSTGRES_URL names one), builds the release binaries into .build-bench/.
# Usage: bash bench/storage.sh [--skip-build] [--duration S] [--connections N] [--rounds N]
#                              [--scaleout-rounds N] [--jobs N] [--samples N] [--baseline-bin PATH]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION=8
CONNECTIONS=32
ROUNDS=2
SCALEOUT_ROUNDS=3
JOBS=3000
SAMPLES=300
BASELINE_BIN=""
DO_BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --skip-build) DO_BUILD=0; shift ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --scaleout-rounds) SCALEOUT_ROUNDS="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --samples) SAMPLES="$2"; shift 2 ;;
        --baseline-bin) BASELINE_BIN="$2"; shift 2 ;;
        -h|--help) sed -n 2,13p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [[ -z "${AITBC_TEST_POSTGRES_URL:-}" ]]; then
    args=(--duration "$DURATION" --connections "$CONNECTIONS" --rounds "$ROUNDS" --scaleout-rounds "$SCALEOUT_ROUNDS"
          --jobs "$JOBS" --samples "$SAMPLES")
    [[ $DO_BUILD -eq 0 ]] && args+=(--skip-build)
    [[ -n "$BASELINE_BIN" ]] && args+=(--baseline-bin "$BASELINE_BIN")
    exec scripts/postgres bash "$0" "${args[@]}"
fi

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

missing=()
for tool in wrk nginx psql curl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing wrk nginx postgresql-client curl (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx postgresql-client curl >/dev/null
fi

SCRATCH="$ROOT/.build-bench"
if [[ $DO_BUILD -eq 1 ]]; then
    for product in aitbc-coordinator aitbc-bench; do
        log "building release $product into $SCRATCH"
        swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2
    done
fi
BIN="$SCRATCH/release/aitbc-coordinator"
BENCH="$SCRATCH/release/aitbc-bench"
[[ -x "$BIN" && -x "$BENCH" ]] || die "$BIN or $BENCH is not built"
[[ -z "$BASELINE_BIN" || -x "$BASELINE_BIN" ]] || die "$BASELINE_BIN is not an executable"

RESULTS="$ROOT/bench/results/storage-$(date +%Y%m%d-%H%M%S)"
TMP="$(mktemp -d /tmp/aitbc-storage.XXXXXX)"
mkdir -p "$RESULTS"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
    [[ -f "$TMP/nginx.pid" ]] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

DB="aitbc_storage_$RANDOM$RANDOM"
psql "$AITBC_TEST_POSTGRES_URL" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$AITBC_TEST_POSTGRES_URL" "$DB")"

CLIENT_KEY="storage-client-$RANDOM$RANDOM$RANDOM"
MINER_KEY="storage-miner-$RANDOM$RANDOM$RANDOM"
OPERATOR_KEY="storage-operator-$RANDOM$RANDOM$RANDOM"
JOB_BODY='{"payload": {"task": "bench", "prompt": "a durable submission"}}'

# start NAME BINARY DATABASE_URL: one coordinator on a free loopback port, in PORT (not in a
# subshell, so that PIDS keeps its process for the clean-up).
start() {
    local name="$1" binary="$2" database="$3" port
    port=$(free_port)
    AITBC_HOST=127.0.0.1 AITBC_PORT="$port" AITBC_DATABASE_URL="$database" AITBC_LOG_LEVEL=warning \
        AITBC_PLANS="free=60,pro=600,enterprise=100000000" AITBC_PLAN_QUOTAS="free=20/4/5,pro=1000/100/100,enterprise=10000000/1000/1000" \
        AITBC_AUTH_FAILURES_PER_MINUTE=1000000 CLIENT_API_KEY="$CLIENT_KEY" MINER_API_KEY="$MINER_KEY" \
        OPERATOR_API_KEY="$OPERATOR_KEY" "$binary" >"$RESULTS/server-$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || die "$name did not start (see $RESULTS/server-$name.log)"
    PORT="$port"
}

# sample NAME URL [BODY]: one wrk sample; prints "NAME rps p99_us non2xx requests".
sample() {
    local name="$1" url="$2" body="${3:-}" line
    BENCH_BODY="$body" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/lua/bench.lua \
        -H "X-API-Key: $CLIENT_KEY" "$url" >"$RESULTS/wrk-$name.txt"
    line=$(grep '^BENCH ' "$RESULTS/wrk-$name.txt") || die "wrk printed no BENCH line for $name"
    python3 - "$name" "$line" <<'PY'
import sys
values = dict(part.split("=", 1) for part in sys.argv[2].split()[1:])
print(sys.argv[1], values["rps"], values["p99_us"], values["non2xx"], values["requests"])
PY
}

# cpu_us PID: that process's CPU time so far (user + system, every thread), in microseconds: what a
# request costs the server, which a machine shared with other work changes far less than req/s.
TICK=$(getconf CLK_TCK)
cpu_us() { awk -v tick="$TICK" '{ printf "%d\n", ($14 + $15) * 1000000 / tick }' "/proc/$1/stat"; }

# admitted NAME: the 2xx answers of the last sample NAME in samples.txt.
admitted() { awk -v name="$1" '$1 == name {n = $5 - $4} END {print n}' "$RESULTS/samples.txt"; }

# transactions: committed plus rolled-back transactions of the benchmark's database so far.
transactions() {
    sleep 1.2 # PostgreSQL publishes a backend's counters at most once a second
    psql "$AITBC_TEST_POSTGRES_URL" -tAc \
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"
}

log "starting: one instance on SQLite, three on PostgreSQL (database $DB), nginx"
start sqlite "$BIN" "sqlite:$TMP/sqlite/coordinator.sqlite"
SQLITE_PORT=$PORT
SQLITE_PID=${PIDS[-1]}
PG_PORTS=()
PG_PIDS=()
for index in 1 2 3; do
    start "postgres-$index" "$BIN" "$DB_URL"
    PG_PORTS+=("$PORT")
    PG_PIDS+=("${PIDS[-1]}")
done
for port in "$SQLITE_PORT" "${PG_PORTS[0]}"; do
    curl -sf -X PATCH -H "X-API-Key: $OPERATOR_KEY" -H 'Content-Type: application/json' \
        -d '{"rate_limit_per_minute": 100000000}' "http://127.0.0.1:$port/v1/tenants/test-tenant" >/dev/null \
        || die "could not lift test-tenant's limit on port $port"
done

source "$ROOT/bench/lib/scaleout.sh"
scaleout_nginx "$TMP" "${PG_PORTS[@]}" || die "nginx did not start"
SCALEOUT_PIDS="${PG_PIDS[*]}"

log "warming up every target"
for url in "http://127.0.0.1:$SQLITE_PORT/v1/me" "http://127.0.0.1:${PG_PORTS[0]}/v1/me"; do
    wrk -t1 -c8 -d2s -H "X-API-Key: $CLIENT_KEY" "$url" >/dev/null
done

# First, on instances that have served nothing else: the same measurement as scale.sh's.
log "three instances behind nginx vs one: $SCALEOUT_ROUNDS alternating round(s), ${DURATION}s, $CONNECTIONS connections"
: >"$RESULTS/samples.txt"
scaleout_measure "$RESULTS" "$CLIENT_KEY" "$CONNECTIONS" "$DURATION" "$SCALEOUT_ROUNDS" | tee "$RESULTS/scaleout-summary.txt" >&2
cat "$RESULTS/scaleout.txt" >>"$RESULTS/samples.txt"

log "$ROUNDS round(s), each: /v1/me and POST /v1/jobs on SQLite and PostgreSQL (${DURATION}s, $CONNECTIONS connections)"
for round in $(seq 1 "$ROUNDS"); do
    cpu_before=$(cpu_us "$SQLITE_PID")
    sample me-sqlite "http://127.0.0.1:$SQLITE_PORT/v1/me" | tee -a "$RESULTS/samples.txt" >&2
    echo "cpu-me-sqlite $(($(cpu_us "$SQLITE_PID") - cpu_before)) $(admitted me-sqlite)" | tee -a "$RESULTS/samples.txt" >&2
    before=$(transactions)
    sample me-postgres "http://127.0.0.1:${PG_PORTS[0]}/v1/me" | tee -a "$RESULTS/samples.txt" >&2
    after=$(transactions)
    admitted=$(awk '$1 == "me-postgres" {last = $5 - $4} END {print last}' "$RESULTS/samples.txt")
    echo "transactions-me-postgres $((after - before)) $admitted" | tee -a "$RESULTS/samples.txt" >&2
    cpu_before=$(cpu_us "$SQLITE_PID")
    sample jobs-sqlite "http://127.0.0.1:$SQLITE_PORT/v1/jobs" "$JOB_BODY" | tee -a "$RESULTS/samples.txt" >&2
    echo "cpu-jobs-sqlite $(($(cpu_us "$SQLITE_PID") - cpu_before)) $(admitted jobs-sqlite)" | tee -a "$RESULTS/samples.txt" >&2
    sample jobs-postgres "http://127.0.0.1:${PG_PORTS[0]}/v1/jobs" "$JOB_BODY" | tee -a "$RESULTS/samples.txt" >&2
done
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()

# flow LABEL BINARY: jobs end to end with 1/8/32 miners, on a fresh SQLite server, by two drivers:
# wrk (bench/lib/flow.sh, closed loop: each connection submits, polls, posts the result, for
# $DURATION s) and aitbc-bench throughput (open loop: as many submitters as miners race ahead, $JOBS
# jobs). Each line carries the server's CPU and the driver's: the drivers share the two cores with it.
flow() {
    local label="$1" binary="$2" port miners pid before line timing
    timing="$TMP/flow-$label.time"
    # A server for each driver: nothing one left queued or assigned is counted by the other.
    start "flow-$label" "$binary" "sqlite:$TMP/flow-$label/coordinator.sqlite"
    port=$PORT
    pid=${PIDS[-1]}
    for miners in 1 8 32; do
        before=$(cpu_us "$pid")
        line=$(flow_wrk "http://127.0.0.1:$port" "$CLIENT_KEY" "$MINER_KEY" "$miners" "$DURATION")
        echo "flow-$label miners=$miners driver=wrk $line server_cpu_us=$(($(cpu_us "$pid") - before))"
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    start "flow-$label-open" "$binary" "sqlite:$TMP/flow-$label-open/coordinator.sqlite"
    port=$PORT
    pid=${PIDS[-1]}
    for miners in 1 8 32; do
        before=$(cpu_us "$pid")
        # time's line to the file, aitbc-bench's own messages to stderr (3): a failure is seen.
        line=$( { TIMEFORMAT='%U %S'; time "$BENCH" throughput --url "http://127.0.0.1:$port" --client-key "$CLIENT_KEY" \
            --miner-key "$MINER_KEY" --miners "$miners" --jobs "$JOBS" 2>&3 ; } 3>&2 2>"$timing")
        echo "flow-$label driver=aitbc-bench $line server_cpu_us=$(($(cpu_us "$pid") - before))" \
            "driver_cpu_us=$(awk '{ printf "%d", ($1 + $2) * 1000000 }' "$timing")"
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
source "$ROOT/bench/lib/flow.sh"
log "jobs end to end with 1/8/32 miners (SQLite): wrk closed loop (${DURATION}s each), aitbc-bench open loop ($JOBS jobs each)"
flow this "$BIN" | tee -a "$RESULTS/samples.txt" >&2
[[ -n "$BASELINE_BIN" ]] && flow baseline "$BASELINE_BIN" | tee -a "$RESULTS/samples.txt" >&2

# handoff_database NAME: a PostgreSQL database of its own for one hand-off server.
handoff_database() {
    psql "$AITBC_TEST_POSTGRES_URL" -qc "CREATE DATABASE ${DB}_$1" >/dev/null
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
        "$AITBC_TEST_POSTGRES_URL" "${DB}_$1"
}
source "$ROOT/bench/lib/handoff.sh"
HANDOFF_LOGS="$RESULTS"
log "$SAMPLES hand-offs, submit → waiting miner, on SQLite and on PostgreSQL (fresh server each)"
for label in this baseline; do
    binary=$BIN
    [[ $label == baseline ]] && binary=$BASELINE_BIN
    [[ -n "$binary" ]] || continue
    handoff_run "handoff-$label-sqlite" "$binary" "sqlite:$TMP/handoff-$label/coordinator.sqlite" "$SAMPLES" \
        | tee -a "$RESULTS/samples.txt" >&2
    handoff_run "handoff-$label-postgres" "$binary" "$(handoff_database "handoff_$label")" "$SAMPLES" \
        | tee -a "$RESULTS/samples.txt" >&2
done

echo
echo "Summary (samples in $RESULTS/samples.txt)"
python3 - "$RESULTS/samples.txt" <<'PY'
import re, statistics, sys
rps, transactions, flows, handoffs, cpu, flow_cpu = {}, [0, 0], {}, {}, {}, {}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0] == "transactions-me-postgres":
        transactions[0] += int(parts[1]); transactions[1] += int(parts[2])
    elif parts[0].startswith("cpu-"):
        total = cpu.setdefault(parts[0][4:], [0, 0])
        total[0] += int(parts[1]); total[1] += int(parts[2])
    elif parts[0].startswith("handoff-"):
        values = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        handoffs[parts[0][8:]] = (values["handoff_ms_p50"], values["handoff_ms_p99"], values["samples"])
    elif parts[0].startswith("flow-"):
        values = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if "jobs_per_second" in values:
            key = (values.get("driver", "aitbc-bench"), values["miners"])
            flows.setdefault(key, {})[parts[0][5:]] = float(values["jobs_per_second"])
            if "server_cpu_us" in values:
                flow_cpu.setdefault(key, {})[parts[0][5:]] = (
                    int(values["server_cpu_us"]) / int(values["jobs"]),
                    int(values["driver_cpu_us"]) / int(values["jobs"]) if "driver_cpu_us" in values else None)
    elif len(parts) in (3, 5):
        rps.setdefault(parts[0], []).append(float(parts[1]))
mean = {name: sum(values) / len(values) for name, values in rps.items()}
# One vs three behind nginx: the medians of the alternating samples (bench/lib/scaleout.sh).
for name in ("one-nginx", "three-nginx"):
    if name in rps: mean[name] = statistics.median(rps[name])
for name in ["me-sqlite", "me-postgres", "jobs-sqlite", "jobs-postgres", "one-nginx", "three-nginx"]:
    if name in mean:
        how = "median" if name.endswith("-nginx") else "mean"
        print(f"{name:14} {mean[name]:10.0f} req/s ({how} of {len(rps[name])})")
def ratio(label, a, b, target):
    if a in mean and b in mean: print(f"{label:58} {mean[a] / mean[b]:.3f}  (target {target})")
ratio("/v1/me on PostgreSQL ÷ on SQLite", "me-postgres", "me-sqlite", "≥ 0.8")
if transactions[1]:
    print(f"{'PostgreSQL transactions per admitted /v1/me':58} {transactions[0] / transactions[1]:.4f}  (target ≤ 0.05)")
ratio("POST /v1/jobs ÷ /v1/me, SQLite", "jobs-sqlite", "me-sqlite", "≥ 0.25")
ratio("POST /v1/jobs ÷ /v1/me, PostgreSQL", "jobs-postgres", "me-postgres", "—")
ratio("three instances behind nginx ÷ one behind nginx", "three-nginx", "one-nginx", "≥ 0.9")
drivers = {"wrk": "wrk closed loop", "aitbc-bench": "aitbc-bench open loop"}
for key in sorted(flows, key=lambda k: (k[0] != "wrk", int(k[1]))):
    row = flows[key]
    label = f"jobs/s end to end, {key[1]} miner(s), {drivers.get(key[0], key[0])}: this {row.get('this', 0):.0f}"
    if "baseline" in row:
        ratio_text = f"{row.get('this', 0) / row['baseline']:.2f}"
        label += f", baseline {row['baseline']:.0f}, ratio"
        if key[1] == "32":
            # A ratio line (two spaces, the figure, the target) for the report's table.
            print(f"{label}  {ratio_text}  (target ≥ 5)")
            continue
        label += f" {ratio_text}"
    print(label)
per_request = {name: used / count for name, (used, count) in cpu.items() if count}
if "me-sqlite" in per_request and "jobs-sqlite" in per_request:
    me, jobs = per_request["me-sqlite"], per_request["jobs-sqlite"]
    print(f"server CPU per request, SQLite: /v1/me {me:.0f} µs, POST /v1/jobs {jobs:.0f} µs ({jobs / me:.2f}× /v1/me)")
for key in sorted(flow_cpu, key=lambda k: (k[0] != "wrk", int(k[1]))):
    row = flow_cpu[key]
    def text(build):
        server, driver = row[build]
        return f"{server:.0f} µs" + (f" (driver {driver:.0f} µs)" if driver is not None else "")
    if "this" not in row: continue
    line = f"server CPU per job end to end, {key[1]} miner(s), {drivers.get(key[0], key[0])}: this {text('this')}"
    if "baseline" in row: line += f", baseline {text('baseline')}"
    print(line)
for label, (p50, p99, samples) in handoffs.items():
    build, backend = label.rsplit("-", 1)
    print(f"hand-off submit → waiting miner, {build}, {backend} ({samples} samples): p50 {p50} ms, p99 {p99} ms"
          + ("  (target p99 ≤ 3 ms)" if build == "this" else ""))
PY
grep "^CPU per request behind nginx" "$RESULTS/scaleout-summary.txt" || true

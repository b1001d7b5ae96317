#!/usr/bin/env bash
# Scaling out: three aitbc-coordinator instances on one PostgreSQL behind nginx (round-robin) vs
# one instance. Measures authenticated GET /v1/me throughput and p99 (wrk): one instance direct, then
# one and three behind nginx alternating over --rounds rounds (bench/lib/scaleout.sh, the same
# measurement storage.sh makes); then the rate-limit over-admission across instances, and how long a
# revocation takes to reach the other instances.
#
# Installs wrk and nginx when missing (apt-get), starts its own PostgreSQL through scripts/postgres
# (unless AITBC_TEST_POSTGRES_URL names one), builds the release binary into .build-bench/.
# Usage: bash bench/scale.sh [--skip-build] [--duration S] [--connections N] [--rounds N] [--trials N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION=8
CONNECTIONS=32
ROUNDS=3
TRIALS=100
DO_BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --skip-build) DO_BUILD=0; shift ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --trials) TRIALS="$2"; shift 2 ;;
        -h|--help) sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [[ -z "${AITBC_TEST_POSTGRES_URL:-}" ]]; then
    args=(--duration "$DURATION" --connections "$CONNECTIONS" --rounds "$ROUNDS" --trials "$TRIALS")
    [[ $DO_BUILD -eq 0 ]] && args+=(--skip-build)
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
BIN="$SCRATCH/release/aitbc-coordinator"
if [[ $DO_BUILD -eq 1 ]]; then
    log "building release aitbc-coordinator into $SCRATCH"
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-coordinator >&2
fi
[[ -x "$BIN" ]] || die "$BIN is not built"

RESULTS="$ROOT/bench/results/scale-$(date +%Y%m%d-%H%M%S)"
TMP="$(mktemp -d /tmp/aitbc-scale.XXXXXX)"
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

DB="aitbc_bench_$RANDOM$RANDOM"
psql "$AITBC_TEST_POSTGRES_URL" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$AITBC_TEST_POSTGRES_URL" "$DB")"

CLIENT_KEY="scale-client-$RANDOM$RANDOM$RANDOM"
OPERATOR_KEY="scale-operator-$RANDOM$RANDOM$RANDOM"
PORTS=()
for index in 1 2 3; do
    port=$(free_port)
    AITBC_HOST=127.0.0.1 AITBC_PORT="$port" AITBC_DATABASE_URL="$DB_URL" AITBC_LOG_LEVEL=warning \
        AITBC_PLANS="free=60,pro=600,enterprise=100000000" AITBC_AUTH_FAILURES_PER_MINUTE=1000000 CLIENT_API_KEY="$CLIENT_KEY" OPERATOR_API_KEY="$OPERATOR_KEY" \
        "$BIN" >"$RESULTS/server-$index.log" 2>&1 &
    PIDS+=($!)
    PORTS+=("$port")
done
for port in "${PORTS[@]}"; do
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || die "instance on $port did not start (see $RESULTS)"
done

source "$ROOT/bench/lib/scaleout.sh"
scaleout_nginx "$TMP" "${PORTS[@]}" || die "nginx did not start"
SCALEOUT_PIDS="${PIDS[*]}"
NGINX_ALL=$SCALEOUT_THREE

log "warming up"
wrk -t1 -c8 -d2s -H "X-API-Key: $CLIENT_KEY" "http://127.0.0.1:${PORTS[0]}/v1/me" >/dev/null
log "throughput: authenticated GET /v1/me, ${DURATION}s per sample, $CONNECTIONS connections; then $ROUNDS round(s) of one vs three behind nginx"
scaleout_sample "$RESULTS" one-direct "http://127.0.0.1:${PORTS[0]}/v1/me" "$CLIENT_KEY" "$CONNECTIONS" "$DURATION" \
    | tee "$RESULTS/throughput.txt" >&2
scaleout_measure "$RESULTS" "$CLIENT_KEY" "$CONNECTIONS" "$DURATION" "$ROUNDS" | tee "$RESULTS/scaleout-summary.txt"
cat "$RESULTS/scaleout.txt" >>"$RESULTS/throughput.txt"

log "over-admission and revocation propagation"
python3 bench/scale_probe.py --operator-key "$OPERATOR_KEY" --trials "$TRIALS" \
    --balancer "http://127.0.0.1:$NGINX_ALL" "http://127.0.0.1:${PORTS[0]}" "http://127.0.0.1:${PORTS[1]}" \
    "http://127.0.0.1:${PORTS[2]}" | tee "$RESULTS/probe.txt"

echo
echo "Summary (results in $RESULTS)"
python3 - "$RESULTS/throughput.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rps, p99 = line.split()
    rows.setdefault(name, []).append((float(rps), float(p99)))
for name, samples in rows.items():
    median = statistics.median(rps for rps, _ in samples)
    p99 = statistics.median(p99 for _, p99 in samples)
    runs = " ".join(f"{rps:.0f}" for rps, _ in samples)
    print(f"{name:12} {median:10.0f} req/s  p99 {p99:.2f} ms  (median of {len(samples)}: {runs})")
PY
cat "$RESULTS/scaleout-summary.txt"
cat "$RESULTS/probe.txt"

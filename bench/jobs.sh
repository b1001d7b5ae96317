#!/usr/bin/env bash
# Job-flow benchmark: jobs per second end to end (submit → assign → result) with 1, 8 and 32
# polling miners on SQLite, by wrk (closed loop: each connection submits, polls and posts the
# result, --seconds s; bench/lua/flow.lua) and by aitbc-bench (open loop: submitters race ahead,
# --jobs jobs), the submit-to-waiting-miner hand-off latency (p50/p99) on a fresh SQLite server
# (bench/lib/handoff.sh, as storage.sh and bounds.sh measure it), and the in-process cost of one
# rate-limit decision (tenant and key budgets; nanoseconds and allocations).
# Usage: bash bench/jobs.sh [--jobs N] [--seconds S] [--samples N] [--decisions N] [--skip-build]
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=3000
FLOW_SECONDS=8
SAMPLES=300
DECISIONS=10000000
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) JOBS="$2"; shift 2 ;;
        --seconds) FLOW_SECONDS="$2"; shift 2 ;;
        --samples) SAMPLES="$2"; shift 2 ;;
        --decisions) DECISIONS="$2"; shift 2 ;;
        --skip-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

SCRATCH=.build-bench
if [ "$BUILD" = 1 ]; then
    echo "==> release build (first one takes several minutes)"
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-coordinator
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-bench
fi
BIN="$SCRATCH/release"

DIR=$(mktemp -d /tmp/aitbc-jobs-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
CLIENT=bench-client-key-0001
MINER=bench-miner-key-0001
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

# start_server DATABASE_FILE: a fresh server on $PORT (its pid in $PID).
start_server() {
    CLIENT_API_KEY=$CLIENT MINER_API_KEY=$MINER AITBC_PLANS="free=60,pro=600,enterprise=100000000" \
        AITBC_LOG_LEVEL=warning AITBC_HOST=127.0.0.1 AITBC_PORT=$PORT AITBC_DATABASE_URL="sqlite:$1" \
        "$BIN/aitbc-coordinator" >> "$DIR/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.05; done
}
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install -y wrk (bench/all.sh installs it)" >&2; exit 1; }
start_server "$DIR/coordinator.sqlite"

echo "==> jobs per second (SQLite, synchronous=FULL): wrk closed loop, ${FLOW_SECONDS}s each (bench/lua/flow.lua)"
ROOT=$PWD
source bench/lib/flow.sh
for MINERS in 1 8 32; do
    line=$(flow_wrk "http://127.0.0.1:$PORT" $CLIENT $MINER "$MINERS" "$FLOW_SECONDS")
    echo "miners=$MINERS driver=wrk $line"
done
# A server of its own for the second driver: nothing the first left queued or assigned is counted.
kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""
start_server "$DIR/open-loop.sqlite"
echo "==> jobs per second (SQLite, synchronous=FULL): aitbc-bench open loop, $JOBS jobs each"
for MINERS in 1 8 32; do
    line=$("$BIN/aitbc-bench" throughput --url "http://127.0.0.1:$PORT" --client-key $CLIENT --miner-key $MINER \
        --miners "$MINERS" --jobs "$JOBS")
    echo "driver=aitbc-bench $line"
done
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
echo "==> hand-off latency: submit → waiting miner receives it (a fresh SQLite server)"
BENCH="$BIN/aitbc-bench"
HANDOFF_LOGS="$DIR"
source bench/lib/handoff.sh
handoff_run sqlite "$BIN/aitbc-coordinator" "sqlite:$DIR/handoff.sqlite" "$SAMPLES"
echo "==> in-process rate-limit decision (tenant and key budgets, 1000 callers)"
"$BIN/aitbc-bench" limiter --decisions "$DECISIONS"

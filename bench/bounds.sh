#!/usr/bin/env bash
# Per-tenant bounds benchmark (issue 12), release builds, SQLite:
#   1. memory per queued job and start-up time with N queued jobs (seeded straight into the database),
#      for typical constraints and for 16 KiB ones;
#   2. submit → waiting miner p99 alone, and with 10,000 queued jobs no miner can run and 1,000 other
#      miners long-polling (matching must not grow with unrelated jobs or miners), measured as jobs.sh
#      and storage.sh measure it (bench/lib/handoff.sh: a fresh server each).
# With --baseline REV, the same runs against the coordinator built at REV, side by side (--baseline-bin
# PATH: an aitbc-coordinator already built). Start-up is the server's own figure (its notice-level
# "startup_ms=" line: start of main → listening, then /ready); a build without that line is timed from
# launch to /ready by polling every 10 ms, marked "(polled)".
# Usage: bash bench/bounds.sh [--baseline REV | --baseline-bin PATH] [--jobs N] [--samples N] [--skip-build]
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=100000
BASELINE=""
BASELINE_BIN=""
SAMPLES=300
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --baseline) BASELINE="$2"; shift 2 ;;
        --baseline-bin) BASELINE_BIN="$2"; shift 2 ;;
        --samples) SAMPLES="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --skip-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v python3 > /dev/null || { echo "needs python3" >&2; exit 2; }
# 1,000 long-polls and their server side need more descriptors than the usual 1,024.
ulimit -n 65536 2> /dev/null || ulimit -n 8192 2> /dev/null || true

SCRATCH=${AITBC_BENCH_SCRATCH:-.build-bench}
if [ "$BUILD" = 1 ]; then
    echo "==> release build of the working tree (first one takes several minutes)"
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-coordinator
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-bench
fi
CONFIG=${AITBC_BENCH_CONFIG:-release}
BINS=("current:$SCRATCH/$CONFIG/aitbc-coordinator")
if [ -n "$BASELINE" ]; then
    TREE=/tmp/aitbc-baseline-$(git rev-parse --short "$BASELINE")
    [ -d "$TREE" ] || git worktree add --detach "$TREE" "$BASELINE" > /dev/null
    echo "==> release build of $BASELINE in $TREE"
    (cd "$TREE" && swift build -c release --scratch-path "$PWD/.build-bench" --product aitbc-coordinator)
    BINS+=("baseline:$TREE/.build-bench/release/aitbc-coordinator")
elif [ -n "$BASELINE_BIN" ]; then
    BINS+=("baseline:$BASELINE_BIN")
fi
BENCH="$SCRATCH/$CONFIG/aitbc-bench"

DIR=$(mktemp -d /tmp/aitbc-bounds-bench.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2> /dev/null; wait 2> /dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# start BIN DB: starts the coordinator; sets PID, PORT and START_MS (milliseconds to listening as the
# server logs it, or to /ready by polling when it logs no start-up time: START_MS then ends in "(polled)").
start() {
    PORT=$(free_port)
    local began=$(date +%s%N) offset line
    offset=$(stat -c %s "$DIR/server.log" 2> /dev/null || echo 0)
    CLIENT_API_KEY=bench-client-key-0001 MINER_API_KEY=bench-miner-key-0001 \
        AITBC_PLANS="free=60,pro=600,enterprise=100000000" \
        AITBC_PLAN_QUOTAS="free=20/4/5,pro=1000/100/100,enterprise=1000000/100000/100000" \
        AITBC_MAX_POLLS_PER_KEY=100000 AITBC_MAX_POLLS_PER_TENANT=100000 \
        AITBC_LOG_LEVEL=notice AITBC_HOST=127.0.0.1 AITBC_PORT=$PORT AITBC_DATABASE_URL="sqlite:$2" \
        "$1" >> "$DIR/server.log" 2>&1 &
    PID=$!
    until curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null; do
        kill -0 "$PID" 2> /dev/null || { echo "the server died; log:" >&2; tail -20 "$DIR/server.log" >&2; exit 1; }
        sleep 0.01
    done
    START_MS="$(( ($(date +%s%N) - began) / 1000000 )) (polled)"
    line=$(tail -c +$((offset + 1)) "$DIR/server.log" | grep -o 'startup_ms=[0-9.]*' | head -1 || true)
    if [ -n "$line" ]; then START_MS=$(printf '%.1f' "${line#startup_ms=}"); fi
}
stop() { kill "$PID"; wait "$PID" 2> /dev/null || true; PID=""; }
rss_kib() { sleep 1; awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }

# seed DB COUNT CONSTRAINT_BYTES: COUNT queued jobs of test-tenant with a 1 KiB payload.
seed() {
    python3 - "$1" "$2" "$3" << 'EOF'
import json, sqlite3, sys, time
path, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path)
now = int(time.time() * 1000)
constraints = {"gpu": "RTX 4090", "min_vram_gb": 24, "models": ["llama3.2"], "region": "eu-west"}
if size > 200:
    constraints["notes"] = "n" * (size - 120)
text = json.dumps(constraints)
payload = json.dumps({"prompt": "p" * 1000})
rows = ((f"job_seed{i:012d}", "test-tenant", "key_seed", "QUEUED", payload, text, 86400, now + i, now + 86_400_000, now + i)
        for i in range(count))
db.executemany("""INSERT INTO jobs (id, tenant_id, client_key_id, state, payload, constraints, ttl_seconds,
    requested_at, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
db.commit()
EOF
}

echo "==> memory per queued job and start-up, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
printf '%-9s %-16s %8s %18s %14s %12s\n' build constraints jobs start_ms rss_mib kib_per_job
for entry in "${BINS[@]}"; do
    name=${entry%%:*}; bin=${entry#*:}
    empty="$DIR/$name-empty.sqlite"
    start "$bin" "$empty"; base_ms=$START_MS; base_rss=$(rss_kib); stop
    printf '%-9s %-16s %8d %18s %14.1f %12s\n' "$name" "-" 0 "$base_ms" "$(awk "BEGIN {print $base_rss / 1024}")" "-"
    for variant in "typical:120:$JOBS" "16KiB:16384:$((JOBS / 10))"; do
        label=${variant%%:*}; rest=${variant#*:}; bytes=${rest%%:*}; count=${rest#*:}
        db="$DIR/$name-$label.sqlite"
        cp "$empty" "$db"; rm -f "$db-wal" "$db-shm"
        seed "$db" "$count" "$bytes"
        start "$bin" "$db"; ms=$START_MS; rss=$(rss_kib); stop
        printf '%-9s %-16s %8d %18s %14.1f %12.2f\n' "$name" "$label" "$count" "$ms" "$(awk "BEGIN {print $rss / 1024}")" \
            "$(awk "BEGIN {print ($rss - $base_rss) / $count}")"
        rm -f "$db"*
    done
done

echo "==> submit → waiting miner, alone and beside 10,000 unrunnable queued jobs and 1,000 idle long-polling miners"
HANDOFF_LOGS="$DIR"
source bench/lib/handoff.sh
for entry in "${BINS[@]}"; do
    name=${entry%%:*}; bin=${entry#*:}
    for load in "0 0" "10000 1000"; do
        set -- $load
        handoff_run "$name" "$bin" "sqlite:$DIR/$name-match-$1.sqlite" "$SAMPLES" --background-jobs "$1" --idle-miners "$2"
        rm -f "$DIR/$name-match-$1.sqlite"*
    done
done

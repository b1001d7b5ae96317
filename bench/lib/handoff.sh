# The submit → waiting miner hand-off, measured one way everywhere (sourced by jobs.sh, bounds.sh and
# storage.sh; needs bash and python3).
#
# handoff_run LABEL BINARY DATABASE_URL SAMPLES [aitbc-bench handoff options...]
#   Starts BINARY alone on a fresh store (DATABASE_URL: "sqlite:PATH" of a file that does not exist
#   yet, or a PostgreSQL database nothing else uses) with the environment below, runs
#   `aitbc-bench handoff` against it and stops it; prints the bench's line prefixed with LABEL.
#   One miner (an H100) long-polls with max_wait_seconds 10; each sample submits once that poll waits
#   in the server's queue (aitbc_long_polls_queued of /metrics, read with the operator key), and runs
#   from sending the submission to the miner having the job; HANDOFF_WARMUP hand-offs (default 20)
#   come first and are not counted. Extra options go to the bench (--background-jobs, --idle-miners,
#   --miner-url).
# Needs BENCH (the aitbc-bench executable) and a folder for the server's log in HANDOFF_LOGS (default /tmp).

HANDOFF_WARMUP=${HANDOFF_WARMUP:-20}
HANDOFF_CLIENT_KEY=handoff-client-key-000000000001
HANDOFF_MINER_KEY=handoff-miner-key-0000000000001
HANDOFF_OPERATOR_KEY=handoff-operator-key-0000000001

handoff_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# handoff_start BINARY DATABASE_URL LOG: one server, its port in HANDOFF_PORT and process in HANDOFF_PID.
handoff_start() {
    local binary=$1 database=$2 log=$3
    HANDOFF_PORT=$(handoff_free_port)
    AITBC_HOST=127.0.0.1 AITBC_PORT="$HANDOFF_PORT" AITBC_DATABASE_URL="$database" AITBC_LOG_LEVEL=warning \
        AITBC_PLANS="free=60,pro=600,enterprise=100000000" \
        AITBC_PLAN_QUOTAS="free=20/4/5,pro=1000/100/100,enterprise=1000000/100000/100000" \
        AITBC_MAX_POLLS_PER_KEY=100000 AITBC_MAX_POLLS_PER_TENANT=100000 \
        CLIENT_API_KEY="$HANDOFF_CLIENT_KEY" MINER_API_KEY="$HANDOFF_MINER_KEY" OPERATOR_API_KEY="$HANDOFF_OPERATOR_KEY" \
        "$binary" >"$log" 2>&1 &
    HANDOFF_PID=$!
    local _
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$HANDOFF_PORT/health" >/dev/null 2>&1 && return 0
        kill -0 "$HANDOFF_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "handoff: $binary did not start (see $log)" >&2
    return 1
}

handoff_run() {
    local label=$1 binary=$2 database=$3 samples=$4 status=0
    shift 4
    local log="${HANDOFF_LOGS:-/tmp}/server-handoff-$label.log"
    handoff_start "$binary" "$database" "$log" || return 1
    local line
    line=$("$BENCH" handoff --url "http://127.0.0.1:$HANDOFF_PORT" --client-key "$HANDOFF_CLIENT_KEY" \
        --miner-key "$HANDOFF_MINER_KEY" --operator-key "$HANDOFF_OPERATOR_KEY" --samples "$samples" \
        --warmup "$HANDOFF_WARMUP" "$@") || status=$?
    kill "$HANDOFF_PID" 2>/dev/null || true
    wait "$HANDOFF_PID" 2>/dev/null || true
    [[ $status -eq 0 ]] || { echo "handoff: aitbc-bench handoff failed against $binary (exit $status)" >&2; return "$status"; }
    echo "$label $line"
}

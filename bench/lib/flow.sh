# Jobs end to end driven by wrk (bench/lua/flow.lua), sourced by jobs.sh and storage.sh.
#
# flow_wrk URL CLIENT_KEY MINER_KEY MINERS SECONDS
#   Registers MINERS miners (flow-RUN-0 …, concurrency 1), then runs `wrk -tMINERS -cMINERS` for
#   SECONDS: each connection submits a job, polls for one, posts its result, and again. Prints one
#   line: "connections=N jobs=… seconds=… jobs_per_second=… errors=… requests=… driver_cpu_us=…"
#   (driver_cpu_us: wrk's own user + system CPU). Fails when a request was refused or lost, or no job
#   was completed.

flow_wrk() {
    local url=$1 client_key=$2 miner_key=$3 miners=$4 seconds=$5 run index output timing driver
    run="$(date +%s%N | tail -c 9)$RANDOM"
    for index in $(seq 0 $((miners - 1))); do
        curl -sf -o /dev/null -X POST -H "X-API-Key: $miner_key" -H 'Content-Type: application/json' \
            -d '{"concurrency": 1}' "$url/v1/miners/register?miner_id=flow-$run-$index" \
            || { echo "flow_wrk: registering miner flow-$run-$index failed" >&2; return 1; }
    done
    timing=$(mktemp)
    output=$( { TIMEFORMAT='%U %S'; time wrk -t"$miners" -c"$miners" -d"${seconds}s" --timeout 10s \
        -s "$ROOT/bench/lua/flow.lua" "$url" -- "$client_key" "$miner_key" "$run" 2>&1 ; } 2>"$timing")
    driver=$(awk '{ printf "%d", ($1 + $2) * 1000000 }' "$timing")
    rm -f "$timing"
    local line
    line=$(grep '^FLOW ' <<<"$output") || { echo "flow_wrk: wrk printed no FLOW line: $output" >&2; return 1; }
    if ! grep -q ' errors=0 ' <<<"$line"; then echo "flow_wrk: $line" >&2; return 1; fi
    echo "${line#FLOW } driver_cpu_us=$driver"
}

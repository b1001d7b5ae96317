# Three instances behind nginx ÷ one instance behind nginx, measured one way everywhere (sourced by
# scale.sh and storage.sh; needs bash, nginx, wrk, python3).
#
# scaleout_nginx TMP PORT1 PORT2 PORT3
#   Starts nginx (one worker, pid file TMP/nginx.pid) with two listeners: SCALEOUT_ONE proxies to PORT1
#   alone, SCALEOUT_THREE round-robins over the three; each upstream keeps up to 128 idle keep-alive
#   connections, so wrk's connections map onto long-lived upstream ones in both cases.
# scaleout_measure RESULTS KEY CONNECTIONS DURATION ROUNDS
#   Warms both listeners up (2 s each), then ROUNDS rounds of `wrk -t1 -cCONNECTIONS -dDURATION`
#   authenticated GET /v1/me through each, alternating which goes first (one, three; three, one; …) so
#   that drift on a shared machine falls on both alike. Writes "one-nginx RPS P99_MS" and
#   "three-nginx RPS P99_MS" per sample to RESULTS/scaleout.txt (and stderr), then prints
#   "three instances behind nginx ÷ one behind nginx: R (…)", the ratio of the medians. The caller lifts the tenant's rate limit first: the figure is about instances,
#   not budgets.
#   With SCALEOUT_PIDS set to the three instances' process ids, each sample also reads the CPU time
#   (user + system, every thread) of the instances and of nginx, and the instances' context switches,
#   before and after (RESULTS/scaleout-cpu.txt), and a last line gives them per request for each case:
#   where the time goes that three instances on a few cores cost beyond one.

scaleout_nginx() {
    local tmp=$1
    SCALEOUT_NGINX_PID_FILE="$tmp/nginx.pid"
    SCALEOUT_ONE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    SCALEOUT_THREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream three { server 127.0.0.1:$2; server 127.0.0.1:$3; server 127.0.0.1:$4; keepalive 128; }
    upstream one { server 127.0.0.1:$2; keepalive 128; }
    server { listen 127.0.0.1:$SCALEOUT_THREE; location / { proxy_pass http://three; proxy_http_version 1.1; proxy_set_header Connection ""; } }
    server { listen 127.0.0.1:$SCALEOUT_ONE; location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
    nginx -c "$tmp/nginx.conf" -p "$tmp"
}

# scaleout_usage: "INSTANCES_CPU_US NGINX_CPU_US INSTANCES_CONTEXT_SWITCHES" so far, of SCALEOUT_PIDS
# and of nginx (its master and workers); CPU is user + system time of every thread.
scaleout_usage() {
    local nginx_pids=() pid
    if [[ -f "${SCALEOUT_NGINX_PID_FILE:-}" ]]; then
        pid=$(cat "$SCALEOUT_NGINX_PID_FILE")
        nginx_pids=("$pid" $(pgrep -P "$pid" || true))
    fi
    local ticks=$(getconf CLK_TCK)
    printf '%s %s %s\n' \
        "$(for pid in $SCALEOUT_PIDS; do cat "/proc/$pid/stat"; done | awk -v t="$ticks" '{s += $14 + $15} END {printf "%d", s * 1000000 / t}')" \
        "$(for pid in "${nginx_pids[@]}"; do cat "/proc/$pid/stat"; done | awk -v t="$ticks" '{s += $14 + $15} END {printf "%d", s * 1000000 / t}')" \
        "$(for pid in $SCALEOUT_PIDS; do cat /proc/"$pid"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ {s += $2} END {printf "%d", s}')"
}

# scaleout_sample RESULTS NAME URL KEY CONNECTIONS DURATION: one wrk sample, "NAME RPS P99_MS"; with
# SCALEOUT_PIDS, also "NAME REQUESTS INSTANCES_CPU_US NGINX_CPU_US CONTEXT_SWITCHES" to RESULTS/scaleout-cpu.txt.
scaleout_sample() {
    local results=$1 name=$2 url=$3 key=$4 connections=$5 duration=$6 file before=""
    file="$results/wrk-$name-$(date +%s%N).txt"
    [[ -n "${SCALEOUT_PIDS:-}" ]] && before=$(scaleout_usage)
    wrk -t1 -c"$connections" -d"${duration}s" --latency -H "X-API-Key: $key" "$url" >"$file"
    if [[ -n "$before" ]]; then
        printf '%s %s %s %s\n' "$name" "$(awk '/requests in/ {print $1}' "$file")" "$before" "$(scaleout_usage)" \
            | awk '{print $1, $2, $6 - $3, $7 - $4, $8 - $5}' >>"$results/scaleout-cpu.txt"
    fi
    awk -v name="$name" '/Requests\/sec/ {rps = $2}
        $1 == "99%" {p99 = $2 + 0; if ($2 ~ /us$/) p99 /= 1000; else if ($2 ~ /[0-9]s$/) p99 *= 1000}
        END {printf "%s %s %.2f\n", name, rps, p99}' "$file"
}

scaleout_measure() {
    local results=$1 key=$2 connections=$3 duration=$4 rounds=$5 round
    local one="http://127.0.0.1:$SCALEOUT_ONE/v1/me" three="http://127.0.0.1:$SCALEOUT_THREE/v1/me"
    wrk -t1 -c"$connections" -d2s -H "X-API-Key: $key" "$one" >/dev/null
    wrk -t1 -c"$connections" -d2s -H "X-API-Key: $key" "$three" >/dev/null
    : >"$results/scaleout.txt"
    : >"$results/scaleout-cpu.txt"
    for round in $(seq 1 "$rounds"); do
        if (( round % 2 == 1 )); then
            scaleout_sample "$results" one-nginx "$one" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
            scaleout_sample "$results" three-nginx "$three" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
        else
            scaleout_sample "$results" three-nginx "$three" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
            scaleout_sample "$results" one-nginx "$one" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
        fi
    done
    python3 - "$results/scaleout.txt" "$results/scaleout-cpu.txt" <<'PY'
import statistics, sys
rps = {}
for line in open(sys.argv[1]):
    name, value, _ = line.split()
    rps.setdefault(name, []).append(float(value))
one, three = statistics.median(rps["one-nginx"]), statistics.median(rps["three-nginx"])
print(f"three instances behind nginx ÷ one behind nginx: {three / one:.3f} (medians of {len(rps['one-nginx'])} alternating samples each: {three:.0f} ÷ {one:.0f} req/s)")
usage = {}
for line in open(sys.argv[2]):
    name, *values = line.split()
    total = usage.setdefault(name, [0, 0, 0, 0])
    for index, value in enumerate(values): total[index] += int(value)
if all(name in usage and usage[name][0] for name in ("one-nginx", "three-nginx")):
    def per_request(name):
        requests, instances, nginx, switches = usage[name]
        return f"instances {instances / requests:.0f} µs, nginx {nginx / requests:.0f} µs, {switches / requests:.1f} context switches in the instances"
    print(f"CPU per request behind nginx (all samples): one instance: {per_request('one-nginx')}; three instances: {per_request('three-nginx')}")
PY
}

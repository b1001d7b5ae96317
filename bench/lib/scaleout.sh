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

scaleout_nginx() {
    local tmp=$1
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

# scaleout_sample RESULTS NAME URL KEY CONNECTIONS DURATION: one wrk sample, "NAME RPS P99_MS".
scaleout_sample() {
    local results=$1 name=$2 url=$3 key=$4 connections=$5 duration=$6 file
    file="$results/wrk-$name-$(date +%s%N).txt"
    wrk -t1 -c"$connections" -d"${duration}s" --latency -H "X-API-Key: $key" "$url" >"$file"
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
    for round in $(seq 1 "$rounds"); do
        if (( round % 2 == 1 )); then
            scaleout_sample "$results" one-nginx "$one" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
            scaleout_sample "$results" three-nginx "$three" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
        else
            scaleout_sample "$results" three-nginx "$three" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
            scaleout_sample "$results" one-nginx "$one" "$key" "$connections" "$duration" | tee -a "$results/scaleout.txt" >&2
        fi
    done
    python3 - "$results/scaleout.txt" <<'PY'
import statistics, sys
rps = {}
for line in open(sys.argv[1]):
    name, value, _ = line.split()
    rps.setdefault(name, []).append(float(value))
one, three = statistics.median(rps["one-nginx"]), statistics.median(rps["three-nginx"])
print(f"three instances behind nginx ÷ one behind nginx: {three / one:.3f} (medians of {len(rps['one-nginx'])} alternating samples each: {three:.0f} ÷ {one:.0f} req/s)")
PY
}

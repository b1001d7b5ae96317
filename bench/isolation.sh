#!/usr/bin/env bash
# Tenant isolation benchmark (issue 12), release build, SQLite, one run: another tenant's GET /v1/me
# latency (wrk, p50/p99) alone, and while
#   - one tenant floods POST /v1/jobs (16 connections, as fast as the server answers),
#   - 500 connections sit half-open (half a request line, then nothing),
#   - 20 dashboard sign-ins run at once, over and over (bcrypt at the production cost, 12).
# Usage: bash bench/isolation.sh [--duration S] [--skip-build] [--skip-install]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=8
BUILD=1
INSTALL=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift 2 ;;
        --skip-build) BUILD=0; shift ;;
        --skip-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
if [ "$INSTALL" = 1 ] && ! command -v wrk > /dev/null; then
    echo "==> installing wrk (apt-get)"
    apt-get update -qq && apt-get install -y -qq wrk > /dev/null
fi
ulimit -n 65536 2> /dev/null || ulimit -n 8192 2> /dev/null || true

SCRATCH=${AITBC_BENCH_SCRATCH:-.build-bench}
CONFIG=${AITBC_BENCH_CONFIG:-release}
if [ "$BUILD" = 1 ]; then
    echo "==> release build (first one takes several minutes)"
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-coordinator
fi
BIN="$SCRATCH/$CONFIG/aitbc-coordinator"

DIR=$(mktemp -d /tmp/aitbc-isolation-bench.XXXXXX)
PID=""
LOAD=()
cleanup() {
    for pid in "${LOAD[@]}"; do kill "$pid" 2> /dev/null || true; done
    [ -n "$PID" ] && kill "$PID" 2> /dev/null
    wait 2> /dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
OPERATOR=bench-operator-key-0001

OPERATOR_API_KEY=$OPERATOR AITBC_LOG_LEVEL=warning AITBC_HOST=127.0.0.1 AITBC_PORT=$PORT \
    AITBC_DATABASE_URL="sqlite:$DIR/coordinator.sqlite" AITBC_BCRYPT_COST=12 \
    AITBC_PLANS="free=60,pro=600,enterprise=100000000" "$BIN" > "$DIR/server.log" 2>&1 &
PID=$!
until curl -sf "$URL/ready" > /dev/null; do kill -0 "$PID" || { tail "$DIR/server.log"; exit 1; }; sleep 0.05; done

# A tenant's master key, then a client key of it.
client_key() {
    local master
    master=$(curl -sf -X POST "$URL/v1/tenants" -H "X-API-Key: $OPERATOR" \
        -d "{\"tenant_id\": \"$1\", \"name\": \"$1\", \"plan\": \"enterprise\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["master_key"]["api_key"])')
    curl -sf -X POST "$URL/v1/api-keys" -H "X-API-Key: $master" -d '{"name": "bench", "role": "client"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])'
}
VICTIM=$(client_key victim)
FLOODER=$(client_key flooder)

cat > "$DIR/submit.lua" << 'EOF'
wrk.method = "POST"
wrk.body = '{"payload": {"prompt": "flood"}, "constraints": {"gpu": "4090"}}'
wrk.headers["Content-Type"] = "application/json"
EOF

# measure NAME: the victim's /v1/me under whatever load runs now; prints p50 and p99 in ms.
measure() {
    wrk -t1 -c4 -d"${DURATION}s" --latency -H "X-API-Key: $VICTIM" "$URL/v1/me" > "$DIR/$1.txt"
    python3 - "$DIR/$1.txt" "$1" << 'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    match = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rate = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
print(f"{sys.argv[2]:<28} {ms('50%'):>8.2f} {ms('99%'):>8.2f} {float(rate):>10.0f}")
EOF
}
stop_load() { for pid in "${LOAD[@]}"; do kill "$pid" 2> /dev/null || true; done; wait "${LOAD[@]}" 2> /dev/null || true; LOAD=(); }

echo "==> another tenant's GET /v1/me, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
printf '%-28s %8s %8s %10s\n' scenario p50_ms p99_ms req_per_s
measure "alone"

wrk -t1 -c16 -d"$((DURATION + 2))s" -s "$DIR/submit.lua" -H "X-API-Key: $FLOODER" "$URL/v1/jobs" > "$DIR/flood.txt" &
FLOOD=$!
sleep 1
measure "one tenant floods jobs"
wait "$FLOOD" || true
echo "    (flood: $(grep -o 'Requests/sec:.*' "$DIR/flood.txt"), non-2xx: $(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$DIR/flood.txt" | grep -o '[0-9]*$' || echo 0))"

python3 - "$PORT" << 'EOF' &
import socket, sys, time
held = []
for _ in range(500):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        s.sendall(b"GET /v1/me HT")
        held.append(s)
    except OSError:
        break
print(f"    (half-open: {len(held)} connections opened)", flush=True)
time.sleep(3600)
EOF
LOAD+=($!)
sleep 2
measure "500 half-open connections"
stop_load

python3 - "$URL" << 'EOF' &
import http.cookiejar, re, sys, threading, urllib.parse, urllib.request
url = sys.argv[1]
def sign_in(worker):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    n = 0
    while True:
        n += 1
        try:
            page = opener.open(url + "/dashboard/sign-in").read().decode()
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode({"csrf_token": token, "email": f"nobody{worker}-{n}@example.com",
                                           "password": "not the right password"}).encode()
            request = urllib.request.Request(url + "/dashboard/sign-in", data=form,
                                             headers={"Origin": url, "X-Forwarded-For": f"198.51.100.{worker}"})
            opener.open(request).read()
        except Exception:
            pass
for worker in range(20):
    threading.Thread(target=sign_in, args=(worker,), daemon=True).start()
threading.Event().wait()
EOF
LOAD+=($!)
sleep 1
measure "20 sign-ins at once"
stop_load

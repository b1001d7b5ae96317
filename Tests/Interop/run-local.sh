#!/usr/bin/env bash
# Runs Tests/Interop against a coordinator started here from the debug build, on a temporary SQLite
# file (or the database in AITBC_DATABASE_URL), in a virtual environment with httpx, pynacl and
# pytest. scripts/python-tests does the same for the whole Python suite; this is for the receipt
# interop alone. Usage: Tests/Interop/run-local.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="$(swift build --show-bin-path)/aitbc-coordinator"
[ -x "$binary" ] || { echo "build first: swift build" >&2; exit 1; }
work="$(mktemp -d)"
venv="${AITBC_INTEROP_VENV:-$work/venv}"
if [ ! -x "$venv/bin/pytest" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet httpx pynacl pytest
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AITBC_TEST_OPERATOR_KEY="interop-operator-key-00001" AITBC_TEST_MASTER_KEY="interop-master-key-000001"
export AITBC_TEST_CLIENT_KEY="interop-client-key-000001" AITBC_TEST_MINER_KEY="interop-miner-key-0000001"
export AITBC_URL="http://127.0.0.1:$port"
OPERATOR_API_KEY="$AITBC_TEST_OPERATOR_KEY" MASTER_API_KEY="$AITBC_TEST_MASTER_KEY" \
    CLIENT_API_KEY="$AITBC_TEST_CLIENT_KEY" MINER_API_KEY="$AITBC_TEST_MINER_KEY" \
    AITBC_MAX_POLL_WAIT_SECONDS=1 AITBC_PORT="$port" AITBC_DASHBOARD=false \
    AITBC_DATABASE_URL="${AITBC_DATABASE_URL:-sqlite:$work/coordinator.sqlite}" \
    "$binary" >"$work/coordinator.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    curl -fsS "$AITBC_URL/health" >/dev/null 2>&1 && break
    sleep 0.1
done
"$venv/bin/pytest" -q Tests/Interop "$@"

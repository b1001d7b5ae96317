#!/usr/bin/env bash
# JSON decoding benchmark: a 1 MiB document (nested objects and arrays, numbers, strings) read as a
# JSONValue and as a job submission's body, by trial (Foundation's JSONDecoder trying each kind at
# every value: the server before) and by kind (JSONValueDecoder, one pass: the server now), release build.
# Usage: bash bench/json.sh [--rounds N] [--bytes N] [--skip-build]
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=7
BYTES=1048576
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --bytes) BYTES="$2"; shift 2 ;;
        --skip-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

SCRATCH=.build-bench
if [ "$BUILD" = 1 ]; then
    echo "==> release build (first one takes several minutes)"
    swift build -c release --scratch-path "$SCRATCH" --product aitbc-bench
fi
echo "==> decoding a ${BYTES}-byte document, median of $ROUNDS rounds"
"$SCRATCH/release/aitbc-bench" json --bytes "$BYTES" --rounds "$ROUNDS"

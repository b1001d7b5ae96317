#!/usr/bin/env bash
# Every benchmark once, one results file, the README's figures regenerated from it. See bench/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=0
BASELINE=""
UPDATE_README=1
STEPS="run jobs json bounds isolation scale storage"
ARGS="$*"

usage() {
    cat <<EOF
Usage: bash bench/all.sh [--quick] [--baseline REV] [--steps "run jobs …"] [--no-readme]

Builds this working tree in release (aitbc-coordinator and aitbc-bench, into .build-bench/, one build
at a time) and, with --baseline, aitbc-coordinator at REV in a detached worktree under /tmp; installs
wrk, sqlite3, curl, nginx with apt-get when missing; then runs each benchmark once:

  run        bench/run.sh        auth overhead (/v1/me vs /bench/me), 100 vs 1,000,000 stored keys, forged-key flood
  jobs       bench/jobs.sh       jobs/s with 1/8/32 miners, hand-off latency, rate-limit decision (ns, allocations)
  json       bench/json.sh       decoding a 1 MiB document by trial and by kind
  bounds     bench/bounds.sh     memory per queued job, start-up with queued jobs, matching beside idle miners
  isolation  bench/isolation.sh  another tenant's /v1/me during a job flood, half-open connections, sign-ins
  scale      bench/scale.sh      three instances on PostgreSQL behind nginx vs one, over-admission, revocation
  storage    bench/storage.sh    PostgreSQL ÷ SQLite, transactions per request, durable submissions, jobs end to end

With --baseline, run (scenario a: /v1/me of both builds, alternating), bounds and storage (jobs end to
end) run the baseline too.
Writes bench/results/latest.md (date, machine, commits, every table) and replaces the README's figures
between <!-- bench:begin --> and <!-- bench:end --> with its tables. Raw outputs and logs stay in
bench/results/all-<timestamp>/. About 8 minutes once built (--quick: about 3.5, a run of this machine's 2 shared cores); a first
release build, or a baseline's, takes 10 to 30 minutes more.

Options:
  --quick          short samples (2 s wrk samples, one round, 100,000 keys, 10,000 queued jobs …): to try the
                   command; the results file and README say "quick mode"
  --baseline REV   also build and measure aitbc-coordinator at REV (a commit, tag or branch)
  --steps "…"      run only these steps (default: "$STEPS"); the README is then left alone
  --no-readme      write the results file only
  -h, --help       this text
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --quick) QUICK=1; shift ;;
        --baseline) BASELINE="${2:?--baseline needs a revision}"; shift 2 ;;
        --steps) STEPS="${2:?--steps needs a list}"; UPDATE_README=0; shift 2 ;;
        --no-readme) UPDATE_README=0; shift ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done
for step in $STEPS; do
    [[ " run jobs json bounds isolation scale storage " == *" $step "* ]] || { echo "unknown step: $step (see --help)" >&2; exit 2; }
done

RUN="$ROOT/bench/results/all-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
STARTED=$(date +%s)
BUILD_STEPS=$((2 + (${#BASELINE} > 0 ? 1 : 0)))
TOTAL=$((1 + BUILD_STEPS + $(wc -w <<<"$STEPS") + 1))
STEP=0
progress() {
    STEP=$((STEP + 1))
    local elapsed=$(( $(date +%s) - STARTED ))
    printf '[%s +%dm%02ds] %d/%d %s\n' "$(date +%H:%M:%S)" $((elapsed / 60)) $((elapsed % 60)) "$STEP" "$TOTAL" "$*" >&2
}
die() { echo "all.sh: $*" >&2; exit 1; }

# ---- tools, builds --------------------------------------------------------------------------------
progress "tools: wrk sqlite3 curl nginx python3"
missing=()
for tool in wrk sqlite3 curl nginx; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
command -v python3 >/dev/null || die "needs python3"
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "    installing ${missing[*]} (apt-get)" >&2
    apt-get update -qq >"$RUN/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$RUN/apt.log" 2>&1 || die "apt-get failed: see $RUN/apt.log"
fi

SCRATCH="$ROOT/.build-bench"
for product in aitbc-coordinator aitbc-bench; do
    progress "release build of $product (this tree, into .build-bench/; log: $RUN/build-$product.log)"
    swift build -c release --scratch-path "$SCRATCH" --product "$product" >"$RUN/build-$product.log" 2>&1 \
        || { tail -20 "$RUN/build-$product.log" >&2; die "release build of $product failed"; }
done
BASELINE_BIN=""
BASELINE_LABEL=""
if [[ -n "$BASELINE" ]]; then
    short=$(git rev-parse --short "$BASELINE^{commit}") || die "no such revision: $BASELINE"
    TREE="/tmp/aitbc-baseline-$short"
    progress "release build of aitbc-coordinator at $BASELINE ($short) in $TREE"
    [[ -d "$TREE" ]] || git worktree add --detach "$TREE" "$short" >"$RUN/baseline-worktree.log" 2>&1 \
        || die "git worktree add failed: see $RUN/baseline-worktree.log"
    (cd "$TREE" && swift build -c release --scratch-path "$TREE/.build-bench" --product aitbc-coordinator) \
        >"$RUN/build-baseline.log" 2>&1 || { tail -20 "$RUN/build-baseline.log" >&2; die "baseline build failed"; }
    BASELINE_BIN="$TREE/.build-bench/release/aitbc-coordinator"
    BASELINE_LABEL="$short"
fi

# ---- the benchmarks -------------------------------------------------------------------------------
{
    echo "COMMAND=bash bench/all.sh${ARGS:+ $ARGS}"
    echo "DATE=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "QUICK=$QUICK"
    echo "NPROC=$(nproc)"
    echo "CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "MEMORY=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "KERNEL=$(uname -r)"
    echo "LOAD=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "COMMIT=$(git rev-parse --short HEAD)"
    subject=$(git log -1 --format=%s)
    (( ${#subject} > 72 )) && subject="${subject:0:71}…"
    echo "SUBJECT=$subject"
    echo "DIRTY=$([[ -n "$(git status --porcelain --untracked-files=no)" ]] && echo 1 || echo 0)"
    echo "BASELINE=$BASELINE_LABEL"
    echo "SWIFT=$(swift --version 2>/dev/null | head -1 | sed 's/ (.*//')"
} >"$RUN/meta.env"

if [[ $QUICK -eq 1 ]]; then
    RUN_ARGS=(--duration 2 --rounds 1 --startups 3 --large-keys 100000)
    JOBS_ARGS=(--jobs 200 --seconds 2 --samples 100 --decisions 1000000)
    JSON_ARGS=(--rounds 2)
    BOUNDS_ARGS=(--jobs 10000 --samples 100)
    ISOLATION_ARGS=(--duration 2)
    SCALE_ARGS=(--duration 2 --rounds 1 --trials 10)
    STORAGE_ARGS=(--duration 2 --rounds 1 --scaleout-rounds 1 --jobs 200 --samples 50)
else
    RUN_ARGS=(); JOBS_ARGS=(); JSON_ARGS=(); BOUNDS_ARGS=(); ISOLATION_ARGS=(); SCALE_ARGS=(); STORAGE_ARGS=()
fi
if [[ -n "$BASELINE_BIN" ]]; then
    RUN_ARGS+=(--baseline-bin "$BASELINE_BIN")
    BOUNDS_ARGS+=(--baseline-bin "$BASELINE_BIN")
    STORAGE_ARGS+=(--baseline-bin "$BASELINE_BIN")
fi

BENCH_STARTED=$(date +%s)
FAILED=()
for step in $STEPS; do
    case "$step" in
        run) command=(bash bench/run.sh --skip-install --skip-build "${RUN_ARGS[@]}") ;;
        jobs) command=(bash bench/jobs.sh --skip-build "${JOBS_ARGS[@]}") ;;
        json) command=(bash bench/json.sh --skip-build "${JSON_ARGS[@]}") ;;
        bounds) command=(bash bench/bounds.sh --skip-build "${BOUNDS_ARGS[@]}") ;;
        isolation) command=(bash bench/isolation.sh --skip-build --skip-install "${ISOLATION_ARGS[@]}") ;;
        scale) command=(bash bench/scale.sh --skip-build "${SCALE_ARGS[@]}") ;;
        storage) command=(bash bench/storage.sh --skip-build "${STORAGE_ARGS[@]}") ;;
    esac
    progress "$step: ${command[*]} (log: $RUN/$step.log)"
    began=$(date +%s)
    status=0
    "${command[@]}" >"$RUN/$step.out" 2>"$RUN/$step.log" || status=$?
    echo "STATUS_$step=$status" >>"$RUN/meta.env"
    if [[ $status -ne 0 ]]; then
        FAILED+=("$step")
        echo "    FAILED (exit status $status); last lines of $RUN/$step.log:" >&2
        tail -5 "$RUN/$step.log" | sed 's/^/    /' >&2
    else
        echo "    done in $(( $(date +%s) - began )) s" >&2
    fi
done
WALL=$(( $(date +%s) - BENCH_STARTED ))
echo "WALL=$((WALL / 60)) min $((WALL % 60)) s" >>"$RUN/meta.env"

# ---- one results file, the README ---------------------------------------------------------------
progress "results: bench/results/latest.md$([[ $UPDATE_README -eq 1 ]] && echo ", README.md")"
python3 bench/report.py results "$RUN" >"$RUN/results.md"
cp "$RUN/results.md" "$ROOT/bench/results/latest.md"
if [[ ${#FAILED[@]} -gt 0 ]]; then
    die "failed: ${FAILED[*]}; bench/results/latest.md lists what ran, the README is unchanged"
fi
if [[ $UPDATE_README -eq 1 ]]; then
    python3 bench/report.py readme bench/results/latest.md README.md
    echo "README.md: benchmark figures replaced from bench/results/latest.md" >&2
fi
echo "bench/results/latest.md written (raw outputs: $RUN); total $(( ($(date +%s) - STARTED) / 60 )) min" >&2

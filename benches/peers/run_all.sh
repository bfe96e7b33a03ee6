#!/usr/bin/env bash
# Runs every peer benchmark in sequence and collects one report.
#
# The figures in the report come from (repository root):
#
#   bash benches/peers/setup.sh && cargo build --release && bash benches/peers/run_all.sh
#
# Runs, in order: reaction_vs_joblib.sh, commands_vs_parallel.sh, dispatch.sh, scaling.sh,
# resume.sh (each with the same $SWEEP and $OUT), then writes $OUT/summary.md (one table of
# every measure, with the date, nproc, the CPU model and the exact commands) and
# $OUT/summary.json. A benchmark that fails is reported and the others still run; the exit
# status is non-zero if any failed.
#
# Environment: SWEEP (default target/release/sweep), OUT (default ./bench-out),
# PEERS_ONLY=1 (only the peer tools; needs no sweep binary), ONLY="dispatch scaling" (a subset).
# The full run takes a while: the joblib pool alone needs minutes per run.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need_cmd python3
need_sweep
export SWEEP OUT PEERS_ONLY

all=(reaction_vs_joblib commands_vs_parallel dispatch scaling resume)
read -r -a todo <<<"${ONLY:-${all[*]}}"
failed=()
started="$(date -u +"%Y-%m-%d %H:%M:%S UTC")"
for b in "${todo[@]}"; do
    [ -f "$PEERS_DIR/$b.sh" ] || die "no benchmark $b (have: ${all[*]})"
    rm -f "$OUT/$b.json" "$OUT/$b.md"
    echo
    echo "=== $b ==="
    if ! bash "$PEERS_DIR/$b.sh"; then
        echo "run_all: $b FAILED" >&2
        failed+=("$b")
    fi
done

cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
[ -n "$cpu" ] || cpu="$(lscpu 2>/dev/null | grep -m1 'Model name' | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
if [ "$PEERS_ONLY" = 1 ]; then
    sweep_version="(not run: PEERS_ONLY=1)"
else
    sweep_version="$("$SWEEP" --version 2>/dev/null || echo unknown)"
fi
commit="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)"

header="$(mktemp)"
trap 'rm -f "$header"' EXIT
{
    echo "# sweep peer benchmarks"
    echo
    echo "- date: $started (finished $(date -u +"%Y-%m-%d %H:%M:%S UTC"))"
    echo "- nproc: $(nproc)"
    echo "- CPU: $cpu"
    echo "- kernel: $(uname -sr)"
    echo "- sweep: $SWEEP, $sweep_version"
    echo "- commit: $commit$dirty"
    echo "- tools: $(parallel --version 2>/dev/null | head -n1 || echo 'no parallel'); $(hyperfine --version 2>/dev/null || echo 'no hyperfine'); $(python3 --version 2>&1); $(python3 -c 'import numpy, scipy, joblib; print(f"numpy {numpy.__version__}, scipy {scipy.__version__}, joblib {joblib.__version__}")' 2>/dev/null || echo 'no numpy/scipy/joblib')"
    envs=""
    for v in PEERS_ONLY ONLY N RUNS JOBS; do
        [ -z "${!v:-}" ] || [ "$v" = PEERS_ONLY -a "${!v}" = 0 ] || envs+="$v=\"${!v}\" "
    done
    echo "- produced by: \`bash benches/peers/setup.sh && cargo build --release && ${envs}bash benches/peers/run_all.sh\`"
    [ ${#failed[@]} -eq 0 ] || echo "- FAILED: ${failed[*]} (see the console output)"
    echo
    echo "The \"met\" column compares each value with its target; it is computed, not set."
} >"$header"

echo
echo "=== summary ($OUT/summary.md) ==="
python3 "$PEERS_DIR/summarize.py" collect "$OUT" "$header" "${todo[@]}"
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]}"

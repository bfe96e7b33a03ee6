#!/usr/bin/env bash
# Resume cost: re-running a finished 1,000,000-task spin sweep with --resume.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/resume.sh
#
# It runs the sweep once to completion (timed, for reference), then 3 times
#
#   /usr/bin/time -f "%e %M" $SWEEP run <tmp>/resume_bench.toml --out <tmp>/sweep-out --resume --quiet
#
# on the same out dir (every task is already done: sweep should only rewrite results.csv),
# and prints the median wall time and the max peak RSS (targets: < 2 s, < 200 MB).
#
# Environment: SWEEP, OUT (default ./bench-out), N (tasks, default 1000000), RUNS (default 3),
# JOBS (jobs for the first run, default 2).
# Writes $OUT/resume.{json,md}.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-1000000}"
RUNS="${RUNS:-3}"
JOBS="${JOBS:-2}"
need_cmd python3
need_gnu_time
if [ "$PEERS_ONLY" = 1 ]; then
    echo "resume: PEERS_ONLY=1 and this benchmark has no peer; skipped"
    exit 0
fi
need_sweep
make_work

spec="$WORK/resume_bench.toml"
spin_spec "$spec" resume_bench "$N" 0

first_argv=("$SWEEP" run "$spec" --out "$WORK/sweep-out" --jobs "$JOBS" --quiet)
resume_argv=("$SWEEP" run "$spec" --out "$WORK/sweep-out" --resume --quiet)
first_cmd="${first_argv[*]}"
resume_cmd="${resume_argv[*]}"

echo "resume: first run ($N tasks)"
/usr/bin/time -f "%e %M" -o "$WORK/first.txt" "${first_argv[@]}" >/dev/null \
    || die "the first run failed ($(head -n1 "$WORK/first.txt")): $first_cmd"
read -r first_s first_kib <"$WORK/first.txt"
echo "  first run: $first_s s, $first_kib KiB peak RSS"
need_rows "$WORK/sweep-out/results.csv" "$N" "the first run"

: >"$WORK/resume.times"
for r in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "${resume_argv[@]}" >/dev/null \
        || die "resume run $r failed ($(head -n1 "$WORK/time.txt")): $resume_cmd"
    cat "$WORK/time.txt" >>"$WORK/resume.times"
    printf '  resume run %s: %s s, %s KiB peak RSS\n' "$r" $(cat "$WORK/time.txt")
done
after="$(($(wc -l <"$WORK/sweep-out/results.csv") - 1))"

wall="$(median $(cut -d' ' -f1 "$WORK/resume.times"))"
kib="$(cut -d' ' -f2 "$WORK/resume.times" | sort -n | tail -n1)"
notes=(--note "$N spin tasks (micros = 0, no arrays), all done before the timed runs; median wall of $RUNS resume runs, max RSS over them")
notes+=(--note "spec: $(tr '\n' ' ' <"$spec")")
[ "$after" -eq "$N" ] || notes+=(--note "WARNING: results.csv has $after rows after --resume, expected $N")
summarize resume \
    --row "first run wall (reference)|$first_s|s|" \
    --row "resume wall (median of $RUNS)|$wall|s|< 2" \
    --row "resume peak RSS|$(calc "round($kib * 1024 / 1e6, 1)")|MB|< 200" \
    --row "results.csv rows after resume|$after||" \
    --cmd "/usr/bin/time -f '%e %M' $first_cmd" \
    --cmd "/usr/bin/time -f '%e %M' $resume_cmd" \
    "${notes[@]}"

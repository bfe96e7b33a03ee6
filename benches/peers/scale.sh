#!/usr/bin/env bash
# Scale: what a metric-only sweep costs as the grid grows, in time, memory and disk.
#
# Figures come from (repository root, after `cargo build --release`):
#
#   SIZES="1000000 10000000" bash benches/peers/scale.sh
#
# For each size N (spin tasks, micros = 0, no arrays; 2 workers) it times with GNU time
# (`%e %M`: wall seconds, peak RSS):
#
#   $SWEEP run scale.toml --out OUT --jobs 2 --quiet          the run
#   $SWEEP status OUT                                          status of the finished sweep
#   $SWEEP run scale.toml --out OUT --resume --quiet           resume with nothing to do
#
# and reports the journal's and results.csv's bytes per task. Then, for the size COLLECT_N
# (default the first size), it runs the same grid as SHARDS shards (default 1000) into one
# directory, one `--shard I/SHARDS` run after another, and times `$SWEEP collect OUT`.
#
# Environment: SWEEP, OUT (default ./bench-out), SIZES (default "1000000"), SHARDS (default
# 1000), COLLECT_N (default the first of SIZES; 0 skips collect). Writes $OUT/scale.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SIZES="${SIZES:-1000000}"
SHARDS="${SHARDS:-1000}"
COLLECT_N="${COLLECT_N:-${SIZES%% *}}"
need_gnu_time
need_sweep
make_work

md="$OUT/scale.md"
{
    echo "# Scale ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $($SWEEP --version))"
    echo
    echo "| tasks | run s | run RSS MB | status s | status RSS MB | resume s | resume RSS MB | journal B/task | results.csv B/task |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$md"

timed() { # LABEL CMD... : runs CMD under GNU time; prints "seconds MB"
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" \
        || [ "$label" = status ] || die "$label failed: $(cat "$WORK/err.txt")"
    read -r s kib <"$WORK/time.txt"
    echo "$s $((kib / 1024))"
}

for n in $SIZES; do
    spec="$WORK/scale-$n.toml"
    spin_spec "$spec" "scale$n" "$n" 0
    out="$WORK/out-$n"
    echo "scale: $n tasks"
    read -r run_s run_mb < <(timed run "$SWEEP" run "$spec" --out "$out" --jobs 2 --quiet)
    need_rows "$out/results.csv" "$n" "the run"
    read -r st_s st_mb < <(timed status "$SWEEP" status "$out")
    read -r re_s re_mb < <(timed resume "$SWEEP" run "$spec" --out "$out" --resume --quiet)
    jb=$(python3 -c "print(f'{$(stat -c %s "$out/journal.jsonl") / $n:.1f}')")
    rb=$(python3 -c "print(f'{$(stat -c %s "$out/results.csv") / $n:.1f}')")
    echo "  run $run_s s ${run_mb} MB; status $st_s s ${st_mb} MB; resume $re_s s ${re_mb} MB; journal $jb B/task; results.csv $rb B/task"
    echo "| $n | $run_s | $run_mb | $st_s | $st_mb | $re_s | $re_mb | $jb | $rb |" >>"$md"
    rm -rf "$out"
done

if [ "$COLLECT_N" != 0 ]; then
    spec="$WORK/collect.toml"
    spin_spec "$spec" collect "$COLLECT_N" 0
    out="$WORK/shards"
    echo "scale: $COLLECT_N tasks as $SHARDS shards"
    t0=$(date +%s.%N)
    for i in $(seq 0 $((SHARDS - 1))); do
        "$SWEEP" run "$spec" --out "$out" --shard "$i/$SHARDS" --jobs 2 --quiet --resume >/dev/null
    done
    shards_s=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
    read -r co_s co_mb < <(timed collect "$SWEEP" collect "$out")
    need_rows "$out/results.csv" "$COLLECT_N" "collect"
    echo "  $SHARDS shard runs: $shards_s s in all; collect $co_s s ${co_mb} MB"
    {
        echo
        echo "Collect: $COLLECT_N tasks run as $SHARDS shards (one \`--shard I/$SHARDS\` run after another, $shards_s s in all);"
        echo "\`sweep collect\` took $co_s s with $co_mb MB peak RSS."
    } >>"$md"
    rm -rf "$out"
fi
echo "scale: $md"
cat "$md"

#!/usr/bin/env bash
# Scale: what a metric-only sweep costs as the grid grows, in time, memory and disk.
#
# Figures come from (repository root, after `cargo build --release`):
#
#   SIZES="1000000 10000000" COLLECT_N=10000000 bash benches/peers/scale.sh
#
# For each size N (spin tasks, micros = 0, no arrays; 2 workers) it times with GNU time
# (`%e %M`: wall seconds, peak RSS):
#
#   $SWEEP run scale.toml --out OUT --jobs 2 --quiet          the run
#   $SWEEP status OUT                                          status (checkpoint, no tail)
#   $SWEEP status OUT   (journal.ckpt moved aside)             status from the whole journal
#   $SWEEP run scale.toml --out OUT --resume --quiet           resume with nothing to do
#   $SWEEP run ... --resume (results.csv removed first)        resume that rewrites results.csv
#   $SWEEP collect OUT                                         results.csv from the journal
#
# and reports the journal's and results.csv's bytes per task, and whether the collected
# results.csv is byte-identical to the run's.
#
# Collect of many shards, for the size COLLECT_N (default the first size; 0 skips it):
# a whole-grid run's journal is split by the shard rule into SHARDS (default 1000) shard
# journals, as SHARDS array elements would have written them (python/split_journal.py),
# and `$SWEEP collect` is timed on them. With SHARD_RUNS=1 it instead runs every shard,
# one `--shard I/SHARDS` run after another, and times those runs too (slow for large N).
#
# Environment: SWEEP, OUT (default ./bench-out), SIZES (default "1000000"), SHARDS (default
# 1000), COLLECT_N, SHARD_RUNS. Writes $OUT/scale.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SIZES="${SIZES:-1000000}"
SHARDS="${SHARDS:-1000}"
COLLECT_N="${COLLECT_N:-${SIZES%% *}}"
SHARD_RUNS="${SHARD_RUNS:-0}"
need_gnu_time
need_cmd python3
need_sweep
make_work

md="$OUT/scale.md"
{
    echo "# Scale ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $($SWEEP --version))"
    echo
    echo "| tasks | run | status | status, no checkpoint | resume, nothing to do | resume, rewriting results.csv | collect | journal B/task | results.csv B/task |"
    echo "|---:|---|---|---|---|---|---|---:|---:|"
} >"$md"

timed() { # LABEL CMD... : runs CMD under GNU time; prints "seconds MB"
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" \
        || [ "$label" = status ] || [ "$label" = collect ] || die "$label failed: $(cat "$WORK/err.txt")"
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
    mv "$out/journal.ckpt" "$WORK/ckpt"
    read -r sw_s sw_mb < <(timed status "$SWEEP" status "$out")
    mv "$WORK/ckpt" "$out/journal.ckpt"
    read -r re_s re_mb < <(timed resume "$SWEEP" run "$spec" --out "$out" --resume --quiet)
    cp "$out/results.csv" "$WORK/run.csv"
    rm "$out/results.csv"
    read -r rw_s rw_mb < <(timed resume "$SWEEP" run "$spec" --out "$out" --resume --quiet)
    read -r co_s co_mb < <(timed collect "$SWEEP" collect "$out")
    same=$(cmp -s "$out/results.csv" "$WORK/run.csv" && echo identical || echo DIFFERENT)
    jb=$(python3 -c "print(f'{$(stat -c %s "$out/journal.jsonl") / $n:.1f}')")
    rb=$(python3 -c "print(f'{$(stat -c %s "$out/results.csv") / $n:.1f}')")
    echo "  run $run_s s ${run_mb} MB; status $st_s s ${st_mb} MB (whole journal $sw_s s ${sw_mb} MB);" \
        "resume $re_s s ${re_mb} MB (rewriting results.csv $rw_s s ${rw_mb} MB); collect $co_s s ${co_mb} MB," \
        "results.csv $same; journal $jb B/task; results.csv $rb B/task"
    echo "| $n | $run_s s, $run_mb MB | $st_s s, $st_mb MB | $sw_s s, $sw_mb MB | $re_s s, $re_mb MB | $rw_s s, $rw_mb MB | $co_s s, $co_mb MB ($same) | $jb | $rb |" >>"$md"
    if [ "$n" = "$COLLECT_N" ] && [ "$SHARD_RUNS" != 1 ]; then
        echo "scale: $n tasks split into $SHARDS shard journals"
        python3 "$PEERS_DIR/python/split_journal.py" "$out" "$SHARDS"
        read -r sc_s sc_mb < <(timed collect "$SWEEP" collect "$out")
        need_rows "$out/results.csv" "$n" "collect"
        same=$(cmp -s "$out/results.csv" "$WORK/run.csv" && echo identical || echo DIFFERENT)
        echo "  collect of $SHARDS shards: $sc_s s ${sc_mb} MB; results.csv $same to the run's"
        {
            echo
            echo "Collect: $n tasks in $SHARDS shard journals (split from the whole-grid run's journal by the shard rule):"
            echo "\`sweep collect\` took $sc_s s with $sc_mb MB peak RSS; results.csv $same to the whole-grid run's."
        } >>"$md"
    fi
    rm -rf "$out"
done

if [ "$COLLECT_N" != 0 ] && [ "$SHARD_RUNS" = 1 ]; then
    spec="$WORK/collect.toml"
    spin_spec "$spec" collect "$COLLECT_N" 0
    out="$WORK/shards"
    echo "scale: $COLLECT_N tasks as $SHARDS shard runs"
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

#!/usr/bin/env bash
# Scaling: 400 spin tasks of 10 ms each, --jobs 1 vs --jobs 2.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/scaling.sh
#
# which times, 3 runs each under hyperfine (median; --prepare removes the out dir):
#
#   $SWEEP run <tmp>/scaling_bench.toml --out <tmp>/sweep-out --jobs 1 --quiet
#   $SWEEP run <tmp>/scaling_bench.toml --out <tmp>/sweep-out --jobs 2 --quiet
#
# and prints the speedup time(jobs 1) / time(jobs 2) (target >= 1.9 on a 2-core machine;
# ideal 2: 4.0 s vs 2.0 s of busy-waiting).
#
# Environment: SWEEP, OUT (default ./bench-out), RUNS (default 3).
# Writes $OUT/scaling.{json,md} and $OUT/scaling.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS="${RUNS:-3}"
need_cmd hyperfine python3
if [ "$PEERS_ONLY" = 1 ]; then
    echo "scaling: PEERS_ONLY=1 and this benchmark has no peer; skipped"
    exit 0
fi
need_sweep
make_work

spec="$WORK/scaling_bench.toml"
spin_spec "$spec" scaling_bench "400" 10000

j1="$SWEEP run $spec --out $WORK/sweep-out --jobs 1 --quiet"
j2="$SWEEP run $spec --out $WORK/sweep-out --jobs 2 --quiet"
hf_json="$OUT/scaling.hyperfine.json"
hyperfine --runs "$RUNS" --prepare "rm -rf $WORK/sweep-out" --export-json "$hf_json" -n jobs1 "$j1" -n jobs2 "$j2"

need_rows "$WORK/sweep-out/results.csv" 400 "sweep"
t1="$(hf_median "$hf_json" jobs1)"
t2="$(hf_median "$hf_json" jobs2)"
echo "speedup = $t1 / $t2 = $(calc "round($t1 / $t2, 3)")"
summarize scaling \
    --row "--jobs 1 wall (median of $RUNS)|$t1|s|" \
    --row "--jobs 2 wall (median of $RUNS)|$t2|s|" \
    --row "speedup jobs1/jobs2|$(calc "round($t1 / $t2, 3)")|x|>= 1.9" \
    --cmd "$j1" --cmd "$j2" \
    --note "400 spin tasks of micros = 10000 (4.0 s of CPU in all); nproc $(nproc)" \
    --note "spec: $(tr '\n' ' ' <"$spec")"

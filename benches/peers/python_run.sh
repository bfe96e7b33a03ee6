#!/usr/bin/env bash
# sweep.run's overhead (#30): sweeps/reaction_python.toml's grid (200 rate constants x 3
# initial concentrations, scipy's solve_ivp on 2 workers) three ways, each a whole process:
#
#   $SWEEP run sweeps/reaction_python.toml --out <tmp>/cli --quiet --jobs 2
#   python3 benches/peers/python_run.py run <tmp>/py/rx     (sweep.run, then sweep.open)
#   python3 benches/peers/python_run.py pool <tmp>/pool     (multiprocessing.Pool(2).map)
#
#   bash benches/peers/python_run.sh
#
# in RUNS rounds (time_rounds: each round starts one contender further on), and prints
# sweep.run / sweep run and sweep.run / Pool.map (medians). sweep.run finds $SWEEP first on
# PATH. Environment: SWEEP (default target/release/sweep), OUT (default ./bench-out), RUNS
# (default 5). Writes $OUT/python_run.{json,md} and $OUT/python_run.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS="${RUNS:-5}"
need_cmd hyperfine python3
python3 -c 'import numpy, scipy, xarray' 2>/dev/null || die "numpy, scipy and xarray are needed"
need_sweep
make_work

spec="$REPO_ROOT/sweeps/reaction_python.toml"
cli_cmd="$SWEEP run $spec --out $WORK/cli --quiet --jobs 2"
run_cmd="env PATH=$(dirname "$SWEEP"):$PATH python3 $PEERS_DIR/python_run.py run $WORK/py/rx"
pool_cmd="python3 $PEERS_DIR/python_run.py pool $WORK/pool"
time_rounds "$OUT/python_run" cli cli "$cli_cmd" sweep.run py "$run_cmd" pool pool "$pool_cmd"

hf="$OUT/python_run.hyperfine.json"
cli_s="$(hf_median "$hf" cli)"
run_s="$(hf_median "$hf" sweep.run)"
pool_s="$(hf_median "$hf" pool)"
r_cli="$(calc "round($run_s / $cli_s, 2)")"
r_pool="$(calc "round($run_s / $pool_s, 2)")"
echo "sweep run: ${cli_s}s  sweep.run: ${run_s}s  Pool(2).map: ${pool_s}s (medians of $RUNS)"
echo "sweep.run / sweep run = $r_cli (target <= 1.1); sweep.run / Pool(2).map = $r_pool (target <= 1.5)"
summarize python_run \
    --row "sweep run wall (median of $RUNS)|$cli_s|s|" \
    --row "sweep.run wall (median of $RUNS)|$run_s|s|" \
    --row "Pool(2).map wall (median of $RUNS)|$pool_s|s|" \
    --row "sweep.run / sweep run|$r_cli|x|<= 1.1" \
    --row "sweep.run / Pool(2).map|$r_pool|x|<= 1.5" \
    --cmd "$cli_cmd" --cmd "$run_cmd" --cmd "$pool_cmd" \
    --note "grid: sweeps/reaction_python.toml (600 tasks); 2 workers each; sweep writes t and c as .npy, the pool keeps them in memory"

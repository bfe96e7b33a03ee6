#!/usr/bin/env bash
# sweep.run's overhead (#30): sweeps/reaction_python.toml's grid (200 rate constants x 3
# initial concentrations, scipy's solve_ivp on 2 workers), each contender a whole process:
#
#   cli       $SWEEP run sweeps/reaction_python.toml --out <tmp>/cli --quiet --jobs 2
#   sweep.run python3 benches/peers/python_run.py run <tmp>/py/rx    (sweep.run, returning sweep.open's Dataset)
#   warm      python3 benches/peers/python_run.py warm <tmp>/warm/rx  (sweep.run in an interpreter that has
#             imported xarray already, as a notebook's kernel has: the call alone is timed, inside)
#   imports   python3 -c 'import numpy, xarray': the interpreter and the imports that sweep.run pays
#             on top of the run, and sweep run from the shell does not
#   cli+open  the cli, then python3 -c 'import sweep; sweep.open(...)': the same Dataset by the shell's route
#   pool      python3 benches/peers/python_run.py pool <tmp>/pool    (multiprocessing.Pool(2).map, in memory)
#   spawn     python3 benches/peers/python_run.py spawn <tmp>/spawn  (the same, start method "spawn": fresh
#             worker interpreters, as sweep's are, and as "forkserver", Linux's default from Python 3.14)
#   kept      python3 benches/peers/python_run.py kept <tmp>/kept    (Pool(2).map that also saves each
#             task's t and c as .npy files and builds the same labelled Dataset: the hand-written equivalent)
#
#   ASIDE=1 bash benches/peers/python_run.sh
#
# in RUNS rounds (time_rounds: each round starts one contender further on), and prints the
# medians' ratios: sweep.run / cli (target <= 1.1) and sweep.run / pool (target <= 1.5), and
# the two that say where the rest goes: sweep.run / cli+open and sweep.run / kept. With
# jobs = 2 on a 2-core machine every core is busy with a worker, so the CPU that sweep.run
# spends besides the run (its interpreter, importing xarray, reading the arrays) adds to
# the wall time; the CPU seconds of each contender are printed too. `warm` shows the call
# without them: sweep.run in a running interpreter / cli. sweep.run finds $SWEEP
# first on PATH. Environment: SWEEP (default target/release/sweep), OUT (default
# ./bench-out), RUNS (default 5), ASIDE (1: move earlier outputs aside instead of deleting
# them; see time_rounds). Writes $OUT/python_run.{json,md} and $OUT/python_run.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS="${RUNS:-5}"
need_cmd hyperfine python3
python3 -c 'import numpy, scipy, xarray' 2>/dev/null || die "numpy, scipy and xarray are needed"
need_sweep
make_work

spec="$REPO_ROOT/sweeps/reaction_python.toml"
py="PATH=$(dirname "$SWEEP"):$PATH python3"
cli_cmd="$SWEEP run $spec --out $WORK/cli --quiet --jobs 2"
run_cmd="env $py $PEERS_DIR/python_run.py run $WORK/py/rx"
open_cmd="$SWEEP run $spec --out $WORK/clio --quiet --jobs 2 && env $py -c \"import sys; sys.path.insert(0, '$REPO_ROOT/python'); import sweep; sweep.open('$WORK/clio')\""
pool_cmd="python3 $PEERS_DIR/python_run.py pool $WORK/pool"
warm_cmd="env WARM_TIMES=$WORK/warm.txt $py $PEERS_DIR/python_run.py warm $WORK/warm/rx"
imports_cmd="python3 -c 'import numpy, xarray'"
spawn_cmd="python3 $PEERS_DIR/python_run.py spawn $WORK/spawn"
kept_cmd="python3 $PEERS_DIR/python_run.py kept $WORK/kept"
time_rounds "$OUT/python_run" cli cli "$cli_cmd" sweep.run py "$run_cmd" warm warm "$warm_cmd" imports imports "$imports_cmd" cli+open clio "$open_cmd" \
    pool pool "$pool_cmd" spawn spawn "$spawn_cmd" kept kept "$kept_cmd"

hf="$OUT/python_run.hyperfine.json"
for c in cli sweep.run imports cli+open pool spawn kept; do
    v="$(hf_median "$hf" "$c")"
    cpu="$(hf_cpu_median "$hf" "$c")"
    eval "s_${c//[.+]/_}=$v cpu_${c//[.+]/_}=$cpu"
done
s_warm="$(python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in open(sys.argv[1])))' "$WORK/warm.txt")"
r_warm="$(calc "round($s_warm / $s_cli, 2)")"
r_cli="$(calc "round($s_sweep_run / $s_cli, 2)")"
r_pool="$(calc "round($s_sweep_run / $s_pool, 2)")"
r_open="$(calc "round($s_sweep_run / $s_cli_open, 2)")"
r_kept="$(calc "round($s_sweep_run / $s_kept, 2)")"
r_cli_pool="$(calc "round($s_cli / $s_pool, 2)")"
r_cli_spawn="$(calc "round($s_cli / $s_spawn, 2)")"
echo "medians of $RUNS (wall s / CPU s): sweep run $s_cli/$cpu_cli  sweep.run $s_sweep_run/$cpu_sweep_run" \
    " cli+open $s_cli_open/$cpu_cli_open  Pool(2).map $s_pool/$cpu_pool  spawn $s_spawn/$cpu_spawn  kept $s_kept/$cpu_kept"
echo "sweep.run / sweep run = $r_cli (target <= 1.1); sweep.run / Pool(2).map = $r_pool (target <= 1.5)"
echo "sweep.run in a running interpreter (the call alone, ${s_warm}s) / sweep run = $r_warm;" \
    "python3 -c 'import numpy, xarray' alone: ${s_imports}s wall, ${cpu_imports}s CPU"
echo "sweep.run / (sweep run + sweep.open) = $r_open; sweep.run / Pool(2).map keeping arrays and a Dataset = $r_kept"
echo "sweep run / Pool(2).map = $r_cli_pool; sweep run / Pool(2).map with spawn = $r_cli_spawn"
summarize python_run \
    --row "sweep run wall (median of $RUNS)|$s_cli|s|" \
    --row "sweep.run wall (median of $RUNS)|$s_sweep_run|s|" \
    --row "sweep.run in a running interpreter, the call alone (median of $RUNS)|$s_warm|s|" \
    --row "python3 -c 'import numpy, xarray' wall (median of $RUNS)|$s_imports|s|" \
    --row "sweep run + sweep.open wall (median of $RUNS)|$s_cli_open|s|" \
    --row "Pool(2).map wall (median of $RUNS)|$s_pool|s|" \
    --row "Pool(2).map, start method spawn, wall (median of $RUNS)|$s_spawn|s|" \
    --row "Pool(2).map + .npy files + Dataset wall (median of $RUNS)|$s_kept|s|" \
    --row "sweep run CPU (median)|$cpu_cli|s|" \
    --row "sweep.run CPU (median)|$cpu_sweep_run|s|" \
    --row "python3 -c 'import numpy, xarray' CPU (median)|$cpu_imports|s|" \
    --row "sweep run + sweep.open CPU (median)|$cpu_cli_open|s|" \
    --row "Pool(2).map CPU (median)|$cpu_pool|s|" \
    --row "Pool(2).map, start method spawn, CPU (median)|$cpu_spawn|s|" \
    --row "Pool(2).map + .npy files + Dataset CPU (median)|$cpu_kept|s|" \
    --row "sweep.run / sweep run|$r_cli|x|<= 1.1" \
    --row "sweep.run / Pool(2).map|$r_pool|x|<= 1.5" \
    --row "sweep.run in a running interpreter / sweep run|$r_warm|x|<= 1.1" \
    --row "sweep.run / (sweep run + sweep.open)|$r_open|x|" \
    --row "sweep.run / (Pool(2).map + .npy files + Dataset)|$r_kept|x|" \
    --row "sweep run / Pool(2).map|$r_cli_pool|x|" \
    --row "sweep run / Pool(2).map with spawn|$r_cli_spawn|x|" \
    --cmd "$cli_cmd" --cmd "$run_cmd" --cmd "$warm_cmd" --cmd "$imports_cmd" --cmd "$open_cmd" --cmd "$pool_cmd" --cmd "$spawn_cmd" --cmd "$kept_cmd" \
    --note "grid: sweeps/reaction_python.toml (600 tasks); 2 workers each; sweep writes t and c as .npy (1,200 files in 600 directories), the pool keeps them in memory, kept does both"

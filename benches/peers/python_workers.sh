#!/usr/bin/env bash
# A Python user's own function: sweep's [python] workers against the pools they would write
# by hand (multiprocessing.Pool(2).map, joblib.Parallel(n_jobs=2)), and against sweep's
# [command] route (one interpreter per task). Whole processes are timed with hyperfine,
# interpreter start and imports included on every side; 2 workers each.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/python_workers.sh
#
# Three workloads, each timed RUNS times per contender (median), in RUNS rounds that run
# every contender of the workload once, in turn (see time_all):
#
#   reaction, N1 = 20,000 rate constants (scipy solve_ivp, default tolerances):
#     $SWEEP run rx.toml --jobs 2 -q          ([python] function = "rx.py:simulate")
#     python3 pool.py 20000 pool.csv          (multiprocessing.Pool(2).map)
#     python3 joblib_rx.py 20000 joblib.csv   (joblib.Parallel(n_jobs=2))
#     split.sh 20000                          (the floor: two plain loops side by side, each
#                                              over every other k, python3 split_rx.py N I 2)
#   reaction, N2 = 200 rate constants: the same three, plus
#     $SWEEP run rx_command.toml --jobs 2 -q  ([command]: python3 rx_cli.py per task)
#   trivial, N3 = 200,000 tasks of `return {"y": x * x}`:
#     $SWEEP run trivial.toml --jobs 2 -q     (journal and results.csv written)
#     python3 joblib_trivial.py 200000 joblib.csv
#
# Targets (issue: persistent Python workers): at N1, Pool/sweep >= 1.0 and joblib/sweep >= 1.2;
# at N2, sweep/Pool <= 1.5 (and [command]/sweep reported); at N3, sweep's tasks/s >= joblib's.
# It also checks that every contender computed the same conversions (max abs difference).
#
# The floor at N1 is what the function itself costs on two cores: two interpreters started
# side by side, each importing scipy and looping over every other k with no pool, no
# scheduling and no results passed (the same one BLAS/OpenMP thread each as sweep's
# workers). No runner of the same function on 2 workers is much faster than that, so
# joblib/floor bounds the joblib/sweep ratio any runner can reach on this machine.
#
# Environment: SWEEP (default target/release/sweep), OUT (default ./bench-out), RUNS
# (default 3), N1, N2, N3. Writes $OUT/python_workers.{json,md} and the hyperfine JSONs.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS="${RUNS:-3}"
N1="${N1:-20000}"
N2="${N2:-200}"
N3="${N3:-200000}"
need_cmd hyperfine python3
python3 -c 'import numpy, scipy, joblib' 2>/dev/null || die "numpy, scipy and joblib are needed; run: bash benches/peers/setup.sh"
need_sweep
make_work
cp "$PEERS_DIR"/python/*.py "$WORK"/
cd "$WORK"

spec() { # FILE N : the [python] reaction spec over N rate constants
    printf '[python]\nfunction = "rx.py:simulate"\n[params]\nk = { linspace = [0.01, 2.0, %s] }\n' "$2" >"$1"
}
spec rx1.toml "$N1"
spec rx2.toml "$N2"
printf '[command]\nargv = ["python3", "rx_cli.py", "--k", "{k}", "--out", "{out}"]\n[params]\nk = { linspace = [0.01, 2.0, %s] }\n' "$N2" >rx_command.toml
# The floor's two loops, each with the thread limits sweep's workers get.
cat >split.sh <<'SH'
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
python3 split_rx.py "$1" 0 2 split & python3 split_rx.py "$1" 1 2 split
wait
SH
printf '[python]\nfunction = "trivial.py:square"\n[params]\nx = { range = [0, %s] }\n' "$N3" >trivial.toml

# time_all NAME  NAME1 OUT1 CMD1 ... : the contenders in rounds (common.sh: time_rounds).
time_all() {
    local name="$1"
    shift
    time_rounds "$OUT/python_workers.$name" "$@"
}

echo "python_workers: reaction over $N1 rate constants, $RUNS runs each"
time_all reaction_n1 \
    sweep runs/rx1 "$SWEEP run rx1.toml --jobs 2 -q" \
    pool pool.csv "python3 pool.py $N1 pool.csv" \
    joblib joblib.csv "python3 joblib_rx.py $N1 joblib.csv" \
    floor split "bash split.sh $N1"
check_same() { # the conversions of sweep's results.csv, pool.csv and joblib.csv agree
    python3 - "$@" <<'PY'
import csv, sys
def load(p):
    with open(p, newline="") as f:
        return {round(float(r["k"]), 12): float(r["conversion"]) for r in csv.DictReader(f) if r.get("status", "done") == "done"}
runs = [load(p) for p in sys.argv[1:]]
assert all(len(r) == len(runs[0]) for r in runs), [len(r) for r in runs]
print(f"{max(abs(r[k] - runs[0][k]) for r in runs[1:] for k in runs[0]):.3e}")
PY
}
cat split/part-0.csv >split.csv && tail -n +2 split/part-1.csv >>split.csv
same1=$(check_same runs/rx1/results.csv pool.csv joblib.csv split.csv)

echo "python_workers: reaction over $N2 rate constants, $RUNS runs each"
time_all reaction_n2 \
    sweep runs/rx2 "$SWEEP run rx2.toml --jobs 2 -q" \
    pool pool.csv "python3 pool.py $N2 pool.csv" \
    joblib joblib.csv "python3 joblib_rx.py $N2 joblib.csv" \
    command runs/rx_command "$SWEEP run rx_command.toml --jobs 2 -q"
same2=$(check_same runs/rx2/results.csv runs/rx_command/results.csv pool.csv joblib.csv)

echo "python_workers: $N3 trivial tasks, $RUNS runs each"
time_all trivial \
    sweep runs/trivial "$SWEEP run trivial.toml --jobs 2 -q" \
    joblib joblib.csv "python3 joblib_trivial.py $N3 joblib.csv"
need_rows runs/trivial/results.csv "$N3" "sweep"
need_rows joblib.csv "$N3" "joblib"
[ "$(wc -l <runs/trivial/journal.jsonl)" -gt "$N3" ] || die "sweep's journal lacks records"

m() { hf_median "$OUT/python_workers.$1.hyperfine.json" "$2"; }
s1=$(m reaction_n1 sweep); p1=$(m reaction_n1 pool); j1=$(m reaction_n1 joblib); f1=$(m reaction_n1 floor)
s2=$(m reaction_n2 sweep); p2=$(m reaction_n2 pool); j2=$(m reaction_n2 joblib); c2=$(m reaction_n2 command)
s3=$(m trivial sweep); j3=$(m trivial joblib)
r() { calc "round($1, 2)"; }

rows=(
    --row "reaction N=$N1: sweep [python]|$s1|s|"
    --row "reaction N=$N1: multiprocessing.Pool(2).map|$p1|s|"
    --row "reaction N=$N1: joblib Parallel(n_jobs=2)|$j1|s|"
    --row "reaction N=$N1: Pool / sweep|$(r "$p1 / $s1")|x|>= 1.0"
    --row "reaction N=$N1: joblib / sweep|$(r "$j1 / $s1")|x|>= 1.2"
    --row "reaction N=$N1: floor, two plain loops side by side|$f1|s|"
    --row "reaction N=$N1: joblib / floor (about the most joblib / sweep can be)|$(r "$j1 / $f1")|x|"
    --row "reaction N=$N1: sweep / floor|$(r "$s1 / $f1")|x|"
    --row "reaction N=$N1: max abs conversion difference|$same1||"
    --row "reaction N=$N2: sweep [python]|$s2|s|"
    --row "reaction N=$N2: multiprocessing.Pool(2).map|$p2|s|"
    --row "reaction N=$N2: joblib Parallel(n_jobs=2)|$j2|s|"
    --row "reaction N=$N2: sweep [command] (a python3 per task)|$c2|s|"
    --row "reaction N=$N2: sweep / Pool|$(r "$s2 / $p2")|x|<= 1.5"
    --row "reaction N=$N2: [command] / [python]|$(r "$c2 / $s2")|x|"
    --row "reaction N=$N2: max abs conversion difference|$same2||"
    --row "trivial N=$N3: sweep [python]|$s3|s|"
    --row "trivial N=$N3: joblib Parallel(n_jobs=2)|$j3|s|"
    --row "trivial: sweep tasks/s|$(calc "round($N3 / $s3)")|tasks/s|"
    --row "trivial: joblib tasks/s|$(calc "round($N3 / $j3)")|tasks/s|"
    --row "trivial: sweep / joblib throughput|$(r "$j3 / $s3")|x|>= 1.0"
)
cmds=(
    --cmd "$SWEEP run rx1.toml --jobs 2 -q   # $(tr '\n' ' ' <rx1.toml)"
    --cmd "python3 pool.py $N1 pool.csv"
    --cmd "python3 joblib_rx.py $N1 joblib.csv"
    --cmd "bash split.sh $N1   # $(tr '\n' ';' <split.sh)"
    --cmd "$SWEEP run rx_command.toml --jobs 2 -q   # $(tr '\n' ' ' <rx_command.toml)"
    --cmd "$SWEEP run trivial.toml --jobs 2 -q   # $(tr '\n' ' ' <trivial.toml)"
    --cmd "python3 joblib_trivial.py $N3 joblib.csv"
)
notes=(--note "scripts: benches/peers/python/; python3 $(python3 -c 'import sys; print(sys.version.split()[0])'), $(python3 -c 'import scipy, joblib; print("scipy", scipy.__version__, "joblib", joblib.__version__)')")
summarize python_workers "${rows[@]}" "${cmds[@]}" "${notes[@]}"

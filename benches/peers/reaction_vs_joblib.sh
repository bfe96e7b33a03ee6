#!/usr/bin/env bash
# sweep vs a joblib pool: the reaction model over 20,000 rate constants, 2 workers each.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/reaction_vs_joblib.sh
#
# which runs, 3 times each under hyperfine (median; --prepare removes the out dirs):
#
#   $SWEEP run <tmp>/reaction_bench.toml --out <tmp>/sweep-out --quiet --jobs 2
#   python3 benches/peers/reaction_joblib.py --n 20000 --jobs 2 --out <tmp>/py --quiet
#
# and prints python_time / sweep_time, then checks that sweep's results.csv `conversion`
# column matches the Python CSV (max abs difference; it should be < 1e-6).
#
# Environment: SWEEP (default target/release/sweep), OUT (default ./bench-out),
# N (grid points, default 20000), RUNS (default 3), PEERS_ONLY=1 (time only the Python pool).
# Writes $OUT/reaction_vs_joblib.{json,md} and $OUT/reaction_vs_joblib.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-20000}"
RUNS="${RUNS:-3}"
need_cmd hyperfine python3
python3 -c 'import numpy, scipy, joblib' 2>/dev/null || die "numpy, scipy and joblib are needed; run: bash benches/peers/setup.sh"
need_sweep
make_work

spec="$WORK/reaction_bench.toml"
cat >"$spec" <<TOML
name = "reaction_bench"
seed = 1
[model]
name = "reaction"
t_final = 10.0
save = []
[params]
k = { linspace = [0.01, 2.0, $N] }
TOML

sweep_cmd="$SWEEP run $spec --out $WORK/sweep-out --quiet --jobs 2"
py_cmd="python3 $PEERS_DIR/reaction_joblib.py --n $N --jobs 2 --out $WORK/py --quiet"
hf_json="$OUT/reaction_vs_joblib.hyperfine.json"

# One --prepare per command, so that both outputs of the last runs survive for the check.
args=(--runs "$RUNS" --export-json "$hf_json")
names=()
[ "$PEERS_ONLY" = 1 ] || { args+=(--prepare "rm -rf $WORK/sweep-out"); names+=(-n sweep "$sweep_cmd"); }
args+=(--prepare "rm -rf $WORK/py")
names+=(-n joblib "$py_cmd")
echo "reaction_vs_joblib: $N points, $RUNS runs each (the Python pool takes minutes per run)"
hyperfine "${args[@]}" "${names[@]}"
need_rows "$WORK/py/reaction_joblib.csv" "$N" "the joblib pool"

py_s="$(hf_median "$hf_json" joblib)"
rows=(--row "joblib wall (median of $RUNS)|$py_s|s|")
rows+=(--row "joblib throughput|$(calc "round($N / $py_s, 1)")|points/s|")
cmds=(--cmd "$py_cmd")
notes=(--note "grid: k = linspace(0.01, 2, $N); RK45 rtol 1e-9 atol 1e-12; t_final 10; 2 workers")
notes+=(--note "spec: $(tr '\n' ' ' <"$spec")")

if [ "$PEERS_ONLY" != 1 ]; then
    need_rows "$WORK/sweep-out/results.csv" "$N" "sweep"
    sweep_s="$(hf_median "$hf_json" sweep)"
    ratio="$(calc "round($py_s / $sweep_s, 2)")"
    diff_out="$(python3 - "$WORK/sweep-out/results.csv" "$WORK/py/reaction_joblib.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    s = list(csv.DictReader(f))
with open(sys.argv[2], newline="") as f:
    p = list(csv.DictReader(f))
if len(s) != len(p):
    sys.exit(f"row counts differ: sweep {len(s)}, python {len(p)}")
bad = [r for r in s if r.get("status") != "done"]
dk = max(abs(float(a["k"]) - float(b["k"])) for a, b in zip(s, p))
dc = max(abs(float(a["conversion"]) - float(b["conversion"])) for a, b in zip(s, p) if a.get("status") == "done")
print(f"{dc:.3e} {dk:.3e} {len(bad)}")
PY
)" || die "could not compare the results: $diff_out"
    read -r max_diff max_dk not_ok <<<"$diff_out"
    rows=(--row "sweep wall (median of $RUNS)|$sweep_s|s|" "${rows[@]}")
    rows+=(--row "python_time / sweep_time|$ratio|x|")
    rows+=(--row "max abs conversion difference|$max_diff||< 1e-6")
    rows+=(--row "max abs k difference|$max_dk||")
    rows+=(--row "sweep tasks not ok|$not_ok||<= 0")
    cmds=(--cmd "$sweep_cmd" "${cmds[@]}")
    echo "python_time / sweep_time = $py_s / $sweep_s = $ratio"
    echo "max |conversion_sweep - conversion_python| = $max_diff (max |k diff| = $max_dk)"
else
    notes+=(--note "PEERS_ONLY=1: sweep not run")
fi

summarize reaction_vs_joblib "${rows[@]}" "${cmds[@]}" "${notes[@]}"

#!/usr/bin/env bash
# Launching external commands: sweep vs GNU Parallel vs xargs, 2,000 tasks of `true`, 2 at a time.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/commands_vs_parallel.sh
#
# which times, 5 runs each under hyperfine (median; --prepare moves the output dirs aside):
#
#   sweep:    $SWEEP run <tmp>/commands_bench.toml --out <tmp>/sweep-out --jobs 2 --quiet
#             (captures every task's stdout/stderr into tasks/<task>/stdout.txt, stderr.txt)
#   parallel: seq 2000 | parallel --will-cite -j2 --results <tmp>/par-out true
#             (captures every job's stdout/stderr under <tmp>/par-out)
#   xargs:    seq 2000 | xargs -P2 -n1 true          (records nothing)
#
# and prints tasks/s for each and the throughput ratios sweep/parallel (target >= 3) and
# sweep/xargs (target >= 0.8). It measures; it decides nothing.
#
# Environment: SWEEP, OUT (default ./bench-out), N (tasks, default 2000), RUNS (default 5),
# PEERS_ONLY=1 (time only GNU Parallel and xargs).
# Writes $OUT/commands_vs_parallel.{json,md} and $OUT/commands_vs_parallel.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-2000}"
RUNS="${RUNS:-5}"
need_cmd hyperfine parallel xargs seq python3
need_sweep
make_work

spec="$WORK/commands_bench.toml"
cat >"$spec" <<TOML
name = "commands_bench"
seed = 1
[command]
argv = ["true"]
[params]
i = { range = [0, $N] }
TOML

sweep_cmd="$SWEEP run $spec --out $WORK/sweep-out --jobs 2 --quiet"
par_cmd="seq $N | parallel --will-cite -j2 --results $WORK/par-out true"
xargs_cmd="seq $N | xargs -P2 -n1 true"
hf_json="$OUT/commands_vs_parallel.hyperfine.json"

# One --prepare per command, so that each tool's output of its last run survives for the checks.
args=(--runs "$RUNS" --warmup 1 --export-json "$hf_json")
names=()
# The previous run's output is moved aside, not deleted: on ext4, files created just after
# thousands were deleted pay for the deleted inodes (ext4's recently-deleted check), which
# would time the filesystem's cleanup rather than the tools. Moved dirs go at the end.
aside() { echo "if [ -e $1 ]; then mv $1 $WORK/aside.\$(date +%s%N); fi"; }
[ "$PEERS_ONLY" = 1 ] || { args+=(--prepare "$(aside "$WORK/sweep-out")"); names+=(-n sweep "$sweep_cmd"); }
args+=(--prepare "$(aside "$WORK/par-out")" --prepare "true")
names+=(-n parallel "$par_cmd" -n xargs "$xargs_cmd")
hyperfine "${args[@]}" "${names[@]}"

# The outputs of the last run are still there: check each tool did the work it was timed on.
par_files="$(find "$WORK/par-out" -name stdout -type f | wc -l)"
[ "$par_files" -eq "$N" ] || die "GNU Parallel left $par_files stdout files, expected $N"

par_s="$(hf_median "$hf_json" parallel)"
xargs_s="$(hf_median "$hf_json" xargs)"
rows=()
cmds=()
notes=(--note "$N tasks of \`true\`, 2 at a time; median of $RUNS runs after 1 warmup")
notes+=(--note "spec: $(tr '\n' ' ' <"$spec")")
if [ "$PEERS_ONLY" != 1 ]; then
    sweep_s="$(hf_median "$hf_json" sweep)"
    need_rows "$WORK/sweep-out/results.csv" "$N" "sweep"
    sweep_files="$(find "$WORK/sweep-out/tasks" -name stdout.txt -type f 2>/dev/null | wc -l)"
    [ "$sweep_files" -eq "$N" ] || notes+=(--note "WARNING: sweep left $sweep_files tasks/*/stdout.txt files, expected $N")
    rows+=(--row "sweep wall|$sweep_s|s|" --row "sweep throughput|$(calc "round($N / $sweep_s)")|tasks/s|")
    cmds+=(--cmd "$sweep_cmd")
fi
rows+=(--row "parallel wall|$par_s|s|" --row "parallel throughput|$(calc "round($N / $par_s)")|tasks/s|")
rows+=(--row "xargs wall|$xargs_s|s|" --row "xargs throughput|$(calc "round($N / $xargs_s)")|tasks/s|")
cmds+=(--cmd "$par_cmd" --cmd "$xargs_cmd")
if [ "$PEERS_ONLY" != 1 ]; then
    rows+=(--row "sweep/parallel throughput|$(calc "round($par_s / $sweep_s, 2)")|x|>= 3")
    rows+=(--row "sweep/xargs throughput|$(calc "round($xargs_s / $sweep_s, 2)")|x|>= 0.8")
else
    notes+=(--note "PEERS_ONLY=1: sweep not run")
fi

summarize commands_vs_parallel "${rows[@]}" "${cmds[@]}" "${notes[@]}"

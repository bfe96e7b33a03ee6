#!/usr/bin/env bash
# Launching external commands: sweep vs GNU Parallel vs xargs, N tasks of `true`, 2 at a time,
# wall time and CPU (user + system, the children's included) side by side.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/commands_vs_parallel.sh
#
# which runs RUNS rounds (default 7), each timing every contender once under hyperfine, each
# round starting one contender further on (common.sh: time_rounds), and reports medians:
#
#   sweep:    $SWEEP run <tmp>/commands_bench.toml --out <tmp>/sweep-out --jobs 2 --quiet
#             (captures every task's stdout/stderr into tasks/<task>/stdout.txt, stderr.txt,
#             in an attempt directory of its own, journals every task, writes results.csv)
#   parallel: seq N | parallel --will-cite -j2 --results <tmp>/par-out true
#             (captures every job's stdout/stderr under <tmp>/par-out)
#   xargs:    seq N | xargs -P2 -n1 true          (records nothing)
#   floor:    the xargs line, with commands/make_files.py creating beside it the directory
#             and two empty files per task that sweep creates (no supervision, no journal):
#             what any runner that captures each task's output in files pays on this
#             filesystem. On ext4 without a journal (this machine's disk), each new inode
#             costs a look for recently deleted ones, about 0.5 ms of system CPU per task
#             for the three; on tmpfs, about 0.03 ms. Run with TMPDIR=/dev/shm to time the
#             runners on a filesystem where creating files is cheap.
#
# Targets (#23): sweep at least 1.0x xargs in wall time, at most 1.5x xargs' CPU, and at
# least 3x GNU Parallel; sweep against the floor says how much of a miss the files explain.
# It measures; it decides nothing.
#
# Environment: SWEEP, OUT (default ./bench-out), N (tasks, default 2000), RUNS (default 7),
# PEERS_ONLY=1 (time only GNU Parallel and xargs).
# Writes $OUT/commands_vs_parallel.{json,md} and $OUT/commands_vs_parallel.hyperfine.json.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-2000}"
RUNS="${RUNS:-7}"
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
floor_cmd="bash -c 'seq $N | xargs -P2 -n1 true & python3 $PEERS_DIR/commands/make_files.py $WORK/floor-out $N; wait'"
prefix="$OUT/commands_vs_parallel"
hf_json="$prefix.hyperfine.json"

contenders=()
[ "$PEERS_ONLY" = 1 ] || contenders+=(sweep sweep-out "$sweep_cmd")
contenders+=(parallel par-out "$par_cmd" xargs xargs-none "$xargs_cmd" floor floor-out "$floor_cmd")
ASIDE=1 time_rounds "$prefix" "${contenders[@]}"

# The outputs of the last round are still there: check each tool did the work it was timed on.
par_files="$(find "$WORK/par-out" -name stdout -type f | wc -l)"
[ "$par_files" -eq "$N" ] || die "GNU Parallel left $par_files stdout files, expected $N"

par_s="$(hf_median "$hf_json" parallel)"
xargs_s="$(hf_median "$hf_json" xargs)"
par_cpu="$(hf_cpu_median "$hf_json" parallel)"
xargs_cpu="$(hf_cpu_median "$hf_json" xargs)"
floor_s="$(hf_median "$hf_json" floor)"
floor_cpu="$(hf_cpu_median "$hf_json" floor)"
rows=()
cmds=()
notes=(--note "$N tasks of \`true\`, 2 at a time; medians of $RUNS interleaved rounds (each round times every contender once)")
notes+=(--note "CPU: user + system seconds of the whole command, its children included (hyperfine)")
notes+=(--note "spec: $(tr '\n' ' ' <"$spec")")
notes+=(--note "work dir: $WORK ($(df --output=fstype "$WORK" | tail -1))")
if [ "$PEERS_ONLY" != 1 ]; then
    sweep_s="$(hf_median "$hf_json" sweep)"
    sweep_cpu="$(hf_cpu_median "$hf_json" sweep)"
    need_rows "$WORK/sweep-out/results.csv" "$N" "sweep"
    failed="$(grep -c ',failed,' "$WORK/sweep-out/results.csv" || true)"
    [ "$failed" -eq 0 ] || die "sweep failed $failed tasks of $N"
    sweep_files="$(find "$WORK/sweep-out/tasks" -name stdout.txt -type f 2>/dev/null | wc -l)"
    [ "$sweep_files" -eq "$N" ] || die "sweep left $sweep_files tasks/*/stdout.txt files, expected $N"
    rows+=(--row "sweep wall|$sweep_s|s|" --row "sweep CPU|$sweep_cpu|s|")
    rows+=(--row "sweep throughput|$(calc "round($N / $sweep_s)")|tasks/s|")
    cmds+=(--cmd "$sweep_cmd")
fi
rows+=(--row "parallel wall|$par_s|s|" --row "parallel CPU|$par_cpu|s|")
rows+=(--row "xargs wall|$xargs_s|s|" --row "xargs CPU|$xargs_cpu|s|")
rows+=(--row "floor (xargs + the same files) wall|$floor_s|s|" --row "floor CPU|$floor_cpu|s|")
cmds+=(--cmd "$par_cmd" --cmd "$xargs_cmd" --cmd "$floor_cmd")
if [ "$PEERS_ONLY" != 1 ]; then
    rows+=(--row "sweep/xargs speed (xargs wall / sweep wall)|$(calc "round($xargs_s / $sweep_s, 2)")|x|>= 1.0")
    rows+=(--row "sweep/xargs CPU|$(calc "round($sweep_cpu / $xargs_cpu, 2)")|x|<= 1.5")
    rows+=(--row "sweep/parallel speed (parallel wall / sweep wall)|$(calc "round($par_s / $sweep_s, 2)")|x|>= 3")
    rows+=(--row "sweep/floor speed (floor wall / sweep wall)|$(calc "round($floor_s / $sweep_s, 2)")|x|")
    rows+=(--row "sweep/floor CPU|$(calc "round($sweep_cpu / $floor_cpu, 2)")|x|")
else
    notes+=(--note "PEERS_ONLY=1: sweep not run")
fi

summarize commands_vs_parallel "${rows[@]}" "${cmds[@]}" "${notes[@]}"

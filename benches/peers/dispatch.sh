#!/usr/bin/env bash
# Dispatch overhead: 1,000,000 `spin` tasks with micros = 0 and no array, sweep vs a floor.
#
# Figures come from (repository root, after setup.sh and `cargo build --release`):
#
#   bash benches/peers/dispatch.sh
#
# It builds the floor (benches/floor.rs) with `cargo build --release --bench floor`, then
# runs each of these 3 times under GNU time (`/usr/bin/time -f "%e %M %U %S"`: wall s, peak RSS
# KiB, user and system CPU s; RSS reported in MB = 10^6 bytes),
# removing the outputs before each run:
#
#   $SWEEP run <tmp>/dispatch_bench.toml --out <tmp>/sweep-out --jobs 2 --quiet
#   target/release/deps/floor-<hash> 1000000 <tmp>/floor.csv 2
#
# and prints tasks/s for each (tasks / median wall), sweep/floor, and peak RSS. Targets:
# sweep >= 250,000 tasks/s, floor_time / sweep_time >= 0.5 (within 2x), peak RSS <= 200 MB.
# Afterwards it checks that sweep's results.csv and the floor's CSV have the same header and
# the same rows in every column but seconds.
#
# Environment: SWEEP, OUT (default ./bench-out), N (tasks, default 1000000), RUNS (default 3),
# JOBS (default 2), PEERS_ONLY=1 (floor only).
# Writes $OUT/dispatch.{json,md}.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-1000000}"
RUNS="${RUNS:-3}"
JOBS="${JOBS:-2}"
need_cmd cargo python3
need_gnu_time
need_sweep
make_work

echo "dispatch: building the floor (cargo build --release --bench floor)"
floor="$(cd "$REPO_ROOT" && cargo build --release --bench floor --message-format=json-render-diagnostics \
    | python3 -c '
import json, sys
exe = ""
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "floor" and m.get("executable"):
        exe = m["executable"]
print(exe)')"
[ -n "$floor" ] && [ -x "$floor" ] || die "cargo built no floor executable"
echo "dispatch: floor is $floor"

spec="$WORK/dispatch_bench.toml"
spin_spec "$spec" dispatch_bench "$N" 0

sweep_argv=("$SWEEP" run "$spec" --out "$WORK/sweep-out" --jobs "$JOBS" --quiet)
floor_argv=("$floor" "$N" "$WORK/floor.csv" "$JOBS")
sweep_cmd="${sweep_argv[*]}"
floor_cmd="${floor_argv[*]}"

# timed NAME CMD... : runs CMD under GNU time, appends "wall kib" to $WORK/NAME.times.
timed() {
    local name="$1"
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" "$@" >/dev/null \
        || die "$name failed ($(head -n1 "$WORK/time.txt")): $*"
    cat "$WORK/time.txt" >>"$WORK/$name.times"
    printf '  %-6s run: %s s, %s KiB peak RSS, %s s user, %s s system\n' "$name" $(cat "$WORK/time.txt")
}

# Each timed run starts after the previous outputs are removed and `sync` has written back
# dirty pages, so neither command pays for the other's writes (both write ~100 MB).
for r in $(seq "$RUNS"); do
    echo "dispatch: run $r of $RUNS"
    rm -f "$WORK/floor.csv"
    sync
    timed floor "${floor_argv[@]}"
    if [ "$PEERS_ONLY" != 1 ]; then
        rm -rf "$WORK/sweep-out"
        sync
        timed sweep "${sweep_argv[@]}"
    fi
done

stats() { # NAME -> "median_wall max_rss_kib median_cpu"
    echo "$(median $(cut -d' ' -f1 "$WORK/$1.times")) $(cut -d' ' -f2 "$WORK/$1.times" | sort -n | tail -n1)" \
        "$(median $(awk '{ printf "%.2f\n", $3 + $4 }' "$WORK/$1.times"))"
}
read -r floor_s floor_kib floor_cpu <<<"$(stats floor)"
floor_tps="$(calc "round($N / $floor_s)")"
rows=(--row "floor wall (median of $RUNS)|$floor_s|s|" --row "floor throughput|$floor_tps|tasks/s|")
rows+=(--row "floor peak RSS|$(calc "round($floor_kib * 1024 / 1e6, 1)")|MB|")
rows+=(--row "floor CPU time, user + system (median)|$floor_cpu|s|")
cmds=(--cmd "cargo build --release --bench floor" --cmd "/usr/bin/time -f '%e %M %U %S' $floor_cmd")
notes=(--note "$N spin tasks, micros = 0, no arrays, $JOBS jobs; wall from GNU time, median of $RUNS runs; RSS is the max over runs")
notes+=(--note "spec: $(tr '\n' ' ' <"$spec")")
need_rows "$WORK/floor.csv" "$N" "the floor"

if [ "$PEERS_ONLY" != 1 ]; then
    need_rows "$WORK/sweep-out/results.csv" "$N" "sweep"
    read -r sweep_s sweep_kib sweep_cpu <<<"$(stats sweep)"
    sweep_tps="$(calc "round($N / $sweep_s)")"
    cmp="$(python3 - "$WORK/sweep-out/results.csv" "$WORK/floor.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as a, open(sys.argv[2], newline="") as b:
    ra, rb = csv.reader(a), csv.reader(b)
    ha, hb = next(ra), next(rb)
    if ha != hb:
        print(f"headers differ: sweep {ha} floor {hb}")
        sys.exit(0)
    skip = ha.index("seconds")
    n = diff = 0
    first = None
    for x, y in zip(ra, rb):
        n += 1
        if x[:skip] + x[skip + 1:] != y[:skip] + y[skip + 1:]:
            diff += 1
            first = first or (n, x, y)
    print(f"{n} rows compared (every column but seconds), {diff} differ"
          + (f"; first: row {first[0]} sweep {first[1]} floor {first[2]}" if first else ""))
PY
)"
    echo "dispatch: sweep vs floor rows: $cmp"
    rows=(--row "sweep wall (median of $RUNS)|$sweep_s|s|" --row "sweep throughput|$sweep_tps|tasks/s|>= 250000"
        "${rows[@]}")
    rows+=(--row "sweep/floor throughput|$(calc "round($floor_s / $sweep_s, 3)")|x|>= 0.5")
    rows+=(--row "sweep peak RSS|$(calc "round($sweep_kib * 1024 / 1e6, 1)")|MB|<= 200")
    # Less sensitive than wall time to other load on a shared machine; for context, no target.
    rows+=(--row "sweep CPU time, user + system (median)|$sweep_cpu|s|")
    rows+=(--row "floor/sweep CPU time|$(calc "round($floor_cpu / $sweep_cpu, 3)")|x|")
    cmds=(--cmd "/usr/bin/time -f '%e %M %U %S' $sweep_cmd" "${cmds[@]}")
    notes+=(--note "rows, sweep vs floor: $cmp")
else
    notes+=(--note "PEERS_ONLY=1: sweep not run")
fi

summarize dispatch "${rows[@]}" "${cmds[@]}" "${notes[@]}"

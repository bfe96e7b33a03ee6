#!/usr/bin/env bash
# Two builds of sweep side by side on the dispatch workload (1,000,000 `spin` tasks,
# micros = 0, no arrays), run alternately so that both see the same machine load.
#
#   BASE=/path/to/old/sweep NEW=target/release/sweep RUNS=11 bash benches/peers/compare.sh
#
# Each round runs BASE then NEW (outputs removed first) under GNU time, and the script
# prints both medians of wall and CPU (user + system) time and NEW/BASE. Since the floor
# (benches/floor.rs) is the same program for both, NEW/BASE is also the change of
# dispatch.sh's sweep/floor ratio. Environment: BASE, NEW, N (default 1000000),
# RUNS (default 11), JOBS (default 2).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-1000000}"
RUNS="${RUNS:-11}"
JOBS="${JOBS:-2}"
[ -x "${BASE:-}" ] || die "set BASE to the sweep binary to compare against"
NEW="${NEW:-$REPO_ROOT/target/release/sweep}"
[ -x "$NEW" ] || die "no $NEW; cargo build --release first"
need_cmd python3
need_gnu_time
make_work

spec="$WORK/dispatch_bench.toml"
spin_spec "$spec" dispatch_bench "$N" 0

run() { # NAME BIN
    rm -rf "$WORK/out-$1"
    sync
    /usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" "$2" run "$spec" --out "$WORK/out-$1" --jobs "$JOBS" --quiet \
        || die "$1 failed: $(cat "$WORK/time.txt")"
    read -r wall user sys <"$WORK/time.txt"
    echo "$wall" >>"$WORK/$1.wall"
    python3 -c "print($user + $sys)" >>"$WORK/$1.cpu"
}

for i in $(seq "$RUNS"); do
    run base "$BASE"
    run new "$NEW"
    echo "round $i: base $(tail -n1 "$WORK/base.wall") s, new $(tail -n1 "$WORK/new.wall") s"
done
bw=$(median $(cat "$WORK/base.wall")); nw=$(median $(cat "$WORK/new.wall"))
bc=$(median $(cat "$WORK/base.cpu")); nc=$(median $(cat "$WORK/new.cpu"))
echo "wall median: base $bw s, new $nw s, new/base $(python3 -c "print(f'{$nw/$bw:.3f}')")"
echo "cpu  median: base $bc s, new $nc s, new/base $(python3 -c "print(f'{$nc/$bc:.3f}')")"

#!/usr/bin/env bash
# Store: the same array-writing sweep in both layouts, `.npy` per task and the Zarr store.
#
# Figures come from (repository root, after `cargo build --release`):
#
#   bash benches/peers/store.sh
#
# N spin tasks (default 100000; `replicates = N`, `array_len = 100`, `save = ["data"]`,
# 2 workers), once with `[output] arrays = "npy"` and once with `arrays = "zarr"`. Reports
# for each: the end-to-end `sweep run` wall time (GNU time), the files the arrays occupy
# (tasks/ or store.zarr/, `find -type f`), their disk use (`du -s`, MB = 10^6 bytes), and the time to load
# every array back into memory: numpy reading each tasks/<task>/data.npy, against
# `xarray.open_zarr(store).load()`. The raw data is N x 100 x 8 bytes. For the store it
# also reports staging/ (the run's staged arrays, which the store is built from and which
# stay beside it): its files and disk use.
#
# Environment: SWEEP, OUT (default ./bench-out), N. Writes $OUT/store.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N="${N:-100000}"
need_gnu_time
need_sweep
need_cmd python3
make_work

spec() { # LAYOUT
    cat <<EOF
name = "store-$1"
replicates = $N
[model]
name = "spin"
array_len = 100
save = ["data"]
[output]
arrays = "$1"
EOF
}

md="$OUT/store.md"
{
    echo "# Store ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $($SWEEP --version), $N tasks of 100 floats; raw $((N * 800 / 1000000)) MB)"
    echo
    echo "| layout | run s | files | disk MB | load s | staging files | staging MB |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$md"

for layout in npy zarr; do
    spec "$layout" >"$WORK/$layout.toml"
    dir="$WORK/out-$layout"
    secs=$(/usr/bin/time -f "%e" "$SWEEP" run "$WORK/$layout.toml" --out "$dir" --jobs 2 --quiet 2>&1 >/dev/null | tail -1)
    case $layout in
        npy) what="$dir/tasks" ;;
        zarr) what="$dir/store.zarr" ;;
    esac
    files=$(find "$what" -type f | wc -l)
    mb=$(du -s --block-size=1 "$what" | awk '{printf "%.1f", $1 / 1e6}')
    load=$(python3 - "$dir" "$layout" <<'EOF'
import os, sys, time
import numpy as np
d, layout = sys.argv[1], sys.argv[2]
if layout == "zarr":
    import xarray as xr  # imported before the clock starts, as numpy is
t0 = time.perf_counter()
if layout == "npy":
    tasks = os.path.join(d, "tasks")
    arrays = [np.load(os.path.join(tasks, t, "data.npy")) for t in sorted(os.listdir(tasks))]
    total = sum(a.size for a in arrays)
else:
    total = xr.open_zarr(os.path.join(d, "store.zarr")).load()["data"].size
print(f"{time.perf_counter() - t0:.3f}")
EOF
)
    staging="- | -"
    if [ -d "$dir/staging" ]; then
        staging="$(find "$dir/staging" -type f | wc -l) | $(du -s --block-size=1 "$dir/staging" | awk '{printf "%.1f", $1 / 1e6}')"
    fi
    echo "| $layout | $secs | $files | $mb | $load | $staging |" >>"$md"
done
cat "$md"

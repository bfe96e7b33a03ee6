#!/usr/bin/env bash
# The Python wheel end to end, as a Python user meets it: build it with maturin, install it
# into a fresh virtual environment (with its `data` extra: numpy, pandas, xarray), run
# `sweep` from that environment's PATH, outside the repository, and read the results with
# `sweep.load` and `sweep.open`, checked against the files on disk.
#
#   bash ci/wheel.sh          # needs maturin (pip install maturin) and network for PyPI
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "wheel: building"
maturin build --release --strip --quiet --out "$work/wheels" >/dev/null
wheel=$(ls "$work"/wheels/sweep_runner-*.whl)
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel[data]"
export PATH="$work/venv/bin:$PATH"
[ "$(command -v sweep)" = "$work/venv/bin/sweep" ] || { echo "wheel: sweep is not the venv's: $(command -v sweep)" >&2; exit 1; }
sweep --version

mkdir "$work/project"
cd "$work/project"
# A zipped axis (k with c0), a swept string, replicates, and arrays whose length varies
# from task to task (the adaptive solver takes more steps for larger k).
cat >reaction.toml <<'EOF'
replicates = 2
zip = [["k", "c0"]]
[model]
name = "reaction"
t_final = 5.0
[params]
k = [0.5, 1.0, 3.0]
c0 = [1.0, 2.0, 0.5]
solver = ["rk45", "rk4"]
EOF
# A Python function with a failing point, so that missing tasks can be checked.
cat >model.py <<'EOF'
import numpy as np

def simulate(n, scale, *, rng):
    if n == 3:
        raise ValueError("n = 3 is refused")
    return {"mean": float(rng.normal(size=n).mean() * scale), "ok": n > 1, "xs": np.arange(n) * scale}
EOF
cat >python.toml <<'EOF'
replicates = 3
[python]
function = "model.py:simulate"
[params]
n = [1, 2, 3, 5]
scale = [1.0, 10.0]
EOF
sweep run reaction.toml -q
# The same sweep with its arrays in one Zarr store instead of a .npy file per array and task.
{ cat reaction.toml; printf '[output]\narrays = "zarr"\n'; } >reaction-zarr.toml
sweep run reaction-zarr.toml -q
sweep run python.toml -q || [ $? -eq 1 ]   # the n = 3 tasks fail, by design

python - <<'EOF'
import os
import numpy as np
import pandas as pd
import sweep

for out in ["runs/reaction", "runs/python"]:
    df = sweep.load(out)
    raw = pd.read_csv(f"{out}/results.csv", dtype={"task": str})
    assert list(df.columns) == list(raw.columns), out
    assert df["seed"].dtype == np.uint64 and df["task"].str.len().eq(16).all(), df.dtypes
    ds = sweep.open(out)
    m = sweep.metric_columns(df)
    dims = [d for d in ds["task"].dims]
    # Every row of results.csv is found at its coordinates, with its metrics and arrays.
    for _, row in df.iterrows():
        sel = {d: row[d] for d in dims if d != "replicate"}
        sel["replicate"] = row["replicate"]
        point = ds.sel(sel)
        assert point["task"].item() == row["task"], (out, sel)
        assert point["seed"].item() == row["seed"]
        for name in m:
            v = point[name].item()
            if row["status"] != "done":
                assert v is None or (isinstance(v, float) and np.isnan(v)), (name, v)
            elif isinstance(v, float):
                assert v == float(row[name]), (name, v, row[name])
        for name in [v for v in ds.data_vars if v.endswith("_len")]:
            arr = name[: -len("_len")]
            path = f"{out}/tasks/{row['task']}/{arr}.npy"
            got = point[arr].values
            if row["status"] == "done":
                want = np.load(path)
                n = point[name].item()
                assert n == len(want), (arr, n, len(want))
                assert np.array_equal(got[:n], want) and np.isnan(got[n:]).all(), arr
            else:
                assert not os.path.exists(path) and np.isnan(got).all(), arr
    print(f"wheel: {out}: {len(df)} tasks, dims {dict(ds.sizes)}: load and open match the files")

r = sweep.open("runs/reaction")
assert r["c0"].dims == ("k",) and list(r["c0"].values) == [1.0, 2.0, 0.5], "c0 is zipped with k"
assert r.attrs["t_final"] == 5.0 and len(set(r["c_len"].values.ravel())) > 1, "ragged c"
p = sweep.open("runs/python")
assert p["mean"].sel(n=3).isnull().all() and p["mean"].sel(n=5).notnull().all(), "failed tasks are missing"
assert (p["status"].sel(n=3) == "failed").all()
z = sweep.open("runs/reaction-zarr")
assert dict(z.sizes) == dict(r.sizes) and set(z.variables) == set(r.variables), (z.sizes, r.sizes)
for name in r.variables:
    assert z[name].dims == r[name].dims, name
    if r[name].dtype.kind in "fiub":
        assert np.array_equal(z[name].values, r[name].values, equal_nan=r[name].dtype.kind == "f"), name
    else:
        assert z[name].values.tolist() == r[name].values.tolist(), name
assert not os.path.exists("runs/reaction-zarr/tasks"), "the store replaces tasks/"
print(f"wheel: runs/reaction-zarr: the store reads as runs/reaction's .npy files")
print("wheel: OK")
EOF

"""Reading a sweep's results from Python.

    import sweep
    df = sweep.load("runs/reaction")    # results.csv as a pandas DataFrame, correct dtypes
    ds = sweep.open("runs/reaction")    # an xarray Dataset over the grid's dimensions

pandas is needed for `load`, and xarray (with numpy) for `open`; both are imported only
when called, so that importing `sweep` stays cheap (the worker driver lives beside this).
"""

import builtins
import json
import os

from . import _partial


def _schema():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")
    with builtins.open(path, encoding="utf-8") as f:
        return json.load(f)


# The formats sweep writes, described once for Rust and Python: schema.json is written
# from the library (`sweep::schema`), and tests/schema.rs fails when the two differ.
_SCHEMA = _schema()
# Sweep's own columns of results.csv, in order: before the parameters, and around the
# metrics (see docs/output.md).
_LEADING = _SCHEMA["results_csv"]["leading"]
_BOOKKEEPING = _SCHEMA["results_csv"]["status"]
_TRAILING = _SCHEMA["results_csv"]["trailing"]
# The newest manifest format; older ones are read too, as sweep reads them.
_MANIFEST_FORMAT = _SCHEMA["manifest"]["format"]


class SweepDataError(Exception):
    """An out directory that cannot be read as a sweep's: the message says which file and why."""


def _manifest(out_dir):
    path = os.path.join(out_dir, "manifest.json")
    try:
        with builtins.open(path, encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        raise SweepDataError(f"{path}: no such file; is {out_dir!r} a sweep's out directory?") from None
    except ValueError as e:
        raise SweepDataError(f"{path}: not valid JSON ({e})") from None
    # The same rule as sweep's own reader (Manifest::parse), with the same messages.
    fmt = m.get("format") if isinstance(m, dict) else None
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise SweepDataError(f"{path} is not a sweep manifest: it has no format number")
    if fmt > _MANIFEST_FORMAT:
        raise SweepDataError(f"{path} was written by a newer sweep (format {fmt}); upgrade sweep")
    return m


def load(out_dir):
    """results.csv of the sweep in `out_dir` as a pandas DataFrame, one row per task in grid order.

    Task ids stay strings (an id of digits keeps its leading zeros), seeds are uint64
    (they go up to 2**64 - 1), `status` is a categorical of done / failed / pending,
    parameters and metrics take the types their values have (numbers, booleans, strings;
    `nan`, `inf` and empty cells as pandas reads them), and `class` and `error` are
    strings, empty for done tasks. The manifest's fixed parameters, seed and spec hash are
    in `df.attrs`.

    When the done tasks came from more than one version of the code (a resume told
    ``--code-changed keep``), the last column, `code`, holds each done task's code id, and
    ``df.attrs["code_versions"]`` counts the rows of each; a warning says so.

    While a run is going, or after one stopped before its end (results.csv missing, or
    older than the journal: a resume's), the table is read as of now from the journal
    through the sweep binary (`sweep status OUT --csv -`): the same columns, tasks not done
    yet with status ``pending``. ``df.attrs["partial"]`` is then True (``df.attrs["running"]``
    says whether a run is going) and a warning gives the counts; otherwise both are False.
    """
    import io

    import pandas as pd

    m = _manifest(out_dir)
    path = os.path.join(out_dir, "results.csv")
    # While a run goes (or after one stopped before its end), results.csv is missing or
    # stale: the table as of now comes from the journal, through the binary.
    state = _partial.partial(out_dir)
    if state is None and not os.path.exists(path):
        raise SweepDataError(
            f"{path}: no such file; a run writes it when it ends (for shards: sweep collect {out_dir})"
        )
    text = _partial.table(out_dir, state) if state else None
    if text is None:
        state = None
    df = pd.read_csv(
        io.BytesIO(text) if state else path,
        dtype={"task": str, "seed": "uint64", "replicate": "int64", "class": str, "error": str},
        keep_default_na=True,
    )
    for col in _TRAILING:
        if col in df:
            df[col] = df[col].fillna("")
    df["status"] = pd.Categorical(df["status"], categories=["done", "failed", "pending"])
    df.attrs.update(_attrs(m))
    df.attrs["partial"] = state is not None
    df.attrs["running"] = bool(state and state.running)
    if state:
        import warnings

        warnings.warn(_partial.note(out_dir, state, df), stacklevel=2)
    if "code" in df.columns and list(df.columns[-3:-1]) == _TRAILING:
        df["code"] = df["code"].fillna("").astype(str)
        versions = df.loc[df["code"] != "", "code"].value_counts(sort=False).to_dict()
        df.attrs["code_versions"] = {str(k): int(v) for k, v in versions.items()}
        import warnings

        shown = ", ".join(f"{k} ({v} rows)" for k, v in df.attrs["code_versions"].items())
        warnings.warn(
            f"{path}: the done tasks came from {len(versions)} versions of the code: {shown}; "
            f"the `code` column says which row came from which",
            stacklevel=2,
        )
    return df


def _attrs(m):
    attrs = {"name": m.get("name"), "kind": m.get("kind"), "seed": m.get("seed"), "spec_hash": m.get("spec_hash")}
    if m.get("model"):
        attrs["model"] = m["model"]
    if m.get("common_seed"):
        # The parameters whose levels share seeds: compare along them replicate by replicate.
        attrs["common_seed"] = list(m["common_seed"])
    for k, v in (m.get("fixed") or {}).items():
        attrs[k] = v
    return {k: v for k, v in attrs.items() if v is not None}


def metric_columns(df):
    """The metric columns of a DataFrame from `load`: those between `seconds` and `class`."""
    cols = list(df.columns)
    start = cols.index("seconds") + 1
    end = cols.index("class", start) if "class" in cols[start:] else len(cols)
    if end == len(cols) and cols[-1:] == ["code"] and "code_versions" in df.attrs:
        end -= 1
    return cols[start:end]


def _store_aside(out_dir):
    """The previous store that a build killed between its two renames left aside
    (`.store.zarr.old.sweep-tmp-<pid>`), newest first; the next run puts it back."""
    import glob
    import warnings

    found = [
        p
        for p in glob.glob(os.path.join(out_dir, ".store.zarr.old.sweep-tmp-*"))
        if os.path.isfile(os.path.join(p, "zarr.json"))
    ]
    if not found:
        return None
    newest = max(found, key=lambda p: os.path.getmtime(os.path.join(p, "zarr.json")))
    warnings.warn(
        f"{os.path.join(out_dir, 'store.zarr')} is missing (a build was killed while it replaced the store): "
        f"reading the previous store, {newest}; the next `sweep run ... --resume` puts it back",
        stacklevel=3,
    )
    return newest


def open(out_dir):  # noqa: A001 - the name users expect, as xarray.open_dataset
    """The sweep in `out_dir` as an xarray Dataset.

    Dimensions: one per swept axis, named after its parameter (zipped parameters share
    one, named after the first, the others being coordinates along it), then `sample` for
    a `[sample]` design (its points' indices, each sampled parameter a coordinate along
    it), then `replicate`,
    then each array's own dimensions (`<name>_dim0`, ..., or the names `[output] dims`
    gives them; an array named after its only dimension, returned alike by every done task,
    is that dimension's coordinate, see docs/output.md). Data variables: every metric
    over the grid, every saved array (arrays whose length varies from task to task are
    padded with NaN to the longest, and `<name>_len` gives each task's length), and
    `task`, `seed` and `status`. A task that is not done is NaN in every numeric variable.
    Fixed parameters, the seed and the spec hash are attributes. A `common_seed` parameter
    is a dimension like any other, and the attribute `common_seed` lists such parameters:
    along them, one replicate's seed (and so its random data) is the same.

    When the done tasks came from more than one version of the code, the variable `code`
    holds each task's code id ("" when not done) and the attribute `code_versions` counts
    them (see `load`).

    A sweep run with `[output] arrays = "zarr"` is read from its store.zarr with
    `xarray.open_zarr` (lazily: `.load()` reads it all), with the same dimensions,
    coordinates and variables. The store is built when a run ends: while a run is going,
    `open` refuses it, saying so (`load` reads the table); after a run stopped before its
    end, it opens the store of the runs before it, with a warning.

    Otherwise, while a run is going (see `load`), the Dataset holds the tasks done so far,
    the others NaN with status "pending", and the attribute `partial` is "running" (or
    "stopped", for a run stopped before its end).

    With adaptive replicates (see docs/adaptive.md) `replicate` runs up to the spec's `max`; the
    replicates a point did not need have the status "not needed", an empty task and seed 0,
    and are NaN in every numeric variable.
    """
    import numpy as np
    import xarray as xr

    m = _manifest(out_dir)
    if m.get("arrays") == "zarr":
        # `[output] arrays = "zarr"`: sweep built the Dataset already (see docs/output.md).
        store = os.path.join(out_dir, "store.zarr")
        state = _partial.partial(out_dir)
        if state is not None and state.running:
            # The store is built (and swapped in) at the run's end: until then the arrays
            # are in staging/, and a lazy read of the old store could meet the swap.
            raise SweepDataError(_partial.no_store(out_dir, store, state))
        if not os.path.lexists(store):
            store = _store_aside(out_dir) or store
        if not os.path.isfile(os.path.join(store, "zarr.json")):
            if state is not None:
                raise SweepDataError(_partial.no_store(out_dir, store, state))
            raise SweepDataError(
                f"{store}: no such store; a run builds it when it ends (for shards: sweep collect {out_dir})"
            )
        if state is not None:
            # A run stopped before its end: the store of the runs before it is still whole.
            import warnings

            warnings.warn(
                f"{store} holds the tasks of the runs before the last, which stopped before its end "
                f"({state.why}); `sweep run SPEC --resume` finishes the sweep and rebuilds the store",
                stacklevel=2,
            )
        ds = xr.open_zarr(store)
        _warn_notes(out_dir, ds.attrs.get("sweep_notes") or [], stacklevel=3)
        return ds
    if m.get("refine"):
        # Each curve has its own points along the refined axis: no grid to shape them into.
        axis = m["refine"]["axis"]
        raise SweepDataError(
            f"{out_dir}: `{axis}` is refined ([refine]), and its points differ from curve to curve, "
            f"so they make no grid; read the sweep with sweep.load({out_dir!r}) (one row per task, "
            f"`{axis}` a column) or refine.csv (one row per point, with why it was added)"
        )
    import warnings

    # load's warnings (a snapshot, several code versions), said where open was called.
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        df = load(out_dir)
    for w in said:
        warnings.warn(w.message, w.category, stacklevel=2)
    axes = m["axes"]
    reps = int(m["replicates"])
    lens = [int(a["len"]) for a in axes]
    points = int(np.prod(lens)) if lens else 1
    if m.get("adaptive"):
        df = _padded(df, points, reps, out_dir)
    if len(df) != points * reps:
        raise SweepDataError(
            f"{os.path.join(out_dir, 'results.csv')}: {len(df)} rows, but the manifest's grid has "
            f"{points} points x {reps} replicates; run `sweep status {out_dir}` to rewrite it"
        )
    grid_shape = lens + [reps]
    dims = [a.get("dim") or a["names"][0] for a in axes] + ["replicate"]

    coords = {"replicate": np.arange(reps)}
    stride = reps
    strides = []
    for n in reversed(lens):
        strides.append(stride)
        stride *= n
    strides.reverse()
    for a, n, s, dim in zip(axes, lens, strides, dims):
        rows = df.iloc[[i * s for i in range(n)]]
        for name in a["names"]:
            coords[name] = (dim, rows[name].to_numpy())
        if dim not in a["names"]:
            # A design's points: the dimension's own coordinate is the point's index.
            coords[dim] = np.arange(n)

    def grid(values):
        return (dims, np.asarray(values).reshape(grid_shape))

    done = (df["status"] == "done").to_numpy()
    data = {
        "task": grid(df["task"].to_numpy(dtype=object)),
        "seed": grid(df["seed"].to_numpy()),
        "status": grid(df["status"].astype(str).to_numpy(dtype=object)),
    }
    if "code_versions" in df.attrs:
        # Several versions of the code: each task's, "" for tasks not done.
        data["code"] = grid(df["code"].to_numpy(dtype=object))
    for name in metric_columns(df):
        col = df[name]
        if col.dtype.kind in "biuf":
            values = np.array(col.to_numpy(dtype=float), copy=True)
            values[~done] = np.nan
        else:
            values = np.array(col.to_numpy(dtype=object), copy=True)
            values[~done] = None
        data[name] = grid(values)

    found = _arrays(out_dir, m, df, done)
    own, coord_values = _own_dims(out_dir, found, m, int(done.sum()))
    for name, values in coord_values.items():
        coords[name] = (name, values)
    for name, var in found.items():
        if name in coord_values:
            continue
        arrays = var[0]
        names, shape = own[name]
        shape = tuple(shape)
        full = np.full((len(df),) + shape, np.nan)
        lengths = np.zeros(len(df), dtype=np.int64)
        for i, a in arrays.items():
            a = a.reshape(a.shape + (1,) * (len(shape) - a.ndim))
            full[(i,) + tuple(slice(0, d) for d in a.shape)] = a
            lengths[i] = a.shape[0] if a.ndim else 1
        data[name] = (dims + names, full.reshape(grid_shape + list(shape)))
        if len({a.shape for a in arrays.values()}) > 1:
            data[f"{name}_len"] = grid(lengths)

    attrs = _attrs(m)
    if df.attrs["partial"]:
        # A string: netCDF has no booleans.
        attrs["partial"] = "running" if df.attrs["running"] else "stopped"
    if "code_versions" in df.attrs:
        attrs["code_versions"] = ", ".join(f"{k}: {v}" for k, v in df.attrs["code_versions"].items())
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _own_dims(out_dir, found, m, done):
    """The names and sizes of the arrays' own dimensions (`[output] dims`), and the arrays
    that are their dimension's coordinate, as the store's build gives them (see _dims)."""
    from . import _dims

    dims = m.get("dims") or {}
    own, coords, notes, mismatched = _dims.plan(found, dims, done)
    if mismatched:
        name, shape, given = mismatched[0]
        raise SweepDataError(
            f"{out_dir}: array `{name}` has {len(shape)} dimension{'' if len(shape) == 1 else 's'} "
            f"(shape {shape}), but [output] dims of the spec gives it {len(given)}: {given}; "
            f"give `{name}` {len(shape)} names in [output] dims, then `sweep run SPEC --resume` "
            f"(it reruns nothing and rewrites the manifest this reads)"
        )
    _warn_notes(out_dir, notes, stacklevel=4)
    return own, coords


def _warn_notes(out_dir, notes, stacklevel):
    """Warns of what `[output] dims` did not do as written (the same notes for both layouts:
    the store keeps its build's in the attribute `sweep_notes`, which a run's end prints)."""
    import warnings

    for note in notes:
        warnings.warn(f"{out_dir}: {note}", stacklevel=stacklevel)


def _padded(df, points, reps, out_dir):
    """results.csv of adaptive replicates (each point's replicates 0..n, n varying) spread
    over the full grid of `reps` replicates per point, the others "not needed"."""
    import numpy as np
    import pandas as pd

    rep = df["replicate"].to_numpy()
    # Rows are in grid order and every point runs its replicate 0: a 0 starts a point.
    point = np.cumsum(rep == 0) - 1
    pos = point * reps + rep
    if len(df) == 0 or point[-1] != points - 1 or point[0] != 0 or (rep >= reps).any() or len(set(pos)) != len(pos):
        raise SweepDataError(
            f"{os.path.join(out_dir, 'results.csv')}: the rows are not the replicates of the manifest's "
            f"{points} points (up to {reps} each); run `sweep status {out_dir}` to rewrite it"
        )
    out = df.set_index(pd.Index(pos)).reindex(pd.RangeIndex(points * reps))
    seed = np.zeros(points * reps, dtype=np.uint64)
    seed[pos] = df["seed"].to_numpy()
    out["seed"] = seed
    out["replicate"] = np.tile(np.arange(reps), points)
    out["task"] = out["task"].fillna("")
    status = out["status"].astype(object).where(out["status"].notna(), "not needed")
    out["status"] = pd.Categorical(status, categories=["done", "failed", "pending", "not needed"])
    for col in _TRAILING:
        if col in out:
            out[col] = out[col].fillna("")
    out.attrs.update(df.attrs)
    return out.reset_index(drop=True)


def _arrays(out_dir, m, df, done):
    """For each array name, ({row: ndarray}, the largest shape), from tasks/<task>/<name>.npy of done tasks."""
    import numpy as np

    from ._npy import read

    names = m.get("save")
    found = {}
    tasks = df["task"].to_numpy()
    for i in np.flatnonzero(done):
        d = os.path.join(out_dir, "tasks", tasks[i])
        try:
            files = sorted(f for f in os.listdir(d) if f.endswith(".npy"))
        except FileNotFoundError:
            continue
        for f in files:
            name = f[: -len(".npy")]
            if names is not None and name not in names:
                continue
            found.setdefault(name, {})[int(i)] = read(os.path.join(d, f))
    out = {}
    for name, arrays in found.items():
        ndim = max(a.ndim for a in arrays.values())
        shape = tuple(max((a.shape[k] if k < a.ndim else 1) for a in arrays.values()) for k in range(ndim))
        out[name] = (arrays, shape)
    return out

#!/usr/bin/env python3
"""The two Python contenders of python_run.sh, on sweeps/reaction_python.toml's grid (200
rate constants x 3 initial concentrations of sweeps/python/reaction.py:simulate, 2 workers):

    python3 benches/peers/python_run.py run OUT    # sweep.run(...), returning sweep.open(OUT)
    python3 benches/peers/python_run.py pool OUT   # multiprocessing.Pool(2).map, results in memory
    python3 benches/peers/python_run.py warm OUT   # sweep.run in an interpreter that imported xarray
                                                   # already; the call's seconds go to $WARM_TIMES
    python3 benches/peers/python_run.py spawn OUT  # the same with the "spawn" start method: fresh
                                                   # interpreters, as sweep's workers are
    python3 benches/peers/python_run.py kept OUT   # Pool(2).map that also keeps what sweep keeps:
                                                   # each task's t and c as .npy files, and a Dataset

Each is timed as a whole process (interpreter start and imports included)."""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "sweeps", "python"))
K = np.linspace(0.01, 2.0, 200)
C0 = [0.5, 1.0, 2.0]


def call(point):
    from reaction import simulate

    return simulate(*point)


def call_kept(job):
    """One task of the hand-written pool that keeps its arrays: as sweep does, in a directory
    of its own (tasks/<i>/t.npy, c.npy), written before the task counts as done."""
    i, point, out = job
    r = call(point)
    d = os.path.join(out, "tasks", str(i))
    os.makedirs(d)
    for name in ("t", "c"):
        np.save(os.path.join(d, name + ".npy"), r[name])
    return r


def kept(out):
    """Pool(2).map, each task's arrays saved to disk, then the same labelled Dataset that
    sweep.run returns (metrics over k x c0, the curves padded with NaN to the longest)."""
    from multiprocessing import Pool

    import xarray as xr

    points = [(k, c0) for k in K for c0 in C0]
    with Pool(2) as pool:
        results = pool.map(call_kept, [(i, p, out) for i, p in enumerate(points)])
    shape = (len(K), len(C0))
    data = {m: (("k", "c0"), np.array([r[m] for r in results]).reshape(shape)) for m in ("conversion", "max_abs_error", "steps")}
    longest = max(len(r["t"]) for r in results)
    for name in ("t", "c"):
        full = np.full((len(results), longest), np.nan)
        for i, r in enumerate(results):
            full[i, : len(r[name])] = r[name]
        data[name] = (("k", "c0", "step"), full.reshape(shape + (longest,)))
    ds = xr.Dataset(data, coords={"k": K, "c0": C0})
    assert ds["c"].shape == (200, 3, longest)


def main(what, out):
    if what in ("run", "warm"):
        import sweep

        if what == "warm":
            # As in a notebook, where the kernel imported these once: only the call is timed
            # (appended to $WARM_TIMES), not the interpreter and its imports.
            import time

            import pandas  # noqa: F401
            import xarray  # noqa: F401

            start = time.perf_counter()
        ds = sweep.run(
            os.path.join(ROOT, "sweeps", "python", "reaction.py") + ":simulate",
            params={"k": K, "c0": C0},
            seed=42,
            out=out,
            jobs=2,
            quiet=True,
        )
        assert int((ds["status"] == "done").sum()) == 600, ds
        if what == "warm":
            with open(os.environ["WARM_TIMES"], "a") as f:
                f.write(f"{time.perf_counter() - start}\n")
    elif what == "kept":
        kept(out)
    else:
        import multiprocessing

        # "spawn" starts each worker as a fresh interpreter (so does "forkserver", the
        # default on Linux from Python 3.14); "fork", the default before, copies this one.
        Pool = multiprocessing.get_context("spawn").Pool if what == "spawn" else multiprocessing.Pool
        with Pool(2) as pool:
            results = pool.map(call, [(k, c0) for k in K for c0 in C0])
        assert len(results) == 600


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""The two Python contenders of python_run.sh, on sweeps/reaction_python.toml's grid (200
rate constants x 3 initial concentrations of sweeps/python/reaction.py:simulate, 2 workers):

    python3 benches/peers/python_run.py run OUT    # sweep.run(...), returning sweep.open(OUT)
    python3 benches/peers/python_run.py pool OUT   # multiprocessing.Pool(2).map, results in memory

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


def main(what, out):
    if what == "run":
        import sweep

        ds = sweep.run(
            os.path.join(ROOT, "sweeps", "python", "reaction.py") + ":simulate",
            params={"k": K, "c0": C0},
            seed=42,
            out=out,
            jobs=2,
            quiet=True,
        )
        assert int((ds["status"] == "done").sum()) == 600, ds
    else:
        from multiprocessing import Pool

        with Pool(2) as pool:
            results = pool.map(call, [(k, c0) for k in K for c0 in C0])
        assert len(results) == 600


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""The Python pool that `sweep` replaces: a first-order reaction over a grid of rate constants.

Figures are produced by (from the repository root, after `bash benches/peers/setup.sh`):

    python3 benches/peers/reaction_joblib.py                # full grid, 20000 points
    python3 benches/peers/reaction_joblib.py --n 2000       # smaller grid

For k in numpy.linspace(0.01, 2, N), solve dC/dt = -k*C, C(0) = 1 to t_final = 10 with
scipy's solve_ivp(method="RK45", rtol=1e-9, atol=1e-12) inside joblib.Parallel(n_jobs=2)
(default loky backend, default batch_size="auto"), compute conversion = 1 - C(10)/C(0),
and write a results CSV with columns k,conversion.

The wall time printed is measured from before the pool is created to after the CSV is
written (pool startup included; interpreter start and imports are not, and are included
when reaction_vs_joblib.sh times the whole process with hyperfine).

Outputs, under $OUT (default ./bench-out):
    reaction_joblib.csv    k,conversion (or the path given by --csv)
    reaction_joblib.json   {"n", "jobs", "wall_s", "points_per_s", ...}
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from scipy.integrate import solve_ivp

T_FINAL = 10.0
C0 = 1.0
RTOL = 1e-9
ATOL = 1e-12


def conversion(k):
    """1 - C(t_final)/C0 for dC/dt = -k C."""
    sol = solve_ivp(lambda t, c: -k * c, (0.0, T_FINAL), [C0], method="RK45", rtol=RTOL, atol=ATOL)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed for k={k}: {sol.message}")
    return 1.0 - sol.y[0, -1] / C0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="grid points (default 20000)")
    ap.add_argument("--jobs", type=int, default=2, help="joblib n_jobs (default 2)")
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench-out", help="results dir ($OUT, default ./bench-out)")
    ap.add_argument("--csv", default=None, help="results CSV path (default <out>/reaction_joblib.csv)")
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    args = ap.parse_args()
    if args.n < 1:
        ap.error("--n must be >= 1")

    os.makedirs(args.out, exist_ok=True)
    csv_path = args.csv or os.path.join(args.out, "reaction_joblib.csv")

    t0 = time.perf_counter()
    ks = np.linspace(0.01, 2.0, args.n)
    convs = Parallel(n_jobs=args.jobs)(delayed(conversion)(float(k)) for k in ks)
    with open(csv_path, "w") as f:
        f.write("k,conversion\n")
        for k, c in zip(ks, convs):
            f.write(f"{float(k)!r},{float(c)!r}\n")
    wall = time.perf_counter() - t0

    summary = {
        "benchmark": "reaction_joblib",
        "n": args.n,
        "jobs": args.jobs,
        "backend": "loky",
        "wall_s": wall,
        "points_per_s": args.n / wall,
        "csv": csv_path,
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    with open(os.path.join(args.out, "reaction_joblib.json" if args.n == 20000 else f"reaction_joblib_n{args.n}.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    if not args.quiet:
        print(f"{'benchmark':<18} {'points':>8} {'jobs':>5} {'wall_s':>9} {'points/s':>10}")
        print(f"{'reaction_joblib':<18} {args.n:>8} {args.jobs:>5} {wall:>9.3f} {args.n / wall:>10.0f}")


if __name__ == "__main__":
    main()

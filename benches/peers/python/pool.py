"""multiprocessing.Pool(2).map over k = linspace(0.01, 2, N), results written as CSV: the
ten-line pool a Python user writes by hand.

    python3 pool.py N OUT.csv
"""
import csv
import multiprocessing as mp
import sys

import numpy as np

from rx import simulate

if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    ks = np.linspace(0.01, 2.0, n)
    with mp.Pool(2) as pool:
        rows = pool.map(simulate, ks)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["k", "conversion"])
        for k, r in zip(ks, rows):
            w.writerow([repr(float(k)), repr(float(r["conversion"]))])

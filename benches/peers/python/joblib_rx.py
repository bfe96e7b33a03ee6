"""joblib.Parallel(n_jobs=2) over k = linspace(0.01, 2, N), results written as CSV.

    python3 joblib_rx.py N OUT.csv
"""
import csv
import sys

import numpy as np
from joblib import Parallel, delayed

from rx import simulate

if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    ks = np.linspace(0.01, 2.0, n)
    rows = Parallel(n_jobs=2)(delayed(simulate)(k) for k in ks)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["k", "conversion"])
        for k, r in zip(ks, rows):
            w.writerow([repr(float(k)), repr(float(r["conversion"]))])

"""joblib.Parallel(n_jobs=2) over N trivial tasks (trivial.square), results written as CSV.

    python3 joblib_trivial.py N OUT.csv
"""
import csv
import sys

from joblib import Parallel, delayed

from trivial import square

if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    rows = Parallel(n_jobs=2)(delayed(square)(x) for x in range(n))
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y"])
        for x, r in enumerate(rows):
            w.writerow([x, r["y"]])

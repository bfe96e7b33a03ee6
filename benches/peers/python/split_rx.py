"""One of M plain loops over every M-th k of linspace(0.01, 2, N): no pool, no scheduling,
no results sent anywhere but its own CSV. M of them started side by side are a floor that
no runner of the same function on M workers can beat by more than its load balance.

    python3 split_rx.py N I M OUT_DIR      (writes OUT_DIR/part-I.csv)
"""
import csv
import os
import sys

import numpy as np

from rx import simulate

if __name__ == "__main__":
    n, i, m, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ks = np.linspace(0.01, 2.0, n)[i::m]
    rows = [simulate(k) for k in ks]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"part-{i}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["k", "conversion"])
        for k, r in zip(ks, rows):
            w.writerow([repr(float(k)), repr(float(r["conversion"]))])

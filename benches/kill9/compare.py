"""Compares the sweep in argv[1] with the uninterrupted sweep of the same spec in argv[2],
through sweep.open (every array of the store) and results.csv (every metric): prints how
many tasks differ or are not done (lost), and exits 1 if any."""
import sys

import numpy as np
import pandas as pd

import sweep

camp, ref = sys.argv[1], sys.argv[2]
timing = ["seconds", "attempts"]
a = pd.read_csv(camp + "/results.csv", dtype=str, keep_default_na=False).drop(columns=timing).set_index("task").sort_index()
b = pd.read_csv(ref + "/results.csv", dtype=str, keep_default_na=False).drop(columns=timing).set_index("task").sort_index()
lost = set(b.index) - set(a.index)
lost |= set(a.index[a["status"] != "done"])
common = a.index.intersection(b.index)
diff = (a.loc[common] != b.loc[common]).any(axis=1)
lost |= set(common[diff])
da, db = sweep.open(camp), sweep.open(ref)
for v in db.data_vars:
    if v in timing:
        continue
    x, y = da[v].values, db[v].values
    same = (x == y) | (pd.isna(x) & pd.isna(y)) if x.dtype.kind in "fc" else (x == y)
    if not np.all(same):
        bad = ~same.reshape(same.shape[: da["task"].ndim] + (-1,)).all(axis=-1) if same.ndim > da["task"].ndim else ~same
        lost |= set(da["task"].values[bad].ravel().tolist())
print(f"{len(lost)} lost of {len(b)}")
sys.exit(1 if lost else 0)

"""A stand-in for a user's simulation: noisy exponential decay with numpy.

Run by hand:  python3 decay.py --k 0.5 --seed 1 --out /tmp/x
Through sweep: see sweeps/python.toml. Writes c.npy and metrics.json into --out.
"""
import argparse
import json
import os

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--k", type=float, required=True)
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()

rng = np.random.default_rng(a.seed)
t = np.linspace(0.0, 10.0, 50)
c = np.exp(-a.k * t) + rng.normal(0.0, 0.01, t.size)
np.save(os.path.join(a.out, "c.npy"), c)
with open(os.path.join(a.out, "metrics.json"), "w") as f:
    json.dump({"c_final": float(c[-1]), "c_mean": float(c.mean())}, f)

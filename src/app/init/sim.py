"""A starter program for a [command] sweep: writes its results as {out}/metrics.json,
which sweep turns into columns of results.csv."""
import argparse
import json
import math
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("--k", type=float, required=True)
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()

rnd = random.Random(a.seed)
c = math.exp(-a.k * 10.0) * (1 + rnd.gauss(0.0, 0.01))
with open(os.path.join(a.out, "metrics.json"), "w") as f:
    json.dump({"c_final": c}, f)

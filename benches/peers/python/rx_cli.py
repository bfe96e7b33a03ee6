"""The reaction model as a program run once per task ([command]): the route a Python user
has without persistent workers. Writes metrics.json into --out."""
import argparse
import json
import os

from rx import simulate

ap = argparse.ArgumentParser()
ap.add_argument("--k", type=float, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
with open(os.path.join(a.out, "metrics.json"), "w") as f:
    json.dump(simulate(a.k), f)

"""The plain loop sweep is compared with: the same tasks one after another in one
interpreter, numpy's BLAS at its default thread count (every core)."""
import sys

import numpy as np

from eig import simulate

tasks = int(sys.argv[1])
for k in range(tasks):
    simulate(k, rng=np.random.default_rng(k))

"""A starter model for sweep: first-order decay c(t) = c0 exp(-k t), observed with noise.

sweep calls `simulate` once per task with each parameter of the spec by name. It also
passes whichever of these the signature asks for: seed, seed32, rng (a numpy Generator
seeded with the task's seed), out (a directory for files), replicate, task.
"""
import math
import random


def simulate(k, c0, *, seed):
    rnd = random.Random(seed)  # the task's own generator: reruns draw the same numbers
    t = 10.0
    c = c0 * math.exp(-k * t) * (1 + rnd.gauss(0.0, 0.01))
    # Numbers, bools, strings and None become columns of results.csv; numpy arrays
    # returned here would be saved as tasks/<task>/<name>.npy.
    return {"c_final": c, "conversion": 1 - c / c0}

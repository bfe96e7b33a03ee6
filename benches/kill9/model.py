"""The kill -9 campaign's task: a metric from the task's rng and two ragged arrays, a few
milliseconds each, so that a run lasts about a second and kills land anywhere in it."""
import time

import numpy as np


def f(k, c0, *, rng):
    time.sleep(0.004)
    t = np.linspace(0.0, 1.0, 8 + int(k * 10) % 5)
    return {"y": float(rng.normal()) + k * c0, "t": t, "c": c0 * np.exp(-k * t) + rng.normal(size=t.size)}

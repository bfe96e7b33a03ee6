"""The reaction's concentration curves on one grid of times, for `[output] dims`
(sweeps/reaction_curves.toml).

Every task returns the same `t` (solve_ivp's `t_eval`), so `sweep.open` makes it the
coordinate of `c`'s dimension `t`: `ds.c.sel(t=5.0, method="nearest")`. The adaptive steps
of sweeps/python/reaction.py differ from task to task and cannot be a coordinate.
"""
import numpy as np
from scipy.integrate import solve_ivp


def simulate(k, c0, t_final=10.0, points=51):
    """c(t) of dc/dt = -k c, c(0) = c0, at `points` evenly spaced times from 0 to t_final."""
    t = np.linspace(0.0, t_final, points)
    sol = solve_ivp(lambda _, c: -k * c, (0.0, t_final), [c0], t_eval=t, rtol=1e-8, atol=1e-10)
    return {"c_final": float(sol.y[0][-1]), "t": sol.t, "c": sol.y[0]}

"""First-order kinetics A -> B with scipy: the classic sweep, as a Python function.

sweep calls `simulate` once per task on persistent workers (sweeps/reaction_python.toml);
the module, numpy and scipy are imported once per worker, not once per task.
"""
import numpy as np
from scipy.integrate import solve_ivp


def simulate(k, c0, t_final=10.0):
    """Integrates dc/dt = -k c from c(0) = c0 to t_final (scipy's RK45, default tolerances)."""
    sol = solve_ivp(lambda t, c: -k * c, (0.0, t_final), [c0])
    c = sol.y[0]
    exact = c0 * np.exp(-k * sol.t)
    return {
        "conversion": 1.0 - c[-1] / c0,
        "max_abs_error": float(np.max(np.abs(c - exact))),
        "steps": len(sol.t) - 1,
        "t": sol.t,  # numpy arrays become tasks/<task>/t.npy and c.npy
        "c": c,
    }

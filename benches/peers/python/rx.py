"""The reaction model of benches/peers/python_workers.sh, shared by every contender:
first-order decay with scipy's solve_ivp at its default tolerances."""
from scipy.integrate import solve_ivp


def simulate(k):
    sol = solve_ivp(lambda t, c: -k * c, (0.0, 10.0), [1.0])
    return {"conversion": 1.0 - sol.y[0][-1]}

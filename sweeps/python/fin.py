"""Monte Carlo tip temperature of a cooling fin with an uncertain film coefficient h, in
numpy: the same study as sweep's built-in `fin` model, as a user would write it.

T_tip = T_inf + (T0 - T_inf) / cosh(m L), m = sqrt(h P / (k A)), h ~ Normal(h_mean, h_std)
truncated to h > 0. `rng` is the task's own generator (numpy PCG64 seeded with the task's
seed), so every task draws different samples and every rerun draws the same ones.
"""
import numpy as np


def tip_temperature(L, *, rng, n_samples=10_000, h_mean=50.0, h_std=5.0,
                    T0=100.0, T_inf=25.0, k=200.0, P=0.04, A=1e-4):
    h = rng.normal(h_mean, h_std, n_samples)
    while (bad := h <= 0).any():  # truncate to h > 0 by drawing again
        h[bad] = rng.normal(h_mean, h_std, bad.sum())
    m = np.sqrt(h * P / (k * A))
    t_tip = T_inf + (T0 - T_inf) / np.cosh(m * L)
    return {
        "mean": t_tip.mean(),
        "std": t_tip.std(ddof=1),
        "p025": np.quantile(t_tip, 0.025),
        "p975": np.quantile(t_tip, 0.975),
        "t_tip": t_tip,
    }

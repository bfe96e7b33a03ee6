"""One BLAS-heavy task: the eigenvalues of a seeded symmetric n×n matrix (LAPACK's
syevd through numpy, which spends its time in BLAS level-3 calls that use threads)."""
import numpy as np


def simulate(k, n=1000, *, rng):
    a = rng.standard_normal((n, n))
    w = np.linalg.eigvalsh(a + a.T)
    return {"largest": float(w[-1])}

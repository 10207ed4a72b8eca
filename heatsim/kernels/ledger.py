"""Area-weighted sums for the energy ledger, in Numba's thread pool.

(``values @ weights`` would call the BLAS, whose own spinning threads slow the
Numba kernels that follow on a two-core machine.)
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, fastmath=False)
def weighted_sums(values, weights, out):
    """``out[k] = sum_i values[k, i] * weights[i]``. values (m, n), weights (n,), out (m,)."""
    m, n = values.shape
    for k in range(m):
        total = 0.0
        for i in numba.prange(n):
            total += values[k, i] * weights[i]
        out[k] = total
    return out


def weighted_sums_numpy(values, weights, out):
    """Plain-NumPy twin of :func:`weighted_sums`."""
    out[:] = np.sum(values * weights[None, :], axis=1)
    return out

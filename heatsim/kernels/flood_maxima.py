"""Running maxima of a flood: depth, the time it was reached, and speed, per cell, and the
largest depth of the moment, in one pass over the grid per flow step (a flood map needs the worst moment of every cell, which
snapshots at fixed intervals would miss).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, fastmath=False)
def track_flood_maxima(depth_m, qx_m2_s, qy_m2_s, time_s, *, min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s):
    """Update the running maxima in place.

    depth_m (ny, nx) [m]; qx_m2_s (ny, nx + 1) and qy_m2_s (ny + 1, nx) face unit discharges
    [m2 s-1] as in :mod:`heatsim.kernels.overland_flow`; time_s the time of this state [s].
    ``max_depth_m`` and ``time_of_max_s`` (the first time the maximum was reached) [m], [s];
    ``max_speed_m_s`` the largest cell-centre speed ``|q_c| / h`` where ``h > min_depth_m``
    (``q_c`` the mean of the cell's two faces in each direction) [m s-1].

    Returns the largest depth of this state [m], which sets the next flow step
    (:func:`heatsim.kernels.overland_flow.stable_time_step_s` without another pass).
    """
    ny, nx = depth_m.shape
    h_now = 0.0
    for i in numba.prange(ny):
        for j in range(nx):
            h = depth_m[i, j]
            h_now = max(h_now, h)
            if h > max_depth_m[i, j]:
                max_depth_m[i, j] = h
                time_of_max_s[i, j] = time_s
            if h > min_depth_m:
                qx = 0.5 * (qx_m2_s[i, j] + qx_m2_s[i, j + 1])
                qy = 0.5 * (qy_m2_s[i, j] + qy_m2_s[i + 1, j])
                speed = math.sqrt(qx * qx + qy * qy) / h
                if speed > max_speed_m_s[i, j]:
                    max_speed_m_s[i, j] = speed
    return h_now


def track_flood_maxima_numpy(depth_m, qx_m2_s, qy_m2_s, time_s, *, min_depth_m, max_depth_m, time_of_max_s,
                             max_speed_m_s):
    """Plain-NumPy twin of :func:`track_flood_maxima`."""
    deeper = depth_m > max_depth_m
    max_depth_m[deeper] = depth_m[deeper]
    time_of_max_s[deeper] = time_s
    qx = 0.5 * (qx_m2_s[:, :-1] + qx_m2_s[:, 1:])
    qy = 0.5 * (qy_m2_s[:-1, :] + qy_m2_s[1:, :])
    wet = depth_m > min_depth_m
    speed = np.zeros_like(depth_m)
    speed[wet] = np.hypot(qx[wet], qy[wet]) / depth_m[wet]
    np.maximum(max_speed_m_s, speed, out=max_speed_m_s)
    return float(depth_m.max())

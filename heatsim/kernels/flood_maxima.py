"""Running maxima of a flood: depth, the time it was reached, and speed, per cell, and the
largest depth of the moment, in one pass over the grid per flow step (a flood map needs the worst moment of every cell, which
snapshots at fixed intervals would miss).

The water model does not call :func:`track_flood_maxima` itself: the same update runs inside
the flow step's last sweep (:func:`heatsim.kernels.overland_flow.flow_step_tracked`), which
saves a pass over the grid, except for the few cells whose depth the model changes after the
flow step (culverts, held levels): :func:`track_flood_maxima_cells` updates those after that.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False, inline="always")
def update_cell_maxima(i, j, h, west, east, north, south, time_s, min_depth_m, max_depth_m, time_of_max_s,
                       max_speed_m_s):
    """The running maxima of cell (i, j) with depth ``h`` [m] and the discharges of its west,
    east, north and south faces [m2 s-1]: the one definition every sweep that tracks maxima
    calls (see :func:`track_flood_maxima` for the quantities)."""
    if h > max_depth_m[i, j]:
        max_depth_m[i, j] = h
        time_of_max_s[i, j] = time_s
    if h > min_depth_m:
        qx = 0.5 * (west + east)
        qy = 0.5 * (north + south)
        speed = math.sqrt(qx * qx + qy * qy) / h
        if speed > max_speed_m_s[i, j]:
            max_speed_m_s[i, j] = speed


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
            update_cell_maxima(i, j, h, qx_m2_s[i, j], qx_m2_s[i, j + 1], qy_m2_s[i, j], qy_m2_s[i + 1, j], time_s,
                               min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s)
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


@numba.njit(cache=True, fastmath=False)
def track_flood_maxima_cells(cells, depth_m, qx_m2_s, qy_m2_s, time_s, *, min_depth_m, max_depth_m, time_of_max_s,
                             max_speed_m_s):
    """:func:`track_flood_maxima` on a few cells only: ``cells`` (m,) integer flat indices
    of the (ny, nx) grid (duplicates are harmless). For the cells whose depth the model
    changes after the flow step (culverts, held levels), which the flow step's own sweep
    (:func:`heatsim.kernels.overland_flow.flow_step_tracked`) leaves out. Returns the
    largest depth of these cells [m] (0 for none)."""
    nx = depth_m.shape[1]
    h_now = 0.0
    for k in range(cells.shape[0]):
        i = cells[k] // nx
        j = cells[k] - i * nx
        h = depth_m[i, j]
        h_now = max(h_now, h)
        update_cell_maxima(i, j, h, qx_m2_s[i, j], qx_m2_s[i, j + 1], qy_m2_s[i, j], qy_m2_s[i + 1, j], time_s,
                           min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s)
    return h_now


def track_flood_maxima_cells_numpy(cells, depth_m, qx_m2_s, qy_m2_s, time_s, *, min_depth_m, max_depth_m,
                                   time_of_max_s, max_speed_m_s):
    """Plain-NumPy twin of :func:`track_flood_maxima_cells`."""
    cells = np.unique(np.asarray(cells, dtype=np.int64))
    if cells.size == 0:
        return 0.0
    i, j = np.divmod(cells, depth_m.shape[1])
    h = depth_m[i, j]
    deeper = h > max_depth_m[i, j]
    max_depth_m[i[deeper], j[deeper]] = h[deeper]
    time_of_max_s[i[deeper], j[deeper]] = time_s
    qx = 0.5 * (qx_m2_s[i, j] + qx_m2_s[i, j + 1])
    qy = 0.5 * (qy_m2_s[i, j] + qy_m2_s[i + 1, j])
    wet = h > min_depth_m
    speed = np.zeros_like(h)
    speed[wet] = np.hypot(qx[wet], qy[wet]) / h[wet]
    max_speed_m_s[i, j] = np.maximum(max_speed_m_s[i, j], speed)
    return float(h.max())

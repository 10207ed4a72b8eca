"""2-D overland flow: the local-inertial shallow-water scheme on a staggered grid.

Water depth lives at the cell centres, unit discharges on the cell faces. Per time
step, the momentum equation without the advection term (the "local inertial"
approximation of Bates et al. 2010), with the theta-weighting of de Almeida et al.
(2012), gives the face discharges from the water-surface slope and Manning friction;
continuity then moves the water:

.. math::

    \\partial q / \\partial t + g h \\, \\partial \\eta / \\partial x
        + g n^2 |q| q / h^{7/3} = 0, \\qquad
    \\partial h / \\partial t + \\nabla \\cdot \\mathbf{q} = 0

with ``eta = z + h`` the water-surface elevation.

Grid and sign conventions (the same for every function here):

* Cell arrays have shape ``(ny, nx)``, float64, row 0 the northern (top) edge and
  column 0 the western edge, as in a raster: ``bed_m`` (bed elevation ``z`` [m]),
  ``depth_m`` (water depth ``h`` [m]), ``manning_n`` (Manning's ``n`` [s m-1/3]),
  ``blocked`` (uint8 or bool, 1 = building: no water crosses any of its faces and
  it never holds water; its depth must be 0).
* ``qx_m2_s`` has shape ``(ny, nx + 1)``: ``qx[i, j]`` is the unit discharge
  [m2 s-1] through the *west* face of cell ``(i, j)`` (= the east face of cell
  ``(i, j - 1)``), positive towards increasing column (east). ``qx[:, 0]`` and
  ``qx[:, nx]`` are the western and eastern domain edges.
* ``qy_m2_s`` has shape ``(ny + 1, nx)``: ``qy[i, j]`` is the unit discharge
  through the *north* face of cell ``(i, j)`` (= the south face of cell
  ``(i - 1, j)``), positive towards increasing row (south, "down" the raster).
  ``qy[0, :]`` and ``qy[ny, :]`` are the northern and southern domain edges.
* The grid is square: ``dx = dy = cell_size_m``. A face is ``dx`` long, so a unit
  discharge ``q`` moves ``q dx dt`` m3 of water in a step ``dt``.

Kernels, each with a plain-NumPy twin ``*_numpy`` of the same signature:
:func:`face_fluxes` (momentum, in place on ``qx``/``qy``), :func:`limit_outflow`
(positivity), :func:`update_depth` (continuity; returns the volume that left
through the domain edges), :func:`stable_time_step_s` (adaptive CFL step) and
:func:`cell_speed_m_s` (cell-centred speed for a maximum-velocity map).
:func:`flow_step` gives the result of the first three in order, bit for bit, in two
sweeps over the grid instead of seven passes (see the comment above :data:`TILE_COLS`);
:func:`flow_step_tracked` also updates the running flood maxima in the second sweep and,
given a :class:`FlowTiles`, skips the tiles of the grid where no water can move (again
with the same results, bit for bit). All work arrays are passed in: nothing allocates in
the time loop (but :func:`flow_step` without tiles allocates one row of ``ny`` floats).

References
----------
Bates, P. D., Horritt, M. S., & Fewtrell, T. J. (2010). A simple inertial
formulation of the shallow water equations for efficient two-dimensional flood
inundation modelling. *Journal of Hydrology*, 387(1-2), 33-45.
doi:10.1016/j.jhydrol.2010.03.027
de Almeida, G. A. M., Bates, P., Freer, J. E., & Souvignet, M. (2012). Improving the
stability of a simple formulation of the shallow water equations for 2-D flood
modeling. *Water Resources Research*, 48, W05528. doi:10.1029/2011WR011570
de Almeida, G. A. M., & Bates, P. (2013). Applicability of the local inertial
approximation of the shallow water equations to flood modeling. *Water Resources
Research*, 49, 4833-4844. doi:10.1002/wrcr.20366
Henderson, F. M. (1966). *Open Channel Flow*. Macmillan. (Critical flow at a free
overfall, the outflow boundary.)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from heatsim.kernels.flood_maxima import update_cell_maxima

__all__ = [
    "GRAVITY_M_S2",
    "DEFAULT_THETA",
    "DEFAULT_H_MIN_FLOW_M",
    "DEFAULT_FROUDE_MAX",
    "DEFAULT_ALPHA",
    "DEFAULT_IMPLICIT_FRICTION",
    "face_fluxes",
    "face_fluxes_numpy",
    "limit_outflow",
    "limit_outflow_numpy",
    "update_depth",
    "update_depth_numpy",
    "flow_step",
    "flow_step_numpy",
    "flow_step_tracked",
    "flow_step_tracked_numpy",
    "FlowTiles",
    "TILE_COLS",
    "stable_time_step_s",
    "stable_time_step_s_numpy",
    "cell_speed_m_s",
    "cell_speed_m_s_numpy",
]

GRAVITY_M_S2 = 9.80665  # standard gravity [m s-2]

#: Weight of a face's own old discharge in the momentum update (de Almeida et al.
#: 2012). ``theta = 1`` is the original scheme of Bates et al. (2010); ``theta < 1``
#: mixes in the two neighbouring faces, a small diffusion that damps the
#: checkerboard oscillations the original scheme develops at low friction.
DEFAULT_THETA = 0.7
#: Flow-depth threshold [m] below which a face carries no water. LISFLOOD-FP's
#: depth threshold defaults to 1 mm; itzi uses a threshold of the same order. It
#: keeps films of round-off thickness from moving and from driving the CFL step.
DEFAULT_H_MIN_FLOW_M = 1e-3
#: Largest Froude number a face may carry (the thin-film guard of :func:`face_fluxes`).
DEFAULT_FROUDE_MAX = 1.0
#: CFL coefficient of :func:`stable_time_step_s`. Bates et al. (2010) use 0.2-0.7,
#: but on a 2-D grid with ``theta = 0.7`` the linear stability limit is
#: ``sqrt(theta / 2) = 0.59`` (see :func:`stable_time_step_s`), hence 0.5.
DEFAULT_ALPHA = 0.5
#: Friction at the new time level (True) instead of the old one (False, the
#: published scheme); see :func:`face_fluxes`. With False, keep ``alpha`` <= ~0.4
#: for shallow flow over sloping ground.
DEFAULT_IMPLICIT_FRICTION = True

# Factor on the positivity scaling of limit_outflow: 1 - 1e-14 (about 45 ulps)
# exceeds the rounding of the scaled outflow sum (about 10 ulps), so the depth
# update can never round to below zero. It leaves ~1e-14 of the cell's water
# behind, which is not a mass error: every scaled flux still leaves one cell and
# enters another.
_POSITIVITY_SAFETY = 1.0 - 1e-14
# stands in for the arrays a kernel is told not to touch
_NO_FLOATS = np.zeros((1, 1))
_NO_BYTES = np.zeros((1, 1), np.uint8)


@numba.njit(cache=True, fastmath=False, inline="always")
def _momentum(
    q, q_back, q_fwd, z_a, z_b, h_a, h_b, n_a, n_b, gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction
):
    """New unit discharge [m2 s-1] through the face between cell ``a`` (lower index)
    and cell ``b`` (higher index), positive from ``a`` to ``b``."""
    eta_a = z_a + h_a
    eta_b = z_b + h_b
    h_f = max(eta_a, eta_b) - max(z_a, z_b)
    if h_f <= h_min:
        return 0.0
    n_f = 0.5 * (n_a + n_b)
    num = theta * q + side_weight * (q_back + q_fwd) - gdt * h_f * (eta_b - eta_a) / dx
    if implicit_friction:
        # friction at the new time level: q' (1 + b |q'|) = num, the root written
        # without cancellation
        b = gdt * n_f * n_f / h_f ** (7.0 / 3.0)
        q_new = 2.0 * num / (1.0 + math.sqrt(1.0 + 4.0 * b * abs(num)))
    else:
        # friction linearised with the old |q|, as published (Bates et al. 2010)
        q_new = num / (1.0 + gdt * n_f * n_f * abs(q) / h_f ** (7.0 / 3.0))
    q_max = froude_max * h_f * math.sqrt(GRAVITY_M_S2 * h_f)
    if q_new > q_max:
        return q_max
    if q_new < -q_max:
        return -q_max
    return q_new


@numba.njit(cache=True, fastmath=False)
def _edge_outflow(h, is_blocked, open_edges, h_min, froude_max):
    """Magnitude [m2 s-1] of the critical-depth outflow through a domain-edge face."""
    if not open_edges or is_blocked or h <= h_min:
        return 0.0
    return min(froude_max, 1.0) * h * math.sqrt(GRAVITY_M_S2 * h)


# ---------------------------------------------------------------------- row sweeps
# The kernels below walk the grid row by row in chunks of whole rows, one chunk per
# parallel task. Every face and cell value is computed from old values only, by the same
# arithmetic whichever chunk computes it, so the results do not depend on the number of
# chunks or threads (bit for bit). A chunk overwrites its own y-face rows as it goes;
# the old rows a neighbouring chunk still needs are saved first (``_save_chunk_edges``),
# and the old row behind the sweep is kept in a one-row ring: no full copy of ``qy``.
#
# Rows of the (ny + 1, nx) work array ``qy_work`` used by chunk ``c`` (rows ``r0..r1-1``;
# a chunk that is not the last has at least _MIN_CHUNK_ROWS rows, so they are distinct):
#   r0, r0 + 1  old qy rows r0, r0 + 1 (c > 0; read by chunk c - 1)
#   r1 - 1      old qy row r1 - 1 (c not last; read by chunk c + 1)
#   r0 + 2      ring: the old qy row behind the sweep (row ny for the last chunk)
#   r0 + 3      new, unlimited qy row r1 (the first row of chunk c + 1), computed again
#               by chunk c for the outflow scales of its last row (c not last)
#
# Tiles (optional, :class:`FlowTiles`): each row is cut into blocks of ``TILE_COLS`` cells.
# After a step, a tile's flags say whether one of its cells' faces carries water or one of
# its cells is deeper than h_dry (_WET), whether one of its cells is
# deeper than h_dry (_DEEP), and whether its first or last cell is (_DEEP_FIRST,
# _DEEP_LAST). A tile is "active" in the next step if it is _WET, a tile above or below it
# is _DEEP, or the cell next to it in the tile to its left or right is deep. An inactive
# tile's cells and their four neighbours are then at most h_dry deep and every face of its
# cells is 0, so these faces stay exactly 0 (both sides of a face that shallow give a flow
# depth below h_min_flow_m: see FlowTiles), its depths stay exactly as they are, and so do
# its flood maxima (already updated with those depths): the sweeps skip it, and give the
# same numbers, bit for bit, as without tiles. h_dry is h_min_flow_m less a margin for the
# rounding of eta = z + h (FlowTiles.h_dry_margin_m): two cells at most h_dry deep give a
# computed flow depth of at most h_min_flow_m, whatever their beds. A face that carries water after the step
# has a cell deeper than h_dry on one side, so the tiles on both sides are active and the
# outflow scales it is limited with are computed; a y-face computed in neither of its
# tiles is 0, before and after.

#: Most chunks of rows a sweep is split into: enough tasks to balance a few dozen threads,
#: few enough that the face row each chunk computes twice costs little (1/32 of a row
#: per row at 64 chunks of the 2090 rows of the 5 m Harelbeke grid).
_MAX_CHUNKS = 64
#: Fewest rows of a chunk (the work-row layout above needs 6).
_MIN_CHUNK_ROWS = 6
#: Columns of a tile (FlowTiles).
TILE_COLS = 16
# tile flags (FlowTiles.wet)
_WET = 1
_DEEP = 2
_DEEP_FIRST = 4
_DEEP_LAST = 8
_ALL_FLAGS = 15


def _n_chunks(ny: int) -> int:
    """Number of row chunks of a grid with ``ny`` rows (a function of the grid only)."""
    return max(1, min(_MAX_CHUNKS, ny // _MIN_CHUNK_ROWS))


@numba.njit(cache=True, inline="always")
def _chunk_rows(c, n_chunks, ny):
    return (c * ny) // n_chunks, ((c + 1) * ny) // n_chunks


@numba.njit(cache=True, fastmath=False)
def _y_face_range(k, j0, j1, out, mid, back, back_zero, fwd, ring, in_place, bed_m, depth_m, manning_n, blocked,
                  gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction, open_edges):
    """New discharges of the y-faces ``(k, j0:j1)`` (row k in 0..ny) into ``out`` from the
    old rows ``mid`` (row k), ``back`` (k - 1; 0 where ``back_zero``) and ``fwd`` (k + 1);
    copies ``mid`` into ``ring``. ``out`` is ``mid`` when ``in_place``, and ``ring`` may be
    ``back``: each element is read before it is written."""
    ny, nx = depth_m.shape
    if k == 0 or k == ny:
        cell = 0 if k == 0 else ny - 1
        sign = -1.0 if k == 0 else 1.0
        for j in range(j0, j1):
            ring[j] = mid[j]
            out[j] = sign * _edge_outflow(depth_m[cell, j], blocked[cell, j] != 0, open_edges, h_min, froude_max)
        return
    for j in range(j0, j1):
        q = mid[j]
        if blocked[k - 1, j] or blocked[k, j]:
            q_new = 0.0
        else:
            if k >= 2 and not blocked[k - 2, j]:
                q_back = 0.0 if back_zero else back[j]
            else:
                q_back = q
            q_fwd = fwd[j] if (k + 1 < ny and not blocked[k + 1, j]) else q
            q_new = _momentum(
                q, q_back, q_fwd,
                bed_m[k - 1, j], bed_m[k, j], depth_m[k - 1, j], depth_m[k, j],
                manning_n[k - 1, j], manning_n[k, j],
                gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction,
            )
        ring[j] = q
        out[j] = q_new


@numba.njit(cache=True, fastmath=False)
def _x_face_range(i, ja, jb, q_prev_old, qx_m2_s, bed_m, depth_m, manning_n, blocked, gdt, dx, theta, side_weight,
                  h_min, froude_max, implicit_friction, open_edges):
    """New discharges of the x-faces ``(i, ja:jb)`` (0..nx), in place, left to right;
    ``q_prev_old`` is the old discharge of face ``ja - 1`` (overwritten already, or not).
    Returns the old discharge of face ``jb - 1``."""
    nx = depth_m.shape[1]
    if ja == 0:
        q_prev_old = qx_m2_s[i, 0]
        qx_m2_s[i, 0] = -_edge_outflow(depth_m[i, 0], blocked[i, 0] != 0, open_edges, h_min, froude_max)
        ja = 1
    east_edge = jb == nx + 1
    if east_edge:
        jb = nx
    for j in range(ja, jb):
        q = qx_m2_s[i, j]
        if blocked[i, j - 1] or blocked[i, j]:
            q_new = 0.0
        else:
            # old discharge of face j - 1 (the far face of cell a) unless it is a wall
            q_back = q_prev_old if (j >= 2 and not blocked[i, j - 2]) else q
            # face j + 1 is still old
            q_fwd = qx_m2_s[i, j + 1] if (j + 1 < nx and not blocked[i, j + 1]) else q
            q_new = _momentum(
                q, q_back, q_fwd,
                bed_m[i, j - 1], bed_m[i, j], depth_m[i, j - 1], depth_m[i, j],
                manning_n[i, j - 1], manning_n[i, j],
                gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction,
            )
        q_prev_old = q
        qx_m2_s[i, j] = q_new
    if east_edge:
        q_prev_old = qx_m2_s[i, nx]
        qx_m2_s[i, nx] = _edge_outflow(depth_m[i, nx - 1], blocked[i, nx - 1] != 0, open_edges, h_min, froude_max)
    return q_prev_old


@numba.njit(cache=True, fastmath=False)
def _scale_range(i, j0, j1, qx_m2_s, north, south, depth_m, c, scale_work):
    """Outflow scale factors of the cells ``(i, j0:j1)`` (pass 1 of :func:`limit_outflow`)
    from the new, unlimited faces: ``north`` and ``south`` are y-face rows i and i + 1.
    Returns the number of limited cells."""
    n_limited = 0
    for j in range(j0, j1):
        # west, east, north, south: the order of _out_sum
        out_depth = c * (max(-qx_m2_s[i, j], 0.0) + max(qx_m2_s[i, j + 1], 0.0) + max(-north[j], 0.0)
                         + max(south[j], 0.0))
        h = depth_m[i, j]
        if out_depth > h:
            scale_work[i, j] = h / out_depth * _POSITIVITY_SAFETY
            n_limited += 1
        else:
            scale_work[i, j] = 1.0
    return n_limited


@numba.njit(cache=True, inline="always")
def _is_active(use_tiles, active, i, b):
    return (not use_tiles) or active[i, b] != 0


@numba.njit(cache=True, inline="always")
def _run_end(use_tiles, active, i, b, nb):
    """End (exclusive) of the run of active tiles in row ``i`` that starts at tile ``b``."""
    e = b + 1
    while e < nb and _is_active(use_tiles, active, i, e):
        e += 1
    return e


@numba.njit(cache=True, inline="always")
def _tile_active(wet, i, b):
    """Whether tile (i, b) is active in a step, from the flags of the step before."""
    ny, nb = wet.shape
    a = wet[i, b] & _WET
    if i > 0:
        a |= wet[i - 1, b] & _DEEP
    if i + 1 < ny:
        a |= wet[i + 1, b] & _DEEP
    if b > 0:
        a |= wet[i, b - 1] & _DEEP_LAST
    if b + 1 < nb:
        a |= wet[i, b + 1] & _DEEP_FIRST
    return a != 0


@numba.njit(cache=True, inline="always")
def _face_row_computed(use_tiles, active, k, b):
    """Whether :func:`_sweep_fluxes` computes the y-faces of tile column ``b`` in face
    row ``k`` (0..ny): when the tiles on both sides are active (else they are 0)."""
    ny = active.shape[0]
    if not use_tiles:
        return True
    if k == 0:
        return active[0, b] != 0
    if k >= ny:
        return active[ny - 1, b] != 0
    return active[k - 1, b] != 0 and active[k, b] != 0


@numba.njit(parallel=True, fastmath=False, cache=True)
def _prepare_sweep(qy_m2_s, qy_work, n_chunks, use_tiles, wet, active):
    """Save the old y-face rows a chunk overwrites and its neighbours read (layout above;
    with ``use_tiles`` only in the tile columns where they are read), and with
    ``use_tiles`` mark the active tiles from the flags ``wet`` of the step before."""
    ny, nx = qy_m2_s.shape[0] - 1, qy_m2_s.shape[1]
    for c in numba.prange(n_chunks):
        r0, r1 = _chunk_rows(c, n_chunks, ny)
        if not use_tiles:
            if c > 0:
                qy_work[r0, :] = qy_m2_s[r0, :]
                qy_work[r0 + 1, :] = qy_m2_s[r0 + 1, :]
            if c < n_chunks - 1:
                qy_work[r1 - 1, :] = qy_m2_s[r1 - 1, :]
            continue
        nb = wet.shape[1]
        for b in range(nb):
            j0 = b * TILE_COLS
            j1 = min(nx, j0 + TILE_COLS)
            # rows r0, r0 + 1 are read only where tile (r0 - 1, b) is active, row r1 - 1
            # only where tile (r1, b) is (the conditions of _face_row_computed)
            if c > 0 and _tile_active(wet, r0 - 1, b):
                for j in range(j0, j1):
                    qy_work[r0, j] = qy_m2_s[r0, j]
                    qy_work[r0 + 1, j] = qy_m2_s[r0 + 1, j]
            if c < n_chunks - 1 and _tile_active(wet, r1, b):
                for j in range(j0, j1):
                    qy_work[r1 - 1, j] = qy_m2_s[r1 - 1, j]
        for i in range(r0, r1):
            for b in range(nb):
                active[i, b] = 1 if _tile_active(wet, i, b) else 0


@numba.njit(parallel=True, fastmath=False, cache=True)
def _sweep_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, qy_work, scale_work, n_chunks, with_scale,
                  use_tiles, active, dx, dt_s, theta, h_min, froude_max, implicit_friction, open_edges):
    """:func:`face_fluxes` in one sweep over the rows (x- and y-faces of a row together),
    and with ``with_scale`` pass 1 of :func:`limit_outflow` (the outflow scale of every
    cell into ``scale_work``) as soon as a row's four faces are known; with ``use_tiles``
    only on the ``active`` tiles. Returns the number of limited cells (0 without
    ``with_scale``). Call :func:`_prepare_sweep` first."""
    ny, nx = depth_m.shape
    nb = (nx + TILE_COLS - 1) // TILE_COLS if use_tiles else 1
    width = TILE_COLS if use_tiles else nx
    gdt = GRAVITY_M_S2 * dt_s
    side_weight = 0.5 * (1.0 - theta)
    c_out = dt_s / dx
    n_limited = 0
    for c in numba.prange(n_chunks):
        r0, r1 = _chunk_rows(c, n_chunks, ny)
        last = c == n_chunks - 1
        ring = qy_work[ny] if last else qy_work[r0 + 2]
        # the last chunk also owns the southern edge row ny; the others recompute the
        # first face row of the next chunk for the scales of their last row
        k_end = r1 + 1 if (last or with_scale) else r1
        for k in range(r0, k_end):
            own = k < r1 or last
            if own:
                out = qy_m2_s[k]
                mid = qy_m2_s[k]
            else:
                out = qy_work[r0 + 3]
                mid = qy_work[r1]
            back = qy_work[r0 - 1] if (k == r0 and c > 0) else ring
            if k + 1 < r1:
                fwd = qy_m2_s[k + 1]
            elif last:
                fwd = mid  # k + 1 >= ny: no neighbour row, never read
            elif k + 1 == r1:
                fwd = qy_work[r1]
            else:  # k == r1: the next chunk's saved second row
                fwd = qy_work[r1 + 1]
            # runs of neighbouring tiles in one call each (a call per tile costs as much as
            # the faces of a dry tile)
            b = 0
            while b < nb:
                j0 = b * width
                if _face_row_computed(use_tiles, active, k, b):
                    # the old faces of row k - 1 where they were not computed are 0 (and
                    # neither the ring nor the saved rows hold them there)
                    back_zero = k >= 1 and not _face_row_computed(use_tiles, active, k - 1, b)
                    e = b + 1
                    while (e < nb and _face_row_computed(use_tiles, active, k, e)
                           and back_zero == (k >= 1 and not _face_row_computed(use_tiles, active, k - 1, e))):
                        e += 1
                    _y_face_range(k, j0, min(nx, e * width), out, mid, back, back_zero, fwd, ring, own, bed_m,
                                  depth_m, manning_n, blocked, gdt, dx, theta, side_weight, h_min, froude_max,
                                  implicit_friction, open_edges)
                    b = e
                else:
                    if not own:
                        for j in range(j0, min(nx, j0 + width)):
                            out[j] = 0.0  # a face next to an inactive tile is 0
                    b += 1
            if k < r1:
                b = 0
                while b < nb:
                    if not _is_active(use_tiles, active, k, b):
                        b += 1
                        continue
                    e = _run_end(use_tiles, active, k, b, nb)
                    j0 = b * width
                    jb = min(nx, e * width) + (1 if e == nb else 0)
                    # the old face j0 - 1: not overwritten (an inactive tile's face, or none)
                    q_prev_old = qx_m2_s[k, j0 - 1] if j0 > 0 else 0.0
                    _x_face_range(k, j0, jb, q_prev_old, qx_m2_s, bed_m, depth_m, manning_n, blocked, gdt, dx,
                                  theta, side_weight, h_min, froude_max, implicit_friction, open_edges)
                    b = e
            if with_scale and k > r0:
                b = 0
                while b < nb:
                    if not _is_active(use_tiles, active, k - 1, b):
                        b += 1
                        continue
                    e = _run_end(use_tiles, active, k - 1, b, nb)
                    n_limited += _scale_range(k - 1, b * width, min(nx, e * width), qx_m2_s, qy_m2_s[k - 1], out,
                                              depth_m, c_out, scale_work)
                    b = e
    return n_limited


@numba.njit(cache=True, fastmath=False, inline="always")
def _scaled(q, s_pos, s_neg):
    """A face discharge limited by its upstream cell's scale: ``s_pos`` is the scale of
    the cell it leaves when ``q > 0``, ``s_neg`` when ``q < 0``."""
    if q > 0.0:
        return q * s_pos
    if q < 0.0:
        return q * s_neg
    return q


@numba.njit(cache=True, fastmath=False)
def _limit_y_range(k, j0, j1, qy_m2_s, scale_work):
    """Pass 2 of :func:`limit_outflow` on the y-faces ``(k, j0:j1)``, in place (1 beyond
    the grid)."""
    ny = scale_work.shape[0]
    for j in range(j0, j1):
        q = qy_m2_s[k, j]
        if q > 0.0 and k > 0:
            s = scale_work[k - 1, j]
        elif q < 0.0 and k < ny:
            s = scale_work[k, j]
        else:
            continue
        qy_m2_s[k, j] = q * s


@numba.njit(cache=True, fastmath=False)
def _limit_x_range(i, ja, jb, qx_m2_s, scale_work):
    """Pass 2 of :func:`limit_outflow` on the x-faces ``(i, ja:jb)`` (0..nx), in place."""
    nx = scale_work.shape[1]
    for j in range(ja, jb):
        q = qx_m2_s[i, j]
        if q > 0.0 and j > 0:
            s = scale_work[i, j - 1]
        elif q < 0.0 and j < nx:
            s = scale_work[i, j]
        else:
            continue
        qx_m2_s[i, j] = q * s


@numba.njit(cache=True, fastmath=False)
def _limit_y_runs(k, i, qy_m2_s, scale_work, use_tiles, active, nb, width):
    """:func:`_limit_y_range` on y-face row ``k`` under the runs of active tiles of row ``i``."""
    nx = qy_m2_s.shape[1]
    b = 0
    while b < nb:
        if not _is_active(use_tiles, active, i, b):
            b += 1
            continue
        e = _run_end(use_tiles, active, i, b, nb)
        _limit_y_range(k, b * width, min(nx, e * width), qy_m2_s, scale_work)
        b = e


@numba.njit(cache=True, inline="always")
def _cell_tile_flags(flags, h, out_sum, in_sum, h_dry, j, j0, j1):
    """``flags`` of the tile (columns ``j0:j1``) with cell ``j`` added: deeper than ``h_dry``
    (and whether it is the tile's first or last cell), or water on one of its faces."""
    if h > h_dry:
        flags |= _WET | _DEEP
        if j == j0:
            flags |= _DEEP_FIRST
        if j == j1 - 1:
            flags |= _DEEP_LAST
    elif out_sum != 0.0 or in_sum != 0.0:
        flags |= _WET
    return flags


@numba.njit(parallel=True, fastmath=False, cache=True)
def _sweep_continuity(depth_m, qx_m2_s, qy_m2_s, scale_work, qy_work, row_outflow_m3, n_chunks, dx, dt_s,
                      use_tiles, active, wet, keep_wet, tile_h_max, h_dry, track, time_s, min_depth_m, max_depth_m,
                      time_of_max_s, max_speed_m_s, skip_maxima, row_h_max):
    """Pass 2 of :func:`limit_outflow` and :func:`update_depth` in one sweep, and with
    ``track`` the running maxima of :func:`heatsim.kernels.flood_maxima.track_flood_maxima`
    of every cell where ``skip_maxima`` is 0; with ``use_tiles`` only on the ``active``
    tiles, marking which are ``wet`` (deeper than ``h_dry`` [m] somewhere, water on a face,
    or ``keep_wet``) and their largest tracked depth ``tile_h_max`` [m]. Returns (edge
    outflow [m3], largest depth of the tracked cells [m], 0 without ``track``; per row in
    ``row_h_max`` (ny,)). Needs the scales and the recomputed face rows of
    :func:`_sweep_fluxes` with ``with_scale``."""
    ny, nx = depth_m.shape
    nb = (nx + TILE_COLS - 1) // TILE_COLS if use_tiles else 1
    width = TILE_COLS if use_tiles else nx
    c_flux = dt_s / dx
    to_m3 = dt_s * dx
    for c in numba.prange(n_chunks):
        r0, r1 = _chunk_rows(c, n_chunks, ny)
        last = c == n_chunks - 1
        _limit_y_runs(r0, r0, qy_m2_s, scale_work, use_tiles, active, nb, width)
        for i in range(r0, r1):
            # a face that carries water has active tiles on both sides: limiting the faces
            # of the active tiles limits them all
            b = 0
            while b < nb:
                if not _is_active(use_tiles, active, i, b):
                    b += 1
                    continue
                e = _run_end(use_tiles, active, i, b, nb)
                _limit_x_range(i, b * width, min(nx, e * width) + (1 if e == nb else 0), qx_m2_s, scale_work)
                b = e
            # the south faces: limited in place, in qy if this chunk owns them, else in the
            # recomputed row (the next chunk limits its own copy in qy)
            own_south = i + 1 < r1 or last
            if own_south:
                _limit_y_runs(i + 1, i, qy_m2_s, scale_work, use_tiles, active, nb, width)
                south = qy_m2_s[i + 1]
            else:
                south = qy_work[r0 + 3]  # this chunk's own copy: limited here in place
                for j in range(nx):
                    south[j] = _scaled(south[j], scale_work[i, j], scale_work[i + 1, j])
            north = qy_m2_s[i]
            h_row = 0.0
            for b in range(nb):
                if not _is_active(use_tiles, active, i, b):
                    continue
                j0 = b * width
                h_tile = 0.0
                flags = 0
                j1 = min(nx, j0 + width)
                for j in range(j0, j1):
                    q_s = south[j]
                    west = qx_m2_s[i, j]
                    east = qx_m2_s[i, j + 1]
                    q_n = north[j]
                    out_sum, in_sum = _cell_out_in(west, east, q_n, q_s)
                    h = _moved_depth(depth_m[i, j], out_sum, in_sum, c_flux)
                    depth_m[i, j] = h
                    if use_tiles:
                        flags = _cell_tile_flags(flags, h, out_sum, in_sum, h_dry, j, j0, j1)
                    if track and not skip_maxima[i, j]:
                        h_tile = max(h_tile, h)
                        update_cell_maxima(i, j, h, west, east, q_n, q_s, time_s, min_depth_m, max_depth_m,
                                           time_of_max_s, max_speed_m_s)
                if use_tiles:
                    wet[i, b] = _ALL_FLAGS if keep_wet[i, b] != 0 else flags
                    tile_h_max[i, b] = h_tile
                h_row = max(h_row, h_tile)
            if use_tiles and track:
                # an inactive tile's depths, and so its largest depth, are unchanged
                for b in range(nb):
                    h_row = max(h_row, tile_h_max[i, b])
            row_h_max[i] = h_row
            edge = qx_m2_s[i, nx] - qx_m2_s[i, 0]
            if i == 0:
                for j in range(nx):
                    edge -= qy_m2_s[0, j]
            if i == ny - 1:
                for j in range(nx):
                    edge += qy_m2_s[ny, j]
            row_outflow_m3[i] = edge * to_m3
    total = 0.0
    h_now = 0.0
    for i in range(ny):
        total += row_outflow_m3[i]
        h_now = max(h_now, row_h_max[i])
    return total, h_now


class FlowTiles:
    """The wet/active state of the tiles of a grid (``TILE_COLS`` cells of a row each),
    kept between the steps of :func:`flow_step_tracked` so that it skips the tiles where
    nothing can move (see the comment above :data:`TILE_COLS`); the results are those of
    a step without tiles, bit for bit.

    Parameters
    ----------
    shape : (ny, nx)
        The grid.
    bed_m : ndarray, (ny, nx)
        Bed elevation [m]: sets the margin ``h_dry_margin_m`` [m] for the rounding of
        ``z + h`` (4 ulp of the highest bed, ~3e-14 m at 30 m): a cell counts as dry when
        it is at most ``h_min_flow_m - h_dry_margin_m`` deep.
    keep_wet_cells : ndarray, int, optional
        Flat indices of cells whose depth the caller changes between or after flow steps
        (inflows, culverts, held levels): their tiles are always treated as wet.

    Call :meth:`invalidate` after changing depths anywhere else (rain, losses): the next
    step then computes every tile.
    """

    def __init__(self, shape, bed_m, keep_wet_cells=None):
        ny, nx = shape
        nb = (nx + TILE_COLS - 1) // TILE_COLS
        self.wet = np.full((ny, nb), _ALL_FLAGS, np.uint8)
        self.active = np.ones((ny, nb), np.uint8)
        self.keep_wet = np.zeros((ny, nb), np.uint8)
        self.tile_h_max = np.zeros((ny, nb))
        self.row_h_max = np.zeros(ny)
        if keep_wet_cells is not None and len(keep_wet_cells):
            i, j = np.divmod(np.asarray(keep_wet_cells, np.int64), nx)
            self.keep_wet[i, j // TILE_COLS] = 1
        z = float(np.max(np.abs(bed_m))) if np.size(bed_m) else 0.0
        # the flow depth computed for two cells h_a, h_b <= h_dry deep is at most
        # max(h_a, h_b) + ulp(|z| + h) / 2 + its own rounding: 4 ulp(|z| + 1) covers both
        self.h_dry_margin_m = 4.0 * float(np.spacing(z + 1.0))

    def invalidate(self) -> None:
        """Depths changed outside the flow step: compute every tile in the next step."""
        self.wet.fill(_ALL_FLAGS)

    def refresh(self, depth_m, h_min_flow_m: float) -> None:
        """Depths changed outside the flow step, the faces did not (rain, infiltration,
        sewers): add the flags of the cells now deeper than h_dry to those of the last step,
        so that only the tiles where water can now move are computed; each tile's largest
        depth is taken anew. Exact together with :meth:`track_skipped` (the maxima the rain
        gave the cells of the tiles the next step skips), as the local time steps use it
        (:func:`heatsim.kernels.local_steps.slow_continuity`); the global step's sweeps
        rely on maxima kept inside the step, so it must :meth:`invalidate`."""
        _add_deep_flags(depth_m, self.wet, self.tile_h_max, h_min_flow_m - self.h_dry_margin_m)

    def track_skipped(self, depth_m, time_s: float, max_depth_m, time_of_max_s, skip_maxima) -> None:
        """After :meth:`refresh`: the maxima of the cells of the tiles the next step will skip
        (their depths, changed by the losses, will not change in it and their faces are 0:
        so the step's end ``time_s`` [s] is when a stepper visiting them would record
        them). Cells where ``skip_maxima`` is 1 are left out."""
        _track_inactive_tiles(depth_m, self.wet, skip_maxima, time_s, max_depth_m, time_of_max_s)

    def mark_cells(self, rows, cols) -> None:
        """Compute the tiles of these cells (and their neighbours) in the next step, whatever
        their flags say (the local time steps' fast cells, chosen anew)."""
        self.wet[np.asarray(rows), np.asarray(cols) // TILE_COLS] = _ALL_FLAGS

    @property
    def active_share(self) -> float:
        """Share of the tiles the last step computed."""
        return float(self.active.mean())


@numba.njit(parallel=True, cache=True)
def _track_inactive_tiles(depth_m, wet, skip_maxima, time_s, max_depth_m, time_of_max_s):
    """Maximum depth and its time of the tracked cells of the tiles that ``wet`` makes
    inactive (:func:`_tile_active`); their faces are 0, so their speed stays 0."""
    ny, nx = depth_m.shape
    nb = wet.shape[1]
    for i in numba.prange(ny):
        for b in range(nb):
            if _tile_active(wet, i, b):
                continue
            for j in range(b * TILE_COLS, min(nx, (b + 1) * TILE_COLS)):
                h = depth_m[i, j]
                if skip_maxima[i, j] == 0 and h > max_depth_m[i, j]:
                    max_depth_m[i, j] = h
                    time_of_max_s[i, j] = time_s


@numba.njit(parallel=True, cache=True)
def _add_deep_flags(depth_m, wet, tile_h_max, h_dry):
    """``wet`` |= the _WET, _DEEP, _DEEP_FIRST and _DEEP_LAST flags of the cells of each tile
    deeper than ``h_dry`` [m] (the flags :func:`_sweep_continuity` sets from depths), and
    ``tile_h_max`` = the largest depth of each tile [m]."""
    ny, nx = depth_m.shape
    nb = wet.shape[1]
    for i in numba.prange(ny):
        for b in range(nb):
            j0 = b * TILE_COLS
            j1 = min(nx, j0 + TILE_COLS)
            flags = 0
            h_tile = 0.0
            for j in range(j0, j1):
                flags = _cell_tile_flags(flags, depth_m[i, j], 0.0, 0.0, h_dry, j, j0, j1)
                h_tile = max(h_tile, depth_m[i, j])
            wet[i, b] |= flags
            tile_h_max[i, b] = h_tile


def face_fluxes(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    theta,
    h_min_flow_m,
    froude_max,
    implicit_friction,
    open_edges,
    qy_work,
):
    """Local-inertial momentum step: new unit discharges on every face, in place.

    Parameters
    ----------
    bed_m : ndarray, float64, (ny, nx)
        Bed elevation ``z`` [m].
    depth_m : ndarray, float64, (ny, nx)
        Water depth ``h`` [m], >= 0; 0 in blocked cells.
    manning_n : ndarray, float64, (ny, nx)
        Manning's roughness ``n`` [s m-1/3], >= 0.
    blocked : ndarray, uint8 or bool, (ny, nx)
        1 (True) for building cells: every face of such a cell carries 0.
    qx_m2_s : ndarray, float64, (ny, nx + 1)
        Unit discharge on the x-faces [m2 s-1], positive eastward (module
        docstring). Old values on entry, new values on return.
    qy_m2_s : ndarray, float64, (ny + 1, nx)
        Unit discharge on the y-faces [m2 s-1], positive southward (increasing
        row). Old values on entry, new values on return.
    cell_size_m : float
        Grid spacing ``dx = dy`` [m].
    dt_s : float
        Time step [s]; at most :func:`stable_time_step_s`.
    theta : float
        Weight of the face's own old discharge, ``0.5 <= theta <= 1``
        (:data:`DEFAULT_THETA`); 1 recovers Bates et al. (2010).
    h_min_flow_m : float
        Flow-depth threshold [m], > 0 (:data:`DEFAULT_H_MIN_FLOW_M`): a face
        whose flow depth is at most this carries 0.
    froude_max : float
        Largest Froude number a face may carry (:data:`DEFAULT_FROUDE_MAX`).
    implicit_friction : bool
        False: Manning friction linearised with the old ``|q|`` as published
        (Bates et al. 2010; de Almeida et al. 2012). True: friction at the new time level, solved
        exactly (Notes). :data:`DEFAULT_IMPLICIT_FRICTION`.
    open_edges : bool
        False: no water crosses the domain edges. True: every domain edge is a
        free (critical-depth) outflow boundary, never an inflow (Notes).
    qy_work : ndarray, float64, (ny + 1, nx)
        Work space (a few old rows of ``qy`` per chunk of rows); contents on return are
        meaningless.

    Notes
    -----
    For the face between cells ``a`` (lower index) and ``b`` (higher index), with
    ``eta = z + h``, the flow depth (Bates et al. 2010)

    ``h_f = max(eta_a, eta_b) - max(z_a, z_b)``

    and ``n_f = (n_a + n_b) / 2``, the new discharge is (de Almeida et al. 2012:
    the theta-weighted scheme with the semi-implicit friction of Bates et al. 2010)

    ``q' = [theta q + (1 - theta)/2 (q_back + q_fwd) - g h_f dt (eta_b - eta_a)/dx]
    / [1 + g dt n_f**2 |q| / h_f**(7/3)]``

    where ``q``, ``q_back`` and ``q_fwd`` are the old discharges on this face and on
    the same-direction faces either side of it (the far faces of ``a`` and ``b``).
    Where such a neighbour face is a domain edge or touches a blocked cell, ``q``
    itself stands in for it, so a wall neither drags nor pushes the flow along it.
    ``h_f <= h_min_flow_m`` gives ``q' = 0``, and so does a blocked cell on either
    side; ``h_min_flow_m`` must be > 0 (it also keeps ``h_f**(7/3)`` from
    underflowing).

    Friction time level. Write the update as ``q' (1 + b |q_*|) = N`` with
    ``b = g dt n_f**2 / h_f**(7/3)`` and ``N`` the numerator above. The published
    scheme takes ``|q_*| = |q|`` (old). Freezing the water surface, its
    relaxation towards the friction-slope equilibrium then has the amplification
    factor ``(1 - beta) / (1 + beta)``, ``beta = dt / tau``, with the friction
    time ``tau = h_f**(7/3) / (g n_f**2 |q|)``: for ``dt > tau`` (shallow water
    with roughness, exactly rain runoff on streets) it overshoots and rings with
    period ``2 dt``, and coupled to continuity this grows into a cell-by-cell
    checkerboard in depth and discharge even below the CFL limit. In trials with
    rain on a 1 % plane (``n = 0.05``, a 2 cm sheet at the outlet) the published
    form was unstable at ``alpha >= 0.6`` with 2 m cells and ``alpha >= 0.5`` with
    5 m cells, stable at 0.4.
    ``implicit_friction=True`` takes ``|q_*| = |q'|`` and solves the quadratic
    exactly, ``q' = 2 N / (1 + sqrt(1 + 4 b |N|))`` (the root written without
    cancellation): its amplification factor ``1 / (1 + 2 beta)`` lies in (0, 1]
    for any step, the steady states are the same (both solve
    ``q (1 + b |q|) = N``), and without friction (``n = 0``) both are identical.
    The plane above ran stably with it at ``alpha = 0.9`` (a 1-D case; in 2-D the
    limit of :func:`stable_time_step_s` still applies).

    A lake at rest stays at rest exactly: equal ``eta`` gives no slope, and a dry
    cell above the lake gives ``h_f = 0``.

    Thin-film guard: the result is clipped to
    ``|q'| <= froude_max h_f sqrt(g h_f)``. The local-inertial equations drop the
    advection term and are meant for subcritical flow (de Almeida & Bates 2013);
    on smooth steep surfaces the friction term alone lets very thin films reach
    unphysical speeds and the explicit step oscillate. The cap is a guard in the
    spirit of the Froude limits of LISFLOOD-FP-type codes, not physics; with
    ``froude_max = 1`` it never binds in the subcritical flows the scheme is for.

    Open edges: the edge face of a non-blocked cell with ``h > h_min_flow_m`` carries
    the critical-flow discharge ``min(froude_max, 1) h sqrt(g h)`` outward. A free
    overfall passes through critical depth near the brink, and critical flow is
    the largest discharge the specific energy available allows (Henderson 1966),
    so the edge acts like a cliff. It needs no slope estimate (it works on flat and
    adverse ground, where a normal-depth outflow with the local bed slope, as in
    LISFLOOD-FP's "free" boundary, would stall or reverse) and never draws water
    in. The price is a draw-down of the last one or two cells towards critical
    depth where the flow arriving is subcritical, so keep the domain edge away
    from the area of interest.

    Stable for ``dt <= alpha dx / sqrt(g h_max)`` with ``alpha`` below
    ``sqrt(theta / 2)`` (Bates et al. 2010, eq. 12, and :func:`stable_time_step_s`).
    Positivity of the depth is not this function's business: :func:`limit_outflow`
    ensures it, at any step.
    """
    ny = depth_m.shape[0]
    n_chunks = _n_chunks(ny)
    _prepare_sweep(qy_m2_s, qy_work, n_chunks, False, _NO_BYTES, _NO_BYTES)
    _sweep_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, qy_work, _NO_FLOATS, n_chunks, False,
                  False, _NO_BYTES, cell_size_m, dt_s, theta, h_min_flow_m, froude_max, implicit_friction, open_edges)


def _momentum_numpy(q, q_back, q_fwd, z_a, z_b, h_a, h_b, n_a, n_b, gdt, dx, theta, h_min, froude_max,
                    implicit_friction):
    """Vectorised :func:`_momentum` (0 where the flow depth is at most ``h_min``; walls are
    the caller's)."""
    eta_a, eta_b = z_a + h_a, z_b + h_b
    h_f = np.maximum(eta_a, eta_b) - np.maximum(z_a, z_b)
    n_f = 0.5 * (n_a + n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = theta * q + 0.5 * (1.0 - theta) * (q_back + q_fwd) - gdt * h_f * (eta_b - eta_a) / dx
        if implicit_friction:
            b = gdt * n_f * n_f / h_f ** (7.0 / 3.0)
            q_new = 2.0 * num / (1.0 + np.sqrt(1.0 + 4.0 * b * np.abs(num)))
        else:
            q_new = num / (1.0 + gdt * n_f * n_f * np.abs(q) / h_f ** (7.0 / 3.0))
        q_max = froude_max * h_f * np.sqrt(GRAVITY_M_S2 * h_f)
        q_new = np.clip(q_new, -q_max, q_max)
    return np.where(h_f > h_min, q_new, 0.0)


def _faces_along_rows_numpy(bed, depth, n, wall, q, *, dx, dt_s, theta, h_min, froude_max, implicit_friction,
                            open_edges):
    """New discharges on the faces between row neighbours (axis 1) for
    :func:`face_fluxes_numpy`; ``q`` has shape ``(rows, cols + 1)``, positive
    towards increasing column. The y-faces are the x-faces of the transposed grid."""
    g = GRAVITY_M_S2
    rows, cols = depth.shape
    face_wall = np.ones((rows, cols + 1), bool)  # domain edges are walls for the neighbour rule
    face_wall[:, 1:-1] = wall[:, :-1] | wall[:, 1:]
    q_mid = q[:, 1:-1]
    q_back = np.where(face_wall[:, :-2], q_mid, q[:, :-2])
    q_fwd = np.where(face_wall[:, 2:], q_mid, q[:, 2:])
    q_new = _momentum_numpy(q_mid, q_back, q_fwd, bed[:, :-1], bed[:, 1:], depth[:, :-1], depth[:, 1:], n[:, :-1],
                            n[:, 1:], g * dt_s, dx, theta, h_min, froude_max, implicit_friction)
    new = np.zeros((rows, cols + 1))
    new[:, 1:-1] = np.where(~face_wall[:, 1:-1], q_new, 0.0)
    if open_edges:
        edge = np.where(~wall & (depth > h_min), min(froude_max, 1.0) * depth * np.sqrt(g * depth), 0.0)
        new[:, 0] = -edge[:, 0]
        new[:, -1] = edge[:, -1]
    return new


def face_fluxes_numpy(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    theta,
    h_min_flow_m,
    froude_max,
    implicit_friction,
    open_edges,
    qy_work=None,
):
    """Plain-NumPy twin of :func:`face_fluxes`: all faces of one direction at once
    from shifted views; the y-faces as the x-faces of the transposed grid.
    ``qy_work`` is accepted for signature compatibility and ignored."""
    wall = np.asarray(blocked).astype(bool)
    kw = dict(dx=cell_size_m, dt_s=dt_s, theta=theta, h_min=h_min_flow_m, froude_max=froude_max,
              implicit_friction=implicit_friction, open_edges=open_edges)
    new_x = _faces_along_rows_numpy(bed_m, depth_m, manning_n, wall, qx_m2_s, **kw)
    new_y = _faces_along_rows_numpy(bed_m.T, depth_m.T, manning_n.T, wall.T, qy_m2_s.T, **kw).T
    qx_m2_s[...] = new_x
    qy_m2_s[...] = new_y


@numba.njit(cache=True, fastmath=False, inline="always")
def _cell_out_in(west, east, north, south):
    """Outgoing and incoming sums [m2 s-1] of a cell with these face discharges, in the
    order west, east, north, south (the order of :func:`_out_sum`: bit-identical sums)."""
    out_sum = max(-west, 0.0) + max(east, 0.0) + max(-north, 0.0) + max(south, 0.0)
    in_sum = max(west, 0.0) + max(-east, 0.0) + max(north, 0.0) + max(-south, 0.0)
    return out_sum, in_sum


@numba.njit(cache=True, fastmath=False, inline="always")
def _moved_depth(h, out_sum, in_sum, c):
    """Continuity of one cell [m]: outflow subtracted first, then inflow added, so that a
    limited outflow can never round the depth below zero (see :func:`update_depth`)."""
    return (h - c * out_sum) + c * in_sum


@numba.njit(cache=True, fastmath=False)
def _out_sum(qx, qy, i, j):
    """Sum of the outgoing unit discharges [m2 s-1] of cell (i, j): west, east,
    north, south, in that order (the order matters for bit-identical sums)."""
    return max(-qx[i, j], 0.0) + max(qx[i, j + 1], 0.0) + max(-qy[i, j], 0.0) + max(qy[i + 1, j], 0.0)


@numba.njit(cache=True, fastmath=False)
def _in_sum(qx, qy, i, j):
    """Sum of the incoming unit discharges [m2 s-1] of cell (i, j)."""
    return max(qx[i, j], 0.0) + max(-qx[i, j + 1], 0.0) + max(qy[i, j], 0.0) + max(-qy[i + 1, j], 0.0)


@numba.njit(parallel=True, fastmath=False, cache=True)
def limit_outflow(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, scale_work):
    """Scale down the outflow of cells that would lose more water than they hold.

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m] at the start of the step, >= 0.
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1] from :func:`face_fluxes`; scaled in place.
    cell_size_m : float
        Grid spacing [m].
    dt_s : float
        Time step [s].
    scale_work : ndarray, float64, (ny, nx)
        Receives each cell's outflow scale factor (1 where nothing was limited).

    Returns
    -------
    n_limited : int
        Number of cells whose outflow was scaled (a diagnostic: at a stable step,
        a few cells on wet/dry fronts).

    Notes
    -----
    Pass 1: each cell's outgoing depth ``D = dt/dx sum_out |q|``; where ``D > h``
    the cell's scale is ``s = h/D (1 - 1e-14)``, else 1. Pass 2: every face
    discharge is multiplied by the scale of its upstream cell (a face is outgoing
    for exactly one of its two cells, so this is unambiguous and independent of
    the order of the faces). Each flux still leaves one cell and enters the other,
    so no water is created or lost; and since a cell's outflow now sums to at most
    its water, :func:`update_depth` cannot produce a negative depth: the factor
    ``1 - 1e-14`` exceeds the rounding error of the scaled sum, and
    ``update_depth`` subtracts the outflow before adding the (non-negative) inflow.
    An inflow scaled down by its own upstream cell only leaves more water behind.
    """
    ny, nx = depth_m.shape
    c = dt_s / cell_size_m
    n_limited = 0
    for i in numba.prange(ny):
        for j in range(nx):
            out_depth = c * _out_sum(qx_m2_s, qy_m2_s, i, j)
            h = depth_m[i, j]
            if out_depth > h:
                scale_work[i, j] = h / out_depth * _POSITIVITY_SAFETY
                n_limited += 1
            else:
                scale_work[i, j] = 1.0
    scale_faces_by_upstream(qx_m2_s, qy_m2_s, scale_work)
    return n_limited


@numba.njit(parallel=True, fastmath=False, cache=True)
def scale_faces_by_upstream(qx_m2_s, qy_m2_s, scale_work):
    """Multiply every face discharge [m2 s-1] by the factor in ``scale_work`` of the cell it
    leaves (pass 2 of :func:`limit_outflow`; a domain-edge face entering the grid keeps its value).
    Rows without a factor below 1 are skipped: a factor of 1 leaves a face as it is, bit for
    bit, and at a stable step few cells are limited (on the 5 m site at most ~1 % of the rows
    in a local time step), so this reads the factors once instead of every face."""
    ny, nx = scale_work.shape
    limited = np.zeros(ny + 2, np.uint8)  # limited[i + 1]: row i has a factor other than 1
    for i in numba.prange(ny):
        for j in range(nx):
            if scale_work[i, j] != 1.0:
                limited[i + 1] = 1
                break
    for i in numba.prange(ny):
        if not limited[i + 1]:
            continue
        for j in range(nx + 1):
            q = qx_m2_s[i, j]
            if q > 0.0 and j > 0:
                qx_m2_s[i, j] = q * scale_work[i, j - 1]
            elif q < 0.0 and j < nx:
                qx_m2_s[i, j] = q * scale_work[i, j]
    for i in numba.prange(ny + 1):
        if not (limited[i] or limited[i + 1]):  # y-face row i lies between rows i - 1 and i
            continue
        for j in range(nx):
            q = qy_m2_s[i, j]
            if q > 0.0 and i > 0:
                qy_m2_s[i, j] = q * scale_work[i - 1, j]
            elif q < 0.0 and i < ny:
                qy_m2_s[i, j] = q * scale_work[i, j]


def scale_faces_by_upstream_numpy(qx_m2_s, qy_m2_s, scale_work):
    """Plain-NumPy twin of :func:`scale_faces_by_upstream`."""
    sx = np.pad(scale_work, ((0, 0), (1, 1)), constant_values=1.0)  # sx[:, j] belongs to cell j - 1
    qx_m2_s *= np.where(qx_m2_s > 0.0, sx[:, :-1], sx[:, 1:])
    sy = np.pad(scale_work, ((1, 1), (0, 0)), constant_values=1.0)
    qy_m2_s *= np.where(qy_m2_s > 0.0, sy[:-1, :], sy[1:, :])


def limit_outflow_numpy(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, scale_work):
    """Plain-NumPy twin of :func:`limit_outflow`: outgoing sums from shifted views,
    each face scaled by its upstream cell's factor (1 outside the grid)."""
    c = dt_s / cell_size_m
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out_depth = c * (np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0))
    limited = out_depth > depth_m
    scale = np.ones_like(depth_m)
    scale[limited] = depth_m[limited] / out_depth[limited] * _POSITIVITY_SAFETY
    scale_faces_by_upstream_numpy(qx_m2_s, qy_m2_s, scale)
    scale_work[...] = scale
    return int(limited.sum())


@numba.njit(parallel=True, fastmath=False, cache=True)
def update_depth(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, row_outflow_m3):
    """Continuity: move the water along the face discharges, in place.

    ``h' = (h - dt/dx sum_out |q|) + dt/dx sum_in |q|``

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m]; old on entry, new on return.
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1] after :func:`limit_outflow`.
    cell_size_m : float
        Grid spacing [m].
    dt_s : float
        Time step [s].
    row_outflow_m3 : ndarray, float64, (ny,)
        Receives the volume [m3] that left through the domain edges this step per
        row (the western and eastern edge faces of row ``i``, plus the whole
        northern edge in row 0 and the southern edge in row ``ny - 1``).

    Returns
    -------
    outflow_m3 : float
        Volume [m3] that left through the domain edges this step (net, outward
        positive; the edges never let water in), summed row by row in a fixed
        order so that the result does not depend on the number of threads. The
        mass ledger of a step is
        ``sum(h') dx**2 = sum(h) dx**2 - outflow_m3`` to round-off.

    Notes
    -----
    Subtracting the outflow before adding the inflow makes the new depth >= 0
    exactly (not just to round-off) after :func:`limit_outflow`: the first bracket
    is the difference of two non-negative numbers of which the first is the larger,
    and the sum of non-negative numbers rounds to a non-negative number.
    """
    ny, nx = depth_m.shape
    c = dt_s / cell_size_m
    to_m3 = dt_s * cell_size_m
    for i in numba.prange(ny):
        for j in range(nx):
            depth_m[i, j] = (depth_m[i, j] - c * _out_sum(qx_m2_s, qy_m2_s, i, j)) + c * _in_sum(qx_m2_s, qy_m2_s, i, j)
        edge = qx_m2_s[i, nx] - qx_m2_s[i, 0]
        if i == 0:
            for j in range(nx):
                edge -= qy_m2_s[0, j]
        if i == ny - 1:
            for j in range(nx):
                edge += qy_m2_s[ny, j]
        row_outflow_m3[i] = edge * to_m3
    total = 0.0
    for i in range(ny):
        total += row_outflow_m3[i]
    return total


def update_depth_numpy(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, row_outflow_m3):
    """Plain-NumPy twin of :func:`update_depth`."""
    c = dt_s / cell_size_m
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out = np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0)
    inflow = np.maximum(west, 0.0) + np.maximum(-east, 0.0) + np.maximum(north, 0.0) + np.maximum(-south, 0.0)
    depth_m[...] = (depth_m - c * out) + c * inflow
    edge = qx_m2_s[:, -1] - qx_m2_s[:, 0]
    edge[0] -= qy_m2_s[0, :].sum()
    edge[-1] += qy_m2_s[-1, :].sum()
    row_outflow_m3[...] = edge * (dt_s * cell_size_m)
    return float(row_outflow_m3.sum())


def flow_step(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    open_edges,
    qy_work,
    scale_work,
    row_outflow_m3,
    theta=DEFAULT_THETA,
    h_min_flow_m=DEFAULT_H_MIN_FLOW_M,
    froude_max=DEFAULT_FROUDE_MAX,
    implicit_friction=DEFAULT_IMPLICIT_FRICTION,
):
    """One overland-flow step: :func:`face_fluxes`, :func:`limit_outflow`,
    :func:`update_depth`, updating ``qx_m2_s``, ``qy_m2_s`` and ``depth_m`` in place.

    Arguments as in those functions (``qy_work`` (ny + 1, nx), ``scale_work``
    (ny, nx) and ``row_outflow_m3`` (ny,) are preallocated float64 work arrays);
    ``theta``, ``h_min_flow_m``, ``froude_max`` and ``implicit_friction`` default
    to the module's ``DEFAULT_*`` values.
    Sources and sinks (rain, infiltration, sewer inlets) are the caller's, between
    steps. Returns the volume [m3] that left through the domain edges.

    The results equal those of the three kernels called in turn, bit for bit, but the
    step takes two sweeps over the grid instead of seven passes: the first computes the
    face discharges of a row and, as soon as a row's four faces are known, its cells'
    outflow scales (pass 1 of :func:`limit_outflow`); the second limits the faces and
    moves the water (pass 2 of :func:`limit_outflow` and :func:`update_depth`).
    """
    return flow_step_tracked(
        bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
        open_edges=open_edges, qy_work=qy_work, scale_work=scale_work, row_outflow_m3=row_outflow_m3, theta=theta,
        h_min_flow_m=h_min_flow_m, froude_max=froude_max, implicit_friction=implicit_friction)[0]


def flow_step_tracked(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    open_edges,
    qy_work,
    scale_work,
    row_outflow_m3,
    theta=DEFAULT_THETA,
    h_min_flow_m=DEFAULT_H_MIN_FLOW_M,
    froude_max=DEFAULT_FROUDE_MAX,
    implicit_friction=DEFAULT_IMPLICIT_FRICTION,
    time_s=0.0,
    speed_min_depth_m=0.0,
    max_depth_m=None,
    time_of_max_s=None,
    max_speed_m_s=None,
    skip_maxima=None,
    tiles=None,
):
    """:func:`flow_step`, and (when ``max_depth_m`` is given) the running flood maxima of
    :func:`heatsim.kernels.flood_maxima.track_flood_maxima` of the new state in the same
    sweep over the grid, instead of another pass.

    Arguments as :func:`flow_step`, plus: ``time_s`` the time of the new state [s];
    ``speed_min_depth_m`` [m], ``max_depth_m`` [m], ``time_of_max_s`` [s] and
    ``max_speed_m_s`` [m s-1] as ``min_depth_m`` and the arrays of
    ``track_flood_maxima`` ((ny, nx) float64, updated in place); ``skip_maxima``
    ((ny, nx) uint8 or None) 1 for cells whose maxima the caller tracks itself, after it
    changes their depth again in the same step (culverts, held levels; see
    :func:`heatsim.kernels.flood_maxima.track_flood_maxima_cells`); ``tiles`` a
    :class:`FlowTiles` of the grid, kept from step to step, to skip the dry tiles (the
    same results, bit for bit; with tiles, the largest depth returned covers the tiles
    skipped too, from their last computed step).

    Returns
    -------
    (outflow_m3, h_max_m) : (float, float)
        The volume [m3] that left through the domain edges, and the largest new depth of
        the tracked cells [m] (0 without maxima).
    """
    ny = depth_m.shape[0]
    n_chunks = _n_chunks(ny)
    track = max_depth_m is not None
    if not track:
        max_depth_m = time_of_max_s = max_speed_m_s = _NO_FLOATS
    if skip_maxima is None or not track:
        skip_maxima = _NO_BYTES if not track else np.zeros(depth_m.shape, np.uint8)
    use_tiles = tiles is not None
    if use_tiles:
        h_dry = h_min_flow_m - tiles.h_dry_margin_m
        if not 0.0 < h_dry < h_min_flow_m or h_min_flow_m > 1.0:
            raise ValueError(f"h_min_flow_m = {h_min_flow_m} m does not suit tiles on this bed (rounding margin "
                             f"{tiles.h_dry_margin_m:.1e} m)")
        wet, active, keep_wet, tile_h_max = tiles.wet, tiles.active, tiles.keep_wet, tiles.tile_h_max
    else:
        wet = active = keep_wet = _NO_BYTES
        tile_h_max = _NO_FLOATS
        h_dry = 0.0
    _prepare_sweep(qy_m2_s, qy_work, n_chunks, use_tiles, wet, active)
    _sweep_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, qy_work, scale_work, n_chunks, True,
                  use_tiles, active, cell_size_m, dt_s, theta, h_min_flow_m, froude_max, implicit_friction,
                  open_edges)
    return _sweep_continuity(depth_m, qx_m2_s, qy_m2_s, scale_work, qy_work, row_outflow_m3, n_chunks, cell_size_m,
                             dt_s, use_tiles, active, wet, keep_wet, tile_h_max, h_dry, track, time_s,
                             speed_min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima,
                             tiles.row_h_max if use_tiles else np.empty(ny))


def flow_step_numpy(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    open_edges,
    qy_work,
    scale_work,
    row_outflow_m3,
    theta=DEFAULT_THETA,
    h_min_flow_m=DEFAULT_H_MIN_FLOW_M,
    froude_max=DEFAULT_FROUDE_MAX,
    implicit_friction=DEFAULT_IMPLICIT_FRICTION,
):
    """Plain-NumPy twin of :func:`flow_step` (calls the ``*_numpy`` twins)."""
    face_fluxes_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                      theta=theta, h_min_flow_m=h_min_flow_m, froude_max=froude_max,
                      implicit_friction=implicit_friction, open_edges=open_edges, qy_work=qy_work)
    limit_outflow_numpy(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s, scale_work=scale_work)
    return update_depth_numpy(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                              row_outflow_m3=row_outflow_m3)


def flow_step_tracked_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, *, time_s=0.0,
                            speed_min_depth_m=0.0, max_depth_m=None, time_of_max_s=None, max_speed_m_s=None,
                            skip_maxima=None, tiles=None, **step):
    """Plain-NumPy twin of :func:`flow_step_tracked`: :func:`flow_step_numpy`, then
    :func:`heatsim.kernels.flood_maxima.track_flood_maxima_numpy` on the tracked cells
    (``tiles`` is accepted and ignored: it only saves work)."""
    from heatsim.kernels.flood_maxima import track_flood_maxima_numpy

    outflow = flow_step_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, **step)
    if max_depth_m is None:
        return outflow, 0.0
    keep = np.zeros(depth_m.shape, bool) if skip_maxima is None else np.asarray(skip_maxima).astype(bool)
    before = [a[keep].copy() for a in (max_depth_m, time_of_max_s, max_speed_m_s)]
    track_flood_maxima_numpy(depth_m, qx_m2_s, qy_m2_s, time_s, min_depth_m=speed_min_depth_m,
                             max_depth_m=max_depth_m, time_of_max_s=time_of_max_s, max_speed_m_s=max_speed_m_s)
    for a, b in zip((max_depth_m, time_of_max_s, max_speed_m_s), before):
        a[keep] = b
    tracked = depth_m[~keep]
    return outflow, float(tracked.max()) if tracked.size else 0.0


@numba.njit(parallel=True, fastmath=False, cache=True)
def stable_time_step_s(depth_m, *, cell_size_m, alpha, dt_max_s):
    """Adaptive time step [s]: ``min(alpha dx / sqrt(g h_max), dt_max_s)``.

    The CFL condition of the local-inertial scheme (Bates et al. 2010, eq. 12):
    gravity waves, the fastest signal the scheme carries without advection, cross
    at most ``alpha`` of a cell per step. ``dt_max_s`` where the grid is dry.

    Choosing ``alpha``: for the frictionless linearised scheme of
    :func:`face_fluxes` on a flat bed, the 2-D checkerboard mode
    ``eta ~ (-1)**(i + j)`` (the least stable) has the amplification matrix
    ``[[2 theta - 1, -2 mu], [4 mu (2 theta - 1), 1 - 8 mu**2]]`` acting on
    ``(q / c, eta)``, with ``mu = c dt / dx`` and ``c = sqrt(g h)``. Its determinant
    is ``2 theta - 1`` and its trace ``2 theta - 8 mu**2``, so it is stable for
    ``mu <= sqrt(theta / 2)``: 0.59 for ``theta = 0.7``, 0.71 for ``theta = 1``
    (``sqrt(theta)`` in 1-D). With ``theta = 1`` the mode is undamped at any
    ``mu`` (determinant 1), the low-friction checkerboard that de Almeida et al.
    (2012) introduced ``theta`` against. A water ball dropped into a 2-D bowl
    came to rest with ``theta = 0.7, alpha <= 0.6`` and rang indefinitely with
    ``alpha = 0.65`` or ``theta = 1`` (any alpha tried, 0.5-0.65). ``h_max`` is
    taken before the step, so keep a margin: :data:`DEFAULT_ALPHA` = 0.5.

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m].
    cell_size_m : float
        Grid spacing [m].
    alpha : float
        CFL coefficient [-], ``0 < alpha < sqrt(theta / 2)`` (:data:`DEFAULT_ALPHA`).
    dt_max_s : float
        Upper bound of the step [s].
    """
    ny, nx = depth_m.shape
    h_max = 0.0
    for i in numba.prange(ny):
        for j in range(nx):
            h_max = max(h_max, depth_m[i, j])
    if h_max <= 0.0:
        return dt_max_s
    return min(alpha * cell_size_m / math.sqrt(GRAVITY_M_S2 * h_max), dt_max_s)


def stable_time_step_s_numpy(depth_m, *, cell_size_m, alpha, dt_max_s):
    """Plain-NumPy twin of :func:`stable_time_step_s`."""
    h_max = float(np.max(depth_m))
    if h_max <= 0.0:
        return dt_max_s
    return min(alpha * cell_size_m / math.sqrt(GRAVITY_M_S2 * h_max), dt_max_s)


@numba.njit(parallel=True, fastmath=False, cache=True)
def cell_speed_m_s(depth_m, qx_m2_s, qy_m2_s, *, min_depth_m, out):
    """Flow speed at the cell centres [m s-1], for a maximum-velocity map.

    ``|v| = sqrt(qx_c**2 + qy_c**2) / h`` with ``qx_c`` the mean of the cell's west
    and east face discharges and ``qy_c`` of its north and south ones; 0 where
    ``h <= min_depth_m`` (a speed from a film is meaningless and divides by ~0;
    use the flow-depth threshold of the run).

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m].
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1].
    min_depth_m : float
        Depth [m] at or below which the speed is reported as 0.
    out : ndarray, float64, (ny, nx)
        Receives the speeds [m s-1]; returned.
    """
    ny, nx = depth_m.shape
    for i in numba.prange(ny):
        for j in range(nx):
            h = depth_m[i, j]
            if h > min_depth_m:
                qx_c = 0.5 * (qx_m2_s[i, j] + qx_m2_s[i, j + 1])
                qy_c = 0.5 * (qy_m2_s[i, j] + qy_m2_s[i + 1, j])
                out[i, j] = math.sqrt(qx_c * qx_c + qy_c * qy_c) / h
            else:
                out[i, j] = 0.0
    return out


def cell_speed_m_s_numpy(depth_m, qx_m2_s, qy_m2_s, *, min_depth_m, out):
    """Plain-NumPy twin of :func:`cell_speed_m_s`."""
    qx_c = 0.5 * (qx_m2_s[:, :-1] + qx_m2_s[:, 1:])
    qy_c = 0.5 * (qy_m2_s[:-1, :] + qy_m2_s[1:, :])
    wet = depth_m > min_depth_m
    with np.errstate(divide="ignore", invalid="ignore"):
        out[...] = np.where(wet, np.sqrt(qx_c * qx_c + qy_c * qy_c) / depth_m, 0.0)
    return out

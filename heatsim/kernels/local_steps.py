"""Two-level local time stepping (LTS) for the local-inertial overland flow of
:mod:`heatsim.kernels.overland_flow`.

One deep cell (a river channel) sets the global CFL step ``alpha dx / sqrt(g h_max)`` for
the whole grid. With LTS a *fast region* ``F`` (the deep cells, dilated by two cells) takes
``n <= m`` sub-steps ``dt_f`` per *slow* step ``dt_s = n dt_f`` of the rest of the grid.

Regions and faces (``region`` codes, uint8 (ny, nx)):

* ``SLOW`` (0): cells outside ``F``; ``FAST`` (1): cells of ``F``; ``RIM`` (2): cells of ``F``
  with a non-blocked 4-neighbour outside ``F`` (they touch an interface face). ``F`` never
  holds a blocked cell.
* a face is *fast* when both its cells are in ``F`` (a domain-edge face when its one cell
  is); an *interface* face joins an ``F`` cell and a non-blocked cell outside ``F``; every
  other face is *slow*. (Faces next to a blocked cell always carry 0.)

One slow step (:func:`local_step`, the order of the water model):

1. slow momentum: new discharges on every face with ``dt_s`` (the full-grid sweep of
   ``overland_flow``), then the old discharges of the fast faces are put back; the outflow
   scales of the SLOW cells with ``dt_s`` (their faces are all slow or interface); every
   face whose upstream cell is SLOW is scaled (:func:`limit_slow_faces`; an ``F`` cell's
   scale is 1 here). The interface discharges are then frozen (``q_I``).
2. fast phase, ``n`` sub-steps of ``dt_f`` (:func:`fast_substeps`): momentum on the fast
   faces from the old values; outflow scales of the ``F`` cells over ``dt_f`` counting
   their fast faces and their outgoing interface faces (``q_I``); the outgoing fast faces
   and interface faces scaled; the ``F`` depths updated (outflow first, then inflow), the
   inflow through an interface face being the frozen, slow-limited ``q_I``. The volume
   each interface face with its ``F`` cell upstream actually moved is summed.
3. slow continuity (:func:`slow_continuity`): the SLOW cells over ``dt_s``, where an
   interface face with ``F`` upstream carries its summed volume / ``(dt_s dx)`` (its mean
   discharge, stored on it as the old value of the next momentum step); ``F`` cells keep
   the depths of their sub-steps.

Every moved volume leaves one cell and enters another (to round-off); depths stay >= 0
exactly, as in the global scheme: a SLOW cell's outflow is limited over ``dt_s`` (its
interface inflow from ``F`` only adds), an ``F`` cell's over each ``dt_f`` (its interface
inflow ``q_I`` was limited by its SLOW upstream cell over the whole ``dt_s``).

Stability: ``dt_f`` obeys the CFL step of the deepest ``F`` cell, ``dt_s`` that of the
deepest SLOW or RIM cell (the interface faces, computed with ``dt_s``, see only those), so
every face is updated within its own CFL limit (:func:`step_sizes`).

Kernels (numba) each with a plain-NumPy twin ``*_numpy``: :func:`slow_fluxes`,
:func:`limit_slow_faces`, :func:`fast_substeps`, :func:`slow_continuity`; :func:`local_step`
chains them (``numpy=True``: the twins). :func:`build_region` (numba, every losses
interval) chooses ``F`` and lists its faces; the water model takes its ratio from
:func:`choose_ratio` (the least work per simulated second) and builds the region with
:func:`nearby_depth` and :func:`region_above`.

Sources (inflow hydrographs) enter the fast phase a share per sub-step
(``source_cells``/``source_depth_m`` of :func:`local_step`): poured in once per slow step, a
stream's inflow stood as one lump in its cell (9 cm too deep over 75 min of the 5 m T=20
storm with m = 8, against 0.6 cm when spread). Likewise the culverts whose inlet is fast and
the held-level cells that are fast act after every sub-step (``late`` of :func:`local_step`),
so that a pipe's outflow does not arrive as one lump either; the others act once per slow
step, after it, as in the global scheme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy import ndimage

from heatsim.kernels.flood_maxima import track_flood_maxima_cells_numpy, update_cell_maxima
from heatsim.kernels.hydrology import culvert_transfer, culvert_transfer_numpy, hold_levels, hold_levels_numpy
from heatsim.kernels.overland_flow import (_ALL_FLAGS, _NO_BYTES, _NO_FLOATS, GRAVITY_M_S2, TILE_COLS, _cell_out_in,
                                           _cell_tile_flags, _edge_outflow, _momentum, _momentum_numpy, _moved_depth,
                                           _n_chunks, _prepare_sweep, _sweep_fluxes, face_fluxes_numpy,
                                           scale_faces_by_upstream, scale_faces_by_upstream_numpy)

__all__ = ["SLOW", "FAST", "RIM", "Region", "build_region", "build_region_numpy", "choose_ratio", "nearby_depth",
           "region_above", "region_from_mask", "region_work", "step_sizes", "slow_fluxes", "slow_fluxes_numpy",
           "limit_slow_faces", "limit_slow_faces_numpy", "fast_substeps", "fast_substeps_numpy",
           "slow_continuity", "slow_continuity_numpy", "local_step"]

SLOW, FAST, RIM = 0, 1, 2
_POSITIVITY_SAFETY = 1.0 - 1e-14  # as overland_flow.limit_outflow


@dataclass
class Region:
    """The fast region of a grid and its faces (index arrays, int64).

    ``region`` (ny, nx) uint8 codes; ``cells`` (k, 2) rows/cols of the ``F`` cells;
    ``fast_x`` (a, 2) the fast x-faces ``(i, j)`` of ``qx`` (``j`` in 0..nx), ``fast_y``
    (b, 2) the fast y-faces ``(k, j)`` of ``qy``; ``edge_x``, ``edge_y`` the positions in
    ``fast_x``/``fast_y`` of the domain-edge faces; ``iface_x`` (c, 3), ``iface_y`` (d, 3)
    the interface faces ``(i, j, low)`` with ``low`` 1 when the ``F`` cell is the lower-index
    one (west / north; then ``q > 0`` leaves ``F``), else 0. ``late`` (ny, nx) uint8 of the
    water model's late cells is not kept here."""

    region: np.ndarray
    cells: np.ndarray
    fast_x: np.ndarray
    fast_y: np.ndarray
    edge_x: np.ndarray
    edge_y: np.ndarray
    iface_x: np.ndarray
    iface_y: np.ndarray

    @property
    def size(self) -> int:
        return int(self.cells.shape[0])

    def work(self) -> dict:
        """Work arrays of :func:`fast_substeps` for this region."""
        return dict(q_ix=np.zeros(self.iface_x.shape[0]), q_iy=np.zeros(self.iface_y.shape[0]),
                    acc_x=np.zeros(self.iface_x.shape[0]), acc_y=np.zeros(self.iface_y.shape[0]),
                    new_x=np.zeros(self.fast_x.shape[0]), new_y=np.zeros(self.fast_y.shape[0]))


#: Cost of one sub-step of one fast-region cell over that of one slow step of one cell of the
#: grid, for :func:`choose_ratio`. Measured on the 5 m Harelbeke site at the T=20 peak (80 min;
#: 96,000 fast cells, 8 sub-steps), 2 threads of the 2-core EPYC machine this was written on:
#: 49 ns per fast cell-sub-step (fast_substeps) against 21 ns per grid cell for the slow step's
#: three passes (slow_fluxes, limit_slow_faces, slow_continuity): 2.3; rounded up to 3 because
#: early in a storm the slow passes meet mostly dry cells and cost less per cell. Measured
#: before the slow passes skipped dry tiles; with them, 2, 3 and 4.5 gave the 5 m T=20 storm
#: in 60-69 s, within the run-to-run noise of the machine. Only the speed depends on it:
#: every ratio gives a stable, mass-conserving step.
FAST_CELL_COST = 3.0


def nearby_depth(depth_m, blocked, *, out=None, work=None) -> np.ndarray:
    """The largest depth [m] within 2 rows and 2 columns of each cell (a 5 x 5 square, two
    8-neighbour dilations), 0 on blocked cells: the fast region for a threshold ``h`` is
    ``nearby_depth > h`` (:func:`region_above`). ``out`` and ``work``: float64 arrays of the
    grid's shape to reuse (a run calls this every losses interval)."""
    depth = np.ascontiguousarray(depth_m, dtype=np.float64)
    wall = np.ascontiguousarray(np.asarray(blocked).astype(np.uint8, copy=False))
    near = np.empty(depth.shape) if out is None else out
    _nearby_max(depth, wall, np.empty(depth.shape) if work is None else work, near)
    return near


def region_above(near_m, blocked, threshold_m: float) -> Region:
    """The fast region of the cells whose :func:`nearby_depth` exceeds ``threshold_m``, and its faces."""
    wall = np.ascontiguousarray(np.asarray(blocked).astype(np.uint8, copy=False))
    return _region_of((near_m > threshold_m).view(np.uint8), wall)


def build_region(depth_m, blocked, ratio: int, *, h_max_m: float | None = None) -> Region:
    """The fast region for ``ratio`` (m) sub-steps: the cells deeper than ``h_max / m**2``
    (their CFL step is below ``m`` global steps), dilated by 2 cells (8-neighbour), without
    blocked cells; and its faces (:class:`Region`). ``h_max_m`` defaults to the largest
    depth of the grid. No cell is fast when the grid is dry or ``ratio`` is 1. Numba (one
    max filter, two passes for the lists); :func:`build_region_numpy` is its twin."""
    h_max = float(np.max(depth_m)) if h_max_m is None else float(h_max_m)
    if ratio > 1 and h_max > 0.0:
        return region_above(nearby_depth(depth_m, blocked), blocked, h_max / (ratio * ratio))
    return region_above(np.zeros(np.shape(depth_m)), blocked, 0.0)


def build_region_numpy(depth_m, blocked, ratio: int, *, h_max_m: float | None = None) -> Region:
    """Plain-NumPy (scipy.ndimage) twin of :func:`build_region`."""
    ny, nx = depth_m.shape
    wall = np.asarray(blocked).astype(bool)
    h_max = float(depth_m.max()) if h_max_m is None else float(h_max_m)
    if ratio > 1 and h_max > 0.0:
        deep = depth_m > h_max / (ratio * ratio)
        f = ndimage.binary_dilation(deep, structure=np.ones((3, 3), bool), iterations=2) & ~wall
    else:
        f = np.zeros((ny, nx), bool)
    return region_from_mask(f, wall)


def choose_ratio(near_m, h_max_m: float, max_ratio: int, *, cell_size_m: float, alpha: float,
                 dt_limit_s: float, fast_cell_cost: float = FAST_CELL_COST) -> int:
    """The ratio ``m`` in ``1..max_ratio`` whose two-level step costs the least compute per
    simulated second: ``(N + c |F_m| n_m) / dt_m`` with ``N`` the grid's cells, ``|F_m|`` the
    fast region for ``m`` (from ``near_m``, :func:`nearby_depth`), ``dt_m`` its slow step
    ``min(m dt_F, dt_limit_s)``, ``n_m`` its sub-steps and ``c`` = ``fast_cell_cost``
    (:data:`FAST_CELL_COST`). A small ratio leaves many slow steps; a large one pulls more
    and more cells into the fast region, all of them taking the finest step. The best ratio
    moves with the storm (on the 5 m site 12-16 while only the streams are deep, 6 at the
    peak), so it is chosen again with the region."""
    if max_ratio <= 1 or h_max_m <= 0.0:
        return 1
    dt_fast = _cfl(h_max_m, cell_size_m, alpha)
    ratios = np.arange(2, max_ratio + 1)
    counts = _count_above(near_m, h_max_m / ratios.astype(np.float64) ** 2)
    best, best_cost = 1, near_m.size / min(dt_fast, dt_limit_s)
    for m, fast_cells in zip(ratios.tolist(), counts.tolist()):
        dt_s = min(m * dt_fast, dt_limit_s)
        n = min(m, max(1, math.ceil(dt_s / dt_fast * (1.0 - 1e-12))))
        cost = (near_m.size + fast_cell_cost * fast_cells * n) / dt_s
        if cost < best_cost:
            best, best_cost = m, cost
    return best


@numba.njit(parallel=True, cache=True)
def _count_above(values, thresholds_desc):
    """How many ``values`` exceed each of the decreasing ``thresholds_desc``."""
    k = thresholds_desc.shape[0]
    flat = values.ravel()
    n = flat.shape[0]
    chunks = 64
    partial = np.zeros((chunks, k), np.int64)
    for c in numba.prange(chunks):
        for idx in range(c * n // chunks, (c + 1) * n // chunks):
            v = flat[idx]
            if v <= thresholds_desc[k - 1]:
                continue
            # the first threshold v exceeds (v > all after it: they are smaller)
            lo, hi = 0, k - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if v > thresholds_desc[mid]:
                    hi = mid
                else:
                    lo = mid + 1
            partial[c, lo] += 1
    return np.cumsum(partial.sum(axis=0))


@numba.njit(parallel=True, cache=True)
def _nearby_max(depth_m, blocked, row_max, near):
    """``near`` = the largest depth of the 5 x 5 square around each cell, 0 on blocked cells
    (``row_max``: work, the largest depth within 2 columns in the same row)."""
    ny, nx = depth_m.shape
    for i in numba.prange(ny):
        for j in range(nx):
            m = 0.0
            for c in range(max(j - 2, 0), min(j + 3, nx)):
                m = max(m, depth_m[i, c])
            row_max[i, j] = m
    for i in numba.prange(ny):
        for j in range(nx):
            if blocked[i, j]:
                near[i, j] = 0.0
                continue
            m = 0.0
            for k in range(max(i - 2, 0), min(i + 3, ny)):
                m = max(m, row_max[k, j])
            near[i, j] = m


@numba.njit(cache=True, inline="always")
def _fx(f, i, j, nx):
    """The x-face (i, j) is fast: both its cells in F, or its one cell at a domain edge."""
    if j == 0:
        return f[i, 0] != 0
    if j == nx:
        return f[i, nx - 1] != 0
    return f[i, j - 1] != 0 and f[i, j] != 0


@numba.njit(cache=True, inline="always")
def _fy(f, k, j, ny):
    if k == 0:
        return f[0, j] != 0
    if k == ny:
        return f[ny - 1, j] != 0
    return f[k - 1, j] != 0 and f[k, j] != 0


@numba.njit(cache=True, inline="always")
def _ix(f, wall, i, j, nx):
    """The x-face (i, j) joins an F cell and an open cell outside F."""
    if j == 0 or j == nx:
        return False
    a, b = f[i, j - 1] != 0, f[i, j] != 0
    return (a and not b and wall[i, j] == 0) or (b and not a and wall[i, j - 1] == 0)


@numba.njit(cache=True, inline="always")
def _iy(f, wall, k, j, ny):
    if k == 0 or k == ny:
        return False
    a, b = f[k - 1, j] != 0, f[k, j] != 0
    return (a and not b and wall[k, j] == 0) or (b and not a and wall[k - 1, j] == 0)


@numba.njit(parallel=True, cache=True)
def _region_counts(f, wall):
    """Per row: F cells, fast x-faces, interface x-faces; per y-face row (ny + 1): fast and
    interface y-faces."""
    ny, nx = f.shape
    counts = np.zeros((5, ny + 1), np.int64)
    for i in numba.prange(ny + 1):
        cells = fx = ix = fy = iy = 0
        for j in range(nx + 1):
            if i < ny:
                if j < nx and f[i, j]:
                    cells += 1
                if _fx(f, i, j, nx):
                    fx += 1
                if _ix(f, wall, i, j, nx):
                    ix += 1
            if j < nx:
                if _fy(f, i, j, ny):
                    fy += 1
                if _iy(f, wall, i, j, ny):
                    iy += 1
        counts[0, i], counts[1, i], counts[2, i], counts[3, i], counts[4, i] = cells, fx, ix, fy, iy
    return counts


@numba.njit(parallel=True, cache=True)
def _region_fill(f, wall, starts, region, cells, fast_x, iface_x, fast_y, iface_y):
    """Write the region codes and the lists, row by row at ``starts`` (exclusive prefix sums
    of :func:`_region_counts`): the order of ``np.argwhere``."""
    ny, nx = f.shape
    for i in numba.prange(ny + 1):
        c, a, b, d, e = starts[0, i], starts[1, i], starts[2, i], starts[3, i], starts[4, i]
        for j in range(nx + 1):
            if i < ny:
                if j < nx:
                    code = 0
                    if f[i, j]:
                        cells[c, 0], cells[c, 1] = i, j
                        c += 1
                        rim = (_ix(f, wall, i, j, nx) or _ix(f, wall, i, j + 1, nx) or _iy(f, wall, i, j, ny)
                               or _iy(f, wall, i + 1, j, ny))
                        code = 2 if rim else 1
                    region[i, j] = code
                if _fx(f, i, j, nx):
                    fast_x[a, 0], fast_x[a, 1] = i, j
                    a += 1
                if _ix(f, wall, i, j, nx):
                    iface_x[b, 0], iface_x[b, 1], iface_x[b, 2] = i, j, 1 if f[i, j - 1] else 0
                    b += 1
            if j < nx:
                if _fy(f, i, j, ny):
                    fast_y[d, 0], fast_y[d, 1] = i, j
                    d += 1
                if _iy(f, wall, i, j, ny):
                    iface_y[e, 0], iface_y[e, 1], iface_y[e, 2] = i, j, 1 if f[i - 1, j] else 0
                    e += 1


def _region_of(fast, wall) -> Region:
    """:class:`Region` of the uint8 mask ``fast`` (0 on blocked cells) by the numba passes."""
    ny, nx = fast.shape
    counts = _region_counts(fast, wall)
    starts = np.zeros_like(counts)
    np.cumsum(counts[:, :-1], axis=1, out=starts[:, 1:])
    total = counts.sum(axis=1)
    region = np.empty((ny, nx), np.uint8)
    cells, fast_x, iface_x = np.empty((total[0], 2), np.int64), np.empty((total[1], 2), np.int64), \
        np.empty((total[2], 3), np.int64)
    fast_y, iface_y = np.empty((total[3], 2), np.int64), np.empty((total[4], 3), np.int64)
    _region_fill(fast, wall, starts, region, cells, fast_x, iface_x, fast_y, iface_y)
    edge_x = np.flatnonzero((fast_x[:, 1] == 0) | (fast_x[:, 1] == nx)).astype(np.int64)
    edge_y = np.flatnonzero((fast_y[:, 0] == 0) | (fast_y[:, 0] == ny)).astype(np.int64)
    return Region(region=region, cells=cells, fast_x=fast_x, fast_y=fast_y, edge_x=edge_x, edge_y=edge_y,
                  iface_x=iface_x, iface_y=iface_y)


def region_from_mask(fast, blocked) -> Region:
    """:class:`Region` of the fast cells ``fast`` (bool (ny, nx); blocked cells are dropped).
    Plain NumPy: the twin of the numba passes of :func:`build_region`."""
    wall = np.asarray(blocked).astype(bool)
    f = np.asarray(fast, bool) & ~wall
    ny, nx = f.shape
    open_ = ~wall
    # interface faces: F on one side, an open cell outside F on the other
    ix = np.zeros((ny, nx + 1), bool)
    ix[:, 1:-1] = (f[:, :-1] & ~f[:, 1:] & open_[:, 1:]) | (f[:, 1:] & ~f[:, :-1] & open_[:, :-1])
    iy = np.zeros((ny + 1, nx), bool)
    iy[1:-1, :] = (f[:-1, :] & ~f[1:, :] & open_[1:, :]) | (f[1:, :] & ~f[:-1, :] & open_[:-1, :])
    rim = f & (ix[:, :-1] | ix[:, 1:] | iy[:-1, :] | iy[1:, :])
    region = np.where(rim, RIM, np.where(f, FAST, SLOW)).astype(np.uint8)
    fx = np.zeros((ny, nx + 1), bool)
    fx[:, 1:-1] = f[:, :-1] & f[:, 1:]
    fx[:, 0], fx[:, -1] = f[:, 0], f[:, -1]
    fy = np.zeros((ny + 1, nx), bool)
    fy[1:-1, :] = f[:-1, :] & f[1:, :]
    fy[0, :], fy[-1, :] = f[0, :], f[-1, :]
    fast_x = np.argwhere(fx).astype(np.int64)
    fast_y = np.argwhere(fy).astype(np.int64)
    edge_x = np.flatnonzero((fast_x[:, 1] == 0) | (fast_x[:, 1] == nx)).astype(np.int64)
    edge_y = np.flatnonzero((fast_y[:, 0] == 0) | (fast_y[:, 0] == ny)).astype(np.int64)
    ixa = np.argwhere(ix).astype(np.int64)
    iya = np.argwhere(iy).astype(np.int64)
    low_x = f[ixa[:, 0], ixa[:, 1] - 1].astype(np.int64) if ixa.size else np.zeros(0, np.int64)
    low_y = f[iya[:, 0] - 1, iya[:, 1]].astype(np.int64) if iya.size else np.zeros(0, np.int64)
    return Region(region=region, cells=np.argwhere(f).astype(np.int64), fast_x=fast_x, fast_y=fast_y,
                  edge_x=edge_x, edge_y=edge_y, iface_x=np.column_stack([ixa, low_x]).reshape(-1, 3),
                  iface_y=np.column_stack([iya, low_y]).reshape(-1, 3))


def _cfl(h_m: float, dx: float, alpha: float) -> float:
    return math.inf if h_m <= 0.0 else alpha * dx / math.sqrt(GRAVITY_M_S2 * h_m)


def step_sizes(h_fast_m: float, h_slow_m: float, *, cell_size_m: float, alpha: float, ratio: int,
               dt_limit_s: float) -> tuple[float, int, float]:
    """(dt_s, n, dt_f): the slow step ``min(m dt_F, CFL(h_slow), dt_limit_s)`` with
    ``dt_F = CFL(h_fast)`` (``h_fast`` the deepest ``F`` cell, ``h_slow`` the deepest SLOW
    or RIM cell), the number of sub-steps ``n = ceil(dt_s / dt_F) <= m`` and ``dt_f = dt_s / n``.
    ``dt_limit_s`` is the least of ``dt_max_s`` and the time to the next output."""
    dt_fast = _cfl(h_fast_m, cell_size_m, alpha)
    dt_s = min(ratio * dt_fast, _cfl(h_slow_m, cell_size_m, alpha), dt_limit_s)
    if not math.isfinite(dt_fast) or dt_s <= dt_fast:
        return dt_s, 1, dt_s
    n = min(ratio, max(1, math.ceil(dt_s / dt_fast * (1.0 - 1e-12))))
    return dt_s, n, dt_s / n


# ---------------------------------------------------------------------- slow momentum


def slow_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, reg: Region, *, cell_size_m, dt_s,
                theta, h_min_flow_m, froude_max, implicit_friction, open_edges, qy_work, scale_work, saved_x,
                saved_y, tiles=None):
    """Slow momentum over ``dt_s``: new discharges on every face except the fast ones
    (whose old values are put back), and the outflow scales of the SLOW cells in
    ``scale_work`` (1 for the ``F`` cells). ``saved_x``/``saved_y`` work arrays of the
    fast faces' count. Faces not yet limited (:func:`limit_slow_faces`). With ``tiles``
    (a :class:`heatsim.kernels.overland_flow.FlowTiles` whose flags :func:`slow_continuity`
    set in the step before) the dry tiles are skipped as in the global step, bit for bit:
    their faces are 0 and stay 0 (their scales are then left as they were: no face with
    water leaves such a cell)."""
    _gather(qx_m2_s, reg.fast_x, saved_x)
    _gather(qy_m2_s, reg.fast_y, saved_y)
    ny = depth_m.shape[0]
    n_chunks = _n_chunks(ny)
    use_tiles = tiles is not None
    wet, active = (tiles.wet, tiles.active) if use_tiles else (_NO_BYTES, _NO_BYTES)
    _prepare_sweep(qy_m2_s, qy_work, n_chunks, use_tiles, wet, active)
    _sweep_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, qy_work, scale_work, n_chunks, True,
                  use_tiles, active, cell_size_m, dt_s, theta, h_min_flow_m, froude_max, implicit_friction,
                  open_edges)
    _scatter(qx_m2_s, reg.fast_x, saved_x)
    _scatter(qy_m2_s, reg.fast_y, saved_y)
    _set_cells(scale_work, reg.cells, 1.0)


def slow_fluxes_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, reg: Region, *, cell_size_m,
                      dt_s, theta, h_min_flow_m, froude_max, implicit_friction, open_edges, qy_work, scale_work,
                      saved_x, saved_y):
    """Plain-NumPy twin of :func:`slow_fluxes`."""
    old_x = qx_m2_s[reg.fast_x[:, 0], reg.fast_x[:, 1]].copy()
    old_y = qy_m2_s[reg.fast_y[:, 0], reg.fast_y[:, 1]].copy()
    face_fluxes_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                      theta=theta, h_min_flow_m=h_min_flow_m, froude_max=froude_max,
                      implicit_friction=implicit_friction, open_edges=open_edges)
    qx_m2_s[reg.fast_x[:, 0], reg.fast_x[:, 1]] = old_x
    qy_m2_s[reg.fast_y[:, 0], reg.fast_y[:, 1]] = old_y
    c = dt_s / cell_size_m
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out_depth = c * (np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0)
                     + np.maximum(south, 0.0))
    limited = (out_depth > depth_m) & (region == SLOW)
    scale = np.ones_like(depth_m)
    scale[limited] = depth_m[limited] / out_depth[limited] * _POSITIVITY_SAFETY
    scale_work[...] = scale


@numba.njit(parallel=True, cache=True)
def _gather(q, faces, out):
    for k in numba.prange(faces.shape[0]):
        out[k] = q[faces[k, 0], faces[k, 1]]


@numba.njit(parallel=True, cache=True)
def _scatter(q, faces, values):
    for k in numba.prange(faces.shape[0]):
        q[faces[k, 0], faces[k, 1]] = values[k]


@numba.njit(parallel=True, cache=True)
def _set_cells(a, cells, value):
    for k in numba.prange(cells.shape[0]):
        a[cells[k, 0], cells[k, 1]] = value


#: Pass 2 of the slow phase: every face scaled by the factor of the cell it leaves (the
#: second pass of :func:`heatsim.kernels.overland_flow.limit_outflow`, which skips the rows
#: without a limited cell); with the scales of :func:`slow_fluxes` (1 in ``F``) only faces
#: leaving a SLOW cell change.
limit_slow_faces = scale_faces_by_upstream
#: Plain-NumPy twin of :func:`limit_slow_faces` (every face, no skipping).
limit_slow_faces_numpy = scale_faces_by_upstream_numpy


# ---------------------------------------------------------------------- fast phase


@numba.njit(cache=True, fastmath=False, inline="always")
def _fast_x_face(i, j, bed, depth, manning, blocked, qx, gdt, dx, theta, side_weight, h_min, froude_max,
                 implicit_friction, open_edges):
    """New discharge of the fast x-face (i, j) from the old values (as _x_face_range)."""
    nx = depth.shape[1]
    if j == 0:
        return -_edge_outflow(depth[i, 0], blocked[i, 0] != 0, open_edges, h_min, froude_max)
    if j == nx:
        return _edge_outflow(depth[i, nx - 1], blocked[i, nx - 1] != 0, open_edges, h_min, froude_max)
    q = qx[i, j]
    q_back = qx[i, j - 1] if (j >= 2 and not blocked[i, j - 2]) else q
    q_fwd = qx[i, j + 1] if (j + 1 < nx and not blocked[i, j + 1]) else q
    return _momentum(q, q_back, q_fwd, bed[i, j - 1], bed[i, j], depth[i, j - 1], depth[i, j], manning[i, j - 1],
                     manning[i, j], gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction)


@numba.njit(cache=True, fastmath=False, inline="always")
def _fast_y_face(k, j, bed, depth, manning, blocked, qy, gdt, dx, theta, side_weight, h_min, froude_max,
                 implicit_friction, open_edges):
    """New discharge of the fast y-face (k, j) from the old values (as _y_face_range)."""
    ny = depth.shape[0]
    if k == 0:
        return -_edge_outflow(depth[0, j], blocked[0, j] != 0, open_edges, h_min, froude_max)
    if k == ny:
        return _edge_outflow(depth[ny - 1, j], blocked[ny - 1, j] != 0, open_edges, h_min, froude_max)
    q = qy[k, j]
    q_back = qy[k - 1, j] if (k >= 2 and not blocked[k - 2, j]) else q
    q_fwd = qy[k + 1, j] if (k + 1 < ny and not blocked[k + 1, j]) else q
    return _momentum(q, q_back, q_fwd, bed[k - 1, j], bed[k, j], depth[k - 1, j], depth[k, j], manning[k - 1, j],
                     manning[k, j], gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction)


@numba.njit(parallel=True, fastmath=False, cache=True)
def fast_substeps(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, cells, fast_x, fast_y, edge_x,
                  edge_y, iface_x, iface_y, q_ix, q_iy, acc_x, acc_y, new_x, new_y, scale_work, n_sub, dt_f, dt_s,
                  dx, theta, h_min, froude_max, implicit_friction, open_edges, track, time_start_s, time_end_s,
                  min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima, source_cells,
                  source_depth_m, depth_flat, bed_flat, culvert_in, culvert_out, culvert_capacity_m3_s, held_index,
                  held_depth_m, late_cells, cell_area_m2, late_volumes_m3):
    """The fast phase: ``n_sub`` sub-steps of ``dt_f`` on the ``F`` cells and faces, the
    interface discharges frozen at their slow-limited values (module docstring), in place.
    Each cell ``source_cells[k]`` ((k, 2) rows/cols) gains ``source_depth_m[k] / n_sub`` [m]
    at the start of every sub-step (an inflow spread over the slow step instead of poured in
    one lump). After every sub-step (as the water model does after a global step): the
    culverts ``culvert_in`` -> ``culvert_out`` (flat indices; their inlets in ``F``) move
    water over ``dt_f`` (:func:`heatsim.kernels.hydrology.culvert_transfer`), the cells
    ``held_index`` (flat) are set to their held depths ``held_depth_m``, and with ``track``
    the maxima of the ``F`` cells ``late_cells`` (flat; those ``skip_maxima`` leaves out)
    are taken; ``late_volumes_m3`` (3,) gains the piped volume, the water the held cells
    gave up and the water they were given [m3]. ``depth_flat`` and ``bed_flat`` are flat
    views of ``depth_m`` and ``bed_m``.
    With ``track``, the running flood maxima of the ``F`` cells where ``skip_maxima`` is 0
    after each sub-step (at ``time_start_s + (s + 1) dt_f``, the last at ``time_end_s``).
    Leaves on each interface face whose ``F`` cell is upstream its mean discharge over
    ``dt_s`` (``sum(q dt_f) / dt_s``), on the others ``q_I``.

    Returns (edge outflow [m3] through the fast edge faces, largest new depth of the ``F``
    cells [m] (with ``track`` those where ``skip_maxima`` is 0), the same for the RIM cells)."""
    ny, nx = depth_m.shape
    gdt = GRAVITY_M_S2 * dt_f
    side_weight = 0.5 * (1.0 - theta)
    c = dt_f / dx
    to_m3 = dt_f * dx
    nfx, nfy = fast_x.shape[0], fast_y.shape[0]
    nix, niy = iface_x.shape[0], iface_y.shape[0]
    nc = cells.shape[0]
    for k in numba.prange(nix):
        q_ix[k] = qx_m2_s[iface_x[k, 0], iface_x[k, 1]]
        acc_x[k] = 0.0
    for k in numba.prange(niy):
        q_iy[k] = qy_m2_s[iface_y[k, 0], iface_y[k, 1]]
        acc_y[k] = 0.0
    edge_m3 = 0.0
    h_fast = 0.0
    h_rim = 0.0
    src_share = 1.0 / n_sub
    for s in range(n_sub):
        for k in range(source_cells.shape[0]):  # few cells: serial
            depth_m[source_cells[k, 0], source_cells[k, 1]] += source_depth_m[k] * src_share
        # interface faces back at q_I (the last sub-step left the scaled outflows on them)
        for k in numba.prange(nix):
            qx_m2_s[iface_x[k, 0], iface_x[k, 1]] = q_ix[k]
        for k in numba.prange(niy):
            qy_m2_s[iface_y[k, 0], iface_y[k, 1]] = q_iy[k]
        # momentum on the fast faces, all from the old values
        for k in numba.prange(nfx):
            new_x[k] = _fast_x_face(fast_x[k, 0], fast_x[k, 1], bed_m, depth_m, manning_n, blocked, qx_m2_s, gdt, dx,
                                    theta, side_weight, h_min, froude_max, implicit_friction, open_edges)
        for k in numba.prange(nfy):
            new_y[k] = _fast_y_face(fast_y[k, 0], fast_y[k, 1], bed_m, depth_m, manning_n, blocked, qy_m2_s, gdt, dx,
                                    theta, side_weight, h_min, froude_max, implicit_friction, open_edges)
        for k in numba.prange(nfx):
            qx_m2_s[fast_x[k, 0], fast_x[k, 1]] = new_x[k]
        for k in numba.prange(nfy):
            qy_m2_s[fast_y[k, 0], fast_y[k, 1]] = new_y[k]
        # outflow scales of the F cells over dt_f (fast faces and outgoing q_I)
        for m in numba.prange(nc):
            i, j = cells[m, 0], cells[m, 1]
            out_depth = c * (max(-qx_m2_s[i, j], 0.0) + max(qx_m2_s[i, j + 1], 0.0) + max(-qy_m2_s[i, j], 0.0)
                             + max(qy_m2_s[i + 1, j], 0.0))
            h = depth_m[i, j]
            if out_depth > h:
                scale_work[i, j] = h / out_depth * _POSITIVITY_SAFETY
            else:
                scale_work[i, j] = 1.0
        # scale the fast faces by their upstream cell, the interface faces leaving F by their F cell
        for k in numba.prange(nfx):
            i, j = fast_x[k, 0], fast_x[k, 1]
            q = qx_m2_s[i, j]
            if q > 0.0 and j > 0:
                qx_m2_s[i, j] = q * scale_work[i, j - 1]
            elif q < 0.0 and j < nx:
                qx_m2_s[i, j] = q * scale_work[i, j]
        for k in numba.prange(nfy):
            i, j = fast_y[k, 0], fast_y[k, 1]
            q = qy_m2_s[i, j]
            if q > 0.0 and i > 0:
                qy_m2_s[i, j] = q * scale_work[i - 1, j]
            elif q < 0.0 and i < ny:
                qy_m2_s[i, j] = q * scale_work[i, j]
        for k in numba.prange(nix):
            i, j, low = iface_x[k, 0], iface_x[k, 1], iface_x[k, 2]
            q = q_ix[k]
            if low == 1 and q > 0.0:
                q = q * scale_work[i, j - 1]
                qx_m2_s[i, j] = q
                acc_x[k] += q * dt_f
            elif low == 0 and q < 0.0:
                q = q * scale_work[i, j]
                qx_m2_s[i, j] = q
                acc_x[k] += q * dt_f
        for k in numba.prange(niy):
            i, j, low = iface_y[k, 0], iface_y[k, 1], iface_y[k, 2]
            q = q_iy[k]
            if low == 1 and q > 0.0:
                q = q * scale_work[i - 1, j]
                qy_m2_s[i, j] = q
                acc_y[k] += q * dt_f
            elif low == 0 and q < 0.0:
                q = q * scale_work[i, j]
                qy_m2_s[i, j] = q
                acc_y[k] += q * dt_f
        # the fast edge faces (few: serial, in a fixed order)
        for e in range(edge_x.shape[0]):
            i, j = fast_x[edge_x[e], 0], fast_x[edge_x[e], 1]
            edge_m3 += (qx_m2_s[i, j] if j == nx else -qx_m2_s[i, j]) * to_m3
        for e in range(edge_y.shape[0]):
            i, j = fast_y[edge_y[e], 0], fast_y[edge_y[e], 1]
            edge_m3 += (qy_m2_s[i, j] if i == ny else -qy_m2_s[i, j]) * to_m3
        # continuity of the F cells: outflow first, then inflow (as update_depth), and maxima
        last = s == n_sub - 1
        t_s = time_end_s if last else time_start_s + (s + 1) * dt_f
        h_f = 0.0
        h_r = 0.0
        for m in numba.prange(nc):
            i, j = cells[m, 0], cells[m, 1]
            west, east = qx_m2_s[i, j], qx_m2_s[i, j + 1]
            q_n, q_s = qy_m2_s[i, j], qy_m2_s[i + 1, j]
            out_sum, in_sum = _cell_out_in(west, east, q_n, q_s)
            h = _moved_depth(depth_m[i, j], out_sum, in_sum, c)
            depth_m[i, j] = h
            counted = True
            if track:
                counted = skip_maxima[i, j] == 0
            if counted:
                h_f = max(h_f, h)
                if region[i, j] == 2:
                    h_r = max(h_r, h)
            if counted and track:
                update_cell_maxima(i, j, h, west, east, q_n, q_s, t_s, min_depth_m, max_depth_m, time_of_max_s,
                                   max_speed_m_s)
        if last:
            h_fast, h_rim = h_f, h_r
        _after_substep(depth_m, depth_flat, bed_flat, qx_m2_s, qy_m2_s, culvert_in, culvert_out, culvert_capacity_m3_s,
                       held_index, held_depth_m, late_cells, cell_area_m2, dt_f, track, t_s, min_depth_m, max_depth_m,
                       time_of_max_s, max_speed_m_s, late_volumes_m3)
    # interface faces: the mean discharge over dt_s where F was upstream, else q_I
    for k in numba.prange(nix):
        low, q = iface_x[k, 2], q_ix[k]
        out = (low == 1 and q > 0.0) or (low == 0 and q < 0.0)
        qx_m2_s[iface_x[k, 0], iface_x[k, 1]] = acc_x[k] / dt_s if out else q
    for k in numba.prange(niy):
        low, q = iface_y[k, 2], q_iy[k]
        out = (low == 1 and q > 0.0) or (low == 0 and q < 0.0)
        qy_m2_s[iface_y[k, 0], iface_y[k, 1]] = acc_y[k] / dt_s if out else q
    return edge_m3, h_fast, h_rim




@numba.njit(cache=True, fastmath=False)
def _after_substep(depth_m, depth_flat, bed_flat, qx_m2_s, qy_m2_s, culvert_in, culvert_out, culvert_capacity_m3_s,
                   held_index, held_depth_m, late_cells, cell_area_m2, dt_s, track, time_s, min_depth_m, max_depth_m,
                   time_of_max_s, max_speed_m_s, late_volumes_m3):
    """Culverts, held levels and the late cells' maxima after one sub-step (serial: few cells)."""
    if culvert_in.shape[0] > 0:
        late_volumes_m3[0] += culvert_transfer(depth_flat, bed_flat, culvert_in, culvert_out, culvert_capacity_m3_s,
                                               dt_s, cell_area_m2)
    hold_levels(depth_flat, held_index, held_depth_m, cell_area_m2, late_volumes_m3[1:])
    if track:  # as heatsim.kernels.flood_maxima.track_flood_maxima_cells
        nx = depth_m.shape[1]
        for k in range(late_cells.shape[0]):
            i = late_cells[k] // nx
            j = late_cells[k] - i * nx
            update_cell_maxima(i, j, depth_m[i, j], qx_m2_s[i, j], qx_m2_s[i, j + 1], qy_m2_s[i, j],
                               qy_m2_s[i + 1, j], time_s, min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s)


def _after_substep_numpy(depth_m, bed_m, qx_m2_s, qy_m2_s, culvert_in, culvert_out, culvert_capacity_m3_s, held_index,
                         held_depth_m, late_cells, cell_area_m2, dt_s, track, time_s, min_depth_m, max_depth_m,
                         time_of_max_s, max_speed_m_s, late_volumes_m3):
    """Plain-NumPy twin of :func:`_after_substep`."""
    flat = depth_m.reshape(-1)  # a view: depth_m is C-contiguous
    if culvert_in.shape[0] > 0:
        late_volumes_m3[0] += culvert_transfer_numpy(flat, np.asarray(bed_m, np.float64).reshape(-1), culvert_in,
                                                     culvert_out, culvert_capacity_m3_s, dt_s, cell_area_m2)
    hold_levels_numpy(flat, held_index, held_depth_m, cell_area_m2, late_volumes_m3[1:])
    if track and late_cells.shape[0] > 0:
        track_flood_maxima_cells_numpy(late_cells, depth_m, qx_m2_s, qy_m2_s, time_s, min_depth_m=min_depth_m,
                                       max_depth_m=max_depth_m, time_of_max_s=time_of_max_s,
                                       max_speed_m_s=max_speed_m_s)


def _fast_faces_numpy(along, bed, depth, manning, wall, q, gdt, dx, theta, h_min, froude_max, implicit_friction,
                      open_edges):
    """New discharges of the fast faces ``along`` ((a, 2): row, face column of ``q``
    (rows, cols + 1)) between row neighbours; y-faces as x-faces of the transposed grid."""
    i, j = along[:, 0], along[:, 1]
    cols = depth.shape[1]
    new = np.zeros(i.size)
    west_edge, east_edge = j == 0, j == cols
    inner = ~(west_edge | east_edge)
    if open_edges:
        for sel, cell, sign in ((west_edge, 0, -1.0), (east_edge, cols - 1, 1.0)):
            h = depth[i[sel], cell]
            ok = (h > h_min) & ~wall[i[sel], cell]
            new[sel] = np.where(ok, sign * (min(froude_max, 1.0) * h * np.sqrt(GRAVITY_M_S2 * h)), 0.0)
    ii, jj = i[inner], j[inner]
    qm = q[ii, jj]
    back_ok = (jj >= 2) & ~wall[ii, np.maximum(jj - 2, 0)]
    fwd_ok = (jj + 1 < cols) & ~wall[ii, np.minimum(jj + 1, cols - 1)]
    q_back = np.where(back_ok, q[ii, np.maximum(jj - 1, 0)], qm)
    q_fwd = np.where(fwd_ok, q[ii, np.minimum(jj + 1, cols)], qm)
    new[inner] = _momentum_numpy(qm, q_back, q_fwd, bed[ii, jj - 1].astype(np.float64), bed[ii, jj].astype(np.float64),
                                 depth[ii, jj - 1], depth[ii, jj], manning[ii, jj - 1], manning[ii, jj], gdt, dx,
                                 theta, h_min, froude_max, implicit_friction)
    return new


def fast_substeps_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, cells, fast_x, fast_y, edge_x,
                        edge_y, iface_x, iface_y, q_ix, q_iy, acc_x, acc_y, new_x, new_y, scale_work, n_sub, dt_f,
                        dt_s, dx, theta, h_min, froude_max, implicit_friction, open_edges, track, time_start_s,
                        time_end_s, min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima,
                        source_cells, source_depth_m, depth_flat, bed_flat, culvert_in, culvert_out,
                        culvert_capacity_m3_s, held_index, held_depth_m, late_cells, cell_area_m2, late_volumes_m3):
    """Plain-NumPy twin of :func:`fast_substeps`."""
    ny, nx = depth_m.shape
    wall = np.asarray(blocked).astype(bool)
    gdt = GRAVITY_M_S2 * dt_f
    c = dt_f / dx
    xi, xj, xlow = iface_x[:, 0], iface_x[:, 1], iface_x[:, 2]
    yi, yj, ylow = iface_y[:, 0], iface_y[:, 1], iface_y[:, 2]
    q_ix[...] = qx_m2_s[xi, xj]
    q_iy[...] = qy_m2_s[yi, yj]
    acc_x[...] = 0.0
    acc_y[...] = 0.0
    out_x = ((xlow == 1) & (q_ix > 0.0)) | ((xlow == 0) & (q_ix < 0.0))
    out_y = ((ylow == 1) & (q_iy > 0.0)) | ((ylow == 0) & (q_iy < 0.0))
    ci, cj = cells[:, 0], cells[:, 1]
    keep = ~np.asarray(skip_maxima).astype(bool)[ci, cj] if track else np.ones(ci.size, bool)
    edge_m3 = 0.0
    h_fast = h_rim = 0.0
    kw = dict(gdt=gdt, dx=dx, theta=theta, h_min=h_min, froude_max=froude_max, implicit_friction=implicit_friction,
              open_edges=open_edges)
    for s in range(n_sub):
        for (i, j), added in zip(source_cells.tolist(), source_depth_m.tolist()):
            depth_m[i, j] += added * (1.0 / n_sub)
        qx_m2_s[xi, xj] = q_ix
        qy_m2_s[yi, yj] = q_iy
        nxv = _fast_faces_numpy(fast_x, bed_m, depth_m, manning_n, wall, qx_m2_s, **kw)
        nyv = _fast_faces_numpy(fast_y[:, ::-1], bed_m.T, depth_m.T, manning_n.T, wall.T, qy_m2_s.T, **kw)
        qx_m2_s[fast_x[:, 0], fast_x[:, 1]] = nxv
        qy_m2_s[fast_y[:, 0], fast_y[:, 1]] = nyv
        west, east = qx_m2_s[ci, cj], qx_m2_s[ci, cj + 1]
        north, south = qy_m2_s[ci, cj], qy_m2_s[ci + 1, cj]
        out_depth = c * (np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0)
                         + np.maximum(south, 0.0))
        h = depth_m[ci, cj]
        scale = np.where(out_depth > h, h / np.where(out_depth > 0, out_depth, 1.0) * _POSITIVITY_SAFETY, 1.0)
        scale_work[ci, cj] = scale
        sx = np.pad(scale_work, ((0, 0), (1, 1)), constant_values=1.0)
        sy = np.pad(scale_work, ((1, 1), (0, 0)), constant_values=1.0)
        fi, fj = fast_x[:, 0], fast_x[:, 1]
        q = qx_m2_s[fi, fj]
        qx_m2_s[fi, fj] = q * np.where(q > 0.0, sx[fi, fj], sx[fi, fj + 1])
        fi, fj = fast_y[:, 0], fast_y[:, 1]
        q = qy_m2_s[fi, fj]
        qy_m2_s[fi, fj] = q * np.where(q > 0.0, sy[fi, fj], sy[fi + 1, fj])
        qe = q_ix * np.where(xlow == 1, sx[xi, xj], sx[xi, xj + 1])
        qx_m2_s[xi[out_x], xj[out_x]] = qe[out_x]
        acc_x[out_x] += qe[out_x] * dt_f
        qe = q_iy * np.where(ylow == 1, sy[yi, yj], sy[yi + 1, yj])
        qy_m2_s[yi[out_y], yj[out_y]] = qe[out_y]
        acc_y[out_y] += qe[out_y] * dt_f
        for e in edge_x:
            i, j = fast_x[e]
            edge_m3 += (qx_m2_s[i, j] if j == nx else -qx_m2_s[i, j]) * (dt_f * dx)
        for e in edge_y:
            i, j = fast_y[e]
            edge_m3 += (qy_m2_s[i, j] if i == ny else -qy_m2_s[i, j]) * (dt_f * dx)
        west, east = qx_m2_s[ci, cj], qx_m2_s[ci, cj + 1]
        north, south = qy_m2_s[ci, cj], qy_m2_s[ci + 1, cj]
        out_sum = np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0)
        in_sum = np.maximum(west, 0.0) + np.maximum(-east, 0.0) + np.maximum(north, 0.0) + np.maximum(-south, 0.0)
        h = (depth_m[ci, cj] - c * out_sum) + c * in_sum
        depth_m[ci, cj] = h
        ti, tj, th = ci[keep], cj[keep], h[keep]
        if s == n_sub - 1 and th.size:
            h_fast = float(th.max())
            rim = region[ti, tj] == RIM
            h_rim = float(th[rim].max()) if rim.any() else 0.0
        if track:
            t_s = time_end_s if s == n_sub - 1 else time_start_s + (s + 1) * dt_f
            deeper = th > max_depth_m[ti, tj]
            max_depth_m[ti[deeper], tj[deeper]] = th[deeper]
            time_of_max_s[ti[deeper], tj[deeper]] = t_s
            qxc = 0.5 * (west + east)[keep]
            qyc = 0.5 * (north + south)[keep]
            wet = th > min_depth_m
            speed = np.zeros_like(th)
            speed[wet] = np.sqrt(qxc[wet] * qxc[wet] + qyc[wet] * qyc[wet]) / th[wet]
            max_speed_m_s[ti, tj] = np.maximum(max_speed_m_s[ti, tj], speed)
        t_s = time_end_s if s == n_sub - 1 else time_start_s + (s + 1) * dt_f
        _after_substep_numpy(depth_m, bed_m, qx_m2_s, qy_m2_s, culvert_in, culvert_out, culvert_capacity_m3_s,
                             held_index, held_depth_m, late_cells, cell_area_m2, dt_f, track, t_s, min_depth_m,
                             max_depth_m, time_of_max_s, max_speed_m_s, late_volumes_m3)
    qx_m2_s[xi, xj] = np.where(out_x, acc_x / dt_s, q_ix)
    qy_m2_s[yi, yj] = np.where(out_y, acc_y / dt_s, q_iy)
    return edge_m3, h_fast, h_rim


# ---------------------------------------------------------------------- slow continuity


def slow_continuity(depth_m, qx_m2_s, qy_m2_s, region, *, cell_size_m, dt_s, row_outflow_m3, track, time_s,
                    min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima, tiles=None, h_dry=0.0):
    """Continuity of the SLOW cells (:func:`_slow_continuity`, which see); ``tiles`` a
    :class:`heatsim.kernels.overland_flow.FlowTiles` whose ``active`` tiles the
    :func:`slow_fluxes` of this step marked."""
    use_tiles = tiles is not None
    wet, keep_wet, active = (tiles.wet, tiles.keep_wet, tiles.active) if use_tiles else (_NO_BYTES,) * 3
    tile_h_max = tiles.tile_h_max if use_tiles else _NO_FLOATS
    return _slow_continuity(depth_m, qx_m2_s, qy_m2_s, region, cell_size_m, dt_s, row_outflow_m3, track, time_s,
                            min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima, use_tiles, wet,
                            keep_wet, active, tile_h_max, h_dry)


@numba.njit(parallel=True, fastmath=False, cache=True)
def _slow_continuity(depth_m, qx_m2_s, qy_m2_s, region, cell_size_m, dt_s, row_outflow_m3, track, time_s,
                     min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima, use_tiles, wet, keep_wet,
                     active, tile_h_max, h_dry):
    """Continuity of the SLOW cells over ``dt_s`` (as update_depth; ``F`` cells unchanged),
    and with ``track`` the running maxima of the SLOW cells where ``skip_maxima`` is 0.
    With ``use_tiles`` the flags of the tiles in ``wet`` ((ny, tiles of a row) uint8, as
    the global step's continuity sweep sets them from ``h_dry`` [m]) for the next
    :func:`slow_fluxes`: a tile holding an ``F`` cell, or marked in ``keep_wet``, gets every
    flag (it and its neighbours are computed). A tile not ``active`` in this step is skipped:
    its faces are 0, so its depths, maxima and flags (0) stay as they are, and its largest
    depth is ``tile_h_max`` (kept here for the active tiles, and by FlowTiles.refresh when
    the losses change depths). Returns (outflow [m3] through the slow edge faces, summed row
    by row in a fixed order; largest new depth of the tracked SLOW cells [m])."""
    ny, nx = depth_m.shape
    c = dt_s / cell_size_m
    to_m3 = dt_s * cell_size_m
    nb = (nx + TILE_COLS - 1) // TILE_COLS if use_tiles else 1
    width = TILE_COLS if use_tiles else nx
    row_h = np.zeros(ny)
    for i in numba.prange(ny):
        h_row = 0.0
        for b in range(nb):
            if use_tiles and active[i, b] == 0:
                h_row = max(h_row, tile_h_max[i, b])
                continue
            j0 = b * width
            j1 = min(nx, j0 + width)
            flags = 0
            h_tile = 0.0
            for j in range(j0, j1):
                if region[i, j] != 0:
                    flags = _ALL_FLAGS
                    continue
                west, east = qx_m2_s[i, j], qx_m2_s[i, j + 1]
                q_n, q_s = qy_m2_s[i, j], qy_m2_s[i + 1, j]
                out_sum, in_sum = _cell_out_in(west, east, q_n, q_s)
                h = _moved_depth(depth_m[i, j], out_sum, in_sum, c)
                depth_m[i, j] = h
                if use_tiles:
                    flags = _cell_tile_flags(flags, h, out_sum, in_sum, h_dry, j, j0, j1)
                counted = True
                if track:
                    counted = skip_maxima[i, j] == 0
                if counted:
                    h_tile = max(h_tile, h)
                if counted and track:
                    update_cell_maxima(i, j, h, west, east, q_n, q_s, time_s, min_depth_m, max_depth_m,
                                       time_of_max_s, max_speed_m_s)
            h_row = max(h_row, h_tile)
            if use_tiles:
                wet[i, b] = _ALL_FLAGS if keep_wet[i, b] != 0 else flags
                tile_h_max[i, b] = h_tile
        row_h[i] = h_row
        edge = 0.0
        if region[i, nx - 1] == 0:
            edge += qx_m2_s[i, nx]
        if region[i, 0] == 0:
            edge -= qx_m2_s[i, 0]
        if i == 0:
            for j in range(nx):
                if region[0, j] == 0:
                    edge -= qy_m2_s[0, j]
        if i == ny - 1:
            for j in range(nx):
                if region[ny - 1, j] == 0:
                    edge += qy_m2_s[ny, j]
        row_outflow_m3[i] = edge * to_m3
    total = 0.0
    h_max = 0.0
    for i in range(ny):
        total += row_outflow_m3[i]
        h_max = max(h_max, row_h[i])
    return total, h_max


def slow_continuity_numpy(depth_m, qx_m2_s, qy_m2_s, region, *, cell_size_m, dt_s, row_outflow_m3, track, time_s,
                          min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s, skip_maxima):
    """Plain-NumPy twin of :func:`slow_continuity`."""
    c = dt_s / cell_size_m
    slow = region == SLOW
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out = np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0)
    inflow = np.maximum(west, 0.0) + np.maximum(-east, 0.0) + np.maximum(north, 0.0) + np.maximum(-south, 0.0)
    depth_m[slow] = ((depth_m - c * out) + c * inflow)[slow]
    tracked = slow & ~np.asarray(skip_maxima).astype(bool) if track else slow
    h_max = float(depth_m[tracked].max()) if tracked.any() else 0.0
    if track:
        h = depth_m
        deeper = tracked & (h > max_depth_m)
        max_depth_m[deeper] = h[deeper]
        time_of_max_s[deeper] = time_s
        qxc, qyc = 0.5 * (west + east), 0.5 * (north + south)
        wet = tracked & (h > min_depth_m)
        speed = np.zeros_like(h)
        speed[wet] = np.sqrt(qxc[wet] ** 2 + qyc[wet] ** 2) / h[wet]
        np.maximum(max_speed_m_s, speed, out=max_speed_m_s, where=tracked)
    edge = np.where(slow[:, -1], qx_m2_s[:, -1], 0.0) - np.where(slow[:, 0], qx_m2_s[:, 0], 0.0)
    edge[0] -= np.where(slow[0, :], qy_m2_s[0, :], 0.0).sum()
    edge[-1] += np.where(slow[-1, :], qy_m2_s[-1, :], 0.0).sum()
    row_outflow_m3[...] = edge * (dt_s * cell_size_m)
    return float(row_outflow_m3.sum()), h_max


# ---------------------------------------------------------------------- one slow step


def local_step(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, reg: Region, work: dict, *, cell_size_m, dt_s,
               n_sub, open_edges, theta, h_min_flow_m, froude_max, implicit_friction, qy_work, scale_work,
               row_outflow_m3, time_s=0.0, speed_min_depth_m=0.0, max_depth_m=None, time_of_max_s=None,
               max_speed_m_s=None, skip_maxima=None, source_cells=None, source_depth_m=None, late=None, tiles=None,
               numpy=False):
    """One slow step of ``dt_s`` with ``n_sub`` sub-steps of ``dt_s / n_sub`` in the fast
    region ``reg`` (module docstring), in place. ``work`` from ``reg.work()`` plus
    ``saved_x``/``saved_y`` (the fast faces' count); ``time_s`` the time at the end of the
    step; maxima arrays as :func:`heatsim.kernels.overland_flow.flow_step_tracked`
    (optional). ``source_cells`` ((k, 2) int64 rows/cols) gain ``source_depth_m`` [m] over
    the step, a share at the start of each sub-step (inflows; see :func:`fast_substeps`).
    ``late`` (optional dict): what the fast phase does after every sub-step (see
    :func:`fast_substeps`): ``culvert_in``, ``culvert_out`` (flat int64), ``culvert_capacity_m3_s``,
    ``held_index`` (flat int64), ``held_depth_m``, ``late_cells`` (flat int64), ``cell_area_m2``;
    this step's volumes are written back into it as ``piped_m3``, ``held_out_m3`` and
    ``held_supply_m3``.
    ``tiles`` (a :class:`heatsim.kernels.overland_flow.FlowTiles`, kept from step to step;
    numba only: the twins ignore it) skips the dry tiles in the slow momentum sweep and the
    slow continuity, bit for bit.
    ``numpy=True`` runs the plain-NumPy twins.

    Returns (edge outflow [m3], largest new depth of the tracked ``F`` cells [m], of the
    tracked SLOW and RIM cells [m])."""
    track = max_depth_m is not None
    if not track:
        max_depth_m = time_of_max_s = max_speed_m_s = np.zeros((1, 1))
        skip_maxima = np.zeros((1, 1), np.uint8)
    elif skip_maxima is None:
        skip_maxima = np.zeros(depth_m.shape, np.uint8)
    if source_cells is None:
        source_cells, source_depth_m = np.zeros((0, 2), np.int64), np.zeros(0)
    if not (depth_m.flags.c_contiguous and bed_m.flags.c_contiguous):
        raise ValueError("local_step needs C-contiguous depth and bed arrays (culverts and held levels write "
                         "through flat views of them)")
    none_i, none_f = np.zeros(0, np.int64), np.zeros(0)
    late_in = late or {}
    volumes = np.zeros(3)
    late_args = (depth_m.reshape(-1), bed_m.reshape(-1), late_in.get("culvert_in", none_i),
                 late_in.get("culvert_out", none_i), late_in.get("culvert_capacity_m3_s", none_f),
                 late_in.get("held_index", none_i), late_in.get("held_depth_m", none_f),
                 late_in.get("late_cells", none_i), float(late_in.get("cell_area_m2", 1.0)), volumes)
    region = reg.region
    scheme = dict(theta=theta, h_min_flow_m=h_min_flow_m, froude_max=froude_max,
                  implicit_friction=implicit_friction, open_edges=open_edges)
    dt_f = dt_s / n_sub
    fast_args = (region, reg.cells, reg.fast_x, reg.fast_y, reg.edge_x, reg.edge_y, reg.iface_x, reg.iface_y,
                 work["q_ix"], work["q_iy"], work["acc_x"], work["acc_y"], work["new_x"], work["new_y"], scale_work,
                 n_sub, dt_f, dt_s, cell_size_m, theta, h_min_flow_m, froude_max, implicit_friction, open_edges,
                 track, time_s - dt_s, time_s, speed_min_depth_m, max_depth_m, time_of_max_s, max_speed_m_s,
                 skip_maxima, source_cells, source_depth_m, *late_args)
    slow_kw = dict(cell_size_m=cell_size_m, dt_s=dt_s, row_outflow_m3=row_outflow_m3, track=track, time_s=time_s,
                   min_depth_m=speed_min_depth_m, max_depth_m=max_depth_m, time_of_max_s=time_of_max_s,
                   max_speed_m_s=max_speed_m_s, skip_maxima=skip_maxima)
    if numpy:
        slow_fluxes_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, reg, cell_size_m=cell_size_m,
                          dt_s=dt_s, qy_work=qy_work, scale_work=scale_work, saved_x=work["saved_x"],
                          saved_y=work["saved_y"], **scheme)
        limit_slow_faces_numpy(qx_m2_s, qy_m2_s, scale_work)
        edge_fast, h_fast, h_rim = fast_substeps_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s,
                                                       *fast_args)
        edge_slow, h_slow = slow_continuity_numpy(depth_m, qx_m2_s, qy_m2_s, region, **slow_kw)
    else:
        tile_kw = {}
        if tiles is not None:
            h_dry = h_min_flow_m - tiles.h_dry_margin_m
            if not 0.0 < h_dry < h_min_flow_m or h_min_flow_m > 1.0:
                raise ValueError(f"h_min_flow_m = {h_min_flow_m} m does not suit tiles on this bed (rounding margin "
                                 f"{tiles.h_dry_margin_m:.1e} m)")
            tile_kw = dict(tiles=tiles, h_dry=h_dry)
        slow_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, region, reg, cell_size_m=cell_size_m,
                    dt_s=dt_s, qy_work=qy_work, scale_work=scale_work, saved_x=work["saved_x"],
                    saved_y=work["saved_y"], tiles=tiles, **scheme)
        limit_slow_faces(qx_m2_s, qy_m2_s, scale_work)
        edge_fast, h_fast, h_rim = fast_substeps(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, *fast_args)
        edge_slow, h_slow = slow_continuity(depth_m, qx_m2_s, qy_m2_s, region, **slow_kw, **tile_kw)
    if late is not None:
        late["piped_m3"], late["held_out_m3"], late["held_supply_m3"] = (float(v) for v in volumes)
    return edge_slow + edge_fast, h_fast, max(h_slow, h_rim)


def region_work(reg: Region) -> dict:
    """All work arrays of :func:`local_step` for ``reg``."""
    w = reg.work()
    w["saved_x"] = np.zeros(reg.fast_x.shape[0])
    w["saved_y"] = np.zeros(reg.fast_y.shape[0])
    return w

"""Sky view factor of a horizontal surface on a north-up raster DSM, with tree crowns.

``sky_view_factor`` is the kernel, ``sky_view_factor_numpy`` its plain-NumPy twin
(same arithmetic; used by the tests and benchmarks only).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: relative growth of the horizon-search step with distance (literal copy in the kernel)
DISTANCE_STEP_FRACTION = 0.1


@numba.njit(parallel=True, fastmath=False, cache=True)
def sky_view_factor(surface_m, vegetation_top_m, canopy, *, cell_size_m, n_directions, max_distance_m,
                    leaf_transmissivity, out):
    """Sky view factor (SVF) of each cell's horizontal surface, buildings and trees included.

    Parameters
    ----------
    surface_m : (ny, nx) float32 or float64 array
        Height of each cell's own opaque surface above datum: terrain, plus the
        building height on building cells [m]. Row 0 is north, column 0 west.
    vegetation_top_m : (ny, nx) float array
        Terrain plus tree height where there are trees [m]; anything
        ``<= surface_m`` where there are none.
    canopy : (ny, nx) float array
        Tree canopy cover fraction of the cell [0-1].
    cell_size_m : float
        Grid spacing, the same along x and y [m].
    n_directions : int
        Number of azimuths searched, evenly spaced, the first due north.
        32 is plenty for urban DSMs (the azimuth mean of a smooth horizon
        converges fast).
    max_distance_m : float
        Horizontal search radius [m]; obstacles farther away are ignored.
    leaf_transmissivity : float
        Fraction of radiation passing a fully covered crown [0-1], e.g. 0.03
        (SOLWEIG default, Lindberg & Grimmond 2011).
    out : (ny, nx) float array
        Filled with the SVF [0-1] and returned.

    Returns
    -------
    out : (ny, nx) float array
        1 for an unobstructed horizontal surface.

    Notes
    -----
    Definition. For a horizontal surface under a horizon of elevation
    ``beta(phi)`` the SVF is the azimuth mean of ``cos^2(beta)`` (Johnson &
    Watson 1984; Oke 1987); in a long canyon of height H and width W this gives
    ``cos(atan(2H/W))`` at the centre of the street floor.

    Horizon search (Zaksek et al. 2011). For each cell and each azimuth
    ``phi_n = 360 n / n_directions`` a ray is marched from the cell centre,
    sampling the nearest cell (ties to the cell farther from the start) at
    horizontal distances
    ``d_0 = cell_size_m / 2``, ``d_{k+1} = d_k + max(cell_size_m / 2, 0.1 d_k)``
    up to ``max_distance_m`` or the grid edge (no obstacle beyond it); the own
    cell is skipped. The opaque horizon is
    ``tan(beta_o) = max(0, max_k (surface_m[k] - surface_m[here]) / d_k)`` and
    the vegetation horizon ``tan(beta_v)`` the same with ``vegetation_top_m``;
    ``c`` is the canopy cover of the sample that sets ``beta_v``. Crowns above
    the opaque horizon hide that part of the sky except for their
    transmissivity, in proportion to ``c``::

        svf_n = cos^2(beta_o) - (cos^2(beta_o) - cos^2(max(beta_o, beta_v))) * (1 - leaf_transmissivity) * c

    (``cos^2(atan t) = 1 / (1 + t^2)``, so no trigonometry per sample). The SVF
    is the mean of ``svf_n``, then multiplied by the cell's own
    ``1 - canopy * (1 - leaf_transmissivity)`` where its own vegetation top is
    above its surface (ground under its own crown).

    Step and its error. The step grows with distance (half a cell up to 5 cells,
    then 10 % of the distance), so a ray needs about 36 samples for 300 m at
    5 m cells instead of 120. Far obstacles narrower than the step can be
    missed and horizons are read with a relative distance error of up to about
    5 %; both matter little, since far obstacles subtend small angles. Against
    a constant half-cell step (``sky_view_factor_numpy`` with
    ``distance_step_fraction=0``), 32 directions, 300 m, on synthetic 5 m
    cities of random 5-25 m wide, 3-30 m tall buildings and single-cell trees
    (80-200 cells square), the kernel's SVF is higher by 0.001-0.002 on
    average (it misses some obstacles), by at most 0.02-0.03 on any cell
    (tests/test_kernels_radiation_geometry.py checks mean < 0.005, max < 0.05).

    The ray stops at ``max_distance_m``: with 300 m the neglected horizon
    beyond is below about 5 deg for 25 m buildings (``cos^2`` > 0.99).
    Cells within ``max_distance_m`` of the grid edge see no obstacle beyond
    the edge and so get too high an SVF.

    References
    ----------
    Johnson, G.T., Watson, I.D. (1984). The determination of view-factors in
    urban canyons. J. Climate Appl. Meteorol. 23, 329-335.
    Oke, T.R. (1987). Boundary Layer Climates, 2nd ed. Methuen, London.
    Zaksek, K., Ostir, K., Kokalj, Z. (2011). Sky-view factor as a relief
    visualization technique. Remote Sensing 3, 398-415.
    Lindberg, F., Grimmond, C.S.B. (2011). The influence of vegetation and
    building morphology on shadow patterns and mean radiant temperatures in
    urban areas. Theor. Appl. Climatol. 105, 311-323.
    """
    ny, nx = surface_m.shape
    opacity = 1.0 - leaf_transmissivity
    half_cell_m = 0.5 * cell_size_m
    for i in numba.prange(ny):
        for j in range(nx):
            out[i, j] = 0.0
        for n in range(n_directions):
            azimuth = 2.0 * math.pi * n / n_directions
            row_per_m = -math.cos(azimuth) / cell_size_m  # rows grow southward
            col_per_m = math.sin(azimuth) / cell_size_m  # columns grow eastward
            for j in range(nx):
                z = surface_m[i, j] + 0.0
                tan_o = 0.0
                tan_v = 0.0
                cover_v = 0.0
                d = half_cell_m
                while d <= max_distance_m:
                    # nearest cell, ties away from the start (mirror-symmetric sampling)
                    o = d * row_per_m
                    r = i + int(o + 0.5) if o >= 0.0 else i - int(0.5 - o)
                    o = d * col_per_m
                    c = j + int(o + 0.5) if o >= 0.0 else j - int(0.5 - o)
                    if r < 0 or c < 0 or r >= ny or c >= nx:
                        break
                    if r != i or c != j:
                        inv_d = 1.0 / d
                        t = (surface_m[r, c] - z) * inv_d
                        if t > tan_o:
                            tan_o = t
                        t = (vegetation_top_m[r, c] - z) * inv_d
                        if t > tan_v:
                            tan_v = t
                            cover_v = canopy[r, c]
                    d += max(half_cell_m, 0.1 * d)
                cos2_o = 1.0 / (1.0 + tan_o * tan_o)
                tan_max = max(tan_o, tan_v)
                cos2_v = 1.0 / (1.0 + tan_max * tan_max)
                out[i, j] += cos2_o - (cos2_o - cos2_v) * opacity * cover_v
        for j in range(nx):
            svf = out[i, j] / n_directions
            if vegetation_top_m[i, j] > surface_m[i, j]:
                svf *= 1.0 - canopy[i, j] * opacity
            out[i, j] = svf
    return out


def sky_view_factor_numpy(surface_m, vegetation_top_m, canopy, *, cell_size_m, n_directions, max_distance_m,
                          leaf_transmissivity, out, distance_step_fraction=DISTANCE_STEP_FRACTION):
    """Plain-NumPy twin of :func:`sky_view_factor` (slow; small grids only).

    Same arguments and result; all cells advance together, one sample distance
    at a time. ``distance_step_fraction`` (default 0.1, as in the kernel) sets
    the step ``max(cell_size_m / 2, distance_step_fraction * d)``; 0 gives the
    constant half-cell step used to measure the kernel's step error.
    """
    surface = np.asarray(surface_m, dtype=np.float64)
    veg = np.asarray(vegetation_top_m, dtype=np.float64)
    cover = np.asarray(canopy, dtype=np.float64)
    ny, nx = surface.shape
    opacity = 1.0 - leaf_transmissivity
    half_cell_m = 0.5 * cell_size_m
    rows, cols = np.indices((ny, nx))
    total = np.zeros((ny, nx))
    for n in range(n_directions):
        azimuth = 2.0 * math.pi * n / n_directions
        row_per_m = -math.cos(azimuth) / cell_size_m
        col_per_m = math.sin(azimuth) / cell_size_m
        tan_o = np.zeros((ny, nx))
        tan_v = np.zeros((ny, nx))
        cover_v = np.zeros((ny, nx))
        d = half_cell_m
        while d <= max_distance_m:
            # every ray samples the same offset from its own cell: the nearest cell, ties away from the start
            dr, dc = _nearest(d * row_per_m), _nearest(d * col_per_m)
            r, c = rows + dr, cols + dc
            use = (r >= 0) & (r < ny) & (c >= 0) & (c < nx) & ((dr, dc) != (0, 0))
            rr, cc = np.clip(r, 0, ny - 1), np.clip(c, 0, nx - 1)
            inv_d = 1.0 / d
            t = (surface[rr, cc] - surface) * inv_d
            tan_o = np.where(use & (t > tan_o), t, tan_o)
            t = (veg[rr, cc] - surface) * inv_d
            higher = use & (t > tan_v)
            tan_v = np.where(higher, t, tan_v)
            cover_v = np.where(higher, cover[rr, cc], cover_v)
            d += max(half_cell_m, distance_step_fraction * d)
        cos2_o = 1.0 / (1.0 + tan_o**2)
        cos2_v = 1.0 / (1.0 + np.maximum(tan_o, tan_v) ** 2)
        total += cos2_o - (cos2_o - cos2_v) * opacity * cover_v
    svf = total / n_directions
    own_crown = veg > surface
    svf[own_crown] *= 1.0 - cover[own_crown] * opacity
    out[...] = svf
    return out


def _nearest(offset):
    """Nearest whole number of cells to a signed offset [cells], halves rounded away from 0."""
    return math.floor(offset + 0.5) if offset >= 0.0 else -math.floor(0.5 - offset)

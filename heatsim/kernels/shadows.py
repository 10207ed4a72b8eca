"""Direct-beam shadows on a north-up raster DSM, with light passing through tree crowns.

``sunlit_fraction`` is the kernel, ``sunlit_fraction_numpy`` its plain-NumPy twin
(same arithmetic, no early exit; used by the tests and benchmarks only).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: height of the ray's start above the cell's own surface [m], so that a flat
#: neighbour at the same height does not shade it (literal copy in the kernel)
RAY_START_OFFSET_M = 0.01


@numba.njit(parallel=True, fastmath=False, cache=True)
def sunlit_fraction(surface_m, vegetation_top_m, canopy, *, cell_size_m, sun_azimuth_deg, sun_elevation_deg,
                    max_distance_m, max_height_m, leaf_transmissivity, out):
    """Fraction of the direct solar beam reaching the surface of each cell.

    A ray is marched from each cell's surface towards the sun over a raster
    digital surface model (DSM) (Ratti & Richens 2004). Buildings and terrain
    (``surface_m``) are opaque; tree crowns (``vegetation_top_m``, ``canopy``)
    pass a fraction of the beam, as in SOLWEIG (Lindberg et al. 2008; Lindberg &
    Grimmond 2011).

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
    sun_azimuth_deg : float
        Solar azimuth, clockwise from north [deg].
    sun_elevation_deg : float
        Solar elevation above the horizon [deg]. At or below 0 every cell is 0.
    max_distance_m : float
        Horizontal length of the ray [m]; obstacles farther away are ignored.
    max_height_m : float
        An upper bound of ``max(surface_m.max(), vegetation_top_m.max())`` [m].
        The ray stops once it is at or above this height, since nothing can be
        above it further on. ``np.inf`` disables the early exit; a value below
        the true maximum gives wrong (too sunny) results.
    leaf_transmissivity : float
        Fraction of the direct beam passing a fully covered crown [0-1];
        about 0.03 for deciduous trees in full leaf (SOLWEIG default, Lindberg
        & Grimmond 2011), measured from a few percent to about 0.1 for single
        urban trees by Konarska et al. (2014).
    out : (ny, nx) float array
        Filled with the sunlit fraction [0-1] and returned.

    Returns
    -------
    out : (ny, nx) float array
        1 in full sun, 0 behind an opaque obstacle, in between under or behind
        tree crowns.

    Notes
    -----
    Method. From the centre of cell (i, j), at height ``surface_m[i, j] + 0.01``,
    the ray goes towards the sun in horizontal steps of half a cell; at step k
    (horizontal distance ``d = k * cell_size_m / 2``) its height is
    ``z = z0 + d * tan(elevation)`` and it samples the nearest cell (a sample
    on a cell boundary goes to the cell farther from the start, so that
    sampling is the same towards east and west and a wall is met at its
    face). The own
    cell and repeated samples of the same cell are skipped (along a straight
    line, row and column indices are monotone, so a cell once left is never
    met again). The ray stops at ``max_distance_m``, at the grid edge (no
    obstacle beyond it) or above ``max_height_m``.

    * any sampled cell with ``surface_m > z`` blocks the beam: 0;
    * otherwise every sampled cell with ``vegetation_top_m > z`` and
      ``vegetation_top_m > surface_m`` multiplies the beam by
      ``1 - canopy * (1 - leaf_transmissivity)`` (canopy cover read as the
      chance of meeting a crown in that cell, each cell independent);
    * finally, a cell whose own vegetation top is above its surface (ground
      under its own crown) is multiplied by its own such factor.

    Limitations: a crown is a solid column from the ground to its top (no
    trunk space); a ray crossing n cells of one continuous crown is attenuated
    n times, so dense multi-cell crowns are darker than one transmissivity and
    the result depends on the resolution; nearest-cell sampling puts shadow
    edges to within about one cell.

    References
    ----------
    Ratti, C., Richens, P. (2004). Raster analysis of urban form. Environment and
    Planning B 31, 297-309.
    Lindberg, F., Holmer, B., Thorsson, S. (2008). SOLWEIG 1.0 - Modelling
    spatial variations of 3D radiant fluxes and mean radiant temperature in
    complex urban settings. Int. J. Biometeorol. 52, 697-713.
    Lindberg, F., Grimmond, C.S.B. (2011). The influence of vegetation and
    building morphology on shadow patterns and mean radiant temperatures in
    urban areas. Theor. Appl. Climatol. 105, 311-323.
    Konarska, J., Lindberg, F., Larsson, A., Thorsson, S., Holmer, B. (2014).
    Transmissivity of solar radiation through crowns of single urban trees.
    Theor. Appl. Climatol. 117, 363-376.
    """
    ny, nx = surface_m.shape
    if sun_elevation_deg <= 0.0:
        for i in numba.prange(ny):
            for j in range(nx):
                out[i, j] = 0.0
        return out
    row_per_step, col_per_step, rise_per_step_m, n_steps = _ray_steps(sun_azimuth_deg, sun_elevation_deg,
                                                                     cell_size_m, max_distance_m)
    opacity = 1.0 - leaf_transmissivity
    for i in numba.prange(ny):
        for j in range(nx):
            out[i, j] = _beam(surface_m, vegetation_top_m, canopy, i, j, row_per_step, col_per_step,
                              rise_per_step_m, n_steps, max_height_m, opacity)
    return out


@numba.njit(cache=True, fastmath=False)
def _ray_steps(sun_azimuth_deg, sun_elevation_deg, cell_size_m, max_distance_m):
    """Per half-cell step of a ray towards the sun: rows (southward +), columns (eastward +),
    rise [m]; and the number of steps within ``max_distance_m``."""
    azimuth = math.radians(sun_azimuth_deg)
    return (-math.cos(azimuth) * 0.5, math.sin(azimuth) * 0.5,
            0.5 * cell_size_m * math.tan(math.radians(sun_elevation_deg)), int(max_distance_m / (0.5 * cell_size_m)))


@numba.njit(cache=True, fastmath=False, inline="always")
def _beam(surface_m, vegetation_top_m, canopy, i, j, row_per_step, col_per_step, rise_per_step_m, n_steps,
          max_height_m, opacity):
    """The ray of :func:`sunlit_fraction` from cell (i, j); see its Notes."""
    ny, nx = surface_m.shape
    z0 = surface_m[i, j] + RAY_START_OFFSET_M
    beam = 1.0
    last_r = i
    last_c = j
    for k in range(1, n_steps + 1):
        z = z0 + k * rise_per_step_m
        if z >= max_height_m:
            break
        # nearest cell, ties away from the start (mirror-symmetric sampling)
        o = k * row_per_step
        r = i + int(o + 0.5) if o >= 0.0 else i - int(0.5 - o)
        o = k * col_per_step
        c = j + int(o + 0.5) if o >= 0.0 else j - int(0.5 - o)
        if r < 0 or c < 0 or r >= ny or c >= nx:
            break
        if r == last_r and c == last_c:
            continue
        last_r = r
        last_c = c
        s = surface_m[r, c]
        if s > z:
            return 0.0
        v = vegetation_top_m[r, c]
        if v > z and v > s:
            beam *= 1.0 - canopy[r, c] * opacity
    if vegetation_top_m[i, j] > surface_m[i, j]:
        beam *= 1.0 - canopy[i, j] * opacity
    return beam


@numba.njit(parallel=True, fastmath=False, cache=True)
def sunlit_fraction_cells(surface_m, vegetation_top_m, canopy, cells, horizon_height_m, *, cell_size_m,
                          sun_azimuth_deg, sun_elevation_deg, max_distance_m, leaf_transmissivity, out):
    """:func:`sunlit_fraction` of some cells only, each ray stopping at its own height bound.

    Parameters
    ----------
    surface_m, vegetation_top_m, canopy, cell_size_m, sun_azimuth_deg, sun_elevation_deg, max_distance_m, leaf_transmissivity
        As in :func:`sunlit_fraction`.
    cells : (n,) integer array
        Flat (row-major) indices of the cells wanted.
    horizon_height_m : (n,) float array
        For each wanted cell, an upper bound of the surface and vegetation heights within
        ``max_distance_m`` of it [m] (:func:`local_max_height_m`): the ray stops once above
        it. Much lower than the grid's maximum in a valley or a flat district, so rays stop
        sooner; the result is the same as with the grid's maximum.
    out : (n,) float array
        Filled with the sunlit fraction [0-1] and returned.
    """
    n = cells.shape[0]
    if sun_elevation_deg <= 0.0:
        for m in numba.prange(n):
            out[m] = 0.0
        return out
    nx = surface_m.shape[1]
    row_per_step, col_per_step, rise_per_step_m, n_steps = _ray_steps(sun_azimuth_deg, sun_elevation_deg,
                                                                     cell_size_m, max_distance_m)
    opacity = 1.0 - leaf_transmissivity
    for m in numba.prange(n):
        i = cells[m] // nx
        j = cells[m] - i * nx
        out[m] = _beam(surface_m, vegetation_top_m, canopy, i, j, row_per_step, col_per_step, rise_per_step_m,
                       n_steps, horizon_height_m[m], opacity)
    return out


def local_max_height_m(surface_m, vegetation_top_m, *, cell_size_m, max_distance_m):
    """Highest surface or crown top within ``max_distance_m`` (a square window) of each cell [m]."""
    from scipy import ndimage

    half = int(math.ceil(max_distance_m / cell_size_m)) + 1
    top = np.maximum(surface_m, vegetation_top_m)
    return ndimage.maximum_filter(top, size=2 * half + 1, mode="nearest")


def sunlit_fraction_cells_numpy(surface_m, vegetation_top_m, canopy, cells, horizon_height_m, *, cell_size_m,
                                sun_azimuth_deg, sun_elevation_deg, max_distance_m, leaf_transmissivity, out):
    """Plain-NumPy twin of :func:`sunlit_fraction_cells`: the whole-grid twin, read at the cells."""
    full = sunlit_fraction_numpy(surface_m, vegetation_top_m, canopy, cell_size_m=cell_size_m,
                                 sun_azimuth_deg=sun_azimuth_deg, sun_elevation_deg=sun_elevation_deg,
                                 max_distance_m=max_distance_m, max_height_m=np.inf,
                                 leaf_transmissivity=leaf_transmissivity, out=np.empty(surface_m.shape))
    out[:] = full.ravel()[cells]
    return out


def sunlit_fraction_numpy(surface_m, vegetation_top_m, canopy, *, cell_size_m, sun_azimuth_deg, sun_elevation_deg,
                          max_distance_m, max_height_m, leaf_transmissivity, out):
    """Plain-NumPy twin of :func:`sunlit_fraction` (slow; small grids only).

    Same arguments and result. All rays advance together, one half-cell step at
    a time, to the full ``max_distance_m``: ``max_height_m`` is accepted for
    the same signature but ignored, so the twin also checks the kernel's
    early exit.
    """
    surface = np.asarray(surface_m, dtype=np.float64)
    veg = np.asarray(vegetation_top_m, dtype=np.float64)
    cover = np.asarray(canopy, dtype=np.float64)
    ny, nx = surface.shape
    if sun_elevation_deg <= 0.0:
        out[...] = 0.0
        return out
    azimuth = math.radians(sun_azimuth_deg)
    row_per_step = -math.cos(azimuth) * 0.5
    col_per_step = math.sin(azimuth) * 0.5
    rise_per_step_m = 0.5 * cell_size_m * math.tan(math.radians(sun_elevation_deg))
    n_steps = int(max_distance_m / (0.5 * cell_size_m))
    opacity = 1.0 - leaf_transmissivity

    rows, cols = np.indices((ny, nx))
    z0 = surface + RAY_START_OFFSET_M
    beam = np.ones((ny, nx))
    blocked = np.zeros((ny, nx), dtype=bool)
    last_dr, last_dc = 0, 0
    for k in range(1, n_steps + 1):
        # every ray samples the same offset from its own cell: the nearest cell, ties away from the start
        dr, dc = _nearest(k * row_per_step), _nearest(k * col_per_step)
        if (dr, dc) == (last_dr, last_dc):
            continue
        last_dr, last_dc = dr, dc
        r, c = rows + dr, cols + dc
        on_grid = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)  # a ray that left the grid has stopped
        rr, cc = np.clip(r, 0, ny - 1), np.clip(c, 0, nx - 1)
        z = z0 + k * rise_per_step_m
        s, v = surface[rr, cc], veg[rr, cc]
        blocked |= on_grid & (s > z)
        through_crown = on_grid & ~blocked & (v > z) & (v > s)
        beam = np.where(through_crown, beam * (1.0 - cover[rr, cc] * opacity), beam)
    beam[blocked] = 0.0
    own_crown = veg > surface
    beam[own_crown] *= 1.0 - cover[own_crown] * opacity
    out[...] = beam
    return out


def _nearest(offset):
    """Nearest whole number of cells to a signed offset [cells], halves rounded away from 0."""
    return math.floor(offset + 0.5) if offset >= 0.0 else -math.floor(0.5 - offset)

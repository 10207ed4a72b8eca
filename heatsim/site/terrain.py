"""A schematic terrain model (DTM) for a river town.

The surface rises away from a river: gently across the floodplain, then with
distance ``d`` from the river as ``floor + rise * (d / distance) ** exponent``,
with separate rise, distance and exponent north and south of it. Side streams
cut Gaussian valleys (depth ``D``, half-width ``w``: ``-D exp(-(ds/w)^2)``),
faded out near the river so that they join the floodplain. A smooth, seeded
undulation is added away from the floodplain. Small streams are carved as
channels whose bed falls monotonically downstream; rivers, canals and lakes
hold their (flat) water surface, as a LiDAR DTM such as DHMV II does.

This is *schematic*: it reproduces the shape of the Leie valley at Harelbeke
(DESIGN.md: Leie ~12 m TAW, centre ~15 m, rising southward to 30-40 m), not a
survey. Replace it with DHMV II through ``heatsim site import``.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from heatsim.grid import Grid


def _valley_free_surface(x: np.ndarray, y: np.ndarray, river: LineString, p: dict) -> np.ndarray:
    """Rise away from the river plus the seeded undulation [m] (no stream valleys)."""
    pts = shapely.points(x.ravel(), y.ravel())
    d_river = shapely.distance(pts, river).reshape(x.shape)
    rx, ry = np.asarray(river.xy)
    order = np.argsort(rx)
    south = y < np.interp(x, rx[order], ry[order])
    rise = np.where(
        south,
        p["south_rise_m"] * (d_river / p["south_distance_m"]) ** p["south_exponent"],
        p["north_rise_m"] * (d_river / p["north_distance_m"]) ** p["north_exponent"],
    )
    away = np.clip(d_river / 800.0, 0.0, 1.0)  # 0 on the floodplain, 1 from 800 m out
    rng = np.random.default_rng(int(p["seed"]))
    k = 2 * np.pi / p["relief_wavelength_m"]
    relief = np.zeros(x.shape)
    for _ in range(4):
        angle, phase = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        scale = rng.uniform(0.7, 1.4)
        relief += np.cos(k * scale * (np.cos(angle) * x + np.sin(angle) * y) + phase)
    return p["valley_floor_m"] + rise + p["relief_amplitude_m"] / 2.0 * relief * away


def regional_surface(x: np.ndarray, y: np.ndarray, river: LineString, streams: list[LineString], p: dict) -> np.ndarray:
    """Terrain height [m] at points ``x``, ``y`` [m] before channels are carved.

    Each stream (a line drawn from source to mouth) gets a valley whose floor
    (thalweg) falls monotonically downstream: the running minimum of the
    surface along the stream, ``stream_valley_depth_m`` lower (less near the
    river, never below the river level). Around it the surface is pulled down
    towards the thalweg with weight ``exp(-(d/w)^2)``.
    """
    h = _valley_free_surface(x, y, river, p)
    pts = np.column_stack([x.ravel(), y.ravel()])
    for stream in streams:
        n = max(int(stream.length / 10.0), 2)
        samples = [stream.interpolate(t) for t in np.linspace(0.0, stream.length, n)]
        sx = np.array([q.x for q in samples])
        sy = np.array([q.y for q in samples])
        hs = _valley_free_surface(sx, sy, river, p)
        d_mouth = shapely.distance(shapely.points(sx, sy), river)
        depth = p["stream_valley_depth_m"] * np.clip(d_mouth / 800.0, 0.0, 1.0)
        thalweg = np.maximum(np.minimum.accumulate(hs - depth), p["river_level_m"] + 0.2)
        dist, idx = cKDTree(np.column_stack([sx, sy])).query(pts)
        weight = np.exp(-((dist / p["stream_valley_width_m"]) ** 2)).reshape(x.shape)
        h = np.minimum(h, h + (thalweg[idx].reshape(x.shape) - h) * weight)
    return h


def schematic_dtm(grid: Grid, river: LineString, side_streams: list[LineString], params: dict) -> np.ndarray:
    """The regional surface on ``grid`` [m], computed on a grid of at most 10 m and
    interpolated bilinearly (it is smooth), so that 1 m sites cost no more."""
    base_res = max(grid.resolution_m, 10.0)
    x0, y0, x1, y1 = grid.bounds
    bx = np.arange(x0 - base_res, x1 + 2 * base_res, base_res)
    by = np.arange(y1 + base_res, y0 - 2 * base_res, -base_res)
    BX, BY = np.meshgrid(bx, by)
    base = regional_surface(BX, BY, river, side_streams, params)
    # separable bilinear interpolation, in row blocks: no full-size index grids at 1 m
    cols = (grid.x - bx[0]) / base_res
    along_x = np.stack([np.interp(cols, np.arange(bx.size), row) for row in base])
    rows = (by[0] - grid.y) / base_res
    r0 = np.clip(np.floor(rows).astype(int), 0, by.size - 2)
    w = (rows - r0)[:, None]
    out = np.empty(grid.shape, dtype=np.float64)
    for start in range(0, grid.ny, 1024):
        sl = slice(start, start + 1024)
        out[sl] = along_x[r0[sl]] * (1.0 - w[sl]) + along_x[r0[sl] + 1] * w[sl]
    return out


def carve_stream(dtm: np.ndarray, mask: np.ndarray, grid: Grid, line: LineString, depth_m: float,
                 skip: np.ndarray | None = None) -> None:
    """Lower the cells of ``mask`` to a bed that falls monotonically along ``line``
    (drawn from source to mouth): bed = running minimum of the surface - depth.

    Samples on ``skip`` cells (e.g. an existing channel, whose height is already
    a bed) do not count as surface."""
    n = max(int(line.length / (grid.resolution_m / 2)), 2)
    samples = [line.interpolate(t) for t in np.linspace(0.0, line.length, n)]
    sx = np.array([s.x for s in samples])
    sy = np.array([s.y for s in samples])
    col = np.clip(((sx - grid.x_min) / grid.resolution_m).astype(int), 0, grid.nx - 1)
    row = np.clip(((grid.y_max - sy) / grid.resolution_m).astype(int), 0, grid.ny - 1)
    inside = (sx >= grid.bounds[0]) & (sx <= grid.bounds[2]) & (sy >= grid.bounds[1]) & (sy <= grid.bounds[3])
    if not inside.any():
        return
    usable = inside if skip is None else inside & ~skip[row, col]
    surface = np.where(usable, dtm[row, col], np.inf)
    bed = np.minimum.accumulate(surface) - depth_m
    bed = np.where(np.isfinite(bed), bed, np.nan)
    keep = np.isfinite(bed)
    rr, cc = np.nonzero(mask)
    if rr.size == 0:
        return
    tree = cKDTree(np.column_stack([sx[keep], sy[keep]]))
    _, idx = tree.query(np.column_stack([grid.x[cc], grid.y[rr]]))
    dtm[rr, cc] = np.minimum(dtm[rr, cc], bed[keep][idx])


def flatten_water_body(dtm: np.ndarray, body: np.ndarray, level_m: float | None, below_rim_m: float) -> float:
    """Set a lake/river/canal's cells to one water level [m] and return it.

    Without ``level_m``, the level is the lowest ground on its shore minus ``below_rim_m``.
    """
    if level_m is None:
        rim = ndimage.binary_dilation(body) & ~body
        level_m = float(dtm[rim].min()) - below_rim_m if rim.any() else float(dtm[body].min())
    dtm[body] = level_m
    return float(level_m)

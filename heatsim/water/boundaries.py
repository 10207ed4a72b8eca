"""Boundary conditions of the water model on the grid: held-level outlets, inflow
hydrographs and culverts.

- **Outlets** (a river, a canal): the cells under the geometry hold their water at the
  outlet's level (default: their ground, which in a LiDAR-like DTM is the water surface),
  and whatever the flow brings in above it leaves the site (counted as outflow).
- **Inflows**: a hydrograph [m3 s-1] spread evenly over the cells under a point or line.
- **Culverts**: every connected group of cells of the site's ``culvert`` layer is one pipe.
  Its inlet is the highest open-stream cell next to the group (where the open channel
  enters the pipe, at channel-bed level, below the street over the pipe), its outlet the
  lowest such cell; a group with no open stream next to it runs from its own highest cell
  to its lowest. A pipe carries at most its full-pipe Manning capacity (Chow 1959);
  beyond that, water stays in the channel and rises onto the street.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rasterio import features as rio_features
from scipy import ndimage

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.kernels.hydrology import culvert_capacity_m3_s
from heatsim.rain import Hydrograph, read_hydrograph_csv
from heatsim.scenario.loader import WaterBoundaries

MIN_CULVERT_SLOPE = 0.001
"""Pipe gradient used when the ends of a culvert lie (nearly) level [-]: 1:1000, a usual
minimum gradient of Flemish sewers and culverts (VMM 2012 code of practice). Assumption."""


@dataclass
class Outlets:
    index: np.ndarray  # flat cell indices
    level_m: np.ndarray  # held water surface per outlet cell [m]
    names: list[str] = field(default_factory=list)
    cells_per_outlet: list[int] = field(default_factory=list)


@dataclass
class Inflows:
    hydrographs: list[Hydrograph]
    cells: list[np.ndarray]  # flat indices per inflow
    names: list[str]


@dataclass
class Culverts:
    inlet: np.ndarray  # flat index per culvert
    outlet: np.ndarray
    capacity_m3_s: np.ndarray
    length_m: np.ndarray

    def __len__(self) -> int:
        return int(self.inlet.size)


def _cells_under(geometry, grid: Grid, source: Path, field_name: str) -> np.ndarray:
    """Flat indices of the cells a geometry covers (lines and points: every cell they touch)."""
    all_touched = geometry.geom_type not in ("Polygon", "MultiPolygon")
    mask = rio_features.rasterize([(geometry, 1)], out_shape=grid.shape, transform=grid.transform, fill=0,
                                  dtype="uint8", all_touched=all_touched)
    if geometry.geom_type in ("Polygon", "MultiPolygon") and not mask.any():
        # a polygon smaller than a cell: the cells it touches
        mask = rio_features.rasterize([(geometry, 1)], out_shape=grid.shape, transform=grid.transform, fill=0,
                                      dtype="uint8", all_touched=True)
    if not mask.any():
        x0, y0, x1, y1 = geometry.bounds
        raise InputError(source, field_name, f"the geometry ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}) lies outside "
                         f"the site, whose extent is {grid.bounds}")
    return np.flatnonzero(mask)


def outlets_on_grid(boundaries: WaterBoundaries, grid: Grid, bed_m: np.ndarray) -> Outlets:
    index, level, names, counts = [], [], [], []
    for b in boundaries.outlets:
        cells = _cells_under(b.geometry, grid, b.source, b.field + ".geometry")
        bed = np.asarray(bed_m, dtype=np.float64).ravel()[cells]
        held = bed if b.spec.level_m is None else np.maximum(bed, b.spec.level_m)
        index.append(cells)
        level.append(held)
        names.append(b.spec.name or b.field)
        counts.append(int(cells.size))
    if not index:
        return Outlets(np.empty(0, np.int64), np.empty(0), [], [])
    all_index = np.concatenate(index)
    all_level = np.concatenate(level)
    # a cell under two outlets keeps the first outlet's level
    _, first = np.unique(all_index, return_index=True)
    keep = np.sort(first)
    return Outlets(all_index[keep], all_level[keep], names, counts)


def inflows_on_grid(boundaries: WaterBoundaries, grid: Grid) -> Inflows:
    hydrographs, cells, names = [], [], []
    for b in boundaries.inflows:
        cells.append(_cells_under(b.geometry, grid, b.source, b.field + ".geometry"))
        hydrographs.append(read_hydrograph_csv(b.hydrograph))
        names.append(b.spec.name or b.field)
    return Inflows(hydrographs, cells, names)


def _channel_next_to(cell: int, open_stream: np.ndarray, bed: np.ndarray, grid: Grid, reach: int = 2) -> int:
    """The lowest open-stream cell within ``reach`` cells of ``cell``, else ``cell``."""
    r, c = divmod(int(cell), grid.nx)
    r0, r1, c0, c1 = max(r - reach, 0), min(r + reach + 1, grid.ny), max(c - reach, 0), min(c + reach + 1, grid.nx)
    window = open_stream[r0:r1, c0:c1]
    if not window.any():
        return int(cell)
    rows, cols = np.nonzero(window)
    flat = (rows + r0) * grid.nx + (cols + c0)
    return int(flat[np.argmin(bed[flat])])


def culverts_on_grid(culvert_layer: np.ndarray, stream_layer: np.ndarray, bed_m: np.ndarray, grid: Grid, *,
                     diameter_m: float, manning_n: float) -> Culverts:
    """One pipe per 8-connected group of culvert cells (see the module docstring)."""
    eight = np.ones((3, 3), dtype=bool)
    piped = culvert_layer == 1
    labels, n = ndimage.label(piped, structure=eight)
    open_stream = (stream_layer == 1) & ~piped
    inlet, outlet, capacity, length = [], [], [], []
    bed = np.asarray(bed_m, dtype=np.float64).ravel()
    for k in range(1, n + 1):
        group = labels == k
        cells = np.flatnonzero(group)
        top, bottom = cells[np.argmax(bed[cells])], cells[np.argmin(bed[cells])]
        hi = _channel_next_to(top, open_stream, bed, grid)
        lo = _channel_next_to(bottom, open_stream, bed, grid)
        # the pipe follows the cells: its length is about the number of cells times the cell size
        run_m = max(cells.size * grid.resolution_m, grid.resolution_m)
        slope = max((bed[hi] - bed[lo]) / run_m, MIN_CULVERT_SLOPE)
        inlet.append(hi)
        outlet.append(lo)
        capacity.append(culvert_capacity_m3_s(diameter_m, slope, manning_n))
        length.append(run_m)
    return Culverts(np.asarray(inlet, np.int64), np.asarray(outlet, np.int64), np.asarray(capacity, float),
                    np.asarray(length, float))

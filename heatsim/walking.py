"""Cool places within a 15-minute walk: walking time along the grid from every home to the
nearest cool place.

- Walkable: every cell that is not a building or open water (streets, paths, squares,
  gardens and fields alike: the schematic site has no path network; a real one should
  make fields and private gardens unwalkable).
- Speed: 4.5 km/h (1.25 m/s), a usual adult walking speed in urban planning (the
  15-minute city literature, e.g. Moreno et al. 2021, Smart Cities 4, 93-111, uses
  4-5 km/h); older people walk slower, so the 15 minutes are optimistic for them.
- Cool place: a connected area of public-looking green or blue land cover (grass, shrub,
  trees, wetland, water) of at least 0.5 ha (WHO Regional Office for Europe 2016, "Urban
  green spaces and health": green space of at least 0.5-1 ha within 300 m of home) whose
  cells keep UTCI at 15:00 below the strong-heat-stress threshold (32 C). Private gardens
  cannot be told apart on the schematic site: an over-count.
- Walking time: cost distance on the grid (scikit-image's MCP_Geometric: 8 neighbours,
  diagonal steps cost sqrt(2) cells) from the door of each home (the nearest walkable
  cell) to the nearest walkable cell in or next to a cool place.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.graph import MCP_Geometric

WALKING_SPEED_M_S = 4.5 / 3.6
MIN_COOL_AREA_M2 = 5000.0
COOL_CLASSES = ("grass", "shrub", "trees", "wetland", "water")
UNWALKABLE_CLASSES = ("building", "green_roof", "water")


def walking_time_s(walkable: np.ndarray, targets: np.ndarray, cell_size_m: float,
                   speed_m_s: float = WALKING_SPEED_M_S) -> np.ndarray:
    """Walking time [s] from every cell to the nearest target cell along walkable cells
    (inf where no target can be reached; inf on unwalkable cells)."""
    targets = targets & walkable
    if not targets.any():
        return np.full(walkable.shape, np.inf)
    # A shortest path from outside enters the targets through a target cell next to a walkable
    # non-target cell, so only those rim cells need to start the search (the same times
    # elsewhere; a 1 m town has ~28 M target cells, each a Python tuple to MCP); inside, 0.
    outside = walkable & ~targets
    rim = targets & ndimage.binary_dilation(outside, structure=np.ones((3, 3), bool))
    if not rim.any():  # nothing walkable outside the targets
        return np.where(walkable, np.where(targets, 0.0, np.inf), np.inf)
    costs = np.where(walkable, cell_size_m / speed_m_s, np.inf)
    mcp = MCP_Geometric(costs, fully_connected=True)
    del costs
    cumulative, _ = mcp.find_costs(list(zip(*np.nonzero(rim))))
    del mcp
    # MCP_Geometric averages the costs of the two cells of a step: with equal costs that is
    # the step length over the speed; the start cell costs nothing
    cumulative[targets] = 0.0
    cumulative[~walkable] = np.inf
    return cumulative


def cool_places(landcover: np.ndarray, utci_15h_c: np.ndarray, codes: dict[str, int], cell_area_m2: float,
                threshold_c: float = 32.0, min_area_m2: float = MIN_COOL_AREA_M2) -> np.ndarray:
    """Cells of cool places (see the module docstring)."""
    green_blue = np.isin(landcover, [codes[c] for c in COOL_CLASSES if c in codes])
    cool = green_blue & np.isfinite(utci_15h_c) & (utci_15h_c < threshold_c)
    labels, n = ndimage.label(cool, structure=np.ones((3, 3), bool))
    if n == 0:
        return cool
    sizes = ndimage.sum(cool, labels, index=np.arange(1, n + 1)) * cell_area_m2
    keep = np.zeros(n + 1, bool)
    keep[1:] = sizes >= min_area_m2
    return keep[labels]


def walkable_cells(landcover: np.ndarray, codes: dict[str, int]) -> np.ndarray:
    return ~np.isin(landcover, [codes[c] for c in UNWALKABLE_CLASSES if c in codes])


def targets_for(places: np.ndarray, walkable: np.ndarray) -> np.ndarray:
    """Walkable cells in a cool place or next to one (the bank of a cool pond)."""
    return walkable & ndimage.binary_dilation(places, structure=np.ones((3, 3), bool))

"""Declared layers of a site: name, dtype, unit, nodata and meaning.

Every site (bundled, imported or changed by a scenario) holds exactly these
layers on one grid in a projected CRS (metres). Models read them by these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layer:
    name: str
    dtype: str
    units: str
    nodata: float | int
    kind: str  # "class" (nearest resampling) or "continuous" (average resampling)
    description: str


LAYERS: dict[str, Layer] = {layer.name: layer for layer in [
    Layer("landcover", "uint8", "1", 0, "class", "land-cover class code (heatsim/data/landcover.toml)"),
    Layer("elevation", "float32", "m", -9999.0, "continuous",
          "terrain height (DTM) above the Belgian datum TAW; bed level under water"),
    Layer("building_height", "float32", "m", -9999.0, "continuous", "building height above the terrain, 0 where no building"),
    Layer("tree_height", "float32", "m", -9999.0, "continuous", "tree canopy top above the terrain, 0 where no canopy"),
    Layer("canopy", "float32", "1", -9999.0, "continuous", "tree canopy cover fraction of the cell, seen from above"),
    Layer("impervious", "float32", "1", -9999.0, "continuous", "sealed fraction of the cell (no infiltration)"),
    Layer("soil", "uint8", "1", 0, "class", "soil texture code (soils table in heatsim/data/landcover.toml)"),
    Layer("stream", "uint8", "1", 255, "class", "1 where an open stream or river runs, else 0"),
    Layer("culvert", "uint8", "1", 255, "class", "1 above a culverted (piped) stream, else 0"),
    Layer("district", "uint8", "1", 0, "class", "district (wijk) index, 1-based; names in the site's districts"),
    Layer("domain", "uint8", "1", 255, "class", "1 inside the study area (the municipality), 0 in the margin around it"),
]}


def empty_array(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A zero-filled array of a layer's dtype."""
    return np.zeros(shape, dtype=LAYERS[name].dtype)

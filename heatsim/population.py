"""Who lives where, and who is exposed: residents per cell and the exposure indicators.

A site may bring its population as ``population.geojson`` in its folder (``heatsim site
import --population``): statistical sectors (polygons, e.g. Statbel's) with the properties
``residents``, ``share_over_65`` and ``share_under_5``; each sector's residents are spread
over the building floor area inside it (over all its cells if it has no buildings), and
its shares hold for its cells (:func:`population_for`).

The bundled site has no population data yet, so its residents are SCHEMATIC: the town's
total spread over the building cells in proportion to their floor area (footprint x
floors of 3 m), the same age shares everywhere. That places people in the right streets
but not in the right numbers per street; replace it with Statbel's statistical sectors
(population by sector and age, open data) when a site brings them. The numbers:

- residents: 28,000 (DESIGN.md: "~28,000 inhabitants"; replace with Statbel's count);
- over 65: 22 % (DESIGN.md: over-65s were 36 % of the working-age population in 2021;
  with about 62 % of Flemings aged 15-64 that is 0.36 x 0.62; an estimate);
- under 5: 5 % (about the Flemish share; an assumption for Harelbeke).

A resident's exposure is read at the door: the walkable cell (not a roof, not open
water) nearest to the building cell they live in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from rasterio import features as rio_features
from scipy import ndimage

from heatsim.errors import InputError
from heatsim.grid import Grid

SCHEMATIC_RESIDENTS = 28_000
SHARE_OVER_65 = 0.22
SHARE_UNDER_5 = 0.05
STOREY_HEIGHT_M = 3.0  # a storey of a Flemish dwelling, floor to floor (assumption)


POPULATION_FILE = "population.geojson"
SECTOR_FIELDS = {"residents": (0.0, 1e7), "share_over_65": (0.0, 1.0), "share_under_5": (0.0, 1.0)}


@dataclass
class Population:
    residents: np.ndarray  # persons per cell
    share_over_65: np.ndarray  # [-] per cell
    share_under_5: np.ndarray  # [-] per cell
    source: str


def floor_area_weights(site: xr.Dataset, roof_codes: list[int]) -> np.ndarray:
    """Building floor area per cell in storeys (footprint x max(1, round(height / 3 m))); 0 off roofs."""
    roofs = np.isin(site["landcover"].values, roof_codes)
    storeys = np.maximum(1.0, np.round(site["building_height"].values / STOREY_HEIGHT_M))
    return np.where(roofs, storeys, 0.0)


def population_for(site: xr.Dataset, site_folder: Path | None, roof_codes: list[int]) -> Population:
    """The site's residents: its statistical sectors if it has a ``population.geojson``, else the
    schematic spread (:func:`schematic_population`)."""
    path = Path(site_folder) / POPULATION_FILE if site_folder is not None else None
    if path is None or not path.is_file():
        shape = site["landcover"].shape
        return Population(schematic_population(site, roof_codes), np.full(shape, SHARE_OVER_65),
                          np.full(shape, SHARE_UNDER_5), "schematic: residents spread over building floor area "
                          "(heatsim/population.py)")
    return sector_population(site, path, roof_codes)


def sector_population(site: xr.Dataset, path: Path, roof_codes: list[int]) -> Population:
    """Residents and age shares per cell from statistical sectors (see the module docstring)."""
    from heatsim.vectors import read_geojson

    grid = Grid.of(site)
    sectors = read_geojson(path, str(grid.crs), field_name="population")
    if not sectors:
        raise InputError(path, "features", "no sectors; expected polygons with residents, share_over_65, share_under_5")
    values = np.zeros((len(sectors), 3))
    for i, sector in enumerate(sectors):
        if sector.geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(path, f"features[{i}].geometry", f"expected a polygon (a sector), got {sector.geometry.geom_type}")
        for k, (name, (low, high)) in enumerate(SECTOR_FIELDS.items()):
            value = sector.properties.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise InputError(path, f"features[{i}].properties.{name}",
                                 f"expected a number in [{low:g}, {high:g}], got {value!r}")
            values[i, k] = value
    index = rio_features.rasterize(((s.geometry, i + 1) for i, s in enumerate(sectors)), out_shape=grid.shape,
                                   transform=grid.transform, fill=0, dtype="int32") - 1
    weights = floor_area_weights(site, roof_codes)
    residents = np.zeros(grid.shape)
    for i in range(len(sectors)):
        cells = index == i
        if not cells.any():
            x0, y0, x1, y1 = sectors[i].geometry.bounds
            raise InputError(path, f"features[{i}]", f"the sector ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}) covers no "
                             f"cell of the site, whose extent is {grid.bounds}: another area, CRS or a sliver")
        w = np.where(cells, weights, 0.0)
        if w.sum() == 0:
            w = cells.astype(float)  # no buildings mapped in the sector: spread over its cells
        residents += values[i, 0] * w / w.sum()
    inside = index >= 0
    share_65 = np.where(inside, values[np.maximum(index, 0), 1], 0.0)
    share_5 = np.where(inside, values[np.maximum(index, 0), 2], 0.0)
    return Population(residents, share_65, share_5, f"statistical sectors: {path}")


def schematic_population(site: xr.Dataset, roof_codes: list[int], total: float = SCHEMATIC_RESIDENTS) -> np.ndarray:
    """Residents per cell [persons]: ``total`` over the study area's building cells, in
    proportion to floor area (footprint x max(1, round(height / 3 m)) storeys)."""
    floor = np.where(site["domain"].values == 1, floor_area_weights(site, roof_codes), 0.0)
    if floor.sum() == 0:
        return np.zeros(floor.shape)
    return total * floor / floor.sum()


def door_index(no_door: np.ndarray) -> np.ndarray:
    """For every cell, the flat index of the nearest cell that can be a door (one not in
    ``no_door``: roofs, open water); itself if it can be one."""
    if no_door.all():
        raise ValueError("no cell can be a door: every cell is a roof or water")
    _, (rows, cols) = ndimage.distance_transform_edt(no_door, return_indices=True)
    return (rows * no_door.shape[1] + cols).ravel()


def exposure_summary(site: xr.Dataset, population: Population, no_door: np.ndarray, *, utci_hours_above: np.ndarray | None,
                     night_min_air_c: np.ndarray | None, max_depth_m: np.ndarray | None,
                     walking_time_s: np.ndarray | None = None, tropical_night_c: float = 20.0,
                     flood_depth_m: float = 0.20, walk_limit_min: float = 15.0) -> dict:
    """Exposure of the residents, town and per district.

    ``utci_hours_above``: hours of the day with strong heat stress per cell [h];
    ``night_min_air_c``: the day's lowest air temperature per cell [degC];
    ``max_depth_m``: the storm's maximum depth per cell [m]; ``walking_time_s``: walk to the
    nearest cool place per cell [s] (:mod:`heatsim.walking`); any may be None (not computed).
    """
    doors = door_index(no_door)
    people = population.residents.ravel()
    groups = {"all": 1.0, "over_65": population.share_over_65.ravel(), "under_5": population.share_under_5.ravel()}

    def figures(mask: np.ndarray) -> dict:
        here = np.where(mask.ravel(), people, 0.0)
        out = {"residents": round(float(here.sum()), 1)}
        if utci_hours_above is not None:
            hours = np.nan_to_num(utci_hours_above.ravel()[doors])
            out["person_hours_strong_heat_stress"] = {g: round(float((here * hours * share).sum()), 1)
                                                      for g, share in groups.items()}
        if night_min_air_c is not None:
            warm = night_min_air_c.ravel()[doors] > tropical_night_c
            out["residents_tropical_night"] = round(float(here[warm].sum()), 1)
        if max_depth_m is not None:
            wet = max_depth_m.ravel()[doors] > flood_depth_m
            out[f"residents_flooded_above_{flood_depth_m:.2f}_m"] = round(float(here[wet].sum()), 1)
        if walking_time_s is not None:
            far = ~(walking_time_s.ravel()[doors] <= 60.0 * walk_limit_min)  # inf (no cool place reachable) is far
            out[f"residents_beyond_{walk_limit_min:g}_min_of_a_cool_place"] = round(float(here[far].sum()), 1)
        return out

    domain = site["domain"].values == 1
    summary = {"source": population.source, **figures(domain)}
    names = json.loads(site.attrs.get("districts", "[]"))
    district = site["district"].values
    summary["by_district"] = {name: figures(domain & (district == k)) for k, name in enumerate(names, start=1)
                              if (domain & (district == k)).any()}
    return summary

"""Who lives where, and who is exposed: residents per cell and the exposure indicators.

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

import numpy as np
import xarray as xr
from scipy import ndimage

SCHEMATIC_RESIDENTS = 28_000
SHARE_OVER_65 = 0.22
SHARE_UNDER_5 = 0.05
STOREY_HEIGHT_M = 3.0  # a storey of a Flemish dwelling, floor to floor (assumption)


def schematic_population(site: xr.Dataset, roof_codes: list[int], total: float = SCHEMATIC_RESIDENTS) -> np.ndarray:
    """Residents per cell [persons]: ``total`` over the study area's building cells, in
    proportion to floor area (footprint x max(1, round(height / 3 m)) storeys)."""
    roofs = np.isin(site["landcover"].values, roof_codes) & (site["domain"].values == 1)
    storeys = np.maximum(1.0, np.round(site["building_height"].values / STOREY_HEIGHT_M))
    floor = np.where(roofs, storeys, 0.0)
    if floor.sum() == 0:
        return np.zeros(roofs.shape)
    return total * floor / floor.sum()


def door_index(no_door: np.ndarray) -> np.ndarray:
    """For every cell, the flat index of the nearest cell that can be a door (one not in
    ``no_door``: roofs, open water); itself if it can be one."""
    if no_door.all():
        raise ValueError("no cell can be a door: every cell is a roof or water")
    _, (rows, cols) = ndimage.distance_transform_edt(no_door, return_indices=True)
    return (rows * no_door.shape[1] + cols).ravel()


def exposure_summary(site: xr.Dataset, residents: np.ndarray, no_door: np.ndarray, *, utci_hours_above: np.ndarray | None,
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
    people = residents.ravel()
    groups = {"all": 1.0, "over_65": SHARE_OVER_65, "under_5": SHARE_UNDER_5}

    def figures(mask: np.ndarray) -> dict:
        here = np.where(mask.ravel(), people, 0.0)
        out = {"residents": round(float(here.sum()), 1)}
        if utci_hours_above is not None:
            hours = np.nan_to_num(utci_hours_above.ravel()[doors])
            out["person_hours_strong_heat_stress"] = {g: round(float((here * hours).sum() * share), 1)
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
    summary = {"source": "schematic: residents spread over building floor area (heatsim/population.py)",
               "shares": {"over_65": SHARE_OVER_65, "under_5": SHARE_UNDER_5}, **figures(domain)}
    names = json.loads(site.attrs.get("districts", "[]"))
    district = site["district"].values
    summary["by_district"] = {name: figures(domain & (district == k)) for k, name in enumerate(names, start=1)
                              if (domain & (district == k)).any()}
    return summary

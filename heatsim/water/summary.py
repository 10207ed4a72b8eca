"""Indicators of a water run (``summary["water"]``) and its files.

Stable keys that scripts may read (README, "Running the water model"): ``rain_m3``,
``interception_m3``, ``infiltration_m3``, ``sewer_m3``, ``outflow_m3``, ``storage_m3``,
``mass_balance_error_rel``, ``flooded_area_m2`` (threshold in metres as a string, e.g.
``"0.05"``, to m2) and ``max_depth_m``.

The volumes are those of the whole simulated grid (water crosses the municipal boundary,
and the mass balance is closed over the grid); the flooded areas, the maximum depth and
the ``by_district`` figures are for the land of the study area (``domain == 1``, not open
water or a stream channel: water in a river, pond or brook is not a flood; water on
wetland banks built to take it counts).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from heatsim.grid import Grid
from heatsim.water.model import SNAPSHOT_FILE_ATTRS, WaterResult


def _threshold_key(threshold_m: float) -> str:
    return f"{threshold_m:.2f}"


def flood_land(site: xr.Dataset, table) -> np.ndarray:
    """Cells where standing water is a flood: the study area minus open water and stream channels."""
    water = np.isin(site["landcover"].values, [c.code for c in table.classes.values() if c.infiltration == "open_water"])
    return (site["domain"].values == 1) & ~water & (site["stream"].values != 1)


def water_summary(site: xr.Dataset, result: WaterResult, table) -> dict:
    grid = Grid.of(site)
    cell = grid.cell_area_m2
    domain = flood_land(site, table)
    led = result.ledger
    thresholds = result.parameters.flood_thresholds_m
    depth = result.max_depth_m
    infiltrated_m3 = result.infiltrated_mm * 1e-3 * cell
    summary = {
        "rain_m3": round(led.rain_m3, 3),
        "inflow_m3": round(led.inflow_m3, 3),
        "interception_m3": round(led.interception_m3, 3),
        "infiltration_m3": round(led.infiltration_m3, 3),
        "sewer_m3": round(led.sewer_m3, 3),
        "outflow_m3": round(led.outflow_m3, 3),
        "outflow_edges_m3": round(led.edge_outflow_m3, 3),
        "outflow_outlets_m3": round(led.outlet_outflow_m3, 3),
        "outlet_supply_m3": round(led.outlet_supply_m3, 3),
        "storage_m3": round(led.storage_m3, 3),
        "storage_surface_m3": round(led.surface_water_m3, 3),
        "storage_depressions_m3": round(led.depression_m3, 3),
        "initial_storage_m3": round(led.initial_storage_m3, 3),
        "mass_balance_error_rel": float(led.error_rel),
        "flooded_area_m2": {_threshold_key(t): float((depth[domain] > t).sum() * cell) for t in thresholds},
        "max_depth_m": round(float(depth[domain].max()), 4) if domain.any() else None,
        "max_speed_m_s": round(float(result.max_speed_m_s[domain].max()), 4) if domain.any() else None,
        "study_area": {
            "infiltration_m3": round(float(infiltrated_m3[site["domain"].values == 1].sum()), 3),
            "area_m2": float((site["domain"].values == 1).sum() * cell),
            "land_area_m2": float(domain.sum() * cell),
        },
        "culverts": {"count": len(result.culvert_capacity_m3_s),
                     "capacity_m3_s": [round(c, 4) for c in result.culvert_capacity_m3_s],
                     "peak_flow_m3_s": round(float(result.hydrographs["culvert_m3_s"].max()), 4)
                     if len(result.hydrographs) else 0.0},
        "steps": result.steps,
        "time_stepping": _time_stepping(result),
        "simulated_h": round(result.duration_s / 3600.0, 3),
        "by_district": _by_district(site, result, domain, site["domain"].values == 1, cell, thresholds),
    }
    return summary


def _time_stepping(result: WaterResult) -> dict:
    """How the flow was stepped: ``global`` (one CFL step for the grid) or ``local`` (the
    deep cells' sub-steps, their count, and how often each ratio was chosen)."""
    lts = result.local_steps
    if not lts:
        return {"scheme": "global"}
    return {"scheme": "local", "sub_steps": int(lts["sub_steps"]), "fast_cells_max": int(lts["fast_cells_max"]),
            "ratios_chosen": {str(k): int(v) for k, v in sorted(lts["ratios"].items())}}


def _by_district(site, result: WaterResult, land, domain, cell, thresholds) -> dict:
    names = json.loads(site.attrs.get("districts", "[]"))
    district = site["district"].values
    out = {}
    for k, name in enumerate(names, start=1):
        cells = domain & (district == k)
        if not cells.any():
            continue
        dry_land = land & (district == k)
        out[name] = {
            "area_m2": float(cells.sum() * cell),
            "flooded_area_m2": {_threshold_key(t): float((result.max_depth_m[dry_land] > t).sum() * cell)
                                for t in thresholds},
            "max_depth_m": round(float(result.max_depth_m[dry_land].max()), 4) if dry_land.any() else None,
            "infiltration_m3": round(float((result.infiltrated_mm[cells] * 1e-3 * cell).sum()), 3),
        }
    return out


def write_water_outputs(folder: Path, site: xr.Dataset, result: WaterResult, table) -> list[Path]:
    """GeoTIFFs of the maxima and the infiltrated water, NetCDF depth snapshots, CSV hydrographs."""
    folder.mkdir(parents=True, exist_ok=True)
    grid = Grid.of(site)
    written = []
    time_of_max_min = result.time_of_max_depth_s / 60.0
    maps = {
        "max_depth": (result.max_depth_m, "m", "maximum depth of free surface water"),
        "flood_depth": (np.where(flood_land(site, table), result.max_depth_m, np.nan), "m",
                        "maximum depth on the study area's land (no data on open water, stream channels and "
                        "outside the study area)"),
        "max_speed": (result.max_speed_m_s, "m s-1", "maximum flow speed where deeper than "
                      f"{result.parameters.speed_min_depth_m:g} m"),
        "time_of_max_depth": (time_of_max_min, "min", "time of the maximum depth, minutes from the storm's start "
                              "(no data where the cell stayed dry)"),
        "infiltration": (result.infiltrated_mm, "mm", "water taken into the ground (or a green-roof substrate) "
                         "per cell area"),
    }
    for name, (values, units, description) in maps.items():
        path = folder / f"{name}.tif"
        da = grid.dataarray(values.astype(np.float32), name, units, nodata=np.nan, description=description)
        da.rio.to_raster(path, compress="deflate")
        written.append(path)
    snapshot_file = folder / "depth_snapshots.nc"
    if result.snapshot_path is None or Path(result.snapshot_path).resolve() != snapshot_file.resolve():
        snapshots = result.snapshots.copy()
        snapshots["depth"].encoding.update(zlib=True, complevel=4, dtype="float32")
        snapshots.attrs.update(SNAPSHOT_FILE_ATTRS)
        snapshots.to_netcdf(snapshot_file, engine="h5netcdf")
    # else the model wrote its snapshots into this very file while it ran
    written.append(snapshot_file)
    result.hydrographs.to_csv(folder / "hydrographs.csv", float_format="%.6g")
    written.append(folder / "hydrographs.csv")
    return written

"""Indicators of a heat run (``summary["heat"]``) and its map files.

Stable keys that scripts may read (README, "Run outputs"):
``surface_temperature_15h_c`` {mean, p95, by_class}, ``air_temperature_04h_c`` {mean, ...},
``uhi_night_k``, ``energy_closure_rel``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from heatsim.grid import Grid
from heatsim.heat.hourly import FILE_ATTRS
from heatsim.heat.model import LOCAL_TZ, ROOF_CLASSES, HeatResult
from heatsim.landcover import LandCoverTable

URBAN_CORE_BUILT_SHARE = 0.35
"""A cell is in the urban core for the heat-island intensity when at least 35 % of the
land within 500 m is roofs or paving (compact/open mid-rise fabric, LCZ 2-5 in Stewart
& Oke 2012 have building + impervious surface fractions of 0.35-0.8)."""


def _stats(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"mean": None, "p95": None, "min": None, "max": None}
    return {"mean": round(float(values.mean()), 3), "p95": round(float(np.percentile(values, 95)), 3),
            "min": round(float(values.min()), 3), "max": round(float(values.max()), 3)}


def local_hour_index(fields: xr.Dataset, hour: int) -> int:
    """Index of the last reported day's ``hour``:00 local time in ``fields.time``."""
    local = pd.DatetimeIndex(fields.time.values).tz_localize("UTC").tz_convert(LOCAL_TZ)
    matches = np.flatnonzero(local.hour == hour)
    if matches.size == 0:
        raise ValueError(f"no {hour:02d}:00 in the reported hours")
    return int(matches[-1])


def hours_above(fields: xr.Dataset, name: str, threshold: float, hours: slice) -> np.ndarray:
    """Per cell, how many of the ``hours`` (an index slice of ``fields.time``) ``name`` exceeds
    ``threshold``; read one hour at a time (the fields may be a lazily opened file). [h]"""
    count = np.zeros((fields.sizes["y"], fields.sizes["x"]), dtype=np.int16)
    for t in range(hours.start, hours.stop):
        count += fields[name].isel(time=t).values > threshold
    return count.astype(np.float64)


def hourly_min(fields: xr.Dataset, name: str, hours: slice) -> np.ndarray:
    """Per cell, the least of ``name`` over the ``hours``, read one hour at a time (NaN stays NaN)."""
    low = fields[name].isel(time=hours.start).values.copy()
    for t in range(hours.start + 1, hours.stop):
        np.minimum(low, fields[name].isel(time=t).values, out=low)
    return low


def last_day_hours_above(result: HeatResult, utci_threshold_c: float) -> np.ndarray:
    """Hours of the last reported day with UTCI above the threshold, per cell [h]; computed once
    per result and threshold (the outputs, the summary and the exposure all need it)."""
    key = ("utci_hours_above", float(utci_threshold_c))
    if key not in result.reductions:
        result.reductions[key] = hours_above(result.fields, "utci", utci_threshold_c, last_day_slice(result.fields))
    return result.reductions[key]


def last_day_night_min(result: HeatResult) -> np.ndarray:
    """The least air temperature of the last reported day, per cell [degC]; computed once per result."""
    if "night_min_air" not in result.reductions:
        result.reductions["night_min_air"] = hourly_min(result.fields, "air_temperature", last_day_slice(result.fields))
    return result.reductions["night_min_air"]


def key_maps(result: HeatResult, utci_threshold_c: float) -> dict[str, xr.DataArray]:
    """The maps written as GeoTIFF: Ts at 15:00, Ta at 04:00 and 15:00, hours of UTCI above the threshold."""
    f = result.fields
    i15, i04 = local_hour_index(f, 15), local_hour_index(f, 4)
    hours = last_day_hours_above(result, utci_threshold_c).astype(np.float32)  # a copy: NaN is set below
    hours[~np.isfinite(f["utci"].isel(time=i15).values)] = np.nan
    template = f["utci"].isel(time=i15).drop_vars("time", errors="ignore")
    maps = {
        "surface_temperature_15h": f["surface_temperature"].isel(time=i15),
        "air_temperature_04h": f["air_temperature"].isel(time=i04),
        "air_temperature_15h": f["air_temperature"].isel(time=i15),
        f"utci_hours_above_{utci_threshold_c:g}": template.copy(data=hours).assign_attrs(
            units="h", long_name=f"hours of the last reported day with UTCI above {utci_threshold_c:g} C "
                                 "(strong heat stress)"),
    }
    out = {}
    for key, da in maps.items():
        da = da.drop_vars("time", errors="ignore").load()
        da.encoding = {}  # not the hourly file's (its _FillValue would clash with the GeoTIFF's nodata)
        out[key] = da
    return out


def last_day_slice(fields: xr.Dataset) -> slice:
    local = pd.DatetimeIndex(fields.time.values).tz_localize("UTC").tz_convert(LOCAL_TZ)
    last = local[-1].date()
    idx = np.flatnonzero(np.array([t.date() == last for t in local]))
    return slice(int(idx[0]), int(idx[-1]) + 1)


def heat_summary(site: xr.Dataset, table: LandCoverTable, result: HeatResult) -> dict:
    """``summary["heat"]``: town and per-district indicators of the last reported day."""
    p = result.parameters
    grid = Grid.of(site)
    f = result.fields
    i15, i04 = local_hour_index(f, 15), local_hour_index(f, 4)
    domain = site["domain"].values == 1
    lc = site["landcover"].values
    ground = domain & ~np.isin(lc, table.codes(list(ROOF_CLASSES)))
    ts15 = f["surface_temperature"].isel(time=i15).values
    ta04 = f["air_temperature"].isel(time=i04).values
    ta15 = f["air_temperature"].isel(time=i15).values
    hours32 = last_day_hours_above(result, p.utci_strong_stress_c)
    night_min = last_day_night_min(result)
    share = result.built_share
    core = domain & (share >= URBAN_CORE_BUILT_SHARE) & ground
    rural = result.rural
    by_class = {cls.name: round(float(ts15[domain & (lc == cls.code)].mean()), 3)
                for cls in table.classes.values() if (domain & (lc == cls.code)).any()}
    cell = grid.cell_area_m2
    summary = {
        "day": str(pd.Timestamp(f.time.values[i15]).tz_localize("UTC").tz_convert(LOCAL_TZ).date()),
        "surface_temperature_15h_c": {**_stats(ts15[domain]), "by_class": by_class},
        "air_temperature_04h_c": _stats(ta04[ground]),
        "air_temperature_15h_c": _stats(ta15[ground]),
        "uhi_night_k": (round(float(ta04[core].mean() - ta04[rural].mean()), 3)
                        if core.any() and rural.any() else None),
        "uhi_cells": {"urban_core": int(core.sum()), "rural": int(rural.sum()),
                      "urban_core_rule": f"built share within {p.rural_radius_m:g} m >= {URBAN_CORE_BUILT_SHARE}",
                      "rural_rule": f"built share within {p.rural_radius_m:g} m < {p.rural_built_share_max}"},
        "mean_radiant_temperature_15h_c": _stats(f["mean_radiant_temperature"].isel(time=i15).values[ground]),
        "utci_15h_c": _stats(f["utci"].isel(time=i15).values[ground]),
        "strong_heat_stress": {
            "threshold_utci_c": p.utci_strong_stress_c,
            "mean_hours": round(float(hours32[ground].mean()), 3),
            "area_m2_at_least_1h": float((hours32[ground] >= 1).sum() * cell),
            "area_m2_at_15h": float((f["utci"].isel(time=i15).values[ground] > p.utci_strong_stress_c).sum() * cell),
        },
        "tropical_night": {"threshold_c": p.tropical_night_c,
                           "area_m2": float((night_min[ground] > p.tropical_night_c).sum() * cell)},
        "energy_closure_rel": result.ledger.closure_rel,
        "energy_ledger_mj_m2": _ledger_totals(result),
        "by_district": _by_district(site, ts15, ta04, hours32, domain, ground),
    }
    return summary


def _ledger_totals(result: HeatResult) -> dict:
    """Energy per m2 of the study area over the reported days (after the spin-up). [MJ m-2]"""
    led = result.ledger
    keep = np.asarray(led.reported, dtype=bool)
    scale = result.parameters.time_step_s / led.area_m2 / 1e6
    terms = {"net_radiation": led.net_radiation_w, "sensible": led.sensible_w, "latent": led.latent_w,
             "storage_change": led.storage_change_w, "bottom": led.bottom_w}
    out = {name: round(float(np.asarray(values)[keep].sum()) * scale, 4) for name, values in terms.items()}
    out["days"] = round(float(keep.sum()) * result.parameters.time_step_s / 86400.0, 3)
    return out


def _by_district(site, ts15, ta04, hours32, domain, ground) -> dict:
    names = json.loads(site.attrs.get("districts", "[]"))
    district = site["district"].values
    out = {}
    for k, name in enumerate(names, start=1):
        cells = domain & (district == k)
        g = ground & (district == k)
        if not cells.any():
            continue
        out[name] = {"surface_temperature_15h_c": round(float(ts15[cells].mean()), 3),
                     "air_temperature_04h_c": round(float(ta04[g].mean()), 3) if g.any() else None,
                     "strong_heat_stress_mean_hours": round(float(hours32[g].mean()), 3) if g.any() else None,
                     "area_m2": float(cells.sum() * Grid.of(site).cell_area_m2)}
    return out


def write_heat_outputs(folder: Path, site: xr.Dataset, result: HeatResult) -> list[Path]:
    """NetCDF of the hourly fields and GeoTIFFs of the key maps into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    hourly = folder / "hourly.nc"
    if result.hourly_path is None or Path(result.hourly_path).resolve() != hourly.resolve():
        fields = result.fields.copy()
        for da in fields.data_vars.values():
            da.encoding.update(zlib=True, complevel=4, dtype="float32")
        fields.attrs.update(FILE_ATTRS)
        fields.to_netcdf(hourly, engine="h5netcdf")
    # else the model streamed its fields into this very file while it ran
    written.append(hourly)
    for name, da in key_maps(result, result.parameters.utci_strong_stress_c).items():
        path = folder / f"{name}.tif"
        da = da.rio.write_crs(site.rio.crs).rio.write_transform(Grid.of(site).transform)
        da.rio.write_nodata(np.nan, encoded=False).rio.to_raster(path, compress="deflate")
        written.append(path)
    svf = Grid.of(site).dataarray(result.sky_view.astype(np.float32), "sky_view_factor", "1")
    svf.rio.to_raster(folder / "sky_view_factor.tif", compress="deflate")
    written.append(folder / "sky_view_factor.tif")
    return written


#: green cells count as "green in town" where at least this share of the land within
#: ``rural_radius_m`` is built: parks and gardens among houses, not the open country
GREEN_IN_TOWN_BUILT_SHARE = 0.2


def diurnal_course(site: xr.Dataset, table: LandCoverTable, result: HeatResult) -> pd.DataFrame:
    """Hourly means of surface and air temperature [C] in three kinds of place.

    ``urban_core``: ground cells of the study area in the urban core (the heat-island
    rule of :func:`heat_summary`); ``green_in_town``: grass and tree cells with at least
    :data:`GREEN_IN_TOWN_BUILT_SHARE` built land around them; ``rural``: the model's
    rural reference cells. Rows are the reported hours (local time, the spin-up left
    out); columns ``<place>_surface_c`` and ``<place>_air_c``, plus ``<place>_cells``
    repeated per row so that a reader sees how many cells each mean covers.
    """
    f = result.fields
    domain = site["domain"].values == 1
    lc = site["landcover"].values
    ground = domain & ~np.isin(lc, table.codes(list(ROOF_CLASSES)))
    share = result.built_share
    green = np.isin(lc, table.codes([c for c in ("grass", "trees") if c in table.classes]))
    places = {"urban_core": domain & ground & (share >= URBAN_CORE_BUILT_SHARE),
              "green_in_town": domain & green & (share >= GREEN_IN_TOWN_BUILT_SHARE),
              "rural": result.rural}
    day = last_day_slice(f)
    local = pd.DatetimeIndex(f.time.values[day]).tz_localize("UTC").tz_convert(LOCAL_TZ)
    out = pd.DataFrame({"local_time": local.strftime("%Y-%m-%d %H:%M")})
    means = {(name, var): [] for name in places for var in ("surface_temperature", "air_temperature")}
    for t in range(day.start, day.stop):  # one hour at a time: the fields may be a lazily opened file
        for var in ("surface_temperature", "air_temperature"):
            values = f[var].isel(time=t).values
            for name, cells in places.items():
                means[name, var].append(values[cells].mean() if cells.any() else np.nan)
    for name, cells in places.items():
        n = int(cells.sum())
        out[f"{name}_surface_c"] = np.round(means[name, "surface_temperature"], 3) if n else np.nan
        out[f"{name}_air_c"] = np.round(means[name, "air_temperature"], 3) if n else np.nan
        out[f"{name}_cells"] = n
    return out

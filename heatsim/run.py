"""A run: scenario + site + weather + models -> a results folder.

The folder is built under a hidden temporary name beside its final place and
renamed when everything is written, so an interrupted run leaves no folder that
looks complete, and a run never replaces an earlier one (a new name is chosen).

Layout::

    <run>/manifest.json     provenance: scenario texts, input hashes, versions, parameters, wall time
    <run>/summary.json      indicators (``summary["heat"]``; ``summary["water"]`` with the water model)
    <run>/scenario/*.yaml   the scenario files of the chain, as run
    <run>/heat/hourly.nc    hourly fields (CF-NetCDF)
    <run>/heat/*.tif        key maps (GeoTIFF, the site's CRS)
    <run>/heat/diurnal.csv  hourly mean surface and air temperature: urban core, green in town, rural
    <run>/changed.tif       1 where the scenario changed the site
    <run>/exposure/walking_time_to_cool_place.tif
    <run>/water/*.tif       maximum depth and speed, time of the maximum, infiltration (GeoTIFF)
    <run>/water/depth_snapshots.nc, hydrographs.csv
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from heatsim import __version__
from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.paths import current_umask, results_dir, sha256
from heatsim.scenario import apply_scenario, load_scenario


def new_run_folder(parent: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = parent / f"{name}-{stamp}"
    k = 2
    while folder.exists():
        folder = parent / f"{name}-{stamp}-{k}"
        k += 1
    return folder


def _exposure(site, table, heat_result, water_result, site_folder=None):
    """Residents exposed to heat stress, tropical nights and flooding, and beyond a 15-minute
    walk of a cool place (heatsim/population.py, heatsim/walking.py); returns the summary and
    the walking-time map [min] (None without the heat model)."""

    from heatsim.grid import Grid
    from heatsim.heat.model import ROOF_CLASSES
    from heatsim.heat.summary import key_maps, last_day_night_min, local_hour_index
    from heatsim.population import exposure_summary, population_for
    from heatsim.walking import cool_places, targets_for, walkable_cells, walking_time_s

    roof_codes = table.codes(list(ROOF_CLASSES))
    population = population_for(site, site_folder, roof_codes)
    codes = {c.name: c.code for c in table.classes.values()}
    walkable = walkable_cells(site["landcover"].values, codes)  # doors open onto walkable cells
    hours = night = walk = None
    if heat_result is not None:
        p = heat_result.parameters
        hours = key_maps(heat_result, p.utci_strong_stress_c)[f"utci_hours_above_{p.utci_strong_stress_c:g}"].values
        fields = heat_result.fields
        night = last_day_night_min(heat_result)
        utci15 = fields["utci"].isel(time=local_hour_index(fields, 15)).values
        grid = Grid.of(site)
        lc = site["landcover"].values
        places = cool_places(lc, utci15, codes, grid.cell_area_m2, threshold_c=p.utci_strong_stress_c)
        walk = walking_time_s(walkable, targets_for(places, walkable), grid.resolution_m)
    depth = water_result.max_depth_m if water_result is not None else None
    summary = exposure_summary(site, population, ~walkable, utci_hours_above=hours, night_min_air_c=night, max_depth_m=depth,
                               walking_time_s=walk)
    return summary, (None if walk is None else walk / 60.0)


def input_files(scenario) -> list[Path]:
    """Every file a run of ``scenario`` reads: the site's inputs (not its build cache), the
    interventions' geometries, inflow hydrographs and rain or weather files."""
    from heatsim.site.store import resolve_site

    site_folder = resolve_site(scenario.site)
    files = sorted(p for p in site_folder.rglob("*") if p.is_file() and "build" not in p.relative_to(site_folder).parts)
    files += [g.geometry_file for g in scenario.interventions if g.geometry_file is not None]
    files += [b.hydrograph for b in scenario.water.inflows]
    for cfg in (scenario.weather.storm, scenario.weather.heat):
        if cfg is not None and cfg.file:
            files.append(Path(cfg.file))
    return files


def code_fingerprint() -> str:
    """SHA-256 over heatsim's own source and data files: a development checkout changes its
    code without changing its version, and a run made by other code must not be reused."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".csv", ".json")
                       and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(scenario, resolution_m: float | None, hashes: dict[str, str] | None = None) -> str:
    """A fingerprint of everything that determines a run's results: heatsim's version and
    code, the resolution, the scenario files' text and the content of every input file. Two
    runs with the same key are interchangeable (``heatsim compare`` reuses finished runs by it)."""
    hashes = hashes if hashes is not None else {str(p): sha256(p) for p in input_files(scenario)}
    content = {"heatsim": __version__, "code": code_fingerprint(), "resolution_m": resolution_m,
               "scenario": sorted(p.read_text(encoding="utf-8") for p in scenario.chain),
               "inputs": sorted(hashes.values())}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def run_scenario(scenario_path: Path, out: Path | None = None, resolution_m: float | None = None,
                 progress=None, say=print, tiling=None) -> Path:
    """Run the models a scenario asks for and write a new run folder; returns its path.

    A storm runs the water model; hot days run the heat model; with both, the storm comes
    first and the water it left in the ground and in depressions is the heat model's start.
    ``progress(model, done, total)`` is called as the models advance. ``tiling`` (a
    :class:`heatsim.tiling.Tiling`) computes what is tiled so far by chunks with dask.
    """
    from heatsim.heat.model import HeatModel
    from heatsim.heat.parameters import HeatParameters
    from heatsim.heat.summary import diurnal_course, heat_summary, write_heat_outputs
    from heatsim.rain import load_storm
    from heatsim.site.store import load_site, resolve_site
    from heatsim.water.model import WaterModel
    from heatsim.water.summary import water_summary, write_water_outputs
    from heatsim.weather import load_heat_weather

    started = time.time()
    scenario = load_scenario(scenario_path)
    hashes = {str(p): sha256(p) for p in input_files(scenario)}  # before the run: the inputs it reads
    storm_cfg, heat_cfg = scenario.weather.storm, scenario.weather.heat
    if storm_cfg is None and heat_cfg is None:
        raise InputError(scenario.path, "weather", "asks for neither a storm nor hot days; give weather.storm "
                         "and/or weather.heat")
    if out is not None and Path(out).exists():
        raise InputError(out, "out", "exists; runs never replace an earlier run, choose a new folder")
    res = scenario.resolution_m if resolution_m is None else resolution_m
    site = load_site(scenario.site, res)
    site, reports, changed = apply_scenario(site, scenario)
    # the site as loaded is held by a reference cycle (xarray caches its .rio accessor, which holds
    # the dataset) until the cyclic collector runs: 1.6 GiB at 1 m, freed now rather than later
    gc.collect()
    # read every input before the first model starts: a bad file fails in seconds, not after a model
    storm = load_storm(storm_cfg, source=str(scenario.path)) if storm_cfg is not None else None
    weather = (load_heat_weather(heat_cfg.preset or heat_cfg.file, days=heat_cfg.days, spinup_days=heat_cfg.spinup_days)
               if heat_cfg is not None else None)
    water_model = (WaterModel(site, scenario.table, storm, scenario.water, source=str(scenario.water.source or
                                                                                       scenario.path))
                   if storm is not None else None)
    final = Path(out) if out is not None else new_run_folder(results_dir(), scenario.name)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", suffix=".partial", dir=final.parent))
    water_result = heat_result = params = None
    try:
        if water_model is not None:
            water_model.tiling = tiling
        if water_model is not None:
            say(f"water model: {site.sizes['x']} x {site.sizes['y']} cells, {storm.name}: {storm.depth_mm:.1f} mm in "
                f"{storm.duration_s / 3600:g} h, then {scenario.water.setup.after_storm_h:g} h")
            water_result = water_model.run(progress=None if progress is None else
                                           (lambda done, total: progress("water", done, total)),
                                           snapshot_path=tmp / "water" / "depth_snapshots.nc")
        if weather is not None:
            params = HeatParameters(time_step_s=float(heat_cfg.time_step_s))
            coupling = {}
            if water_result is not None:
                coupling = dict(storm_water_mm=water_result.infiltrated_mm, ponded_water_mm=water_result.depression_mm)
            model = HeatModel(site, scenario.table, weather, params, **coupling)
            model.tiling = tiling
            say(f"heat model: {site.sizes['x']} x {site.sizes['y']} cells, {heat_cfg.spinup_days} spin-up + "
                f"{heat_cfg.days} day(s) of {weather.name}, steps of {heat_cfg.time_step_s} s"
                + (", soil water from the storm" if coupling else ""))
            # the hourly fields go straight into the run's file, band by band: a 1 m town's do not fit in memory
            heat_result = model.run(progress=None if progress is None else
                                    (lambda done, total: progress("heat", done, total)),
                                    hourly_path=tmp / "heat" / "hourly.nc")
            del model  # its state is ~100 B per grid cell; the result keeps what the outputs need
        water_model = None
        (tmp / "scenario").mkdir()
        for path in scenario.chain:
            shutil.copy2(path, tmp / "scenario" / path.name)
        summary = {"scenario": scenario.name, "title": scenario.title,
                   "site": {"name": site.attrs.get("name"), "resolution_m": float(site.attrs["resolution_m"]),
                            "folder": str(resolve_site(scenario.site))}}
        if water_result is not None:
            write_water_outputs(tmp / "water", site, water_result, scenario.table)
            summary["water"] = water_summary(site, water_result, scenario.table)
        if heat_result is not None:
            write_heat_outputs(tmp / "heat", site, heat_result)
            summary["heat"] = heat_summary(site, scenario.table, heat_result)
            diurnal_course(site, scenario.table, heat_result).to_csv(tmp / "heat" / "diurnal.csv", index=False)
        summary["exposure"], walk_min = _exposure(site, scenario.table, heat_result, water_result,
                                                  resolve_site(scenario.site))
        if walk_min is not None:
            (tmp / "exposure").mkdir()
            walk_map = Grid.of(site).dataarray(np.where(np.isfinite(walk_min), walk_min, np.nan).astype(np.float32),
                                               "walking_time_to_cool_place", "min", nodata=np.nan,
                                               description="walk to the nearest cool place (heatsim/walking.py); "
                                                           "no data where none can be reached or the cell is not walkable")
            walk_map.rio.to_raster(tmp / "exposure" / "walking_time_to_cool_place.tif", compress="deflate")
        # the cells the scenario changed, for the maps that outline them
        Grid.of(site).dataarray(changed.astype(np.uint8), "changed", "1", description="1 where the scenario "
                                "changed the site (land cover, terrain, trees), else 0").rio.to_raster(
            tmp / "changed.tif", compress="deflate")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        manifest = {
            "run_key": run_key(scenario, float(site.attrs["resolution_m"]), hashes),
            "heatsim": __version__, "python": platform.python_version(), "machine": platform.machine(),
            "scenario": {str(p): p.read_text(encoding="utf-8") for p in scenario.chain},
            "inputs_sha256": hashes,
            "weather": {
                "storm": None if storm is None else {"preset": storm_cfg.preset, "file": storm_cfg.file,
                                                     "depth_mm": storm.depth_mm, "duration_s": storm.duration_s},
                "heat": None if weather is None else {"preset": heat_cfg.preset, "file": heat_cfg.file,
                                                      "source": weather.source, "days": heat_cfg.days,
                                                      "spinup_days": heat_cfg.spinup_days,
                                                      "time_step_s": heat_cfg.time_step_s}},
            "water_setup": scenario.water.setup.model_dump() if storm is not None else None,
            "water_parameters": None if water_result is None else dataclasses.asdict(water_result.parameters),
            "heat_parameters": None if params is None else {k: v for k, v in dataclasses.asdict(params).items()
                                                            if k != "extra"},
            "land_cover_overrides": scenario.parameters,
            "interventions": [r.lines()[0] for r in reports],
            "tiling": None if tiling is None else {"chunk_cells": int(tiling.chunk_cells),
                                                   "scheduler": tiling.described_as or str(tiling.scheduler
                                                                                           or "threads")},
            "wall_time_s": round(time.time() - started, 2),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        os.chmod(tmp, 0o777 & ~current_umask())
        if final.exists():
            raise InputError(final, "out", "appeared while the run was writing; the run is kept in " + str(tmp))
        tmp.rename(final)
    except BaseException:
        if tmp.exists() and not (tmp / "manifest.json").exists():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:  # the results read lazily from the run's files
        if heat_result is not None:
            heat_result.fields.close()
        if water_result is not None:
            water_result.snapshots.close()
    return final

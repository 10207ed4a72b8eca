"""Text renderings of sites and scenario checks (kept out of the CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.landcover import default_table


def site_summary_lines(site: xr.Dataset) -> list[str]:
    """Grid, area per land-cover class inside the study area, terrain range, districts."""
    grid = Grid.of(site)
    table = default_table()
    domain = site["domain"].values == 1
    lc = site["landcover"].values[domain]
    elev = site["elevation"].values[domain]
    lines = [f"site {site.attrs.get('name')}: {grid.nx} x {grid.ny} cells of {grid.resolution_m:g} m in {grid.crs}, "
             f"study area {domain.sum() * grid.cell_area_m2 / 1e6:.2f} km2, "
             f"elevation {elev.min():.1f} to {elev.max():.1f} m"]
    for cls in table.classes.values():
        n = int((lc == cls.code).sum())
        if n:
            lines.append(f"    {cls.label:26s} {n * grid.cell_area_m2 / 1e4:9.1f} ha  {100 * n / lc.size:5.1f} %")
    canopy = site["canopy"].values[domain]
    lines.append(f"    tree canopy cover {100 * canopy.mean():.1f} %, sealed {100 * site['impervious'].values[domain].mean():.1f} %, "
                 f"districts: {', '.join(json.loads(site.attrs.get('districts', '[]')))}")
    return lines


def check_scenarios(paths: list[Path], resolution_m: float | None, say: Callable[[str], None],
                    complain: Callable[[str], None]) -> int:
    """Load, validate and apply each scenario; print its changes. Returns the number that failed."""
    from heatsim.scenario import apply_scenario, load_scenario
    from heatsim.site.store import load_site

    sites: dict[tuple[str, float | None], xr.Dataset] = {}
    failures = 0
    for path in paths:
        try:
            scenario = load_scenario(path)
            res = scenario.resolution_m if resolution_m is None else resolution_m
            key = (scenario.site, res)
            if key not in sites:
                sites[key] = load_site(scenario.site, res)
            changed_site, reports, changed = apply_scenario(sites[key], scenario)
            if scenario.weather.storm is not None:
                # the storm, its boundaries (geometries on the site, hydrographs) and the DTM, as a run reads them
                from heatsim.rain import load_storm
                from heatsim.water.model import WaterModel

                storm = load_storm(scenario.weather.storm, source=str(scenario.path))
                WaterModel(changed_site, scenario.table, storm, scenario.water,
                           source=str(scenario.water.source or scenario.path))
            heat = scenario.weather.heat
            if heat is not None and heat.file is not None:
                from heatsim.weather import load_heat_weather

                load_heat_weather(heat.file, days=heat.days, spinup_days=heat.spinup_days)
        except InputError as exc:
            complain(exc.one_line())
            failures += 1
            continue
        site = sites[key]
        grid = Grid.of(site)
        lineage = []
        if scenario.bases:
            lineage.append("inherits from " + " <- ".join(scenario.bases))
        if scenario.includes:
            lineage.append("includes " + ", ".join(scenario.includes))
        weather = ", then ".join(f"{k} {v.preset or Path(v.file).name}" for k, v in (
            ("storm", scenario.weather.storm), ("heat", scenario.weather.heat)) if v)
        say(f"ok {scenario.name}: {scenario.title}")
        say(f"    site {site.attrs['name']} at {grid.resolution_m:g} m; weather: {weather or 'none'}"
            + "".join(f"; {part}" for part in lineage))
        if scenario.parameters:
            say(f"    parameter overrides: {json.dumps(scenario.parameters)}")
        for report in reports:
            for line in report.lines():
                say("    " + line)
        if reports:
            say(f"    in all: {int(np.count_nonzero(changed))} cells changed "
                f"({np.count_nonzero(changed) * grid.cell_area_m2 / 1e4:.2f} ha)")
    return failures

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
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from heatsim import __version__
from heatsim.errors import InputError
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


def run_scenario(scenario_path: Path, out: Path | None = None, resolution_m: float | None = None,
                 progress=None, say=print) -> Path:
    """Run the models a scenario asks for and write a new run folder; returns its path."""
    from heatsim.heat.model import HeatModel
    from heatsim.heat.parameters import HeatParameters
    from heatsim.heat.summary import heat_summary, write_heat_outputs
    from heatsim.site.store import load_site, resolve_site
    from heatsim.weather import load_heat_weather

    started = time.time()
    scenario = load_scenario(scenario_path)
    if scenario.weather.heat is None:
        raise InputError(scenario.path, "weather.heat", "this scenario asks for no hot days; the heat model "
                         "is the only model so far (the water model comes with issue 4)")
    if out is not None and Path(out).exists():
        raise InputError(out, "out", "exists; runs never replace an earlier run, choose a new folder")
    res = scenario.resolution_m if resolution_m is None else resolution_m
    site = load_site(scenario.site, res)
    site, reports, changed = apply_scenario(site, scenario)
    heat_cfg = scenario.weather.heat
    weather = load_heat_weather(heat_cfg.preset or heat_cfg.file, days=heat_cfg.days, spinup_days=heat_cfg.spinup_days)
    params = HeatParameters(time_step_s=float(heat_cfg.time_step_s))
    model = HeatModel(site, scenario.table, weather, params)
    say(f"heat model: {site.sizes['x']} x {site.sizes['y']} cells, {heat_cfg.spinup_days} spin-up + "
        f"{heat_cfg.days} day(s) of {weather.name}, steps of {heat_cfg.time_step_s} s")
    result = model.run(progress=progress)
    final = Path(out) if out is not None else new_run_folder(results_dir(), scenario.name)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", suffix=".partial", dir=final.parent))
    try:
        (tmp / "scenario").mkdir()
        for path in scenario.chain:
            shutil.copy2(path, tmp / "scenario" / path.name)
        write_heat_outputs(tmp / "heat", site, result)
        summary = {"scenario": scenario.name, "title": scenario.title,
                   "site": {"name": site.attrs.get("name"), "resolution_m": float(site.attrs["resolution_m"])},
                   "heat": heat_summary(site, scenario.table, result)}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        site_folder = resolve_site(scenario.site)
        inputs = sorted(p for p in site_folder.rglob("*") if p.is_file() and "build" not in p.relative_to(site_folder).parts)
        manifest = {
            "heatsim": __version__, "python": platform.python_version(), "machine": platform.machine(),
            "scenario": {str(p): p.read_text(encoding="utf-8") for p in scenario.chain},
            "inputs_sha256": {str(p): sha256(p) for p in inputs + [g.geometry_file for g in scenario.interventions
                                                                   if g.geometry_file is not None]},
            "weather": {"preset": heat_cfg.preset, "file": heat_cfg.file, "source": weather.source,
                        "days": heat_cfg.days, "spinup_days": heat_cfg.spinup_days,
                        "time_step_s": heat_cfg.time_step_s},
            "heat_parameters": {k: v for k, v in dataclasses.asdict(params).items() if k != "extra"},
            "land_cover_overrides": scenario.parameters,
            "interventions": [r.lines()[0] for r in reports],
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
    return final

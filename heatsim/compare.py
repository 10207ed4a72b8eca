"""Compare scenarios with a base: indicators side by side and difference maps.

``heatsim compare BASE SCENARIO...`` runs what is needed (a finished run in ``results/``
whose manifest has the same run key, i.e. the same heatsim version, resolution, scenario
texts and input files, is reused), then writes a new comparison folder::

    <cmp>/indicators.csv, indicators.json   every numeric indicator of summary.json (heat, water
                                           and exposure; town and districts) per scenario, and
                                           scenario minus base
    <cmp>/maps/<scenario>-minus-<base>-<map>.tif   difference maps (GeoTIFF; pictures in the report)
    <cmp>/runs.json                         the run folder used for each scenario

Scenarios on different sites or grids are refused: their maps cannot be subtracted.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import rioxarray

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.paths import current_umask, new_path, results_dir

#: the difference maps: name -> (file in a run folder, what it is, unit)
DIFFERENCE_MAPS = {
    "surface_temperature_15h": ("heat/surface_temperature_15h.tif", "surface temperature at 15:00", "K"),
    "air_temperature_04h": ("heat/air_temperature_04h.tif", "air temperature at 04:00", "K"),
    "utci_hours_above_32": ("heat/utci_hours_above_32.tif", "hours of strong heat stress (UTCI > 32 C)", "h"),
    "flood_depth": ("water/flood_depth.tif", "maximum flood depth on land", "m"),
    "infiltration": ("water/infiltration.tif", "water infiltrated", "mm"),
}


def flatten(summary: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a summary as ``{"heat.surface_temperature_15h_c.mean": value}``."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, (int, float)):
            out[name] = float(value)
    return out


def effective_resolution(scenario, resolution_m: float | None) -> float:
    from heatsim.site.store import read_definition, resolve_site

    if resolution_m is not None:
        return float(resolution_m)
    if scenario.resolution_m is not None:
        return float(scenario.resolution_m)
    return float(read_definition(resolve_site(scenario.site))["resolution_m"])


def find_finished_run(key: str, folder: Path) -> Path | None:
    """The newest complete run folder (it has a manifest) under ``folder`` with this run key."""
    if not folder.is_dir():
        return None
    found = []
    for manifest in folder.glob("*/manifest.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("run_key") == key and (manifest.parent / "summary.json").is_file():
            found.append(manifest.parent)
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def compare(base: Path, scenarios: list[Path], out: Path | None = None, resolution_m: float | None = None,
            progress=None, say=print) -> Path:
    """Run (or reuse) the base and each scenario and write a comparison folder; returns it."""
    from heatsim.run import input_files, run_key, run_scenario
    from heatsim.scenario import load_scenario
    from heatsim.paths import sha256

    if out is not None and Path(out).exists():
        raise InputError(out, "out", "exists; comparisons never replace an earlier one, choose a new folder")
    paths = [Path(base)] + [Path(s) for s in scenarios]
    loaded = [load_scenario(p) for p in paths]
    sites = {(s.site, effective_resolution(s, resolution_m)) for s in loaded}
    if len(sites) > 1:
        listed = "; ".join(f"{s.path.name}: site {s.site} at {effective_resolution(s, resolution_m):g} m" for s in loaded)
        raise InputError(paths[1] if len(paths) > 1 else paths[0], "site",
                         f"scenarios on different sites or grids cannot be compared ({listed})")
    runs: dict[Path, Path] = {}  # scenario file -> run folder
    for scenario in loaded:
        if scenario.path in runs:
            continue
        res = effective_resolution(scenario, resolution_m)
        key = run_key(scenario, res, {str(p): sha256(p) for p in input_files(scenario)})
        folder = find_finished_run(key, results_dir())
        if folder is not None:
            say(f"{scenario.name}: reusing {folder}")
        else:
            say(f"{scenario.name}: running at {res:g} m")
            folder = run_scenario(scenario.path, resolution_m=res, progress=progress, say=say)
        runs[scenario.path] = folder
    # columns: the base, then each scenario as given (a scenario given twice, or the base
    # itself, gets a numbered label: comparing a scenario with itself must show zeros)
    labels: list[str] = []
    for scenario in loaded:
        label, k = scenario.name, 2
        while label in labels:
            label, k = f"{scenario.name}#{k}", k + 1
        labels.append(label)
    folder_of = {label: runs[s.path] for label, s in zip(labels, loaded)}
    base_name = labels[0]
    summaries = {n: json.loads((folder_of[n] / "summary.json").read_text(encoding="utf-8")) for n in labels}
    flat = {n: flatten({k: v for k, v in summaries[n].items() if k in ("heat", "water", "exposure")}) for n in labels}
    _check_same_grid(folder_of)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    final = Path(out) if out is not None else new_path(results_dir() / f"compare-{loaded[0].name}-{stamp}")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", suffix=".partial", dir=final.parent))
    try:
        _write_table(tmp, base_name, labels, flat)
        (tmp / "maps").mkdir()
        for name in labels[1:]:
            for key, (rel, what, unit) in DIFFERENCE_MAPS.items():
                a, b = folder_of[base_name] / rel, folder_of[name] / rel
                if a.is_file() and b.is_file():
                    path = tmp / "maps" / f"{name.replace('#', '-')}-minus-{base_name}-{key}.tif"
                    _difference_map(a, b, path, what, unit, name, base_name)
        (tmp / "runs.json").write_text(json.dumps({n: str(p) for n, p in folder_of.items()}, indent=2),
                                       encoding="utf-8")
        os.chmod(tmp, 0o777 & ~current_umask())
        if final.exists():
            raise InputError(final, "out", "appeared while the comparison was writing; it is kept in " + str(tmp))
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _check_same_grid(runs: dict[str, Path]) -> None:
    grids = {}
    for name, folder in runs.items():
        for rel, _, _ in DIFFERENCE_MAPS.values():
            if (folder / rel).is_file():
                grids[name] = Grid.of(rioxarray.open_rasterio(folder / rel).squeeze("band", drop=True), str(folder / rel))
                break
    first = next(iter(grids.values()), None)
    for name, grid in grids.items():
        if not grid.same_as(first):
            raise InputError(runs[name], "grid", f"{name}'s run is on another grid than the base's; "
                             "scenarios on different sites or grids cannot be compared")


def _write_table(folder: Path, base: str, names: list[str], flat: dict[str, dict[str, float]]) -> None:
    keys = sorted(set().union(*(flat[n].keys() for n in names)))
    others = [n for n in names if n != base]
    rows = []
    for key in keys:
        row = {"indicator": key, base: flat[base].get(key)}
        for n in others:
            value = flat[n].get(key)
            row[n] = value
            base_value = flat[base].get(key)
            row[f"{n} - {base}"] = (value - base_value if value is not None and base_value is not None else None)
        rows.append(row)
    (folder / "indicators.json").write_text(json.dumps({"base": base, "scenarios": others, "rows": rows}, indent=2),
                                            encoding="utf-8")
    columns = ["indicator", base] + [c for n in others for c in (n, f"{n} - {base}")]
    lines = [",".join(_csv(c) for c in columns)]
    for row in rows:
        lines.append(",".join(_csv(row[c]) for c in columns))
    (folder / "indicators.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _csv(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.10g}"
    text = str(value)
    return f'"{text}"' if "," in text or '"' in text else text


def _difference_map(base_tif: Path, scenario_tif: Path, path: Path, what: str, unit: str, name: str,
                    base: str) -> None:
    """Scenario minus base as a GeoTIFF (its picture is drawn by the report, heatsim.report.figures)."""
    a = rioxarray.open_rasterio(base_tif, masked=True).squeeze("band", drop=True)
    b = rioxarray.open_rasterio(scenario_tif, masked=True).squeeze("band", drop=True)
    diff = (b - a).astype(np.float32)
    diff.attrs = {"units": unit, "long_name": f"{what}: {name} minus {base}"}
    diff = diff.rio.write_crs(a.rio.crs).rio.write_nodata(np.nan, encoded=False)
    diff.rio.to_raster(path, compress="deflate")

"""heatsim compare: indicator tables and difference maps, reuse of finished runs, refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import rioxarray
from conftest import cell_box, polygon_geojson

from heatsim.cli import main
from heatsim.compare import flatten

WEATHER = ("weather:\n  storm: {preset: composite-t2}\n"
           "  heat: {preset: warme-zomerdag, days: 1, spinup_days: 0, time_step_s: 900}\n"
           "water: {after_storm_h: 0.25}\n")


def test_flatten_keeps_numeric_leaves_with_their_paths():
    flat = flatten({"heat": {"a": 1, "b": {"c": 2.5, "d": None, "e": "text"}}, "water": {"f": {"0.05": 3}}})
    assert flat == {"heat.a": 1.0, "heat.b.c": 2.5, "water.f.0.05": 3.0}


def test_comparing_a_scenario_with_itself_gives_zero_everywhere_and_reuses_the_run(tmp_path, scenario_dir,
                                                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # results/ goes here
    base = scenario_dir("base", "name: base\ntitle: base\nsite: SITE\n" + WEATHER)
    assert main(["compare", str(base), str(base), "--out", str(tmp_path / "same")]) == 0
    runs = [p for p in (tmp_path / "results").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1  # the base ran once
    table = json.loads((tmp_path / "same" / "indicators.json").read_text())
    assert table["scenarios"] == ["base#2"] and len(table["rows"]) > 50
    assert {r["indicator"] for r in table["rows"]} >= {"heat.surface_temperature_15h_c.mean", "water.rain_m3",
                                                       "exposure.person_hours_strong_heat_stress.all"}
    differences = [r["base#2 - base"] for r in table["rows"] if r["base#2 - base"] is not None]
    assert len(differences) == len(table["rows"]) and all(d == 0.0 for d in differences)
    for tif in (tmp_path / "same" / "maps").glob("*.tif"):
        values = rioxarray.open_rasterio(tif).values
        assert np.nanmax(np.abs(values)) == 0.0, tif.name
    assert len(list((tmp_path / "same" / "maps").glob("*.tif"))) == 5
    # a second comparison reuses the finished run instead of running again
    assert main(["compare", str(base), str(base), "--out", str(tmp_path / "again")]) == 0
    assert "reusing" in capsys.readouterr().out
    assert len([p for p in (tmp_path / "results").iterdir() if not p.name.startswith(".")]) == 1


def test_a_depaved_square_shows_as_cooler_and_wetter_in_the_comparison(tmp_path, scenario_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = scenario_dir("base", "name: base\ntitle: base\nsite: SITE\n" + WEATHER)
    scenario_dir.geometry("square", polygon_geojson(cell_box(10, 30, 5, 25)))  # the tiny site's asphalt square
    green = scenario_dir("green", "name: green\ntitle: green\nbase: base\ninterventions:\n"
                                  "  - {kind: depave, geometry: geometries/square.geojson, to: grass}\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(green), "--out", str(out)]) == 0
    table = pd.read_csv(out / "indicators.csv", index_col="indicator")
    assert table.loc["heat.surface_temperature_15h_c.mean", "green - base"] < 0
    assert table.loc["water.infiltration_m3", "green - base"] > 0
    assert table.loc["water.sewer_m3", "green - base"] < 0
    for key in ("surface_temperature_15h", "air_temperature_04h", "utci_hours_above_32", "flood_depth", "infiltration"):
        assert (out / "maps" / f"green-minus-base-{key}.tif").is_file()
    tif = rioxarray.open_rasterio(out / "maps" / "green-minus-base-surface_temperature_15h.tif").squeeze()
    assert tif.rio.crs.to_epsg() == 31370
    diff = tif.values
    square = np.zeros(diff.shape, bool)
    square[10:30, 5:25] = True
    assert np.nanmean(diff[square]) < -5.0  # grass instead of asphalt in the afternoon sun


def test_scenarios_on_different_grids_are_refused(tmp_path, scenario_dir, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = scenario_dir("base", "name: base\ntitle: base\nsite: SITE\n" + WEATHER)
    coarse = scenario_dir("coarse", "name: coarse\ntitle: coarse\nbase: base\nresolution_m: 10\n")
    assert main(["compare", str(base), str(coarse)]) == 2
    err = capsys.readouterr().err
    assert "cannot be compared" in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()  # refused before anything ran

"""The heatsim command on good input: outputs exist, are maps, and never overwrite."""

import numpy as np
import pytest
from matplotlib.image import imread

from heatsim.cli import main
from heatsim.maps import SHOWABLE
from heatsim.paths import scenarios_dir


def test_scenario_check_all_passes_and_reports_changes(capsys):
    assert main(["scenario", "check", "--all", "--resolution", "5"]) == 0
    out = capsys.readouterr().out
    for name in ("baseline", "vergroening-marktplein", "openleggen-gaverbeek", "ontharding", "combined"):
        assert f"ok {name}:" in out
    assert "paving -> grass" in out and "culvert cells along the reach are replaced" in out


def test_scenario_list_names_every_bundled_file(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == len(list(scenarios_dir().glob("*.yaml")))


def test_site_build_prints_class_areas(capsys):
    assert main(["site", "build", "--resolution", "50"]) == 0
    out = capsys.readouterr().out
    assert "study area 29." in out and "Building roof" in out


def test_site_show_writes_a_map_and_never_overwrites(tmp_path, capsys):
    target = tmp_path / "site.png"
    assert main(["site", "show", "--resolution", "50", "--out", str(target)]) == 0
    assert main(["site", "show", "--resolution", "50", "--out", str(target)]) == 0
    assert target.is_file() and (tmp_path / "site-2.png").is_file()
    image = imread(target)
    assert image.shape[0] > 1000 and image.shape[1] > 800
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 20  # a map, not a blank page
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_site_show_of_a_scenario_and_all_layers(tmp_path, capsys):
    code = main(["site", "show", "--scenario", str(scenarios_dir() / "ontharding.yaml"), "--layer", "all",
                 "--resolution", "50", "--out", str(tmp_path / "x.png")])
    assert code == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(names) == len(SHOWABLE) and all("ontharding" in n for n in names)


def test_scenario_map_zooms_to_the_changed_area(tmp_path, capsys):
    from heatsim.maps import changed_bounds
    from heatsim.scenario import apply_scenario, load_scenario
    from heatsim.site.store import load_site

    scenario = load_scenario(scenarios_dir() / "vergroening-marktplein.yaml")
    site = load_site("harelbeke", 10.0)
    _, _, changed = apply_scenario(site, scenario)
    x0, y0, x1, y1 = changed_bounds(site, changed)
    rows, cols = np.nonzero(changed)
    assert x0 < site.x.values[cols].min() and x1 > site.x.values[cols].max()
    assert y0 < site.y.values[rows].min() and y1 > site.y.values[rows].max()
    assert (x1 - x0) >= 1000 and (x1 - x0) < 2000  # the Markt and its surroundings, not the town
    assert main(["site", "show", "--scenario", str(scenarios_dir() / "vergroening-marktplein.yaml"),
                 "--resolution", "10", "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").is_file()


def test_run_writes_a_complete_run_folder(tmp_path, scenario_dir, capsys):
    import json

    import rioxarray
    import xarray as xr

    path = scenario_dir("hot", "name: hot\ntitle: hot day\nsite: SITE\n"
                               "weather: {heat: {preset: hittegolf-2019, days: 1, spinup_days: 1, time_step_s: 900}}\n")
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    heat = summary["heat"]
    for key in ("mean", "p95", "by_class"):
        assert key in heat["surface_temperature_15h_c"]
    assert "mean" in heat["air_temperature_04h_c"]
    # a 300 m x 200 m site has no rural land and no urban core: the heat island is undefined, not 0
    assert heat["uhi_night_k"] is None and heat["uhi_cells"]["urban_core"] == 0
    assert heat["energy_closure_rel"] < 1e-9
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["weather"]["heat"]["preset"] == "hittegolf-2019" and manifest["wall_time_s"] > 0
    assert manifest["weather"]["storm"] is None and "water" not in summary
    assert any(k.endswith("hot.yaml") for k in manifest["scenario"])
    fields = xr.open_dataset(out / "heat" / "hourly.nc", engine="h5netcdf")
    assert fields["surface_temperature"].attrs["units"] == "degC" and fields.sizes["time"] == 24
    ts15 = rioxarray.open_rasterio(out / "heat" / "surface_temperature_15h.tif")
    assert ts15.rio.crs.to_epsg() == 31370
    assert (out / "heat" / "utci_hours_above_32.tif").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial folder left


def test_a_storm_run_writes_the_water_outputs_and_stable_keys(tmp_path, scenario_dir):
    import json

    import pandas as pd
    import rioxarray
    import xarray as xr

    path = scenario_dir("wet", "name: wet\ntitle: a storm\nsite: SITE\nweather: {storm: {preset: composite-t2}}\n"
                               "water: {edge: open, after_storm_h: 0.25}\n")
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out)]) == 0
    water = json.loads((out / "summary.json").read_text())["water"]
    for key in ("rain_m3", "interception_m3", "infiltration_m3", "sewer_m3", "outflow_m3", "storage_m3",
                "mass_balance_error_rel", "flooded_area_m2", "max_depth_m"):
        assert key in water
    assert set(water["flooded_area_m2"]) == {"0.05", "0.20"}
    assert water["mass_balance_error_rel"] < 1e-9
    # the storm's depth over the 300 m x 200 m grid
    from heatsim.rain import load_storm
    assert water["rain_m3"] == pytest.approx(0.3 * 0.2 * 1e6 * load_storm("composite-t2").depth_mm * 1e-3, rel=1e-9)
    depth = rioxarray.open_rasterio(out / "water" / "max_depth.tif")
    assert depth.rio.crs.to_epsg() == 31370 and float(depth.max()) > 0
    snapshots = xr.open_dataset(out / "water" / "depth_snapshots.nc", engine="h5netcdf")
    assert snapshots["depth"].attrs["units"] == "m" and snapshots.sizes["time"] == 1 + (120 + 15) // 10
    hydrographs = pd.read_csv(out / "water" / "hydrographs.csv", index_col=0)
    rain_volume = hydrographs["rain_m3_s"].sum() * 60.0
    assert rain_volume == pytest.approx(water["rain_m3"], rel=1e-9)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["weather"]["storm"]["preset"] == "composite-t2" and manifest["water_setup"]["edge"] == "open"

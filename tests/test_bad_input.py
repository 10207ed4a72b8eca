"""Bad input: one clear line naming the file and the field, exit status 2, no traceback.

Table-driven: each case writes its files and the command line to run."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import rioxarray  # noqa: F401
from conftest import cell_box, polygon_geojson

from heatsim.cli import main

GOOD_GEOMETRY = polygon_geojson(cell_box(10, 20, 5, 15))
FAR_AWAY = polygon_geojson([(10000, 10000), (10100, 10000), (10100, 10100), (10000, 10000)])


def scenario_case(body: str, geometry=GOOD_GEOMETRY):
    def setup(tmp_path, write):
        write.geometry("g", geometry)
        return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\n" + body))]
    return setup


def cycle(tmp_path, write):
    write("a", "name: a\ntitle: a\nbase: b\nsite: SITE\n")
    write("b", "name: b\ntitle: b\nbase: a\n")
    return ["scenario", "check", str(write.folder / "a.yaml")]


def escape(tmp_path, write):
    (tmp_path / "outside.geojson").write_text(json.dumps(GOOD_GEOMETRY))
    return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\ninterventions:\n"
                                          "  - {kind: depave, geometry: ../outside.geojson}\n"))]


def layer_with_other_crs(tmp_path, write, tiny_site_folder):
    site = tmp_path / "site"
    shutil.copytree(tiny_site_folder, site)
    tif = site / "rasters/canopy.tif"
    da = rioxarray.open_rasterio(tif).squeeze("band", drop=True)
    da.rio.reproject("EPSG:3812").rio.to_raster(tif)
    return ["site", "show", str(site), "--out", str(tmp_path / "m.png")]


def layer_with_nan(tmp_path, write, tiny_site_folder):
    site = tmp_path / "site"
    shutil.copytree(tiny_site_folder, site)
    tif = site / "rasters/elevation.tif"
    da = rioxarray.open_rasterio(tif).squeeze("band", drop=True).load()
    da.values[5, 5] = np.nan
    da.rio.to_raster(tif)
    return ["site", "show", str(site), "--out", str(tmp_path / "m.png")]


def import_dtm_with_nan(tmp_path, write, tiny_site_folder):
    lc = rioxarray.open_rasterio(tiny_site_folder / "rasters/landcover.tif").squeeze("band", drop=True)
    lc = lc.copy(data=np.where(lc.values == 1, 50, 30).astype("uint8"))  # WorldCover codes
    lc.rio.to_raster(tmp_path / "wc.tif")
    dtm = rioxarray.open_rasterio(tiny_site_folder / "rasters/elevation.tif").squeeze("band", drop=True).load()
    dtm.values[3:6, 3:6] = np.nan
    dtm.rio.write_nodata(np.nan, encoded=False).rio.to_raster(tmp_path / "dtm.tif")
    return ["site", "import", "--landcover", str(tmp_path / "wc.tif"), "--dtm", str(tmp_path / "dtm.tif"),
            "--out", str(tmp_path / "new")]


CASES = {
    # name: (setup, text expected in the message: file part, field part)
    "malformed yaml": (scenario_case("interventions: [\n  - {kind: depave\n"), ("s.yaml", "line")),
    "not a mapping": (scenario_case("- just\n- a list\n"), ("s.yaml", "malformed YAML")),
    "unknown key": (scenario_case("colour: red\n"), ("s.yaml", "colour: unknown key")),
    "unknown intervention kind": (scenario_case("interventions:\n  - {kind: pave-over, geometry: geometries/g.geojson}\n"),
                                  ("s.yaml", "interventions[0]: unknown intervention kind pave-over")),
    "unknown class": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson, to: lawn}\n"),
                      ("s.yaml", "interventions[0].to: unknown land-cover class 'lawn'")),
    "negative fraction": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson, fraction: -0.2}\n"),
                          ("s.yaml", "interventions[0].fraction: Input should be greater than or equal to 0")),
    "missing geometry file": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/nope.geojson}\n"),
                              ("s.yaml", "interventions[0].geometry: geometry file not found")),
    "geometry outside the site": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson}\n",
                                                FAR_AWAY), ("g.geojson", "lies outside the site")),
    "path escaping the scenarios folder": (escape, ("s.yaml", "interventions[0].geometry: path '../outside.geojson' leaves")),
    "inheritance cycle": (cycle, ("b.yaml", "base: inheritance cycle: a -> b -> a")),  # b closes the cycle
    "unknown parameter class": (scenario_case("parameters: {asfalt: {albedo: 0.2}}\n"), ("s.yaml", "parameters.asfalt")),
    "unknown parameter field": (scenario_case("parameters: {asphalt: {colour: 0.2}}\n"),
                                ("s.yaml", "parameters.asphalt.colour: unknown parameter")),
    "parameter out of bounds": (scenario_case("parameters: {asphalt: {albedo: 2}}\n"),
                                ("s.yaml", "parameters.asphalt.albedo: expected a value in [0.0, 1.0]")),
    "unknown weather preset": (scenario_case("weather: {heat: {preset: hittegolf-2090}}\n"),
                               ("s.yaml", "weather.heat.preset: unknown heat preset")),
    "name differs from file": (lambda tmp_path, write: ["scenario", "check", str(write("s", "name: t\ntitle: t\n"))],
                               ("s.yaml", "name: expected 's'")),
    "missing scenario file": (lambda tmp_path, write: ["scenario", "check", str(tmp_path / "nope.yaml")],
                              ("nope.yaml", "scenario file not found")),
    "unknown site": (lambda tmp_path, write: ["site", "show", "atlantis"], ("atlantis", "site: no site.toml")),
    "resolution not dividing the extent": (lambda tmp_path, write: ["site", "build", "--resolution", "7"],
                                           ("site.toml", "resolution: 7.0 m does not divide")),
    "malformed bbox": (lambda tmp_path, write: ["site", "show", "--bbox", "75000,172000,74000"],
                       ("--bbox", "bbox: expected four numbers")),
    "unknown layer": (lambda tmp_path, write: ["site", "show", "--layer", "colour"], ("--layer", "unknown layer 'colour'")),
    "raster layer in another CRS": (layer_with_other_crs, ("canopy.tif", "differs from the site's other layers")),
    "raster layer with NaNs": (layer_with_nan, ("elevation.tif", "elevation: 1 cells inside the study area are NaN")),
    "imported DTM with NaNs": (import_dtm_with_nan, ("dtm.tif", "NaN")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_clear_line(case, tmp_path, scenario_dir, tiny_site_folder, capsys):
    setup, expected = CASES[case]
    try:
        argv = setup(tmp_path, scenario_dir, tiny_site_folder)
    except TypeError:
        argv = setup(tmp_path, scenario_dir)
    code = main(argv)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip() and "failed the check" not in ln]
    assert code == 2, captured
    assert len(lines) == 1, lines
    assert "Traceback" not in captured.err
    for part in expected:
        assert part in lines[0], (part, lines[0])


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The same through a real process: exit status 2 and a single line on stderr."""
    bad = tmp_path / "s.yaml"
    bad.write_text("name: s\ntitle: t\ninterventions:\n  - {kind: depave, geometry: g.geojson, to: lawn}\n")
    proc = subprocess.run([sys.executable, "-m", "heatsim", "scenario", "check", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "unknown land-cover class 'lawn'" in proc.stderr

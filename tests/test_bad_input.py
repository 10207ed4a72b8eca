"""Bad input: one clear line naming the file and the field, exit status 2, no traceback.

Table-driven: each case writes its files and the command line to run."""

import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

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


def raw_file(name: str, text: str):
    """A scenario file written exactly as given (no keys added)."""
    def setup(tmp_path, write):
        path = write.folder / f"{name}.yaml"
        path.write_text(text)
        return ["scenario", "check", str(path)]
    return setup


def site_definition_case(edit):
    """A copy of the bundled site whose site.toml or vectors are edited by ``edit(folder)``."""
    def setup(tmp_path, write):
        from heatsim.paths import inputs_dir

        folder = tmp_path / "site"
        shutil.copytree(inputs_dir() / "harelbeke", folder, ignore=shutil.ignore_patterns("build"))
        edit(folder)
        return ["site", "build", str(folder), "--resolution", "50"]
    return setup


def replace_in(name, old, new):
    def edit(folder):
        path = folder / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    return edit


def drop_property(name, key):
    def edit(folder):
        path = folder / "vectors" / f"{name}.geojson"
        data = json.loads(path.read_text())
        del data["features"][3]["properties"][key]
        path.write_text(json.dumps(data))
    return edit


def include_other_site(tmp_path, write):
    write.geometry("g", GOOD_GEOMETRY)
    write("other", "name: other\ntitle: o\nsite: harelbeke\n")
    return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\ninclude: [other]\n"))]


def base_outside(tmp_path, write):
    (tmp_path / "evil.yaml").write_text("name: evil\ntitle: e\n")
    return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\nbase: ../evil.yaml\n"))]


def absolute_geometry(tmp_path, write):
    (tmp_path / "outside.geojson").write_text(json.dumps(GOOD_GEOMETRY))
    return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\ninterventions:\n"
                                          f"  - {{kind: depave, geometry: {tmp_path / 'outside.geojson'}}}\n"))]


def mapping_not_utf8(tmp_path, write, tiny_site_folder):
    (tmp_path / "map.csv").write_bytes(b"code,class,label\n1,gr\xe9ss,x\n")
    return ["site", "import", "--landcover", str(tiny_site_folder / "rasters/landcover.tif"), "--dtm",
            str(tiny_site_folder / "rasters/elevation.tif"), "--legend", "csv", "--mapping", str(tmp_path / "map.csv"),
            "--out", str(tmp_path / "new")]


def weather_rows(mutate):
    """A scenario whose hot days come from a weather CSV: the hittegolf preset, changed by ``mutate(lines)``."""
    def setup(tmp_path, write):
        from heatsim.weather import preset_file

        lines = [ln for ln in preset_file("hittegolf-2019").read_text().splitlines() if not ln.startswith("#")]
        header, rows = lines[0], lines[1:]
        rows = rows + [r.replace("2019-07-25", "2019-07-26") for r in rows]  # two days: spin-up + one
        (write.folder / "w.csv").write_text("\n".join([header] + mutate(header.split(","), rows)) + "\n")
        return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\n"
                                              "weather: {heat: {file: w.csv, days: 1, spinup_days: 1}}\n"))]
    return setup


def _set(column, row_index, value):
    def mutate(header, rows):
        col = header.index(column)
        cells = rows[row_index].split(",")
        cells[col] = value
        rows[row_index] = ",".join(cells)
        return rows
    return mutate


def _fahrenheit(header, rows):
    col = header.index("air_temperature_c")
    out = []
    for r in rows:
        cells = r.split(",")
        cells[col] = f"{float(cells[col]) * 9 / 5 + 32:.1f}"
        out.append(",".join(cells))
    return out


def run_twice(tmp_path, write, tiny_site_folder):
    out = tmp_path / "run"
    out.mkdir()
    return ["run", str(write("s", "name: s\ntitle: t\nsite: SITE\nweather: {heat: {preset: warme-zomerdag}}\n")),
            "--out", str(out)]


def negative_rain(tmp_path, write):
    (write.folder / "r.csv").write_text("time,rain_mm_h\n0,5\n5,-2\n10,0\n")
    return ["scenario", "check", str(write("s", "name: s\ntitle: t\nsite: SITE\nweather: {storm: {file: r.csv}}\n"))]


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


def site_without_building_heights(tmp_path, write, tiny_site_folder):
    """No surface model: the building heights that make the DSM (with the DTM and the trees)
    are missing; a heat run needs them for shadows and the sky view."""
    site = tmp_path / "site"
    shutil.copytree(tiny_site_folder, site)
    (site / "rasters/building_height.tif").unlink()
    scenario = write("s", f"name: s\ntitle: t\nsite: {site}\nweather: {{heat: {{preset: warme-zomerdag}}}}\n")
    return ["run", str(scenario), "--out", str(tmp_path / "run")]


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
    "not a mapping": (raw_file("s", "- just\n- a list\n"), ("s.yaml", "expected a YAML mapping")),
    "empty file": (raw_file("s", ""), ("s.yaml", "expected a YAML mapping")),
    "duplicate key": (scenario_case("title: again\n"), ("s.yaml", "duplicate key 'title'")),
    "brackets in a value": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson, "
                                          "to: '[/x]'}\n"), ("s.yaml", "unknown land-cover class '[/x]'")),
    "depave to a sealed class": (scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson, "
                                               "to: building}\n"), ("s.yaml", "interventions[0].to: depave cannot")),
    "empty from_classes": (scenario_case("interventions:\n  - {kind: set-class, geometry: geometries/g.geojson, "
                                         "to: grass, from_classes: []}\n"),
                           ("s.yaml", "interventions[0].from_classes: List should have at least 1 item")),
    "point where a polygon is needed": (
        scenario_case("interventions:\n  - {kind: depave, geometry: {type: Point, coordinates: [75050, 172450]}}\n"),
        ("s.yaml", "interventions[0].geometry: depave needs a polygon, got Point")),
    "geojson features not a list": (
        scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson}\n",
                      {"type": "FeatureCollection", "features": 5}), ("g.geojson", "features: expected a list")),
    "geojson NaN coordinate": (
        scenario_case("interventions:\n  - {kind: depave, geometry: geometries/g.geojson}\n",
                      polygon_geojson([(75000, 172400), (float("nan"), 172400), (75050, 172450), (75000, 172400)])),
        ("g.geojson", "coordinates must be finite")),
    "base outside the scenarios folder": (base_outside, ("s.yaml", "base: '../evil.yaml' leaves the scenarios folder")),
    "absolute geometry path outside": (absolute_geometry, ("s.yaml", "interventions[0].geometry: path")),
    "include drawn for another site": (include_other_site, ("other.yaml", "site: is 'harelbeke'")),
    "infinite resolution": (lambda tmp_path, write: ["site", "build", "--resolution", "inf"],
                            ("site.toml", "resolution: expected a finite cell size")),
    "site.toml bounds of three numbers": (
        site_definition_case(replace_in("site.toml", "bounds = [72250.0, 167750.0, 78450.0, 178200.0]",
                                        "bounds = [72250.0, 167750.0, 78450.0]")), ("site.toml", "bounds")),
    "site.toml unknown soil": (site_definition_case(replace_in("site.toml", 'default_soil = "sandy_loam"',
                                                               'default_soil = "peat"')),
                               ("site.toml", "default_soil: unknown soil texture 'peat'")),
    "site.toml terrain key missing": (site_definition_case(replace_in("site.toml", "south_rise_m = 26.0", "")),
                                      ("site.toml", "terrain.south_rise_m: missing required key")),
    "building without a height": (site_definition_case(drop_property("buildings", "height_m")),
                                  ("buildings.geojson", "features[3].properties.height_m: missing")),
    "map name without .png": (lambda tmp_path, write: ["site", "show", "-r", "50", "--out", str(tmp_path / "map")],
                              ("--out", "expected a file name ending in .png")),
    "mapping CSV not UTF-8": (mapping_not_utf8, ("map.csv", "not a UTF-8 text file")),
    "weather file with a gap": (weather_rows(lambda h, rows: rows[:10] + rows[11:]), ("w.csv", "time")),
    "weather file in Fahrenheit": (weather_rows(_fahrenheit), ("w.csv", "air_temperature_c")),
    "weather file with negative wind": (weather_rows(_set("wind_speed_m_s", 5, "-2.0")), ("w.csv", "wind_speed_m_s")),
    "weather file missing": (lambda tmp_path, write: ["scenario", "check", str(write(
        "s", "name: s\ntitle: t\nsite: SITE\nweather: {heat: {file: nope.csv}}\n"))],
        ("s.yaml", "weather.heat.file: weather file not found")),
    "time step not dividing an hour": (scenario_case("weather: {heat: {preset: warme-zomerdag, time_step_s: 700}}\n"),
                                       ("s.yaml", "weather.heat: time_step_s must divide one hour")),
    "time step above an hour": (scenario_case("weather: {heat: {preset: warme-zomerdag, time_step_s: 7200}}\n"),
                                ("s.yaml", "weather.heat.time_step_s: Input should be less than or equal to 3600")),
    "run without weather": (lambda tmp_path, write: ["run", str(write("s", "name: s\ntitle: t\nsite: SITE\n"))],
                            ("s.yaml", "weather: asks for neither a storm nor hot days")),
    "water outlet outside the site": (scenario_case(
        "weather: {storm: {preset: composite-t2}}\nwater:\n  outlets: [{geometry: geometries/g.geojson}]\n", FAR_AWAY),
        ("s.yaml", "water.outlets[0].geometry: the geometry (10000, 10000)-(10100, 10100) lies outside the site")),
    "inflow hydrograph missing": (scenario_case(
        "weather: {storm: {preset: composite-t2}}\nwater:\n  inflows: [{geometry: {type: Point, coordinates: "
        "[75100, 172400]}, hydrograph: nope.csv}]\n"), ("s.yaml", "water.inflows[0].hydrograph: hydrograph file not found")),
    "inflow that is not a point or line": (scenario_case(
        "weather: {storm: {preset: composite-t2}}\nwater:\n  inflows: [{geometry: geometries/g.geojson, "
        "hydrograph: h.csv}]\n"), ("g.geojson", "water.inflows[0].geometry: expected a linestring or point")),
    "rain file with negative rain": (negative_rain, ("r.csv", "rain_mm_h")),
    "unknown water edge": (scenario_case("water: {edge: leaky}\n"), ("s.yaml", "water.edge: Input should be 'open' or 'closed'")),
    "run into an existing folder": (run_twice, ("run", "out: exists; runs never replace an earlier run")),
    "unknown key": (scenario_case("colour: red\n"), ("s.yaml", "colour: unknown key")),
    "unknown intervention kind": (scenario_case("interventions:\n  - {kind: pave-over, geometry: geometries/g.geojson}\n"),
                                  ("s.yaml", "interventions[0].kind: unknown kind 'pave-over'")),
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
    "site without a surface model (DSM)": (site_without_building_heights,
                                           ("building_height.tif", "building_height: missing layer file")),
    "raster layer in another CRS": (layer_with_other_crs, ("canopy.tif", "differs from the site's other layers")),
    "raster layer with NaNs": (layer_with_nan, ("elevation.tif", "elevation: 1 cells inside the study area are NaN")),
    "imported DTM with NaNs": (import_dtm_with_nan, ("dtm.tif", "NaN")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_clear_line(case, tmp_path, scenario_dir, tiny_site_folder, capsys):
    setup, expected = CASES[case]
    fixtures = (tmp_path, scenario_dir, tiny_site_folder)
    argv = setup(*fixtures[:len(inspect.signature(setup).parameters)])
    code = main(argv)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert code == 2, captured
    assert len(lines) == 1, lines
    assert "Traceback" not in captured.err
    for part in expected:
        assert part in lines[0], (part, lines[0])


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The same through the installed console script: exit status 2 and a single line on stderr."""
    bad = tmp_path / "s.yaml"
    bad.write_text("name: s\ntitle: t\ninterventions:\n  - {kind: depave, geometry: g.geojson, to: lawn}\n")
    heatsim = Path(sys.executable).parent / "heatsim"
    assert heatsim.is_file(), "the heatsim console script is installed next to this Python"
    proc = subprocess.run([str(heatsim), "scenario", "check", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unknown land-cover class 'lawn'" in proc.stderr


def test_several_files_fail_separately_and_are_counted(scenario_dir, capsys):
    bad = scenario_dir("a", "name: a\ntitle: t\nsite: SITE\ncolour: red\n")
    good = scenario_dir("b", "name: b\ntitle: t\nsite: SITE\n")
    assert main(["scenario", "check", str(bad), str(good)]) == 2
    captured = capsys.readouterr()
    assert "ok b:" in captured.out
    assert captured.err.strip().splitlines()[-1] == "1 of 2 scenario files failed the check"


def test_a_report_of_a_folder_that_is_no_comparison_or_in_an_unknown_language_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "indicators.json" in err and "heatsim compare" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "empty"), "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert "fr" in err and "nl" in err and "Traceback" not in err
    assert list((tmp_path / "empty").iterdir()) == []  # nothing half-written

"""Shared fixtures: a tiny synthetic site folder, scenario-writing helpers, the
bundled Harelbeke site at coarse and default resolution (built once per run)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from heatsim.grid import Grid
from heatsim.landcover import default_table
from heatsim.site.layers import LAYERS
from heatsim.site.store import load_site, write_site_folder

# tests never read or fill the user's cache (sky view factors)
os.environ["HEATSIM_CACHE"] = tempfile.mkdtemp(prefix="heatsim-test-cache-")

TINY_ORIGIN = (75000.0, 172500.0)  # north-west corner [m, EPSG:31370], in Harelbeke
TINY_RES = 5.0
TINY_SHAPE = (40, 60)  # rows, cols -> 300 m x 200 m


def make_site(arrays: dict[str, np.ndarray], grid: Grid, name: str = "tiny") -> xr.Dataset:
    table = default_table()
    shape = grid.shape
    full = {
        "landcover": np.full(shape, table.code("grass"), "uint8"),
        "elevation": np.full(shape, 15.0, "float32"),
        "building_height": np.zeros(shape, "float32"),
        "tree_height": np.zeros(shape, "float32"),
        "canopy": np.zeros(shape, "float32"),
        "impervious": np.zeros(shape, "float32"),
        "soil": np.full(shape, table.soils["sandy_loam"].code, "uint8"),
        "stream": np.zeros(shape, "uint8"),
        "culvert": np.zeros(shape, "uint8"),
        "district": np.ones(shape, "uint8"),
        "domain": np.ones(shape, "uint8"),
    }
    full.update(arrays)
    full["impervious"] = table.lookup("impervious_fraction", 0.0)[full["landcover"]].astype("float32")
    ds = xr.Dataset({k: grid.dataarray(v, k, LAYERS[k].units, LAYERS[k].nodata).drop_vars("spatial_ref")
                     for k, v in full.items()})
    ds = ds.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    ds.attrs.update(name=name, title=name, districts=json.dumps(["Tiny"]), provenance=json.dumps({"kind": "test"}))
    return ds


def tiny_grid() -> Grid:
    ny, nx = TINY_SHAPE
    return Grid(TINY_ORIGIN[0], TINY_ORIGIN[1], TINY_RES, nx, ny)


def tiny_arrays() -> dict[str, np.ndarray]:
    """West half asphalt square (rows 10-29, cols 5-24), a building block (rows 10-19, cols 35-44),
    a culvert along row 30, terrain falling 1 m per 100 m to the east."""
    t = default_table()
    ny, nx = TINY_SHAPE
    lc = np.full((ny, nx), t.code("grass"), "uint8")
    lc[10:30, 5:25] = t.code("asphalt")
    lc[10:20, 35:45] = t.code("building")
    bh = np.where(lc == t.code("building"), 9.0, 0.0).astype("float32")
    culvert = np.zeros((ny, nx), "uint8")
    culvert[30, :] = 1
    x = np.arange(nx) * TINY_RES
    elev = np.broadcast_to(20.0 - x / 100.0, (ny, nx)).astype("float32").copy()
    return {"landcover": lc, "building_height": bh, "culvert": culvert, "elevation": elev}


@pytest.fixture(scope="session")
def tiny_site_folder(tmp_path_factory) -> Path:
    """A site definition folder (kind = rasters) with the tiny synthetic site."""
    folder = tmp_path_factory.mktemp("sites") / "tiny"
    folder.mkdir()
    (folder / "site.toml").write_text(textwrap.dedent("""\
        name = "tiny"
        title = "tiny test site"
        kind = "rasters"
        crs = "EPSG:31370"
        resolution_m = 5.0
    """))
    write_site_folder(make_site(tiny_arrays(), tiny_grid()), folder / "rasters")
    return folder


def polygon_geojson(coords, name="area", crs="EPSG:31370") -> dict:
    return {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs}},
            "features": [{"type": "Feature", "properties": {"name": name},
                          "geometry": {"type": "Polygon", "coordinates": [list(map(list, coords))]}}]}


def cell_box(row0, row1, col0, col1, shrink=0.0):
    """Polygon covering cells rows [row0, row1), cols [col0, col1) of the tiny grid."""
    x0 = TINY_ORIGIN[0] + col0 * TINY_RES + shrink
    x1 = TINY_ORIGIN[0] + col1 * TINY_RES - shrink
    y0 = TINY_ORIGIN[1] - row1 * TINY_RES + shrink
    y1 = TINY_ORIGIN[1] - row0 * TINY_RES - shrink
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


@pytest.fixture
def scenario_dir(tmp_path, tiny_site_folder):
    """A scenarios folder whose files use the tiny site; returns a writer ``write(name, yaml_text)``."""
    folder = tmp_path / "scenarios"
    (folder / "geometries").mkdir(parents=True)

    def write(name: str, text: str) -> Path:
        path = folder / f"{name}.yaml"
        text = textwrap.dedent(text).replace("SITE", str(tiny_site_folder))
        path.write_text(text)
        return path

    def geometry(name: str, data: dict) -> Path:
        path = folder / "geometries" / f"{name}.geojson"
        path.write_text(json.dumps(data))
        return path

    write.geometry = geometry
    write.folder = folder
    return write


@pytest.fixture(scope="session")
def harelbeke_50m():
    return load_site("harelbeke", 50.0)


@pytest.fixture(scope="session")
def harelbeke_5m():
    return load_site("harelbeke", 5.0)


# --------------------------------------------------------------------------- headless browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_PACKAGES = ["chromium", "fonts-dejavu-core"]  # Debian's; the font so the screenshot shows text


def _find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def _apt_get(*args: str) -> subprocess.CompletedProcess:
    command = ["apt-get", *args]
    if os.geteuid() != 0:  # CI and the dev machines run as root; elsewhere try sudo without a password
        command = ["sudo", "-n", *command]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The path of a Chromium for the report's headless-browser test.

    Found on the PATH, else installed here from the Debian package ``chromium`` with
    apt-get (the project's own set-up: nobody installs it by hand; ``apt-get update`` first
    when the package lists are stale). The browser check is required, so when no Chromium
    can be had the test fails with the reason instead of being skipped.
    """
    if found := _find_chromium():
        return found
    if shutil.which("apt-get") is None:
        pytest.fail("the report's browser test needs Chromium: none on the PATH (chromium, chromium-browser, "
                    "google-chrome) and no apt-get to install the Debian package 'chromium'")
    install = ("install", "-y", "--no-install-recommends", *CHROMIUM_PACKAGES)
    result = _apt_get(*install)
    if result.returncode != 0:  # stale or missing package lists: update, then try once more
        update = _apt_get("update")
        result = _apt_get(*install) if update.returncode == 0 else update
    if result.returncode != 0 or not (found := _find_chromium()):
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        pytest.fail(f"could not install Chromium for the report's browser test with "
                    f"'apt-get {' '.join(install)}' (exit {result.returncode}):\n{tail}")
    return found


# --------------------------------------------------------------------------- a small comparison

#: a scenario name and texts that try to inject markup into the report
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = "Ontharding <img src=x onerror=alert(2)> & \"co\" <b>vet</b>"


@pytest.fixture(scope="session")
def tiny_comparison(tmp_path_factory, tiny_site_folder) -> Path:
    """A comparison folder made by ``compare`` on the tiny site (one storm, one short hot day):
    the base, ``groen`` (the asphalt square de-paved) and a scenario whose title and
    description are markup (:data:`HOSTILE_TITLE`, ...). Scenario files refuse such a name, so
    the comparison and its run are then relabelled to :data:`HOSTILE_NAME`, as a hand-edited or
    future comparison folder might hold it. Read-only: copy it before writing."""
    from heatsim.compare import compare

    root = tmp_path_factory.mktemp("comparison")
    folder = root / "scenarios"
    (folder / "geometries").mkdir(parents=True)
    (folder / "geometries" / "square.geojson").write_text(json.dumps(polygon_geojson(cell_box(10, 30, 5, 25))))
    weather = ("weather:\n  storm: {preset: composite-t2}\n"
               "  heat: {preset: warme-zomerdag, days: 1, spinup_days: 0, time_step_s: 900}\n"
               "water: {after_storm_h: 0.25}\n")
    (folder / "base.yaml").write_text(f"name: base\ntitle: Vandaag\nsite: {tiny_site_folder}\n" + weather)
    depave = "interventions:\n  - {kind: depave, geometry: geometries/square.geojson, to: grass}\n"
    (folder / "groen.yaml").write_text("name: groen\ntitle: Groen plein\ndescription: Het plein wordt gras.\n"
                                       "base: base\n" + depave)
    (folder / "hostile.yaml").write_text(f"name: hostile\ntitle: {json.dumps(HOSTILE_TITLE)}\n"
                                         f"description: {json.dumps(HOSTILE_DESCRIPTION)}\nbase: base\n" + depave)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the runs go to results/ here
        out = compare(folder / "base.yaml", [folder / "groen.yaml", folder / "hostile.yaml"], out=root / "cmp",
                      say=lambda _: None)
    _relabel(out, "hostile", HOSTILE_NAME)
    return out


def _relabel(comparison: Path, old: str, new: str) -> None:
    """Rename a scenario column of a comparison folder, its maps and its run's name."""
    table = json.loads((comparison / "indicators.json").read_text())
    table["scenarios"] = [new if s == old else s for s in table["scenarios"]]
    prefix = f"{old} - "
    table["rows"] = [{(new + k[len(old):] if k == old or k.startswith(prefix) else k): v for k, v in row.items()}
                     for row in table["rows"]]
    (comparison / "indicators.json").write_text(json.dumps(table))
    runs = json.loads((comparison / "runs.json").read_text())
    runs[new] = runs.pop(old)
    (comparison / "runs.json").write_text(json.dumps(runs))
    for path in (comparison / "maps").glob(f"{old}-minus-*"):
        path.rename(path.with_name(new + path.name[len(old):]))
    run = Path(runs[new])
    summary = json.loads((run / "summary.json").read_text())
    summary["scenario"] = new
    (run / "summary.json").write_text(json.dumps(summary))
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenario"] = {path: text.replace(f"name: {old}", f"name: {json.dumps(new)}")
                            for path, text in manifest["scenario"].items()}
    (run / "manifest.json").write_text(json.dumps(manifest))

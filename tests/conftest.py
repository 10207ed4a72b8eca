"""Shared fixtures: a tiny synthetic site folder, scenario-writing helpers, the
bundled Harelbeke site at coarse and default resolution (built once per run)."""

from __future__ import annotations

import json
import os
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

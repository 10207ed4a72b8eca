"""The bundled schematic Harelbeke: grid, layers, geography and terrain."""

import json
import shutil

import numpy as np
import pytest
from pyproj import Transformer

from heatsim.grid import Grid
from heatsim.landcover import default_table
from heatsim.paths import inputs_dir
from heatsim.site.layers import LAYERS
from heatsim.site.store import load_site
from heatsim.vectors import read_geojson

T = default_table()
to_lambert = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform


def value_at(site, layer, lon, lat):
    x, y = to_lambert(lon, lat)
    return site[layer].sel(x=x, y=y, method="nearest").item()


def test_every_layer_on_one_projected_grid(harelbeke_50m):
    grid = Grid.of(harelbeke_50m)
    assert grid.crs == "EPSG:31370"
    assert grid.resolution_m == 50.0
    for name, layer in LAYERS.items():
        assert harelbeke_50m[name].shape == grid.shape
        assert str(harelbeke_50m[name].dtype) == layer.dtype


def test_study_area_is_the_real_municipality(harelbeke_5m):
    grid = Grid.of(harelbeke_5m)
    boundary = read_geojson(inputs_dir() / "harelbeke/vectors/boundary.geojson", "EPSG:31370")[0].geometry
    area = harelbeke_5m["domain"].values.sum() * grid.cell_area_m2
    # cells on the boundary are in or out by their centre: the error is at most perimeter x one cell
    assert abs(area - boundary.area) < boundary.length * grid.resolution_m / 2
    assert abs(boundary.area / 1e6 - 29.4) < 0.1  # the figure in shared/data/README.md


def test_districts_partition_the_municipality(harelbeke_5m):
    domain = harelbeke_5m["domain"].values == 1
    district = harelbeke_5m["district"].values
    names = json.loads(harelbeke_5m.attrs["districts"])
    assert np.all(district[domain] >= 1) and np.all(district[~domain] == 0)
    assert set(np.unique(district[domain])) == set(range(1, len(names) + 1))
    assert {"Centrum", "Collegewijk", "Stasegem", "Bavikhove", "Hulste"} <= set(names)


@pytest.mark.parametrize("lon, lat, classes", [
    (3.3097, 50.8553, {"paving"}),  # the Markt: a paved square
    (3.323, 50.826, {"water"}),  # De Gavers lake
    (3.3100, 50.8585, {"water"}),  # the Leie north of the centre
])
def test_places_from_design_md(harelbeke_5m, lon, lat, classes):
    assert T.by_code(value_at(harelbeke_5m, "landcover", lon, lat)).name in classes


def test_villages_and_centre_are_built_up(harelbeke_5m):
    lc = harelbeke_5m["landcover"]
    for lon, lat in [(3.303, 50.874), (3.285, 50.885), (3.330, 50.835), (3.3097, 50.8553)]:
        x, y = to_lambert(lon, lat)
        window = lc.sel(x=slice(x - 300, x + 300), y=slice(y + 300, y - 300)).values
        built = np.isin(window, T.codes(["building", "asphalt", "paving"])).mean()
        assert built > 0.25, (lon, lat, built)


def test_terrain_follows_the_leie_valley(harelbeke_5m):
    leie = value_at(harelbeke_5m, "elevation", 3.3100, 50.8585)
    centre = value_at(harelbeke_5m, "elevation", 3.3097, 50.8553)
    elev = harelbeke_5m["elevation"].where(harelbeke_5m["domain"] == 1)
    south = float(elev.sel(y=slice(168600, 168000)).mean())
    assert leie == pytest.approx(12.0)  # the Leie's water level
    assert 13.0 < centre < 17.0  # DESIGN.md: centre ~15 m TAW
    assert 30.0 < south < 42.0  # rising southward to 30-40 m


def test_stream_beds_fall_downstream(harelbeke_5m):
    grid = Grid.of(harelbeke_5m)
    elev = harelbeke_5m["elevation"].values
    streams = read_geojson(inputs_dir() / "harelbeke/vectors/streams.geojson", "EPSG:31370")
    for f in streams:
        if f.properties["kind"] != "stream":
            continue
        line = f.geometry
        heights = []
        for t in np.arange(0, line.length, 20.0):
            p = line.interpolate(t)
            heights.append(elev[int((grid.y_max - p.y) // 5), int((p.x - grid.x_min) // 5)])
        if f.properties["culverted"]:
            # the street over a culvert is not carved: its first sample is the open bed upstream of the inlet
            heights = heights[1:]
        rises = np.diff(heights)
        # a sample may fall on a bank cell of the rasterised channel, a few cm above the bed;
        # anything larger would be a dam across the valley
        assert rises.max() < 0.3, (f.properties["name"], rises.max())
        assert heights[0] > heights[-1]


def test_layers_agree_with_each_other(harelbeke_5m):
    lc = harelbeke_5m["landcover"].values
    roofs = np.isin(lc, T.codes(["building", "green_roof"]))
    assert np.all(harelbeke_5m["building_height"].values[roofs] > 0)
    assert np.all(harelbeke_5m["building_height"].values[~roofs] == 0)
    canopy = harelbeke_5m["canopy"].values
    assert canopy.min() >= 0 and canopy.max() <= 1
    assert np.all(harelbeke_5m["tree_height"].values[canopy > 0] > 0)
    assert np.all(lc[harelbeke_5m["stream"].values == 1] == T.code("water"))
    assert harelbeke_5m["culvert"].values.sum() > 0
    lut = T.lookup("impervious_fraction")
    assert np.array_equal(harelbeke_5m["impervious"].values, lut[lc].astype("float32"))


def test_build_is_cached_and_rebuilt_when_vectors_change(tmp_path):
    folder = tmp_path / "harelbeke"
    shutil.copytree(inputs_dir() / "harelbeke", folder, ignore=shutil.ignore_patterns("build"))
    load_site(folder, 50.0)
    tif = folder / "build/50m/landcover.tif"
    first = tif.stat().st_mtime_ns
    load_site(folder, 50.0)
    assert tif.stat().st_mtime_ns == first  # unchanged inputs: cached
    path = folder / "vectors/buildings.geojson"
    data = json.loads(path.read_text())
    data["features"] = data["features"][:10]
    path.write_text(json.dumps(data))
    site = load_site(folder, 50.0)
    assert tif.stat().st_mtime_ns != first
    assert (site["building_height"].values > 0).sum() < 50


def test_one_metre_grid_builds(tmp_path):
    """1 m must work: a 400 m x 300 m piece of the centre, built from the same vectors."""
    folder = tmp_path / "centre"
    shutil.copytree(inputs_dir() / "harelbeke", folder, ignore=shutil.ignore_patterns("build"))
    toml = (folder / "site.toml").read_text()
    toml = toml.replace("bounds = [72250.0, 167750.0, 78450.0, 178200.0]", "bounds = [75200.0, 172000.0, 75600.0, 172300.0]")
    (folder / "site.toml").write_text(toml)
    site = load_site(folder, 1.0)
    assert site["landcover"].shape == (300, 400)
    x, y = to_lambert(3.3097, 50.8553)
    assert T.by_code(site["landcover"].sel(x=x, y=y, method="nearest").item()).name == "paving"
    coarse = load_site(folder, 5.0)
    # the same vectors at 1 m and 5 m give the same building share within a few per cent
    share_1 = (site["landcover"].values == T.code("building")).mean()
    share_5 = (coarse["landcover"].values == T.code("building")).mean()
    assert share_1 == pytest.approx(share_5, rel=0.15)

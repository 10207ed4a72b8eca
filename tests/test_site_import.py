"""Importing a site from real rasters (heatsim.site.importer) on small synthetic rasters."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401
import xarray as xr
from affine import Affine
from pyproj import Transformer

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.landcover import default_table
from heatsim.site.importer import DEFAULT_TREE_HEIGHT_M, import_site, read_legend
from heatsim.site.layers import LAYERS
from heatsim.site.store import load_site

TABLE = default_table()
CODE = {name: TABLE.code(name) for name in TABLE.names}

# Belgian Lambert 72 near Harelbeke; whole 10 m multiples so grids line up.
X0, Y_TOP = 72000.0, 170040.0


def write_raster(path: Path, data: np.ndarray, *, crs: str | None, x0: float, y_top: float, res: float,
                 nodata=None) -> Path:
    """A single-band GeoTIFF with north-west corner (x0, y_top) and square cells of ``res``."""
    ny, nx = data.shape
    transform = Affine(res, 0.0, x0, 0.0, -res, y_top)
    with rasterio.open(path, "w", driver="GTiff", width=nx, height=ny, count=1, dtype=data.dtype,
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def write_raster_rx(path: Path, data: np.ndarray, *, crs: str, x0: float, y_top: float, res: float,
                    nodata=None) -> Path:
    """The same written through rioxarray (how a user would typically save a raster)."""
    ny, nx = data.shape
    da = xr.DataArray(data, dims=("y", "x"),
                      coords={"y": y_top - (np.arange(ny) + 0.5) * res, "x": x0 + (np.arange(nx) + 0.5) * res})
    da = da.rio.write_crs(crs).rio.write_transform(Affine(res, 0.0, x0, 0.0, -res, y_top))
    if nodata is not None:
        da = da.rio.write_nodata(nodata)
    da.rio.to_raster(path)
    return path


def constant_dtm(path: Path, value: float = 17.0, *, margin: float = 60.0, bounds=None) -> Path:
    """A flat DTM in EPSG:31370 at 20 m around ``bounds`` (x_min, y_min, x_max, y_max)."""
    x_min, y_min, x_max, y_max = bounds
    x0, y_top = np.floor((x_min - margin) / 20) * 20, np.ceil((y_max + margin) / 20) * 20
    nx, ny = int(np.ceil((x_max + margin - x0) / 20)), int(np.ceil((y_top - y_min + margin) / 20))
    return write_raster(path, np.full((ny, nx), value, dtype="float32"), crs="EPSG:31370", x0=x0, y_top=y_top, res=20.0,
                        nodata=-9999.0)


def site_toml(out: Path) -> dict:
    return tomllib.loads((out / "site.toml").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- WorldCover, lon/lat -> Lambert 72
WC_RES = 1 / 12000  # WorldCover's native cell size [deg]
WC_LON0, WC_LAT_TOP = 3.31, 50.8525
# Right half: 3-row bands of the other ten codes; left half water, top-left corner no data.
WC_BANDS = [(10, "trees"), (20, "shrub"), (30, "grass"), (40, "cropland"), (50, "paving"), (60, "bare_soil"),
            (70, "bare_soil"), (90, "wetland"), (95, "wetland"), (100, "grass")]


@pytest.fixture
def worldcover(tmp_path) -> tuple[Path, np.ndarray]:
    data = np.zeros((30, 24), dtype="uint8")
    data[:, :12] = 80
    data[:3, :12] = 0
    for i, (code, _) in enumerate(WC_BANDS):
        data[3 * i:3 * i + 3, 12:] = code
    return write_raster_rx(tmp_path / "worldcover.tif", data, crs="EPSG:4326", x0=WC_LON0, y_top=WC_LAT_TOP,
                           res=WC_RES, nodata=0), data


def lonlat_to_lambert(lon, lat):
    return Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform(lon, lat)


def worldcover_bounds_31370() -> tuple[float, float, float, float]:
    lons = [WC_LON0, WC_LON0 + 24 * WC_RES]
    lats = [WC_LAT_TOP - 30 * WC_RES, WC_LAT_TOP]
    xs, ys = lonlat_to_lambert(np.repeat(lons, 2), np.tile(lats, 2))
    return min(xs), min(ys), max(xs), max(ys)


def cell_at(site: xr.Dataset, x: float, y: float) -> tuple[int, int]:
    grid = Grid.of(site)
    return int((grid.y_max - y) // grid.resolution_m), int((x - grid.x_min) // grid.resolution_m)


def test_worldcover_lonlat_to_lambert72(tmp_path, worldcover):
    path, data = worldcover
    dtm = constant_dtm(tmp_path / "dtm.tif", 17.0, bounds=worldcover_bounds_31370())
    out = import_site(landcover=path, dtm=dtm, out=tmp_path / "wc_site", resolution_m=10)

    # site.toml: the definition load_site reads, with provenance and checksums
    definition = site_toml(out)
    assert definition["kind"] == "rasters" and definition["crs"] == "EPSG:31370" and definition["resolution_m"] == 10
    assert definition["name"] == "wc_site"
    prov = definition["provenance"]
    assert prov["inputs"]["landcover"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prov["inputs"]["dtm"]["path"] == str(dtm.resolve())
    assert any("no building_height" in w for w in prov["warnings"])  # WorldCover without heights: a warning, not an error
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".wc_site")]  # no temporary folder left

    site = load_site(out)
    grid = Grid.of(site)
    assert set(site.data_vars) == set(LAYERS)
    assert grid.crs == "EPSG:31370" and grid.resolution_m == 10
    assert all(abs(b / 10 - round(b / 10)) < 1e-9 for b in grid.bounds)  # snapped to whole cells
    x_min, y_min, x_max, y_max = worldcover_bounds_31370()
    assert grid.bounds[0] <= x_min and grid.bounds[1] <= y_min and grid.bounds[2] >= x_max and grid.bounds[3] >= y_max
    assert grid.bounds[2] - grid.bounds[0] < x_max - x_min + 20  # ... outward, by less than a cell each side

    lc = site["landcover"].values
    valid = lc > 0
    # each WorldCover code lands on its heatsim class at the centre of its band
    for i, (code, cls) in enumerate(WC_BANDS):
        x, y = lonlat_to_lambert(WC_LON0 + 18 * WC_RES, WC_LAT_TOP - (3 * i + 1.5) * WC_RES)
        assert lc[cell_at(site, x, y)] == CODE[cls], f"WorldCover {code} should be {cls}"
    x, y = lonlat_to_lambert(WC_LON0 + 6 * WC_RES, WC_LAT_TOP - 15 * WC_RES)
    assert lc[cell_at(site, x, y)] == CODE["water"]
    x, y = lonlat_to_lambert(WC_LON0 + 6 * WC_RES, WC_LAT_TOP - 1.5 * WC_RES)
    assert lc[cell_at(site, x, y)] == 0  # the no-data corner stays no data
    # shares roughly preserved (lon/lat cells this small have equal areas)
    expected_water = (data == 80).sum() / (data > 0).sum()
    assert abs((lc == CODE["water"]).sum() / valid.sum() - expected_water) < 0.04
    expected_trees = (data == 10).sum() / (data > 0).sum()
    assert abs((lc == CODE["trees"]).sum() / valid.sum() - expected_trees) < 0.02
    assert set(np.unique(lc[valid])) == {CODE[c] for c in ("water", "trees", "shrub", "grass", "cropland", "paving",
                                                            "bare_soil", "wetland")}

    # derived layers
    assert np.allclose(site["elevation"].values[valid], 17.0)
    assert (site["building_height"].values[valid] == 0).all()
    trees = lc == CODE["trees"]
    assert np.allclose(site["tree_height"].values[trees], DEFAULT_TREE_HEIGHT_M)
    assert (site["canopy"].values[trees] == 1).all() and (site["canopy"].values[valid & ~trees] == 0).all()
    assert (site["impervious"].values[lc == CODE["paving"]] == 1).all()
    assert (site["impervious"].values[lc == CODE["water"]] == 0).all()
    assert (site["soil"].values[valid] == TABLE.soils["sandy_loam"].code).all()
    assert (site["stream"].values[valid] == 0).all() and (site["culvert"].values[valid] == 0).all()
    assert (site["district"].values[valid] == 1).all() and json.loads(site.attrs["districts"]) == ["wc_site"]
    assert (site["domain"].values == valid).all()
    # no-data cells carry the layers' declared nodata
    assert (~valid).any()
    for name in ("elevation", "building_height", "tree_height", "canopy", "impervious", "soil", "stream", "district"):
        assert (site[name].values[~valid] == LAYERS[name].nodata).all(), name

    # load_site resamples an imported site to any resolution that divides its extent: a bbox of whole 20 m
    # cells (the automatic extent above is whole 10 m cells only) makes 20 m possible
    bbox = (np.floor(x_min / 20) * 20, np.floor(y_min / 20) * 20, np.ceil(x_max / 20) * 20, np.ceil(y_max / 20) * 20)
    out20 = import_site(landcover=path, dtm=dtm, out=tmp_path / "wc_bbox", resolution_m=10, bbox=bbox)
    fine = load_site(out20)
    assert Grid.of(fine).bounds == pytest.approx(bbox)
    coarse = load_site(out20, resolution_m=20)
    cgrid = Grid.of(coarse)
    assert cgrid.resolution_m == 20 and cgrid.shape == (Grid.of(fine).ny // 2, Grid.of(fine).nx // 2)
    assert cgrid.bounds == pytest.approx(bbox)
    coarse_lc = coarse["landcover"].values
    assert abs((coarse_lc == CODE["water"]).sum() / (coarse_lc > 0).sum() - expected_water) < 0.06


def test_worldcover_builtup_with_heights_becomes_building(tmp_path, worldcover):
    path, data = worldcover
    bounds = worldcover_bounds_31370()
    dtm = constant_dtm(tmp_path / "dtm.tif", 17.0, bounds=bounds)
    # 8 m high everywhere: every built-up cell is a building, nothing else changes class
    heights = constant_dtm(tmp_path / "bh.tif", 8.0, bounds=bounds)
    out = import_site(landcover=path, dtm=dtm, building_height=heights, out=tmp_path / "wc_bh", resolution_m=10)
    site = load_site(out)
    lc = site["landcover"].values
    assert (lc == CODE["paving"]).sum() == 0 and (lc == CODE["building"]).sum() > 0
    assert np.allclose(site["building_height"].values[lc == CODE["building"]], 8.0)
    assert (site["building_height"].values[(lc > 0) & (lc != CODE["building"])] == 0).all()
    assert (site["impervious"].values[lc == CODE["building"]] == 1).all()
    assert site_toml(out)["provenance"]["building_height_source"] == "building_height raster"


# ----------------------------------------------------------------------------- BBK 1 m -> 2 m, DTM 5 m in EPSG:3812, DSM
BBK_HEIGHTS = {"building_a": 6.0, "building_b": 12.0, "trees": 10.0}


def bbk_map() -> np.ndarray:
    """40 x 40 m of BBK codes at 1 m; every block edge on an even metre (whole 2 m cells)."""
    data = np.full((40, 40), 8, dtype="uint8")   # grass
    data[4:12, 4:14] = 1                          # building A
    data[4:12, 20:30] = 1                         # building B
    data[14:18, 0:20] = 3                         # other paving
    data[20:30, 4:16] = 9                         # trees
    data[20:30, 20:30] = 6                        # bare
    data[20:30, 30:40] = 7                        # cropland
    data[32:36, :] = 2                            # road
    data[36:40, :20] = 5                          # water
    data[36:40, 20:] = 4                          # railway
    return data


def bbk_height_above_ground() -> np.ndarray:
    h = np.zeros((40, 40))
    h[4:12, 4:14] = BBK_HEIGHTS["building_a"]
    h[4:12, 20:30] = BBK_HEIGHTS["building_b"]
    h[20:30, 4:16] = BBK_HEIGHTS["trees"]
    return h


def terrain_3812(x, y):
    """A tilted plane in Belgian Lambert 2008 coordinates. [m]"""
    return 20.0 + 0.02 * (x - 572000.0) + 0.01 * (y - 670000.0)


@pytest.fixture
def bbk_inputs(tmp_path) -> dict:
    landcover = write_raster(tmp_path / "bbk.tif", bbk_map(), crs="EPSG:31370", x0=X0, y_top=Y_TOP, res=1.0, nodata=0)
    to_3812 = Transformer.from_crs("EPSG:31370", "EPSG:3812", always_xy=True)
    # DTM at 5 m in EPSG:3812 over the land cover plus 30 m
    xs, ys = to_3812.transform([X0 - 30, X0 + 70, X0 - 30, X0 + 70], [Y_TOP + 30, Y_TOP + 30, Y_TOP - 70, Y_TOP - 70])
    x0, y_top = np.floor(min(xs) / 5) * 5, np.ceil(max(ys) / 5) * 5
    nx, ny = int(np.ceil((max(xs) - x0) / 5)), int(np.ceil((y_top - min(ys)) / 5))
    cx, cy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * 5, y_top - (np.arange(ny) + 0.5) * 5)
    dtm = write_raster(tmp_path / "dtm_3812.tif", terrain_3812(cx, cy).astype("float32"), crs="EPSG:3812",
                       x0=x0, y_top=y_top, res=5.0, nodata=-9999.0)
    # DSM at 1 m in EPSG:31370: terrain + building/tree heights
    px, py = np.meshgrid(X0 + np.arange(40) + 0.5, Y_TOP - np.arange(40) - 0.5)
    ground = terrain_3812(*to_3812.transform(px, py))
    dsm = write_raster(tmp_path / "dsm.tif", (ground + bbk_height_above_ground()).astype("float32"), crs="EPSG:31370",
                       x0=X0, y_top=Y_TOP, res=1.0, nodata=-9999.0)
    return {"landcover": landcover, "dtm": dtm, "dsm": dsm}


def test_bbk_with_dsm_in_lambert2008(tmp_path, bbk_inputs):
    out = import_site(**bbk_inputs, legend="bbk", out=tmp_path / "bbk_site", resolution_m=2)
    site = load_site(out)
    grid = Grid.of(site)
    assert grid.shape == (20, 20) and grid.bounds == pytest.approx((X0, Y_TOP - 40, X0 + 40, Y_TOP))
    lc = site["landcover"].values

    # the class map at 2 m is the 1 m map taken every other cell (blocks are whole 2 m cells)
    expected = np.zeros((40, 40), dtype="uint8")
    bbk = read_legend("bbk")
    for code, cls in bbk.classes.items():
        expected[bbk_map() == code] = CODE[cls]
    assert (lc == expected[::2, ::2]).all()

    # elevation: the 3812 plane, reprojected and bilinearly interpolated
    to_3812 = Transformer.from_crs("EPSG:31370", "EPSG:3812", always_xy=True)
    cx, cy = np.meshgrid(grid.x, grid.y)
    assert np.abs(site["elevation"].values - terrain_3812(*to_3812.transform(cx, cy))).max() < 0.05

    # building heights = DSM - DTM on building cells, 0 elsewhere
    bh = site["building_height"].values
    heights = bbk_height_above_ground()[::2, ::2]
    buildings = lc == CODE["building"]
    assert buildings.sum() == (4 * 5) * 2
    assert np.abs(bh[buildings] - heights[buildings]).max() < 0.1
    assert {round(float(v)) for v in bh[buildings]} == {6, 12}
    assert (bh[~buildings] == 0).all()

    # trees: canopy 1 and the DSM height
    trees = lc == CODE["trees"]
    assert trees.sum() == 5 * 6
    assert (site["canopy"].values[trees] == 1).all() and (site["canopy"].values[~trees] == 0).all()
    assert np.abs(site["tree_height"].values[trees] - BBK_HEIGHTS["trees"]).max() < 0.1
    assert (site["tree_height"].values[~trees] == 0).all()

    prov = site_toml(out)["provenance"]
    assert prov["resampling"] == {"landcover": "nearest", "dtm": "bilinear", "dsm": "average"}
    assert prov["building_height_source"] == "dsm - dtm" and prov["warnings"] == []


def test_districts_from_lonlat_geojson(tmp_path, bbk_inputs):
    to_lonlat = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)

    def square(x0, x1):
        ring = [(x0, Y_TOP - 40), (x1, Y_TOP - 40), (x1, Y_TOP), (x0, Y_TOP), (x0, Y_TOP - 40)]
        return {"type": "Polygon", "coordinates": [[list(to_lonlat.transform(x, y)) for x, y in ring]]}

    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"naam": "Centrum"}, "geometry": square(X0, X0 + 20)},
        {"type": "Feature", "properties": {"naam": "Hulste"}, "geometry": square(X0 + 20, X0 + 40)},
    ]}
    path = tmp_path / "wijken.geojson"
    path.write_text(json.dumps(geojson), encoding="utf-8")
    out = import_site(**bbk_inputs, legend="bbk", out=tmp_path / "d_site", resolution_m=2, districts=path,
                      district_field="naam")
    site = load_site(out)
    district = site["district"].values
    assert json.loads(site.attrs["districts"]) == ["Centrum", "Hulste"]
    assert (district[:, :9] == 1).all() and (district[:, 11:] == 2).all()  # away from the shared edge
    assert set(np.unique(district)) == {1, 2}


# ----------------------------------------------------------------------------- custom CSV legend
def test_custom_mapping_csv(tmp_path):
    data = np.array([[1, 1, 2, 2], [3, 3, 2, 2], [3, 3, 7, 7], [1, 1, 7, 7]], dtype="uint16")
    landcover = write_raster(tmp_path / "lc.tif", data, crs="EPSG:31370", x0=X0, y_top=Y_TOP, res=5.0, nodata=0)
    dtm = write_raster(tmp_path / "dtm.tif", np.full((4, 4), 12.5, dtype="float32"), crs="EPSG:31370",
                       x0=X0, y_top=Y_TOP, res=5.0)
    csv = tmp_path / "legend.csv"
    csv.write_text("# my municipal map\ncode,class,label\n1,green_roof,\"Groendak, extensief\"\n"
                   "2,permeable_paving,Grasdallen\n3,shrub,Struweel\n7,wetland,Rietland\n", encoding="utf-8")
    messages = []
    out = import_site(landcover=landcover, dtm=dtm, out=tmp_path / "custom", legend="csv", mapping_csv=csv,
                      progress=messages.append)
    assert any("writing" in m for m in messages) and any("land cover" in m for m in messages)
    site = load_site(out)
    assert Grid.of(site).resolution_m == 5  # native resolution kept: the land cover is already in the target CRS
    expected = np.vectorize({1: CODE["green_roof"], 2: CODE["permeable_paving"], 3: CODE["shrub"],
                             7: CODE["wetland"]}.get)(data)
    assert (site["landcover"].values == expected).all()
    assert np.allclose(site["impervious"].values, TABLE.lookup("impervious_fraction")[expected])
    prov = site_toml(out)["provenance"]
    assert prov["legend"] == "csv" and prov["inputs"]["mapping_csv"]["path"] == str(csv.resolve())


# ----------------------------------------------------------------------------- bad input
@pytest.fixture
def small(tmp_path) -> dict:
    """Valid inputs: a 4 x 4 BBK map at 5 m and a DTM covering it."""
    data = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 9, 8, 8], [8, 8, 8, 8]], dtype="uint8")
    return {"landcover": write_raster(tmp_path / "lc.tif", data, crs="EPSG:31370", x0=X0, y_top=Y_TOP, res=5.0, nodata=0),
            "dtm": write_raster(tmp_path / "dtm.tif", np.full((6, 6), 10.0, dtype="float32"), crs="EPSG:31370",
                                x0=X0 - 5, y_top=Y_TOP + 5, res=5.0, nodata=-9999.0),
            "out": tmp_path / "site", "legend": "bbk"}


def _csv_unknown_class(kw, tmp):
    path = tmp / "bad.csv"
    path.write_text("# test\ncode,class,label\n1,building,B\n2,forest,F\n", encoding="utf-8")
    kw.update(legend="csv", mapping_csv=path)
    return path, "class (line 4)", "forest"


def _csv_missing_column(kw, tmp):
    path = tmp / "nocls.csv"
    path.write_text("code,label\n1,B\n", encoding="utf-8")
    kw.update(legend="csv", mapping_csv=path)
    return path, "header", "class"


def _code_not_in_legend(kw, tmp):
    data = np.array([[1, 2], [12, 13]], dtype="uint8")
    kw["landcover"] = write_raster(tmp / "lc13.tif", data, crs="EPSG:31370", x0=X0, y_top=Y_TOP, res=5.0, nodata=0)
    return kw["landcover"], "legend", "12, 13"


def _dtm_with_nan(kw, tmp):
    z = np.full((6, 6), 10.0, dtype="float32")
    z[2:4, 2:4] = np.nan
    kw["dtm"] = write_raster(tmp / "dtm_nan.tif", z, crs="EPSG:31370", x0=X0 - 5, y_top=Y_TOP + 5, res=5.0)
    return kw["dtm"], "dtm", "4 of 16 land-cover cells"


def _dtm_elsewhere(kw, tmp):
    kw["dtm"] = write_raster(tmp / "far.tif", np.ones((3, 3), dtype="float32"), crs="EPSG:31370",
                             x0=X0 + 5000, y_top=Y_TOP, res=5.0)
    return kw["dtm"], "dtm", "does not overlap"


def _dtm_undeclared_nodata(kw, tmp):
    z = np.full((6, 6), 10.0, dtype="float32")
    z[0, 0:3] = -9999.0  # a nodata value the file does not declare
    kw["dtm"] = write_raster(tmp / "dtm_9999.tif", z, crs="EPSG:31370", x0=X0, y_top=Y_TOP, res=5.0)
    return kw["dtm"], "dtm", "-9999"


def _geographic_crs(kw, tmp):
    kw["crs"] = "EPSG:4326"
    return kw["out"], "crs", "geographic"


def _missing_file(kw, tmp):
    kw["dtm"] = tmp / "nowhere.tif"
    return kw["dtm"], "dtm", "file not found"


def _not_a_raster(kw, tmp):
    kw["dsm"] = tmp / "dsm.tif"
    kw["dsm"].write_text("not a raster", encoding="utf-8")
    return kw["dsm"], "dsm", "not a raster"


def _no_crs(kw, tmp):
    kw["dtm"] = write_raster(tmp / "nocrs.tif", np.ones((6, 6), dtype="float32"), crs=None, x0=X0, y_top=Y_TOP, res=5.0)
    return kw["dtm"], "dtm", "no CRS"


def _all_nodata(kw, tmp):
    kw["landcover"] = write_raster(tmp / "empty.tif", np.zeros((4, 4), dtype="uint8"), crs="EPSG:31370",
                                   x0=X0, y_top=Y_TOP, res=5.0, nodata=0)
    return kw["landcover"], "landcover", "nodata"


def _bad_bbox(kw, tmp):
    kw["bbox"] = (X0 + 20, Y_TOP - 20, X0, Y_TOP)
    return kw["out"], "bbox", "x_min < x_max"


def _unknown_soil(kw, tmp):
    kw["soil_texture"] = "peat"
    return kw["out"], "soil_texture", "silt_loam"


def _existing_out(kw, tmp):
    kw["out"].mkdir()
    return kw["out"], "out", "exists; choose a new folder"


@pytest.mark.parametrize("case", [
    _csv_unknown_class, _csv_missing_column, _code_not_in_legend, _dtm_with_nan, _dtm_elsewhere, _dtm_undeclared_nodata,
    _geographic_crs,
    _missing_file, _not_a_raster, _no_crs, _all_nodata, _bad_bbox, _unknown_soil, _existing_out,
], ids=lambda f: f.__name__.strip("_"))
def test_bad_input_names_file_and_field(tmp_path, small, case):
    existed = small["out"].exists()
    source, field, fragment = case(small, tmp_path)
    with pytest.raises(InputError) as err:
        import_site(**small)
    exc = err.value
    assert exc.source == str(source) and exc.field == field
    message = str(exc)
    assert str(source) in message and field in message and fragment in message
    if not existed and case is not _existing_out:
        assert not small["out"].exists()  # nothing half-written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site-")]


def test_builtin_legends_are_complete():
    wc = read_legend("worldcover")
    assert sorted(wc.classes) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    assert wc.classes[50] == "paving" and wc.classes[80] == "water" and wc.classes[95] == "wetland"
    bbk = read_legend("bbk")
    assert sorted(bbk.classes) == list(range(1, 10))
    assert bbk.classes[1] == "building" and bbk.classes[4] == "railway" and bbk.classes[9] == "trees"


def test_districts_covering_part_of_the_site_leave_zero_elsewhere(tmp_path, bbk_inputs):
    """A districts file need not cover the whole site: the rest is district 0 and the site still loads."""
    ring = [(X0, Y_TOP - 40), (X0 + 20, Y_TOP - 40), (X0 + 20, Y_TOP), (X0, Y_TOP), (X0, Y_TOP - 40)]
    geojson = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:31370"}},
               "features": [{"type": "Feature", "properties": {"name": "West"},
                             "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path = tmp_path / "half.geojson"
    path.write_text(json.dumps(geojson), encoding="utf-8")
    out = import_site(**bbk_inputs, legend="bbk", out=tmp_path / "half_site", resolution_m=2, districts=path)
    district = load_site(out)["district"].values
    assert (district[:, :9] == 1).all() and (district[:, 11:] == 0).all()


def test_population_sectors_travel_with_the_imported_site_and_a_bad_one_stops_the_import(tmp_path, worldcover):
    import json

    from heatsim.errors import InputError
    from heatsim.population import POPULATION_FILE, population_for
    from heatsim.site.store import resolve_site

    path, _ = worldcover
    bounds = worldcover_bounds_31370()
    dtm = constant_dtm(tmp_path / "dtm.tif", 17.0, bounds=bounds)
    x0, y0, x1, y1 = bounds
    ring = [[x0 + 20, y0 + 20], [x1 - 20, y0 + 20], [x1 - 20, y1 - 20], [x0 + 20, y1 - 20], [x0 + 20, y0 + 20]]
    sectors = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:31370"}},
               "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                             "properties": {"residents": 1234, "share_over_65": 0.25, "share_under_5": 0.04}}]}
    good = tmp_path / "sectors.geojson"
    good.write_text(json.dumps(sectors))
    out = import_site(landcover=path, dtm=dtm, out=tmp_path / "with_people", resolution_m=10, population=good)
    assert (out / POPULATION_FILE).read_bytes() == good.read_bytes()
    assert site_toml(out)["provenance"]["inputs"]["population"]["path"] == str(good.resolve())
    site = load_site(out)
    pop = population_for(site, resolve_site(str(out)), [TABLE.code("building")])
    assert pop.residents.sum() == pytest.approx(1234.0) and pop.source.startswith("statistical sectors")

    sectors["features"][0]["properties"]["share_over_65"] = 1.5
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(sectors))
    with pytest.raises(InputError, match=r"share_over_65: expected a number in \[0, 1\]"):
        import_site(landcover=path, dtm=dtm, out=tmp_path / "no_site", resolution_m=10, population=bad)
    assert not (tmp_path / "no_site").exists()

"""Build a schematic site's rasters from its vectors (``heatsim site build``).

Inputs (in the site definition folder, see ``inputs/harelbeke/README.md``):
``vectors/landcover.geojson`` (polygons with ``class`` and ``priority``),
``buildings.geojson`` (``height_m``), ``trees.geojson`` (``canopy``,
``height_m``), ``streams.geojson`` (centre lines with ``kind``, ``culverted``,
``width_m``, ``depth_m``), ``soils.geojson`` (``texture``, ``priority``),
``districts.geojson`` (``name``), ``boundary.geojson``, and ``site.toml``
(grid, background class, terrain parameters).

The build is cached per resolution in ``<site>/build/<res>m/`` and keyed by a
hash of every input and of this builder's version, so a changed vector or
parameter triggers a rebuild and an unchanged one does not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import shapely
import xarray as xr
from rasterio import features as rio_features
from scipy import ndimage
from shapely.geometry import LineString

from heatsim import __version__
from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.landcover import default_table
from heatsim.site import terrain
from heatsim.site.layers import LAYERS
from heatsim.site.store import SITE_JSON, SITE_TOML, write_site_folder
from heatsim.vectors import read_geojson

BUILDER_VERSION = "1"  # bump when the rasterisation rules change
VECTOR_FILES = ("boundary", "landcover", "buildings", "trees", "streams", "soils", "districts")
BUILDING_PRIORITY = 65  # buildings go over streets and squares, under water (see landcover.geojson priorities)
MAX_CANOPY_SUPERSAMPLING = 5  # canopy is rasterised on cells up to 5x finer (1 m for a 5 m site) and averaged


def source_hash(folder: Path) -> str:
    h = hashlib.sha256()
    h.update(f"builder {BUILDER_VERSION}".encode())
    for name in [SITE_TOML] + [f"vectors/{v}.geojson" for v in VECTOR_FILES]:
        path = folder / name
        if not path.is_file():
            raise InputError(path, name, "missing input of the schematic site")
        h.update(name.encode())
        h.update(path.read_bytes())
    h.update(default_table().lookup("impervious_fraction").tobytes())
    for module in (__file__, terrain.__file__):  # the rules themselves: a code change rebuilds
        h.update(Path(module).read_bytes())
    return h.hexdigest()


def _number(lo: float, hi: float, lo_open: bool = False):
    def check(v):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and lo <= v <= hi
        return ok and not (lo_open and v == lo)
    return check, f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}]"


_T = default_table
#: Properties the builder reads, per vector file: key -> (required, default, (check, expected)).
VECTOR_PROPERTIES = {
    "landcover": {"class": (True, None, (lambda v: v in _T().classes, "a heatsim land-cover class")),
                  "priority": (False, 0, _number(-1e6, 1e6))},
    "buildings": {"height_m": (True, None, _number(0.0, 500.0, lo_open=True))},
    "trees": {"canopy": (False, 1.0, _number(0.0, 1.0)), "height_m": (True, None, _number(0.0, 100.0, lo_open=True)),
              # a crown may be a point with its radius (keeps the file small)
              "radius_m": (False, 0.0, _number(0.0, 50.0))},
    "streams": {"kind": (True, None, (lambda v: v in ("river", "stream", "canal"), "river, stream or canal")),
                "culverted": (False, False, (lambda v: isinstance(v, bool), "true or false")),
                "width_m": (True, None, _number(0.0, 1000.0, lo_open=True)),
                "depth_m": (False, 1.0, _number(0.0, 50.0))},
    "soils": {"texture": (True, None, (lambda v: v in _T().soils, "a soil texture of the land-cover table")),
              "priority": (False, 0, _number(-1e6, 1e6))},
    "districts": {"name": (True, None, (lambda v: isinstance(v, str) and v != "", "a district name"))},
}


def _check_properties(folder: Path, name: str, features) -> None:
    """Fill defaults and refuse missing or bad properties, naming the feature."""
    for i, f in enumerate(features):
        for key, (required, default, (check, expected)) in VECTOR_PROPERTIES.get(name, {}).items():
            where = f"features[{i}].properties.{key}"
            if key not in f.properties:
                if required:
                    raise InputError(folder / "vectors" / f"{name}.geojson", where, f"missing; expected {expected}")
                f.properties[key] = default
            elif not check(f.properties[key]):
                raise InputError(folder / "vectors" / f"{name}.geojson", where,
                                 f"got {f.properties[key]!r}; expected {expected}")


def build_dir(folder: Path, resolution_m: float) -> Path:
    return folder / "build" / f"{resolution_m:g}m"


def ensure_built(folder: Path, definition: dict, resolution_m: float | None = None, force: bool = False,
                 progress=None) -> Path:
    """The built site folder at ``resolution_m``, (re)building it when needed."""
    res = float(definition["resolution_m"] if resolution_m is None else resolution_m)
    out = build_dir(folder, res)
    digest = source_hash(folder)
    if not force and (out / SITE_JSON).is_file():
        meta = json.loads((out / SITE_JSON).read_text(encoding="utf-8"))
        if meta.get("source_hash") == digest:
            return out
    site = build_schematic_site(folder, definition, res, progress=progress)
    write_site_folder(site, out, extra_meta={"source_hash": digest, "builder_version": BUILDER_VERSION})
    return out


def _burn(shapes, grid: Grid, fill, dtype, all_touched=False) -> np.ndarray:
    shapes = list(shapes)
    if not shapes:
        return np.full(grid.shape, fill, dtype=dtype)
    return rio_features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=fill,
                                  dtype=dtype, all_touched=all_touched)


def _fine_grid(grid: Grid) -> tuple[Grid, int]:
    factor = int(min(MAX_CANOPY_SUPERSAMPLING, max(1, round(grid.resolution_m / 1.0))))
    return Grid(grid.x_min, grid.y_max, grid.resolution_m / factor, grid.nx * factor, grid.ny * factor, grid.crs), factor


def _block(a: np.ndarray, factor: int, how: str) -> np.ndarray:
    if factor == 1:
        return a.astype(np.float32)
    ny, nx = a.shape[0] // factor, a.shape[1] // factor
    blocks = a.reshape(ny, factor, nx, factor)
    return (blocks.mean(axis=(1, 3)) if how == "mean" else blocks.max(axis=(1, 3))).astype(np.float32)


def build_schematic_site(folder: Path, definition: dict, resolution_m: float, progress=None) -> xr.Dataset:
    """Rasterise the site's vectors onto a grid of ``resolution_m`` and compute its terrain."""
    say = progress or (lambda msg: None)
    table = default_table()
    source = str(folder / SITE_TOML)
    grid = Grid.from_bounds(tuple(definition["bounds"]), resolution_m, definition["crs"], source)
    crs = grid.crs
    vec = {name: read_geojson(folder / "vectors" / f"{name}.geojson", crs) for name in VECTOR_FILES}
    for name, features in vec.items():
        _check_properties(folder, name, features)

    say("land cover")
    background = definition["background_class"]
    burn = [(float(f.properties["priority"]), f.geometry, table.code(f.properties["class"])) for f in vec["landcover"]]
    building_code = table.code("building")
    burn += [(BUILDING_PRIORITY, f.geometry, building_code) for f in vec["buildings"]]
    burn.sort(key=lambda t: t[0])  # stable: file order within a priority
    landcover = _burn(((g, c) for _, g, c in burn), grid, table.code(background), "uint8")

    say("streams and culverts")
    streams = vec["streams"]
    open_lines = [f for f in streams if not f.properties["culverted"]]
    stream_mask = np.zeros(grid.shape, dtype=bool)
    small_stream_masks = []
    for f in open_lines:
        width = float(f.properties["width_m"])
        m = _burn([(f.geometry.buffer(width / 2), 1)], grid, 0, "uint8").astype(bool)
        m |= _burn([(f.geometry, 1)], grid, 0, "uint8", all_touched=True).astype(bool)
        stream_mask |= m
        if f.properties["kind"] == "stream":
            small_stream_masks.append((f, m))
    culvert = _burn(((f.geometry, 1) for f in streams if f.properties["culverted"]), grid, 0, "uint8",
                    all_touched=True)
    landcover[stream_mask] = table.code("water")

    say("buildings")
    building_height = _burn(((f.geometry, float(f.properties["height_m"])) for f in vec["buildings"]), grid, 0.0,
                            "float32")
    building_height[landcover != building_code] = 0.0
    # a building cell must have a height: take the nearest footprint's where the centre rule missed it
    missing = (landcover == building_code) & (building_height <= 0)
    if missing.any():
        touched = _burn(((f.geometry, float(f.properties["height_m"])) for f in vec["buildings"]), grid, 0.0,
                        "float32", all_touched=True)
        building_height[missing] = touched[missing]

    say("tree canopy")
    fine, factor = _fine_grid(grid)
    for f in vec["trees"]:
        if f.properties["radius_m"] > 0:
            f.geometry = f.geometry.buffer(f.properties["radius_m"], quad_segs=4)
    trees = sorted(vec["trees"], key=lambda f: f.properties["canopy"])
    canopy_pct = _burn(((f.geometry, int(round(100 * float(f.properties["canopy"])))) for f in trees), fine, 0,
                       "uint8")
    canopy = _block(canopy_pct, factor, "mean") / 100.0
    tree_height = _block(_burn(((f.geometry, float(f.properties["height_m"])) for f in trees), fine, 0.0, "float32"),
                         factor, "max")
    del canopy_pct
    trees_class = landcover == table.code("trees")
    canopy[trees_class] = np.maximum(canopy[trees_class], 0.9)  # woodland class cells are closed canopy
    tree_height[trees_class & (tree_height <= 0)] = 15.0  # see trees.geojson woodland heights (15-18 m)
    water = landcover == table.code("water")
    canopy[water] = 0.0
    tree_height[water | (canopy <= 0)] = 0.0

    say("soils and districts")
    soils = sorted(vec["soils"], key=lambda f: f.properties["priority"])
    default_soil = definition["default_soil"]
    soil = _burn(((f.geometry, table.soils[f.properties["texture"]].code) for f in soils), grid,
                 table.soils[default_soil].code, "uint8")
    district_names = [f.properties["name"] for i, f in enumerate(vec["districts"])]
    district = _burn(((f.geometry, i + 1) for i, f in enumerate(vec["districts"])), grid, 0, "uint8")
    domain = _burn(((f.geometry, 1) for f in vec["boundary"]), grid, 0, "uint8")
    # districts are a partition of the municipality: fill boundary cells the partition missed
    gap = (domain == 1) & (district == 0)
    if gap.any():
        idx = ndimage.distance_transform_edt(district == 0, return_distances=False, return_indices=True)
        district[gap] = district[idx[0][gap], idx[1][gap]]
    district[domain == 0] = 0

    say("terrain")
    tp = definition["terrain"]
    river_name = tp["river"]
    rivers = [f for f in streams if f.properties.get("name") == river_name]
    if not rivers:
        raise InputError(folder / "vectors/streams.geojson", "name", f"no stream named {river_name!r} (site.toml terrain.river)")
    river_line: LineString = rivers[0].geometry
    # culverted and open stretches of one stream join into one line (source to mouth)
    merged = shapely.line_merge(shapely.union_all([f.geometry for f in streams if f.properties["kind"] == "stream"]),
                                directed=True)
    side = list(getattr(merged, "geoms", [merged])) if not merged.is_empty else []
    dtm = terrain.schematic_dtm(grid, river_line, side, tp)
    for f, m in small_stream_masks:
        terrain.carve_stream(dtm, m, grid, f.geometry, float(f.properties["depth_m"]))
    big_water = water & ~np.logical_or.reduce([m for _, m in small_stream_masks] or [np.zeros(grid.shape, bool)])
    labels, n = ndimage.label(big_water)
    river_cells = _burn([(river_line.buffer(float(rivers[0].properties["width_m"]) / 2 + grid.resolution_m), 1)],
                        grid, 0, "uint8").astype(bool)
    for k in range(1, n + 1):
        body = labels == k
        level = tp["river_level_m"] if (body & river_cells).any() else None
        terrain.flatten_water_body(dtm, body, level, tp["lake_level_below_rim_m"])

    impervious = table.lookup("impervious_fraction", fill=0.0)[landcover].astype(np.float32)

    arrays = {
        "landcover": landcover, "elevation": dtm.astype(np.float32), "building_height": building_height,
        "tree_height": tree_height, "canopy": canopy.astype(np.float32), "impervious": impervious, "soil": soil,
        "stream": stream_mask.astype(np.uint8), "culvert": culvert, "district": district, "domain": domain,
    }
    site = xr.Dataset({name: grid.dataarray(arrays[name], name, LAYERS[name].units, LAYERS[name].nodata,
                                            LAYERS[name].description).drop_vars("spatial_ref")
                       for name in LAYERS})
    site = site.rio.write_crs(crs).rio.write_transform(grid.transform)
    site.attrs.update(
        name=definition["name"], title=definition["title"], resolution_m=grid.resolution_m,
        districts=json.dumps(district_names),
        provenance=json.dumps({"kind": "schematic", "built_from": str(folder), "heatsim": __version__,
                               "builder_version": BUILDER_VERSION}),
    )
    return site


"""Import a site from real rasters: land cover, terrain (DTM), optional DSM and building heights.

:func:`import_site` reprojects the inputs onto one grid in a projected CRS,
maps the land-cover codes of a product (ESA WorldCover, the Flemish
Bodembedekkingskaart or a user's CSV legend) onto heatsim's classes, derives
the other :data:`~heatsim.site.layers.LAYERS` and writes a *site definition
folder*::

    out/site.toml        name, title, kind = "rasters", crs, resolution_m, [provenance]
    out/rasters/         one GeoTIFF per layer + site.json (heatsim.site.store)

which :func:`heatsim.site.store.load_site` reads back (and resamples).

Legends are CSV files with the columns ``code,class,label`` (``class`` is a
heatsim class name of ``heatsim/data/landcover.toml``); lines starting with
``#`` are comments. The built-in ones are in ``heatsim/data/legends/``.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import rasterio.errors
import rasterio.features
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pyproj import CRS
from rasterio.enums import Resampling
from rioxarray.exceptions import NoDataInBounds

from heatsim.errors import InputError
from heatsim.grid import Grid, check_projected
from heatsim.landcover import default_table
from heatsim.site.layers import LAYERS
from heatsim.paths import current_umask, sha256
from heatsim.site.store import SITE_TOML, write_site_folder
from heatsim.vectors import read_geojson

BUILTIN_LEGENDS = ("worldcover", "bbk")
LEGEND_COLUMNS = ("code", "class", "label")

#: Resolution of the site when the land cover must be reprojected and none is asked for. [m]
DEFAULT_RESOLUTION_M = 10.0

#: A cell of a legend's built-up/paving class whose height above the terrain is at
#: least this is a building. [m] One storey is about 3 m; 2.5 m keeps single-storey
#: buildings and garages but drops cars, hedges and walls.
BUILDING_MIN_HEIGHT_M = 2.5

#: Tree height on ``trees`` cells when no DSM is given. [m] A typical height of
#: mature deciduous urban street and park trees (e.g. Tilia, Acer, Platanus at
#: 40-60 years reach 12-20 m in McPherson, E.G., van Doorn, N.S., Peper, P.J.
#: (2016) Urban tree database and allometric equations. USDA Forest Service
#: General Technical Report PSW-GTR-253); a DSM gives the real heights.
DEFAULT_TREE_HEIGHT_M = 15.0

#: Terrain below this is a nodata value the DTM does not declare (the Dead Sea shore is at -430 m). [m]
LOWEST_TERRAIN_M = -1000.0

#: Refuse grids larger than this (a bbox in the wrong units, a too fine resolution).
MAX_CELLS = 50_000_000

Progress = Callable[[str], None]


# ----------------------------------------------------------------------------- legends
@dataclass(frozen=True)
class Legend:
    """Raster codes of a land-cover product and the heatsim class of each.

    Parameters
    ----------
    name
        ``"worldcover"``, ``"bbk"`` or ``"csv"``.
    source
        The CSV file it was read from.
    classes
        Raster code -> heatsim class name.
    """

    name: str
    source: str
    classes: dict[int, str]


def read_legend(legend: str = "worldcover", mapping_csv: Path | None = None, source: str = "legend") -> Legend:
    """The built-in legend ``legend`` or, with ``legend="csv"``, the user's ``mapping_csv``.

    ``source`` names where the options came from in errors about them.
    """
    if legend == "csv":
        if mapping_csv is None:
            raise InputError(source, "mapping_csv", "legend 'csv' needs a mapping CSV with the columns code,class,label")
        path = Path(mapping_csv)
        if not path.is_file():
            raise InputError(path, "mapping_csv", "file not found")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(path, "mapping_csv", "not a UTF-8 text file; expected a CSV with code,class,label") from None
        return parse_legend(text, str(path), "csv")
    if mapping_csv is not None:
        raise InputError(source, "mapping_csv", f"given with legend {legend!r}; use legend 'csv' to read a mapping CSV")
    if legend not in BUILTIN_LEGENDS:
        raise InputError(source, "legend", f"unknown legend {legend!r}; expected one of {', '.join(BUILTIN_LEGENDS)} or csv")
    path = resources.files("heatsim").joinpath(f"data/legends/{legend}.csv")
    return parse_legend(path.read_text(encoding="utf-8"), str(path), legend)


def parse_legend(text: str, source: str, name: str = "csv") -> Legend:
    """Parse a legend CSV (columns ``code,class,label``; ``#`` lines are comments)."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError(source, "header", "empty legend; expected a header code,class,label and one row per raster code")
    rows = list(csv.reader(line for _, line in lines))
    header = [column.strip().lower() for column in rows[0]]
    missing = [column for column in LEGEND_COLUMNS if column not in header]
    if missing:
        raise InputError(source, "header", f"missing column(s) {', '.join(missing)}; expected the columns code,class,label")
    at = {column: header.index(column) for column in LEGEND_COLUMNS}
    table = default_table()
    classes: dict[int, str] = {}
    for (number, _), row in zip(lines[1:], rows[1:]):
        if len(row) < len(header):
            raise InputError(source, f"line {number}", f"expected {len(header)} values ({','.join(header)}), got {len(row)}")
        raw_code, cls = row[at["code"]].strip(), row[at["class"]].strip()
        try:
            code = int(raw_code)
        except ValueError:
            raise InputError(source, f"code (line {number})", f"expected an integer raster code, got {raw_code!r}") from None
        if code in classes:
            raise InputError(source, f"code (line {number})", f"code {code} is listed twice")
        if cls not in table.classes:
            raise InputError(source, f"class (line {number})",
                             f"unknown heatsim class {cls!r}; expected one of {', '.join(table.names)}")
        classes[code] = cls
    if not classes:
        raise InputError(source, "code", "no rows; expected one row per raster code")
    return Legend(name, source, classes)


# ----------------------------------------------------------------------------- rasters
def read_raster(path: Path, option: str) -> xr.DataArray:
    """Open a single-band raster lazily, nodata as NaN, with a clear error for bad files.

    ``option`` is the name of the import option the file was given as (``"dtm"``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, option, "file not found")
    try:
        da = rioxarray.open_rasterio(path, masked=True)
    except (rasterio.errors.RasterioIOError, rasterio.errors.RasterioError, ValueError):
        raise InputError(path, option, "not a raster GDAL can read; expected a GeoTIFF") from None
    if not isinstance(da, xr.DataArray):
        raise InputError(path, option, "holds several sub-datasets; expected a single-band raster")
    if da.rio.crs is None:
        raise InputError(path, option, "the raster has no CRS; expected one in the file (e.g. EPSG:31370 or EPSG:4326)")
    if "band" in da.dims:
        if da.sizes["band"] != 1:
            raise InputError(path, option, f"has {da.sizes['band']} bands; expected a single-band raster")
        da = da.isel(band=0, drop=True)
    return da


def _cell_size_in(da: xr.DataArray, crs: str) -> float:
    """The raster's mean cell size measured in ``crs``. [m]"""
    left, bottom, right, top = da.rio.transform_bounds(crs, densify_pts=21)
    return math.sqrt(abs((right - left) * (top - bottom)) / (da.rio.width * da.rio.height))


def _clip_to(da: xr.DataArray, grid: Grid, path: Path, option: str) -> xr.DataArray:
    """The part of ``da`` over the grid plus a margin of two cells, read into memory."""
    margin = 2 * max(grid.resolution_m, _cell_size_in(da, grid.crs))
    x0, y0, x1, y1 = grid.bounds
    try:
        clipped = da.rio.clip_box(x0 - margin, y0 - margin, x1 + margin, y1 + margin, crs=grid.crs, auto_expand=True)
    except NoDataInBounds:
        raise InputError(path, option, f"does not overlap the land cover (site extent {x0:.0f}, {y0:.0f}, "
                                       f"{x1:.0f}, {y1:.0f} in {grid.crs})") from None
    return clipped.load()


def _to_grid(da: xr.DataArray, grid: Grid, resampling: Resampling) -> np.ndarray:
    """``da`` reprojected onto ``grid`` as float64, NaN where no data."""
    da = da.astype("float64").rio.write_nodata(np.nan, encoded=False)
    out = da.rio.reproject(grid.crs, shape=grid.shape, transform=grid.transform, resampling=resampling, nodata=np.nan)
    return np.asarray(out.values, dtype="float64")


def _continuous_to_grid(path: Path, option: str, grid: Grid) -> tuple[np.ndarray, str]:
    """A height raster on the grid [m]: bilinear from coarser or equal cells, average from finer ones."""
    da = _clip_to(read_raster(path, option), grid, path, option)
    finer = _cell_size_in(da, grid.crs) < grid.resolution_m * (1 - 1e-3)
    method = Resampling.average if finer else Resampling.bilinear
    return _to_grid(da, grid, method), method.name


# ----------------------------------------------------------------------------- grid
def target_grid(landcover: xr.DataArray, crs: str, resolution_m: float | None,
                bbox: tuple[float, float, float, float] | None, source: str) -> Grid:
    """The site grid: ``crs``, ``resolution_m`` [m], ``bbox`` or the land cover's extent snapped outward to whole cells.

    Without ``resolution_m`` the land cover's own cell size is kept when it is
    already in ``crs``, else :data:`DEFAULT_RESOLUTION_M`.
    """
    check_projected(crs, source)
    target = CRS.from_user_input(crs)
    same_crs = CRS.from_user_input(landcover.rio.crs) == target
    if resolution_m is None:
        res_x, res_y = (abs(r) for r in landcover.rio.resolution())
        resolution_m = res_x if same_crs and math.isclose(res_x, res_y, rel_tol=1e-6) else DEFAULT_RESOLUTION_M
    if not (isinstance(resolution_m, numbers.Real) and math.isfinite(resolution_m) and resolution_m > 0):
        raise InputError(source, "resolution_m", f"expected a cell size > 0 m, got {resolution_m!r}")
    if bbox is None:
        bounds = landcover.rio.bounds() if same_crs else landcover.rio.transform_bounds(target.to_string(), densify_pts=21)
    else:
        if len(bbox) != 4 or not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in bbox):
            raise InputError(source, "bbox", f"expected four numbers x_min, y_min, x_max, y_max, got {bbox!r}")
        if not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise InputError(source, "bbox", f"expected x_min < x_max and y_min < y_max (in {target.to_string()}), got {tuple(bbox)}")
        bounds = tuple(float(v) for v in bbox)
    r = float(resolution_m)
    snapped = (math.floor(bounds[0] / r + 1e-9) * r, math.floor(bounds[1] / r + 1e-9) * r,
               math.ceil(bounds[2] / r - 1e-9) * r, math.ceil(bounds[3] / r - 1e-9) * r)
    cells = round((snapped[2] - snapped[0]) / r) * round((snapped[3] - snapped[1]) / r)
    if cells > MAX_CELLS:
        raise InputError(source, "resolution_m", f"the grid would have {cells:,} cells (> {MAX_CELLS:,}); "
                                                 "choose a coarser resolution_m or a smaller bbox")
    return Grid.from_bounds(snapped, r, target.to_string(), source)


# ----------------------------------------------------------------------------- land cover
def _classify(path: Path, da: xr.DataArray, grid: Grid, legend: Legend) -> np.ndarray:
    """heatsim class codes on the grid (uint8, 0 = no data) from a product's codes (nearest)."""
    values = da.values
    present = np.unique(values[np.isfinite(values)])
    if present.size == 0:
        raise InputError(path, "landcover", "all cells are nodata over the site extent; expected land-cover codes")
    fractional = present[present != np.round(present)]
    if fractional.size:
        raise InputError(path, "landcover", f"holds non-integer values (e.g. {fractional[0]:g}); expected integer class codes")
    missing = [int(c) for c in present if int(c) not in legend.classes]
    if missing:
        shown = ", ".join(str(c) for c in missing[:5]) + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
        hint = "; 0 is often no data: declare it as the raster's nodata value" if 0 in missing else ""
        raise InputError(path, "legend", f"code(s) {shown} occur in the land cover but not in the legend {legend.source}; "
                                         f"map them in a mapping CSV (legend 'csv'){hint}")
    codes = _to_grid(da, grid, Resampling.nearest)
    table = default_table()
    landcover = np.zeros(grid.shape, dtype="uint8")
    for code, cls in legend.classes.items():
        landcover[codes == code] = table.code(cls)
    if not landcover.any():
        raise InputError(path, "landcover", "all cells are nodata over the site grid; expected land-cover codes")
    return landcover


# ----------------------------------------------------------------------------- districts
def _rasterize_districts(path: Path, field: str, grid: Grid, valid: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """District index (1-based, file order) on the grid, the district names, and warnings."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "districts", "file not found")
    features = read_geojson(path, grid.crs, field_name="features")
    if len(features) > 254:
        raise InputError(path, "features", f"{len(features)} districts; at most 254 fit the district layer")
    names, geoms = [], []
    for i, feature in enumerate(features):
        if field not in feature.properties:
            raise InputError(path, f"features[{i}].properties.{field}", "missing; choose the name property with "
                             f"district_field (found: {', '.join(feature.properties) or 'none'})")
        if feature.geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(path, f"features[{i}].geometry",
                             f"expected a Polygon or MultiPolygon, got {feature.geometry.geom_type}")
        names.append(str(feature.properties[field]))
        geoms.append(feature.geometry)
    district = rasterio.features.rasterize([(g, i + 1) for i, g in enumerate(geoms)], out_shape=grid.shape,
                                           transform=grid.transform, fill=0, dtype="uint8")
    warnings = []
    empty = [names[i] for i in range(len(names)) if not (district == i + 1).any()]
    if empty:
        warnings.append(f"districts without any cell on the grid: {', '.join(empty[:5])}")
    outside = int((valid & (district == 0)).sum())
    if outside:
        warnings.append(f"{outside} land-cover cells lie in no district (district = 0 there)")
    return district, names, warnings


# ----------------------------------------------------------------------------- site.toml
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    escaped = "".join(c if c >= " " and c not in '"\\\x7f' else
                      ("\\" + c if c in '"\\' else f"\\u{ord(c):04x}") for c in text)
    return f'"{escaped}"'


def _toml_table(table: dict, prefix: str = "") -> list[str]:
    lines = [f"{key} = {_toml_value(v)}" for key, v in table.items() if not isinstance(v, dict)]
    for key, sub in table.items():
        if isinstance(sub, dict):
            name = f"{prefix}.{key}" if prefix else key
            lines += ["", f"[{name}]"] + _toml_table(sub, name)
    return lines


def _site_toml(definition: dict) -> str:
    text = "# Site imported from rasters by heatsim.site.importer; the layers are in rasters/.\n"
    text += "\n".join(_toml_table(definition)) + "\n"
    tomllib.loads(text)  # what we write must read back
    return text


# ----------------------------------------------------------------------------- import
def import_site(*, landcover: Path, dtm: Path, out: Path, legend: str = "worldcover", mapping_csv: Path | None = None,
                building_height: Path | None = None, dsm: Path | None = None,
                bbox: tuple[float, float, float, float] | None = None, resolution_m: float | None = None,
                crs: str = "EPSG:31370", soil_texture: str = "sandy_loam", districts: Path | None = None,
                district_field: str = "name", name: str | None = None, population: Path | None = None,
                progress: Progress | None = None) -> Path:
    """Build a site from real rasters and write it as a site definition folder ``out``.

    Parameters
    ----------
    landcover
        Land-cover raster of codes of ``legend`` (any CRS; nodata cells are outside the site).
    dtm
        Terrain heights (digital terrain model). [m]
    out
        The site definition folder to create; it must not exist.
    legend
        ``"worldcover"`` (ESA WorldCover 10 m), ``"bbk"`` (Flemish Bodembedekkingskaart 1 m,
        core classes) or ``"csv"`` with ``mapping_csv`` (columns ``code,class,label``).
    mapping_csv
        The user's legend CSV when ``legend="csv"``.
    building_height
        Optional raster of building heights above the terrain. [m]
    dsm
        Optional surface heights (digital surface model, tops of roofs and trees). [m]
        Without ``building_height``, building heights are DSM - DTM; tree heights too.
    bbox
        Site extent ``(x_min, y_min, x_max, y_max)`` in ``crs`` [m]; default the land cover's extent.
    resolution_m
        Cell size [m]; default the land cover's cell size when it is in ``crs``, else 10 m.
    crs
        Projected CRS of the site (default Belgian Lambert 72).
    soil_texture
        Soil texture of every cell (a ``[soils]`` name of ``heatsim/data/landcover.toml``).
    districts
        Optional GeoJSON of district polygons; districts are numbered 1, 2, ... in file order.
    district_field
        The feature property holding a district's name.
    name
        Site name; default the name of ``out``.
    progress
        Called with a short message before each step.

    Returns
    -------
    Path
        ``out``.

    Derived layers: where a legend has no building class (WorldCover), its
    ``paving`` (built-up) cells at least :data:`BUILDING_MIN_HEIGHT_M` high
    become ``building``. Building heights come from ``building_height`` or
    DSM - DTM (clipped at 0); without either they are 0 (a warning in the
    provenance). Trees get DSM - DTM or :data:`DEFAULT_TREE_HEIGHT_M` and a
    canopy cover of 1. ``stream`` and ``culvert`` are 0.
    """
    say = progress or (lambda message: None)
    out = Path(out)
    where = str(out)  # errors about option values (crs, bbox, ...) name the site being built
    if out.exists():
        raise InputError(out, "out", "exists; choose a new folder")
    for option, path in (("landcover", landcover), ("dtm", dtm), ("dsm", dsm), ("building_height", building_height),
                         ("districts", districts), ("mapping_csv", mapping_csv)):
        if path is not None and not Path(path).is_file():  # fail fast, before reading anything large
            raise InputError(path, option, "file not found")
    table = default_table()
    if soil_texture not in table.soils:
        raise InputError(where, "soil_texture", f"unknown soil texture {soil_texture!r}; expected one of {', '.join(table.soils)}")
    site_name = name or out.name
    the_legend = read_legend(legend, mapping_csv, where)
    warnings: list[str] = []

    say(f"reading land cover {landcover}")
    landcover = Path(landcover)
    lc_source = read_raster(landcover, "landcover")
    grid = target_grid(lc_source, crs, resolution_m, bbox, where)
    lc = _classify(landcover, _clip_to(lc_source, grid, landcover, "landcover"), grid, the_legend)
    valid = lc > 0
    resampling = {"landcover": "nearest"}

    say(f"reading terrain {dtm}")
    dtm = Path(dtm)
    elevation, resampling["dtm"] = _continuous_to_grid(dtm, "dtm", grid)
    holes = int((valid & ~np.isfinite(elevation)).sum())
    if holes == int(valid.sum()):
        raise InputError(dtm, "dtm", "does not overlap the land cover: no terrain height under any land-cover cell")
    if holes:
        raise InputError(dtm, "dtm", f"{holes} of {int(valid.sum())} land-cover cells have no terrain height (nodata/NaN); "
                                     "expected a DTM covering the whole land cover (fill its gaps first)")
    if (elevation[valid] < LOWEST_TERRAIN_M).any():
        raise InputError(dtm, "dtm", f"terrain heights down to {np.nanmin(elevation[valid]):g} m; an undeclared nodata "
                                     "value? Declare it as the raster's nodata value")

    above = None  # DSM - DTM [m]
    if dsm is not None:
        say(f"reading surface {dsm}")
        dsm = Path(dsm)
        surface, resampling["dsm"] = _continuous_to_grid(dsm, "dsm", grid)
        above = np.clip(surface - elevation, 0.0, None)
    heights = None  # building heights [m], NaN where unknown
    if building_height is not None:
        say(f"reading building heights {building_height}")
        building_height = Path(building_height)
        heights, resampling["building_height"] = _continuous_to_grid(building_height, "building_height", grid)
        heights = np.clip(heights, 0.0, None)
        height_source = "building_height raster"
    elif above is not None:
        heights, height_source = above, "dsm - dtm"
    else:
        height_source = "none"
        warnings.append("no building_height raster and no DSM: building cells have a height of 0 m"
                        + ("; built-up cells stay paving" if "building" not in the_legend.classes.values() else ""))

    say("deriving layers")
    building, paving, trees = table.code("building"), table.code("paving"), table.code("trees")
    if heights is not None and "building" not in the_legend.classes.values():
        # The product cannot tell buildings from other sealed ground (WorldCover 'built-up'): heights can.
        lc[(lc == paving) & (np.nan_to_num(heights) >= BUILDING_MIN_HEIGHT_M)] = building
    roofs = np.isin(lc, [c.code for c in table.classes.values() if c.obstacle])
    building_h = np.zeros(grid.shape)
    if heights is not None:
        unknown = int((roofs & ~np.isfinite(heights)).sum())
        if unknown:
            warnings.append(f"{unknown} building cells without a height (nodata in the height input) got 0 m")
        building_h[roofs] = np.nan_to_num(heights[roofs])
    tree_cells = lc == trees
    tree_h = np.zeros(grid.shape)
    # Default: typical mature deciduous urban tree (see DEFAULT_TREE_HEIGHT_M, McPherson et al. 2016).
    tree_h[tree_cells] = DEFAULT_TREE_HEIGHT_M
    if above is not None:
        measured = tree_cells & np.isfinite(above)
        tree_h[measured] = above[measured]
        if int(tree_cells.sum() - measured.sum()):
            warnings.append(f"{int(tree_cells.sum() - measured.sum())} trees cells without a DSM value "
                            f"got the default height {DEFAULT_TREE_HEIGHT_M} m")
    if districts is not None:
        say(f"reading districts {districts}")
        district, district_names, more = _rasterize_districts(Path(districts), district_field, grid, valid)
        warnings += more
    else:
        district, district_names = np.ones(grid.shape, dtype="uint8"), [site_name]

    arrays = {
        "landcover": lc,
        "elevation": elevation,
        "building_height": building_h,
        "tree_height": tree_h,
        "canopy": tree_cells.astype("float64"),
        "impervious": table.lookup("impervious_fraction")[lc],
        "soil": np.full(grid.shape, table.soils[soil_texture].code),
        # Real stream networks and culverts come in later via scenario / vector layers.
        "stream": np.zeros(grid.shape),
        "culvert": np.zeros(grid.shape),
        "district": district,
        "domain": valid.astype("uint8"),
    }
    for layer_name, layer in LAYERS.items():
        if layer_name not in ("landcover", "domain"):  # landcover is 0 and domain 0 outside already
            arrays[layer_name] = np.where(valid, arrays[layer_name], layer.nodata)

    inputs = {"landcover": landcover, "dtm": dtm, "dsm": dsm, "building_height": building_height,
              "districts": Path(districts) if districts is not None else None,
              "mapping_csv": Path(mapping_csv) if legend == "csv" else None}
    provenance = {
        "importer": "heatsim.site.importer.import_site",
        "legend": the_legend.name,
        "legend_file": the_legend.source,
        "bbox": list(grid.bounds),
        "soil_texture": soil_texture,
        "building_height_source": height_source,
        "tree_height_source": "dsm - dtm" if above is not None else f"default {DEFAULT_TREE_HEIGHT_M} m",
        "resampling": resampling,
        "warnings": warnings,
        "inputs": {key: {"path": str(p.resolve()), "sha256": sha256(p)} for key, p in inputs.items() if p is not None},
    }
    site = _dataset(grid, arrays)

    extra = {}
    if population is not None:
        from heatsim.population import POPULATION_FILE, sector_population

        say(f"reading population {population}")
        population = Path(population)
        sector_population(site, population, [c.code for c in table.classes.values() if c.obstacle])  # checks it
        extra[POPULATION_FILE] = population
        provenance["inputs"]["population"] = {"path": str(population.resolve()), "sha256": sha256(population)}
    site.attrs.update(name=site_name, title=f"{site_name} (imported from {landcover.name}, legend {the_legend.name})",
                      resolution_m=grid.resolution_m, districts=json.dumps(district_names),
                      provenance=json.dumps(provenance))
    say(f"writing {out}")
    definition = {"name": site_name, "title": site.attrs["title"], "kind": "rasters", "crs": grid.crs,
                  "resolution_m": grid.resolution_m, "provenance": provenance}
    _write(out, definition, site, extra)
    return out


def _dataset(grid: Grid, arrays: dict[str, np.ndarray]) -> xr.Dataset:
    """A site Dataset of all :data:`LAYERS` on ``grid``."""
    layers = {}
    for layer_name, layer in LAYERS.items():
        da = grid.dataarray(np.asarray(arrays[layer_name]).astype(layer.dtype), layer_name, layer.units,
                            nodata=layer.nodata, description=layer.description)
        layers[layer_name] = da.drop_vars("spatial_ref", errors="ignore")
    return xr.Dataset(layers).rio.write_crs(grid.crs).rio.write_transform(grid.transform)


def _write(out: Path, definition: dict, site: xr.Dataset, extra_files: dict[str, Path] | None = None) -> None:
    """Write ``site.toml``, ``rasters/`` and copies of ``extra_files`` (name in the folder -> source)
    into a temporary folder beside ``out`` and rename it into place."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        raise InputError(out, "out", f"cannot create the site folder there ({exc.strerror})") from None
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700
    try:
        (tmp / SITE_TOML).write_text(_site_toml(definition), encoding="utf-8")
        write_site_folder(site, tmp / "rasters")
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        if out.exists():  # appeared while we were importing
            raise InputError(out, "out", "exists; choose a new folder")
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

"""Loading a scenario file: YAML, schema, inheritance, geometries, parameters.

``load_scenario(path)`` returns a :class:`Scenario` with everything resolved:
the chain of files it inherits from, the site, the weather, the land-cover table
with the scenario's parameter overrides, and the interventions in the order
they apply (the base's first, then included scenarios', then its own), each
with its geometry read and checked. All problems are :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import shapely
import yaml
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from heatsim.errors import InputError, from_validation_error
from heatsim.landcover import LandCoverTable, default_table
from heatsim.scenario.schema import INTERVENTION_KINDS, ScenarioFile, WaterSetup, Weather
from heatsim.paths import inputs_dir
from heatsim.site.store import SITE_TOML, read_definition
from heatsim.vectors import parse_geojson, read_geojson

DEFAULT_SITE = "harelbeke"


@dataclass
class ResolvedIntervention:
    spec: object  # one of the schema's intervention models
    geometry: BaseGeometry  # in the site CRS
    source: Path  # the scenario file it was written in
    index: int  # its position in that file's interventions
    geometry_file: Path | None = None

    @property
    def label(self) -> str:
        name = f" {self.spec.name!r}" if self.spec.name else ""
        return f"{self.source.stem}#{self.index + 1} {self.spec.kind}{name}"

    @property
    def field(self) -> str:
        return f"interventions[{self.index}]"


@dataclass
class ResolvedBoundary:
    """An outlet or inflow of the water model with its geometry in the site CRS."""

    spec: object  # schema Outlet or Inflow
    geometry: BaseGeometry
    source: Path  # the scenario file it was written in
    field: str  # e.g. "water.outlets[0]"
    hydrograph: Path | None = None  # inflows: the resolved hydrograph file


@dataclass
class WaterBoundaries:
    setup: WaterSetup
    source: Path | None  # the file whose `water` section applies (None: defaults)
    outlets: list[ResolvedBoundary] = field(default_factory=list)
    inflows: list[ResolvedBoundary] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    title: str
    description: str
    path: Path
    chain: list[Path]  # this file, then every file it inherits from or includes
    bases: list[str]  # names of the base chain, nearest first
    includes: list[str]  # names of the included scenarios (own and inherited)
    site: str
    resolution_m: float | None
    weather: Weather
    parameters: dict[str, dict[str, float]]
    table: LandCoverTable
    interventions: list[ResolvedIntervention] = field(default_factory=list)
    water: WaterBoundaries = field(default_factory=lambda: WaterBoundaries(WaterSetup(), None))

    @property
    def texts(self) -> dict[str, str]:
        """The text of every file in the chain (for a run's provenance)."""
        return {str(p): p.read_text(encoding="utf-8") for p in self.chain}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (YAML 1.2 forbids it;
    PyYAML would silently keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_scenario_file(path: Path) -> ScenarioFile:
    """Parse and validate one file (no inheritance)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "scenario file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, where, f"malformed YAML: {problem}") from None
    except UnicodeDecodeError:
        raise InputError(path, None, "not a UTF-8 text file") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a YAML mapping with name, title, interventions, ...")
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, path, skip=INTERVENTION_KINDS) from None
    if spec.name != path.stem:
        raise InputError(path, "name", f"expected {path.stem!r} (the file name without .yaml), got {spec.name!r}")
    return spec


def _scenario_path(ref: str, from_file: Path, key: str, root: Path) -> Path:
    """A base/include reference: a scenario name in the same folder, or a relative path
    that stays inside the scenarios folder ``root``."""
    folder = from_file.parent
    candidate = folder / ref if ref.endswith((".yaml", ".yml")) else folder / f"{ref}.yaml"
    if not _inside(candidate, root):
        raise InputError(from_file, key, f"{ref!r} leaves the scenarios folder {root}")
    if not candidate.is_file():
        raise InputError(from_file, key, f"no scenario {ref!r} (looked for {candidate})")
    return candidate.resolve()


def _site_folder(ref: str, from_file: Path) -> Path:
    """A scenario's ``site``: a folder next to the file (with site.toml), else a bundled site name."""
    for candidate in (from_file.parent / ref, inputs_dir() / ref):
        if (candidate / SITE_TOML).is_file():
            return candidate.resolve()
    raise InputError(from_file, "site", f"no site {ref!r}: expected a bundled site name "
                     f"({', '.join(sorted(p.parent.name for p in inputs_dir().glob('*/' + SITE_TOML)))}) "
                     f"or a folder with {SITE_TOML} relative to this file")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _geometry(spec, source: Path, index: int, crs: str, root: Path) -> tuple[BaseGeometry, Path | None]:
    fld = f"interventions[{index}].geometry"
    if isinstance(spec.geometry, str):
        gpath = (source.parent / spec.geometry)
        if not _inside(gpath, root):
            raise InputError(source, fld, f"path {spec.geometry!r} leaves the scenarios folder {root}; "
                             "keep geometries next to the scenarios")
        if not gpath.is_file():
            raise InputError(source, fld, f"geometry file not found: {gpath}")
        features = read_geojson(gpath, crs, field_name=fld)
        where = gpath
    else:
        # inline geometries are written in the site's CRS unless they say otherwise
        features = parse_geojson(spec.geometry, str(source), crs, fld, default_crs=crs)
        gpath, where = None, source
    if spec.select is not None:
        names = {f.properties.get("name") for f in features}
        missing = [n for n in spec.select if n not in names]
        if missing:
            raise InputError(where, f"interventions[{index}].select",
                             f"no feature named {missing[0]!r}; the file has {', '.join(sorted(map(str, names)))}")
        features = [f for f in features if f.properties.get("name") in spec.select]
    geom = shapely.union_all([f.geometry for f in features])
    if spec.kind == "open-stream":
        if geom.geom_type not in ("LineString", "MultiLineString"):
            raise InputError(where, fld, f"open-stream needs a line (the stream's centre line), got {geom.geom_type}")
    elif geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(where, fld, f"{spec.kind} needs a polygon, got {geom.geom_type}")
    return geom, gpath


def _with_resolved_file(spec, source: Path, field_name: str, what: str, root: Path):
    """A weather spec whose ``file`` (relative to the scenario that names it) is made absolute,
    after checking that it stays inside the scenarios folder and exists."""
    if spec.file is None:
        return spec
    path = source.parent / spec.file
    if not _inside(path, root):
        raise InputError(source, field_name, f"{spec.file!r} leaves the scenarios folder {root}")
    if not path.is_file():
        raise InputError(source, field_name, f"{what} not found: {path}")
    return spec.model_copy(update={"file": str(path.resolve())})


def _boundary_geometry(spec, source: Path, fld: str, crs: str, root: Path, allowed: tuple[str, ...]) -> BaseGeometry:
    if isinstance(spec, str):
        gpath = source.parent / spec
        if not _inside(gpath, root):
            raise InputError(source, fld, f"path {spec!r} leaves the scenarios folder {root}")
        if not gpath.is_file():
            raise InputError(source, fld, f"geometry file not found: {gpath}")
        features, where = read_geojson(gpath, crs, field_name=fld), gpath
    else:
        features, where = parse_geojson(spec, str(source), crs, fld, default_crs=crs), source
    geom = shapely.union_all([f.geometry for f in features])
    if geom.is_empty or not any(geom.geom_type.endswith(kind) for kind in allowed):
        raise InputError(where, fld, f"expected a {' or '.join(a.lower() for a in allowed)} geometry, got {geom.geom_type}")
    return geom


def _water_boundaries(files: dict, base_chain: list[Path], crs: str, root: Path) -> WaterBoundaries:
    """The nearest `water` section of the base chain, with its geometries and files resolved."""
    for p in base_chain:
        setup = files[p].water
        if setup is None:
            continue
        bounds = WaterBoundaries(setup, p)
        for i, outlet in enumerate(setup.outlets):
            fld = f"water.outlets[{i}].geometry"
            geom = _boundary_geometry(outlet.geometry, p, fld, crs, root, ("Polygon", "LineString", "Point"))
            bounds.outlets.append(ResolvedBoundary(outlet, geom, p, f"water.outlets[{i}]"))
        for i, inflow in enumerate(setup.inflows):
            fld = f"water.inflows[{i}]"
            geom = _boundary_geometry(inflow.geometry, p, fld + ".geometry", crs, root, ("LineString", "Point"))
            hpath = p.parent / inflow.hydrograph
            if not _inside(hpath, root):
                raise InputError(p, fld + ".hydrograph", f"{inflow.hydrograph!r} leaves the scenarios folder {root}")
            if not hpath.is_file():
                raise InputError(p, fld + ".hydrograph", f"hydrograph file not found: {hpath}")
            bounds.inflows.append(ResolvedBoundary(inflow, geom, p, fld, hpath.resolve()))
        return bounds
    return WaterBoundaries(WaterSetup(), None)


def load_scenario(path: str | Path, root: Path | None = None) -> Scenario:
    """Load, validate and resolve a scenario file (see module docstring).

    ``root`` is the scenarios folder that geometry paths may not leave
    (default: the folder of ``path``).
    """
    path = Path(path).resolve()
    root = (root or path.parent).resolve()
    files: dict[Path, ScenarioFile] = {}

    def visit(p: Path, stack: list[Path], via: str) -> list[Path]:
        """Files in application order (bases and includes first), with cycle detection.
        ``via`` is the key of the last file in ``stack`` that points to ``p``."""
        if p in stack:
            cycle = " -> ".join(s.stem for s in stack[stack.index(p):] + [p])
            raise InputError(stack[-1], via, f"inheritance cycle: {cycle}")
        spec = files.setdefault(p, read_scenario_file(p))
        order: list[Path] = []
        refs = ([("base", spec.base)] if spec.base else []) + [(f"include[{i}]", r) for i, r in enumerate(spec.include)]
        for key, ref in refs:
            for q in visit(_scenario_path(ref, p, key, root), stack + [p], key):
                if q not in order:
                    order.append(q)
        order.append(p)
        return order

    order = visit(path, [], "")
    top = files[path]
    # site, resolution and weather: own value, else the base chain's (nearest first)
    base_chain = [path]
    while files[base_chain[-1]].base:
        base_chain.append(_scenario_path(files[base_chain[-1]].base, base_chain[-1], "base", root))
    site_ref, site_from = DEFAULT_SITE, None
    resolution = None
    storm = heat = None
    for p in base_chain:
        spec = files[p]
        if spec.site and site_from is None:
            site_ref, site_from = spec.site, p
        resolution = resolution if resolution is not None else spec.resolution_m
        if spec.weather:
            if storm is None and spec.weather.storm is not None:
                storm = _with_resolved_file(spec.weather.storm, p, "weather.storm.file", "rain file", root)
            if heat is None and spec.weather.heat is not None:
                heat = _with_resolved_file(spec.weather.heat, p, "weather.heat.file", "weather file", root)
    site_folder = _site_folder(site_ref, site_from or path)
    bundled = "/" not in site_ref and (inputs_dir() / site_ref).resolve() == site_folder
    site_path = site_ref if bundled else str(site_folder)
    for p in order:  # an included scenario drawn for another site cannot apply here
        if p not in base_chain and files[p].site is not None and _site_folder(files[p].site, p) != site_folder:
            raise InputError(p, "site", f"is {files[p].site!r} but the including scenario {path.name} uses "
                             f"{site_ref!r}; a scenario can only include scenarios of the same site")
    crs = read_definition(site_folder)["crs"]
    # parameters: deep-merged in application order (later files win)
    parameters: dict[str, dict[str, float]] = {}
    table = default_table()
    for p in order:
        for cls, values in files[p].parameters.items():
            parameters.setdefault(cls, {}).update(values)
        table = table.with_overrides(files[p].parameters, str(p)) if files[p].parameters else table
    interventions = []
    for p in order:
        for i, spec in enumerate(files[p].interventions):
            geom, gpath = _geometry(spec, p, i, crs, root if p.parent == path.parent else p.parent)
            interventions.append(ResolvedIntervention(spec, geom, p, i, gpath))
    return Scenario(
        name=top.name, title=top.title, description=top.description, path=path, chain=order[::-1],
        bases=[p.stem for p in base_chain[1:]],
        includes=[p.stem for p in order if p not in base_chain],
        site=site_path, resolution_m=resolution, weather=Weather(storm=storm, heat=heat), parameters=parameters,
        table=table, interventions=interventions, water=_water_boundaries(files, base_chain, crs, root),
    )


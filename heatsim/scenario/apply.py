"""Applying a scenario's interventions to a site: data in, a new site out.

Each intervention turns into a set of cells (the cell centres inside its
polygon, or the channel and banks along its line) and changes layers there.
Where ``fraction`` < 1 a reproducible share of the eligible cells is chosen,
spread over the geometry (a permutation seeded by the scenario file and the
intervention's position). Every intervention yields a :class:`ChangeReport`:
how many cells and m² changed from which class to which, canopy added, storage
dug, and notes.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely
import xarray as xr
from rasterio import features as rio_features
from shapely.geometry import box

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.landcover import LandCoverTable
from heatsim.scenario.loader import ResolvedIntervention, Scenario
from heatsim.site import terrain

ROOF_CLASSES = ("building", "green_roof")


@dataclass
class ChangeReport:
    """What one intervention changed. Areas in m², volumes in m³."""

    label: str
    kind: str
    geometry_area_m2: float
    cells_in_geometry: int
    cells_changed: int
    cell_area_m2: float
    transitions: dict[tuple[str, str], int] = field(default_factory=dict)
    canopy_added_m2: float = 0.0
    storage_created_m3: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def area_changed_m2(self) -> float:
        return self.cells_changed * self.cell_area_m2

    def lines(self) -> list[str]:
        out = [f"{self.label}: geometry {self.geometry_area_m2:,.0f} m2 ({self.cells_in_geometry} cells), "
               f"{self.cells_changed} cells changed ({self.area_changed_m2:,.0f} m2)"]
        for (a, b), n in sorted(self.transitions.items(), key=lambda t: -t[1]):
            out.append(f"    {a} -> {b}: {n} cells, {n * self.cell_area_m2:,.0f} m2")
        if self.canopy_added_m2:
            out.append(f"    tree canopy added: {self.canopy_added_m2:,.0f} m2")
        if self.storage_created_m3:
            out.append(f"    storage dug below the old ground: {self.storage_created_m3:,.0f} m3")
        out += [f"    note: {n}" for n in self.notes]
        return out


def _mask(geom, grid: Grid, all_touched=False) -> np.ndarray:
    return rio_features.rasterize([(geom, 1)], out_shape=grid.shape, transform=grid.transform, fill=0,
                                  dtype="uint8", all_touched=all_touched).astype(bool)


def _choose(candidates: np.ndarray, fraction: float, item: ResolvedIntervention) -> np.ndarray:
    """A reproducible, spatially spread share ``fraction`` of the True cells of ``candidates``."""
    if fraction >= 1.0:
        return candidates
    idx = np.flatnonzero(candidates)
    k = int(round(fraction * idx.size))
    seed = zlib.crc32(f"{item.source.name}:{item.index}".encode())
    chosen = np.zeros(candidates.size, dtype=bool)
    chosen[np.random.default_rng(seed).permutation(idx)[:k]] = True
    return chosen.reshape(candidates.shape)


class _Editor:
    """Mutable copies of a site's arrays plus the bookkeeping of one scenario."""

    def __init__(self, site: xr.Dataset, table: LandCoverTable):
        self.grid = Grid.of(site)
        self.table = table
        self.a = {name: site[name].values.copy() for name in site.data_vars}
        self.names = {c.code: c.name for c in table.classes.values()}
        self.changed = np.zeros(self.grid.shape, dtype=bool)
        self.class_changed = np.zeros(self.grid.shape, dtype=bool)

    def isin(self, classes) -> np.ndarray:
        return np.isin(self.a["landcover"], self.table.codes(list(classes)))

    def set_class(self, cells: np.ndarray, to: str, report: ChangeReport) -> None:
        lc = self.a["landcover"]
        code = self.table.code(to)
        cells = cells & (lc != code)
        counts = Counter(lc[cells].tolist())
        for old, n in counts.items():
            key = (self.names.get(old, str(old)), to)
            report.transitions[key] = report.transitions.get(key, 0) + n
        if to not in ROOF_CLASSES:
            self.a["building_height"][cells] = 0.0
        if to != "water":  # no longer a watercourse
            self.a["stream"][cells] = 0
        if to == "water":
            self.a["canopy"][cells] = 0.0
            self.a["tree_height"][cells] = 0.0
        lc[cells] = code
        self.class_changed |= cells
        self.changed |= cells

    def lower(self, cells: np.ndarray, new_level: np.ndarray | float, report: ChangeReport) -> None:
        elev = self.a["elevation"]
        new = np.minimum(elev[cells], new_level if np.isscalar(new_level) else new_level[cells])
        report.storage_created_m3 += float((elev[cells] - new).sum()) * self.grid.cell_area_m2
        elev[cells] = new
        self.changed |= cells

    def finish(self) -> dict[str, np.ndarray]:
        lut = self.table.lookup("impervious_fraction", fill=0.0)
        cc = self.class_changed
        self.a["impervious"][cc] = lut[self.a["landcover"][cc]]
        return self.a


def _check_in_site(item: ResolvedIntervention, grid: Grid) -> float:
    """The share of the geometry outside the site; an error when all of it is."""
    site_box = box(*grid.bounds)
    geom = item.geometry
    where = item.geometry_file or item.source
    inside = geom.intersection(site_box)
    if inside.is_empty:
        x0, y0, x1, y1 = (round(v) for v in grid.bounds)
        gx0, gy0, gx1, gy1 = (round(v) for v in geom.bounds)
        raise InputError(where, item.field + ".geometry",
                         f"the geometry (x {gx0}-{gx1}, y {gy0}-{gy1}) lies outside the site "
                         f"(x {x0}-{x1}, y {y0}-{y1} in {grid.crs}); check its CRS and coordinates")
    measure = (lambda g: g.length) if geom.geom_type.endswith("LineString") else (lambda g: g.area)
    return 1.0 - measure(inside) / measure(geom) if measure(geom) > 0 else 0.0


def apply_intervention(ed: _Editor, item: ResolvedIntervention) -> ChangeReport:
    spec, grid = item.spec, ed.grid
    outside = _check_in_site(item, grid)
    geom = item.geometry.intersection(box(*grid.bounds))
    if spec.kind == "open-stream":
        reach = geom.buffer(spec.width_m / 2 + spec.bank_width_m, cap_style="flat")
        mask = _mask(reach, grid) | _mask(geom, grid, all_touched=True)
        area = reach.area
    else:
        mask = _mask(geom, grid)
        area = geom.area
    report = ChangeReport(item.label, spec.kind, area, int(mask.sum()), 0, grid.cell_area_m2)
    if outside > 1e-6:
        report.notes.append(f"{100 * outside:.1f}% of the geometry lies outside the site and is ignored")
    if not mask.any():
        raise InputError(item.geometry_file or item.source, item.field + ".geometry",
                         f"the geometry covers no cell centre at {grid.resolution_m:g} m; "
                         "draw it larger or use a finer --resolution")
    before = ed.changed.copy()
    ed.changed[:] = False
    if spec.kind in ("depave", "permeable-paving"):
        to = spec.to if spec.kind == "depave" else "permeable_paving"
        ed.set_class(_choose(mask & ed.isin(spec.from_classes), spec.fraction, item), to, report)
    elif spec.kind == "green-roof":
        ed.set_class(_choose(mask & ed.isin(["building"]), spec.fraction, item), "green_roof", report)
    elif spec.kind == "set-class":
        cand = mask & (ed.isin(spec.from_classes) if spec.from_classes is not None else True)
        cells = _choose(cand, spec.fraction, item)
        ed.set_class(cells, spec.to, report)
        if spec.to in ROOF_CLASSES:
            ed.a["building_height"][cells] = spec.building_height_m
    elif spec.kind == "plant-trees":
        cells = _choose(mask & ~ed.isin(spec.exclude_classes), spec.fraction, item)
        canopy = ed.a["canopy"]
        old = canopy[cells].copy()
        canopy[cells] = np.maximum(old, spec.canopy_fraction)
        grown = np.zeros_like(cells)
        grown[cells] = canopy[cells] > old
        ed.a["tree_height"][grown] = np.maximum(ed.a["tree_height"][grown], spec.tree_height_m)
        report.canopy_added_m2 = float((canopy[cells] - old).sum()) * grid.cell_area_m2
        ed.changed |= grown
    elif spec.kind == "water":
        _refuse_buildings(ed, mask, item, "the pond or wadi")
        bed = float(ed.a["elevation"][mask].min()) - spec.depth_m
        ed.lower(mask, bed, report)
        ed.set_class(mask, "water" if spec.type == "pond" else "grass", report)
    elif spec.kind == "open-stream":
        _open_stream(ed, item, geom, report)
    report.cells_changed = int(ed.changed.sum())
    ed.changed |= before
    return report


def _refuse_buildings(ed: _Editor, cells: np.ndarray, item: ResolvedIntervention, what: str) -> None:
    n = int((cells & ed.isin(ROOF_CLASSES)).sum())
    if n:
        raise InputError(item.geometry_file or item.source, item.field + ".geometry",
                         f"{what} crosses {n} building cells; redraw it around them, or remove them first "
                         "with a set-class intervention")


def _open_stream(ed: _Editor, item: ResolvedIntervention, line, report: ChangeReport) -> None:
    spec, grid = item.spec, ed.grid
    elev = ed.a["elevation"]
    parts = list(line.geoms) if line.geom_type == "MultiLineString" else [line]
    for part in parts:
        def height(pt):
            c = int(np.clip((pt[0] - grid.x_min) // grid.resolution_m, 0, grid.nx - 1))
            r = int(np.clip((grid.y_max - pt[1]) // grid.resolution_m, 0, grid.ny - 1))
            return float(elev[r, c])
        start, end = part.coords[0], part.coords[-1]
        if height(start) < height(end):
            part = shapely.reverse(part)
            report.notes.append("the line was drawn from downstream to upstream; it was reversed (water flows downhill)")
        channel = _mask(part.buffer(spec.width_m / 2, cap_style="flat"), grid) | _mask(part, grid, all_touched=True)
        banks = _mask(part.buffer(spec.width_m / 2 + spec.bank_width_m, cap_style="flat"), grid) & ~channel
        _refuse_buildings(ed, channel | banks, item, "the opened stream")
        culvert_here = (channel | banks) & (ed.a["culvert"] == 1)
        if culvert_here.any():
            report.notes.append(f"{int(culvert_here.sum())} culvert cells along the reach are replaced by the open channel")
        ed.a["culvert"][channel | banks] = 0
        new_elev = elev.copy()
        existing = ed.isin(["water"])
        # banks first: the channel's samples along the line must still see the old ground
        terrain.carve_stream(new_elev, banks, grid, part, spec.bank_lowering_m, skip=existing)
        terrain.carve_stream(new_elev, channel, grid, part, spec.depth_m, skip=existing)
        ed.lower(channel | banks, new_elev, report)
        ed.a["stream"][channel] = 1
        ed.set_class(channel, "water", report)
        ed.set_class(banks & ~ed.isin(["water"]), spec.bank_class, report)


def apply_scenario(site: xr.Dataset, scenario: Scenario) -> tuple[xr.Dataset, list[ChangeReport], np.ndarray]:
    """The site after all of ``scenario``'s interventions, one report per
    intervention, and a boolean map of every cell any intervention changed."""
    ed = _Editor(site, scenario.table)
    reports = [apply_intervention(ed, item) for item in scenario.interventions]
    arrays = ed.finish()
    new = site.copy(deep=False)
    for name, values in arrays.items():
        new[name] = site[name].copy(data=values)
    new.attrs = dict(site.attrs, scenario=scenario.name)
    return new, reports, ed.changed

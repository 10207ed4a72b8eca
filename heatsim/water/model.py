"""The water model: rain on the grid, the stores of each cell, sewers, culverts and 2-D
overland flow, with a mass ledger.

Per flow step (adaptive, ``dt = alpha dx / sqrt(g h_max)``, at most ``dt_max_s``):

1. every ``losses_interval_s`` (30 s), over the time since the last call: the rain of
   that span (the exact integral of the hyetograph) is caught by the canopy, fills the
   depression stores, and the rest becomes free surface water
   (:mod:`heatsim.kernels.hydrology`);
2. at the same moments: Green-Ampt infiltration on the pervious share of each cell,
   green-roof substrates, sewer inlets on connected surfaces (roofs drain by their
   downpipes);
3. inflow hydrographs add their volume at their cells;
4. one local-inertial flow step moves the free water (:mod:`heatsim.kernels.overland_flow`),
   with buildings as walls and the grid's edges open or closed;
5. culverts pipe water from their inlet to their outlet, up to their capacity;
6. held-level outlets (the Leie, the canal) take what rose above their level;
7. running maxima of depth, speed and the time of the maximum depth (in the flow step's own
   sweep over the grid, except for the cells of steps 5 and 6, taken after those).

With local time steps (the default, ``water.time_stepping: local``) step 4 is one slow step
of :func:`heatsim.kernels.local_steps.local_step`: the fast region's inflows (3) enter a
share per sub-step, and the culverts whose inlet is in it and its held-level cells (5, 6)
act after every sub-step; the others act once, after the slow step, as above. An inflow
into a cell outside the region arrives before that cell's continuity but after its
momentum update (one step later than in the global scheme; the water is the same).

The ledger: ``rain + inflow + outlet supply = interception + infiltration + sewer +
outflow (edges and outlets) + storage (free water and depression stores)``, summed in
float64 and reported as a relative error of the rain volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from heatsim.errors import InputError
from heatsim.grid import Grid
from heatsim.gridfile import InMemoryStack, NetCDFStack, chunk_rows_for
from heatsim.kernels.flood_maxima import track_flood_maxima, track_flood_maxima_cells
from heatsim.kernels.hydrology import (culvert_transfer, depression_storage, hold_levels, infiltrate_green_ampt,
                                       infiltration_kind_lut, intercept, moisture_deficit, relative_saturation,
                                       sewer_inlets)
from heatsim.kernels.local_steps import (FAST, SLOW, choose_ratio, local_step, nearby_depth, region_above, region_work,
                                         step_sizes)
from heatsim.kernels.overland_flow import GRAVITY_M_S2, FlowTiles, flow_step_tracked
from heatsim.landcover import LandCoverTable
from heatsim.rain import Hyetograph
from heatsim.scenario.loader import WaterBoundaries
from heatsim.water.boundaries import culverts_on_grid, inflows_on_grid, outlets_on_grid
from heatsim.water.parameters import WaterParameters

SNAPSHOT_FILE_ATTRS = {"Conventions": "CF-1.8", "title": "heatsim water model, depth snapshots",
                       "source": "heatsim water model (heatsim.water.model)"}
UNLIMITED_MM_H = 1e12  # a rate that never limits (roof downpipes)
TYPICAL_CHANNEL_DEPTH_M = 1.0  # for the a-priori estimate of the number of steps


@dataclass
class WaterLedger:
    """Volumes over the whole grid [m3]."""

    rain_m3: float = 0.0
    inflow_m3: float = 0.0
    outlet_supply_m3: float = 0.0  # water a held level put into its cells
    interception_m3: float = 0.0
    infiltration_m3: float = 0.0
    sewer_m3: float = 0.0
    edge_outflow_m3: float = 0.0
    outlet_outflow_m3: float = 0.0
    surface_water_m3: float = 0.0
    depression_m3: float = 0.0
    initial_storage_m3: float = 0.0

    @property
    def outflow_m3(self) -> float:
        return self.edge_outflow_m3 + self.outlet_outflow_m3

    @property
    def storage_m3(self) -> float:
        return self.surface_water_m3 + self.depression_m3

    @property
    def residual_m3(self) -> float:
        sources = self.rain_m3 + self.inflow_m3 + self.outlet_supply_m3 + self.initial_storage_m3
        sinks = self.interception_m3 + self.infiltration_m3 + self.sewer_m3 + self.outflow_m3 + self.storage_m3
        return sources - sinks

    @property
    def error_rel(self) -> float:
        scale = self.rain_m3 + self.inflow_m3 + self.outlet_supply_m3
        return abs(self.residual_m3) / scale if scale > 0 else 0.0


@dataclass
class WaterResult:
    max_depth_m: np.ndarray
    max_speed_m_s: np.ndarray
    time_of_max_depth_s: np.ndarray  # NaN where the cell never held water
    infiltrated_mm: np.ndarray  # water taken into the ground (or a green-roof substrate) per cell area [mm]
    depression_mm: np.ndarray  # water left in depression stores at the end [mm]
    snapshots: xr.Dataset  # depth [m] at the snapshot times (read lazily from ``snapshot_path`` when given)
    hydrographs: pd.DataFrame  # mean flows per interval [m3 s-1], index: minutes from the start
    ledger: WaterLedger
    steps: int
    duration_s: float
    culvert_capacity_m3_s: list = field(default_factory=list)
    parameters: WaterParameters = field(default_factory=WaterParameters)
    #: with local time stepping (``parameters.local_time_step_ratio`` > 1): ``sub_steps`` (the
    #: fast region's steps, summed), ``fast_cell_steps`` (its cells x sub-steps), ``regions``
    #: (times the fast region was chosen), ``fast_cells_max``, ``ratios`` (ratio: times chosen); empty without
    local_steps: dict = field(default_factory=dict)
    snapshot_path: object = None  # the NetCDF file the snapshots were written to while the model ran


def _cfl_step(h_max_m: float, dx_m: float, alpha: float, dt_max_s: float) -> float:
    """:func:`heatsim.kernels.overland_flow.stable_time_step_s` from an already known largest depth [s]."""
    if h_max_m <= 0.0:
        return dt_max_s
    return min(alpha * dx_m / math.sqrt(GRAVITY_M_S2 * h_max_m), dt_max_s)


class WaterModel:
    """Set up from a site (after the scenario's interventions), its land-cover table, a storm
    and the scenario's water boundaries; :meth:`run` returns a :class:`WaterResult`."""

    #: Skip the tiles of the grid where no water can move in a flow step (dry, with dry
    #: neighbours: most of a town between its streams; FlowTiles in
    #: heatsim/kernels/overland_flow.py). The results are the same bit for bit; False
    #: computes every cell in every step (to check that).
    flow_tiles: bool = True
    #: a :class:`heatsim.tiling.Tiling`: the flow step by bands of ``chunk_cells`` rows as dask
    #: tasks (heatsim.tiling.TiledFlowStepper); the same depths, discharges and maxima
    tiling = None

    def __init__(self, site: xr.Dataset, table: LandCoverTable, storm: Hyetograph, boundaries: WaterBoundaries,
                 params: WaterParameters | None = None, source: str = "scenario"):
        self.site, self.table, self.storm, self.boundaries = site, table, storm, boundaries
        self.p = params or WaterParameters()
        self.setup = boundaries.setup
        self.grid = Grid.of(site)
        self.source = source
        self._check_inputs()
        self._setup_cells()

    @property
    def local_time_stepping(self) -> bool:
        """Whether :meth:`run` uses local time steps: the scenario asks for them
        (``water.time_stepping: local``, the default), the parameters allow them
        (``local_time_step_ratio`` > 1), and the flow step does not run by tiles."""
        return (self.setup.time_stepping == "local" and self.p.local_time_step_ratio > 1
                and self.tiling is None)

    def _check_inputs(self) -> None:
        z = self.site["elevation"].values
        if not np.isfinite(z).all():
            bad = int((~np.isfinite(z)).sum())
            raise InputError(self.source, "elevation", f"the DTM has {bad} cells without a height (NaN or "
                             "nodata); fill the holes (e.g. gdal_fillnodata) before a water run")
        duration = self.storm.duration_s + 3600.0 * self.setup.after_storm_h
        dt_typical = self.p.alpha * self.grid.resolution_m / math.sqrt(GRAVITY_M_S2 * TYPICAL_CHANNEL_DEPTH_M)
        estimate = duration / min(dt_typical, self.p.dt_max_s)
        if estimate > self.p.max_steps:
            raise InputError(self.source, "weather.storm", f"{duration / 3600:.1f} h of flow on {self.grid.resolution_m:g}"
                             f" m cells needs about {estimate:,.0f} steps (more than {self.p.max_steps:,}); use a "
                             "coarser --resolution or a shorter event")

    def _setup_cells(self) -> None:
        p, t, site, grid = self.p, self.table, self.site, self.grid
        lc = site["landcover"].values
        flat = lc.ravel()
        look = lambda name, fill=0.0: t.lookup(name, fill)[flat]  # noqa: E731
        # float32 as in the DTM: read as float64 in the kernels (exact), half the bytes of each pass
        self.bed = np.ascontiguousarray(site["elevation"].values, dtype=np.float32)
        obstacle = [c.code for c in t.classes.values() if c.obstacle]
        self.blocked = np.isin(lc, obstacle).astype(np.uint8)
        self.manning = np.ascontiguousarray(t.lookup("manning_n_s_m13", 0.03)[lc], dtype=np.float64)
        # stores and their parameters, per cell area
        trees_capacity = t.classes["trees"]["interception_capacity_mm"] if "trees" in t.classes else 0.0
        canopy = site["canopy"].values.ravel().astype(np.float64)
        own = look("interception_capacity_mm")
        # a cell's own vegetation, plus the crowns of trees standing over it (street trees)
        self.interception_capacity = np.maximum(own, canopy * trees_capacity)
        self.depression_capacity = look("depression_storage_mm")
        self.kind = infiltration_kind_lut({c.code: c.infiltration for c in t.classes.values()})[flat]
        self.impervious = look("impervious_fraction")
        soil = site["soil"].values.ravel()
        self.conductivity = t.soil_lookup("saturated_conductivity_mm_h", 0.0)[soil]
        self.suction = t.soil_lookup("suction_head_mm", 0.0)[soil]
        porosity = t.soil_lookup("porosity", 0.4)[soil]
        effective = t.soil_lookup("effective_porosity", 0.4)[soil]
        field_capacity = t.soil_lookup("field_capacity", 0.2)[soil]
        saturation = relative_saturation(porosity, effective, field_capacity)
        self.deficit = np.asarray(moisture_deficit(effective, saturation), dtype=np.float64)
        self.cap = look("infiltration_cap_mm_h", np.inf)
        self.substrate_capacity = look("substrate_water_capacity_mm")
        self.connected = look("sewer_connected_fraction")
        self.sewer_rate = np.full(flat.size, float(self.setup.sewer_capacity_mm_h))
        if p.roof_drain_unlimited:
            roofs = np.isin(flat, obstacle)
            self.sewer_rate[roofs] = UNLIMITED_MM_H
            self.connected[roofs] = 1.0
        # boundaries
        self.outlets = outlets_on_grid(self.boundaries, grid, self.bed)
        self.inflows = inflows_on_grid(self.boundaries, grid)
        self.culverts = culverts_on_grid(site["culvert"].values, site["stream"].values, self.bed, grid, diameter_m=self.setup.culvert_diameter_m,
                                         manning_n=self.setup.culvert_manning_n)
        blocked_outlets = self.blocked.ravel()[self.outlets.index] == 1
        if blocked_outlets.any():  # an outlet drawn over buildings holds water only between them
            self.outlets.index = self.outlets.index[~blocked_outlets]
            self.outlets.level_m = self.outlets.level_m[~blocked_outlets]

    # ------------------------------------------------------------------ run
    def run(self, progress=None, snapshot_path=None) -> WaterResult:
        """Simulate the storm and the time after it. The depth snapshots are kept in memory, or
        written one by one into the new NetCDF file ``snapshot_path`` and read lazily from it."""
        p, grid, storm = self.p, self.grid, self.storm
        ny, nx = grid.shape
        n = ny * nx
        area = grid.cell_area_m2
        dx = grid.resolution_m
        duration = storm.duration_s + 3600.0 * self.setup.after_storm_h
        snapshot_every = 60.0 * self.setup.snapshot_interval_min
        open_edges = self.setup.edge == "open"

        depth = np.zeros((ny, nx))
        depth_flat = depth.ravel()
        qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
        qy_work, scale_work, row_outflow = np.zeros((ny + 1, nx)), np.zeros((ny, nx)), np.zeros(ny)
        free_mm = np.zeros(n)
        rain_mm, throughfall, ones = np.zeros(n), np.zeros(n), np.ones(n)
        canopy_store, depression_store = np.zeros(n), np.zeros(n)
        infiltrated, infiltrated_total = np.zeros(n), np.zeros(n)
        intercepted_total, depression_total, sewer_total = np.zeros(n), np.zeros(n), np.zeros(n)
        max_depth, time_of_max, max_speed = np.zeros((ny, nx)), np.full((ny, nx), np.nan), np.zeros((ny, nx))
        ledger = WaterLedger()
        # outlets start at their held level (a river is full before the storm): initial storage
        if self.outlets.index.size:
            start = np.maximum(self.outlets.level_m - self.bed.ravel()[self.outlets.index], 0.0)
            depth_flat[self.outlets.index] = start
            ledger.initial_storage_m3 = float(start.sum() * area)
        inflow_share = [1.0 / (c.size * area) for c in self.inflows.cells]
        held = self.outlets.level_m - self.bed.ravel()[self.outlets.index]  # depths of the held levels [m]
        # cells whose depth changes after the flow step (culverts, held levels): their maxima
        # are taken after those changes, the rest in the flow step's own sweep
        late_cells = np.unique(np.concatenate([np.asarray(a, dtype=np.int64).ravel() for a in (
            self.culverts.inlet, self.culverts.outlet, self.outlets.index)]))
        late_mask = np.zeros((ny, nx), np.uint8)
        late_mask.ravel()[late_cells] = 1
        # the flow step skips the tiles where nothing can move; the cells changed outside it
        # every step (inflows, culverts, held levels) keep their tiles computed
        inflow_cells = [np.asarray(c, dtype=np.int64).ravel() for c in self.inflows.cells]
        tiles = FlowTiles((ny, nx), self.bed, np.concatenate([late_cells, *inflow_cells])) if self.flow_tiles else None
        stepper = None
        # local time stepping (heatsim/kernels/local_steps.py): the fast region is chosen at
        # the start and after every call of the vertical processes; its slow sweep skips dry
        # tiles as the global step does. The flow step by bands (dask) has only the global step.
        ratio = p.local_time_step_ratio if self.local_time_stepping else 1
        lts = ratio > 1
        if lts:
            refresh_region = True
            region = work = None
            h_fast = h_slow = 0.0
            lts_stats = dict(sub_steps=0, fast_cell_steps=0, regions=0, fast_cells_max=0, ratios={})
            source_of = np.concatenate([np.full(c.size, k) for k, c in enumerate(inflow_cells)] or [np.zeros(0, int)])
            source_flat = np.concatenate(inflow_cells or [np.zeros(0, np.int64)])
            source_cells = np.stack(np.unravel_index(source_flat, (ny, nx)), axis=1).astype(np.int64)
            source_depth = np.zeros(source_flat.size)
            near_work = np.empty((2, ny, nx))
        if self.tiling is not None:
            from heatsim.tiling import TiledFlowStepper

            stepper = TiledFlowStepper(self.bed, self.manning, self.blocked, cell_size_m=dx, open_edges=open_edges,
                                       rows_per_band=int(self.tiling.chunk_cells), scheduler=self.tiling.scheduler,
                                       flow_options=dict(theta=p.theta, h_min_flow_m=p.h_min_flow_m,
                                                         froude_max=p.froude_max,
                                                         implicit_friction=p.implicit_friction))

        snapshot_times = np.arange(0.0, duration + 0.5 * snapshot_every, snapshot_every)
        snapshot_times = snapshot_times[snapshot_times <= duration + 1e-9]
        snapshots = self._snapshot_store(snapshot_times, snapshot_path)
        snapshots.write("depth", 0, 0, ny, depth)
        next_snapshot = 1
        records = []  # per step: t_end [s], dt [s], then rain, inflow, edge outflow, outlet outflow, culvert [m3]
        h_max = float(depth.max())  # then from the maxima pass of each step
        t = 0.0
        last_losses = 0.0
        steps = 0
        while t < duration - 1e-9:
            dt = _cfl_step(h_max, dx, p.alpha, p.dt_max_s)
            target = snapshot_times[next_snapshot] if next_snapshot < snapshot_times.size else duration
            dt = min(dt, target - t, duration - t)
            if lts:
                if refresh_region:
                    near = nearby_depth(depth, self.blocked, out=near_work[0], work=near_work[1])
                    h_now = float(depth.max())
                    ratio_now = (choose_ratio(near, h_now, ratio, cell_size_m=dx, alpha=p.alpha, dt_limit_s=p.dt_max_s)
                                 if p.local_time_step_adaptive else ratio)
                    region = region_above(near, self.blocked, h_now / ratio_now ** 2 if h_now > 0 and ratio_now > 1
                                          else math.inf)
                    lts_stats["ratios"][ratio_now] = lts_stats["ratios"].get(ratio_now, 0) + 1
                    if tiles is not None:
                        tiles.mark_cells(region.cells[:, 0], region.cells[:, 1])
                    work = region_work(region)
                    codes = region.region
                    in_fast = codes != SLOW
                    h_fast = float(depth.max(where=in_fast, initial=0.0))
                    h_slow = float(depth.max(where=codes != FAST, initial=0.0))
                    flat_codes = codes.ravel()
                    late_codes = flat_codes[late_cells]
                    late_fast, late_slow = late_cells[late_codes != SLOW], late_cells[late_codes != FAST]
                    # culverts whose inlet is fast and held cells that are fast act after every
                    # sub-step (not once per slow step: that poured a slow step's pipe flow into
                    # the outlet cell as one lump, 7 cm too deep at 10 m)
                    cul_fast = flat_codes[self.culverts.inlet] != SLOW
                    held_fast = flat_codes[self.outlets.index] != SLOW
                    late_ops = dict(culvert_in=self.culverts.inlet[cul_fast].astype(np.int64),
                                    culvert_out=self.culverts.outlet[cul_fast].astype(np.int64),
                                    culvert_capacity_m3_s=self.culverts.capacity_m3_s[cul_fast].astype(np.float64),
                                    held_index=self.outlets.index[held_fast].astype(np.int64),
                                    held_depth_m=np.ascontiguousarray(held[held_fast], dtype=np.float64),
                                    late_cells=late_fast.astype(np.int64), cell_area_m2=area)
                    slow_culverts = ~cul_fast
                    held_slow = ~held_fast
                    lts_stats["regions"] += 1
                    lts_stats["fast_cells_max"] = max(lts_stats["fast_cells_max"], region.size)
                    refresh_region = False
                dt, n_sub, _ = step_sizes(h_fast, h_slow, cell_size_m=dx, alpha=p.alpha, ratio=ratio_now,
                                          dt_limit_s=min(p.dt_max_s, target - t, duration - t))
            # 1-2: vertical processes, every losses_interval_s over the time since their last call
            # (the rain of that span is its exact integral; its cells hold the free water in mm)
            if t + dt >= last_losses + p.losses_interval_s - 1e-9 or t + dt >= duration - 1e-9:
                span = t + dt - last_losses
                np.multiply(depth_flat, 1000.0, out=free_mm)
                rain_step = float(storm.depth_between(last_losses, t + dt))
                if rain_step > 0.0:
                    rain_mm.fill(rain_step)
                    # canopy share 1: the capacities already hold each cell's own vegetation and crowns
                    intercept(rain_mm, ones, self.interception_capacity, canopy_store, intercepted_total, throughfall)
                    depression_storage(throughfall, self.depression_capacity, depression_store, free_mm,
                                       depression_total)
                    ledger.rain_m3 += rain_step * 1e-3 * area * n
                infiltrate_green_ampt(self.kind, self.impervious, self.conductivity, self.suction, self.deficit,
                                      self.cap, self.substrate_capacity, free_mm, depression_store, infiltrated,
                                      infiltrated_total, dt_s=span)
                sewer_inlets(free_mm, self.connected, self.sewer_rate, span, sewer_total)
                np.multiply(free_mm, 1e-3, out=depth_flat)
                last_losses = t + dt
                if tiles is not None and lts:
                    tiles.refresh(depth, p.h_min_flow_m)  # only where the rain made a cell deeper
                    tiles.track_skipped(depth, t + dt, max_depth, time_of_max, late_mask)
                elif tiles is not None:
                    tiles.invalidate()
                if lts:
                    refresh_region = True
            else:
                rain_step = 0.0
            # 3: inflows (with local time steps spread over the sub-steps: poured in at once, a
            # slow step's inflow would stand in its cell as one lump, deeper than it ever gets)
            inflow_step = 0.0
            for k, (hydrograph, cells, share) in enumerate(zip(self.inflows.hydrographs, self.inflows.cells,
                                                                inflow_share)):
                volume = float(hydrograph.volume_between(t, t + dt))
                if lts:
                    source_depth[source_of == k] = volume * share
                else:
                    depth_flat[cells] += volume * share
                inflow_step += volume
            ledger.inflow_m3 += inflow_step
            # 4: flow, and 7 (the maxima) for all cells but the late ones
            t_new = t + dt
            if lts:
                edge, h_fast, h_slow = local_step(
                    self.bed, depth, self.manning, self.blocked, qx, qy, region, work, cell_size_m=dx, dt_s=dt,
                    n_sub=n_sub, open_edges=open_edges, theta=p.theta, h_min_flow_m=p.h_min_flow_m,
                    froude_max=p.froude_max, implicit_friction=p.implicit_friction, qy_work=qy_work,
                    scale_work=scale_work, row_outflow_m3=row_outflow, time_s=t_new,
                    speed_min_depth_m=p.speed_min_depth_m, max_depth_m=max_depth, time_of_max_s=time_of_max,
                    max_speed_m_s=max_speed, skip_maxima=late_mask, source_cells=source_cells,
                    source_depth_m=source_depth, late=late_ops, tiles=tiles)
                h_max = max(h_fast, h_slow)
                lts_stats["sub_steps"] += n_sub
                lts_stats["fast_cell_steps"] += n_sub * region.size
            elif stepper is not None:
                edge = stepper.step(depth, qx, qy, dt)
                # the maxima of every cell but the late ones (kept as they were), as the fused step does
                kept = [a.ravel()[late_cells].copy() for a in (max_depth, time_of_max, max_speed)]
                track_flood_maxima(depth, qx, qy, t_new, min_depth_m=p.speed_min_depth_m, max_depth_m=max_depth,
                                   time_of_max_s=time_of_max, max_speed_m_s=max_speed)
                for array, values in zip((max_depth, time_of_max, max_speed), kept):
                    array.ravel()[late_cells] = values
                h_max = float(np.max(depth, where=late_mask == 0, initial=0.0))
            else:
                edge, h_max = flow_step_tracked(
                    self.bed, depth, self.manning, self.blocked, qx, qy, cell_size_m=dx, dt_s=dt,
                    open_edges=open_edges, qy_work=qy_work, scale_work=scale_work, row_outflow_m3=row_outflow,
                    theta=p.theta, h_min_flow_m=p.h_min_flow_m, froude_max=p.froude_max,
                    implicit_friction=p.implicit_friction, time_s=t_new, speed_min_depth_m=p.speed_min_depth_m,
                    max_depth_m=max_depth, time_of_max_s=time_of_max, max_speed_m_s=max_speed,
                    skip_maxima=late_mask, tiles=tiles)
            ledger.edge_outflow_m3 += edge
            # 5: culverts (with local time steps: those of the fast region acted in the sub-steps)
            piped = 0.0
            culverts_now = slice(None) if not lts else slow_culverts
            if len(self.culverts):
                piped = culvert_transfer(depth_flat, self.bed.ravel(), self.culverts.inlet[culverts_now],
                                         self.culverts.outlet[culverts_now],
                                         self.culverts.capacity_m3_s[culverts_now], dt, area)
            # 6: held levels (likewise)
            outlet_out = 0.0
            held_now = slice(None) if not lts else held_slow
            if self.outlets.index.size:
                held_volumes = np.zeros(2)  # given up, given [m3]
                hold_levels(depth_flat, self.outlets.index[held_now], np.ascontiguousarray(held[held_now]), area,
                            held_volumes)
                outlet_out = float(held_volumes[0])
                ledger.outlet_supply_m3 += float(held_volumes[1])
            if lts:
                piped += late_ops["piped_m3"]
                outlet_out += late_ops["held_out_m3"]
                ledger.outlet_supply_m3 += late_ops["held_supply_m3"]
            ledger.outlet_outflow_m3 += outlet_out
            t = t_new
            steps += 1
            # 7: maxima of the late cells (h_max, which sets the next step, is then that of the whole grid)
            h_max = max(h_max, track_flood_maxima_cells(late_cells, depth, qx, qy, t, min_depth_m=p.speed_min_depth_m,
                                                        max_depth_m=max_depth, time_of_max_s=time_of_max,
                                                        max_speed_m_s=max_speed))
            if lts and late_cells.size:
                # the late cells' depths after the culverts and held levels, in their regions
                if late_fast.size:
                    h_fast = max(h_fast, float(depth_flat[late_fast].max()))
                if late_slow.size:
                    h_slow = max(h_slow, float(depth_flat[late_slow].max()))
            records.append((t, dt, rain_step * 1e-3 * area * n, inflow_step, edge, outlet_out, piped))
            if next_snapshot < snapshot_times.size and t >= snapshot_times[next_snapshot] - 1e-9:
                snapshots.write("depth", next_snapshot, 0, ny, depth)
                next_snapshot += 1
            if steps > p.max_steps:
                raise InputError(self.source, "weather.storm", f"the flow needed more than {p.max_steps:,} steps "
                                 f"(at t = {t / 3600:.2f} h); use a coarser --resolution")
            if progress is not None:
                progress(t, duration)
        ledger.interception_m3 = float(canopy_store.sum() * 1e-3 * area)
        ledger.infiltration_m3 = float(infiltrated_total.sum() * 1e-3 * area)
        ledger.sewer_m3 = float(sewer_total.sum() * 1e-3 * area)
        ledger.surface_water_m3 = float(depth.sum() * area)
        ledger.depression_m3 = float(depression_store.sum() * 1e-3 * area)
        time_of_max[max_depth <= 0.0] = np.nan
        return WaterResult(
            max_depth_m=max_depth, max_speed_m_s=max_speed, time_of_max_depth_s=time_of_max,
            infiltrated_mm=infiltrated.reshape(ny, nx), depression_mm=depression_store.reshape(ny, nx),
            snapshots=snapshots.finish(), snapshot_path=snapshots.path,
            hydrographs=self._hydrographs(records, duration),
            ledger=ledger, steps=steps, duration_s=duration,
            culvert_capacity_m3_s=[float(c) for c in self.culverts.capacity_m3_s], parameters=p,
            local_steps=lts_stats if lts else {})

    # ------------------------------------------------------------------ outputs
    def _snapshot_store(self, times_s: np.ndarray, path):
        """Where the depth snapshots go (:mod:`heatsim.gridfile`): memory, or the NetCDF file ``path``."""
        grid = self.grid
        template = xr.Dataset(coords={"time": ("time", times_s / 60.0, {"units": "min", "long_name":
                                                                        "minutes since the start of the storm"}),
                                      "y": grid.y, "x": grid.x})
        template.rio.write_crs(grid.crs, inplace=True).rio.write_transform(grid.transform, inplace=True)
        variables = {"depth": {"units": "m", "long_name": "depth of free surface water", "standard_name": "depth"}}
        if path is None:
            return InMemoryStack(template, variables)
        return NetCDFStack(path, template, variables, chunk_rows=chunk_rows_for(grid.nx), file_attrs=SNAPSHOT_FILE_ATTRS)

    def _hydrographs(self, records, duration_s: float) -> pd.DataFrame:
        columns = ["rain_m3_s", "inflow_m3_s", "edge_outflow_m3_s", "outlet_outflow_m3_s", "culvert_m3_s"]
        if not records:
            return pd.DataFrame(columns=columns)
        r = np.asarray(records)
        t_end, dt, volumes = r[:, 0], r[:, 1], r[:, 2:]
        interval = self.p.hydrograph_interval_s
        n_buckets = int(math.ceil(duration_s / interval - 1e-9))
        # a step's volume goes to the intervals it overlaps, in proportion (a step is at most
        # dt_max_s long, shorter than an interval, so it overlaps at most two)
        t_start = t_end - dt
        first = np.minimum((t_start // interval).astype(int), n_buckets - 1)
        boundary = (first + 1) * interval
        share_first = np.clip((np.minimum(t_end, boundary) - t_start) / np.maximum(dt, 1e-300), 0.0, 1.0)
        sums = np.zeros((n_buckets, volumes.shape[1]))
        np.add.at(sums, first, volumes * share_first[:, None])
        second = np.minimum(first + 1, n_buckets - 1)
        np.add.at(sums, second, volumes * (1.0 - share_first)[:, None])
        frame = pd.DataFrame(sums / interval, columns=columns)
        frame.index = pd.Index(np.arange(n_buckets) * interval / 60.0, name="minute")
        return frame

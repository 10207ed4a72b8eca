"""Heat-model kernels against their NumPy twins and the machine's memory bandwidth,
and the whole heat model on the bundled Harelbeke site.

Usage::

    python benchmarks/bench_heat.py [--sizes 0.25 1 4] [--model-resolution 10] [--model-time-steps 600 900]
                                    [--model-days 1] [--model-spinup-days 0] [--json PATH] [--out PATH]
                                    [--compare-blas1] [--no-kernels] [--no-model] [--no-compile-probe]
                                    [--wait-quiet 60] [--retries 1] [--threads N]

A script run on demand, never in the tests. Everything is measured in one run:
compare numbers only within one run (two-core machines drift by +-30% between runs),
which is why the bandwidth triad is measured here and not quoted. The results go to
stdout as markdown and to ``benchmarks/results/heat-<date>.md`` (``-2``, ``-3``, ... when
that exists; ``--out`` elsewhere; ``--json PATH`` every number).

What it measures:

1. a STREAM-like triad ``a = b + s*c`` (numba, parallel) on 32 M float64 elements,
   best of 5: the machine's memory bandwidth, counted at 24 bytes per element
   (2 reads + 1 write, write-allocate NOT counted, as in STREAM; the figure with
   write-allocate is 4/3 of it and is reported too);
2. each kernel on a seeded synthetic town of 0.25, 1, 4 (and, on request, 16) million
   5 m cells: the first call in this process (numba cache load or compile, page faults),
   the warm time per call (best of 3 after that warm-up call), cell updates per second,
   the bytes a call must move (the arrays read and written once each, write-allocate
   not counted; per-kernel counts in KERNEL_BYTES_PER_CELL), the effective bandwidth
   and its share of the triad's. The kernels the model calls today (MODEL_USES:
   ``sunlit_fraction_cells`` with the local height bounds of ``local_max_height_m``,
   ``sky_view_factor``, ``wall_direct_weight_cells`` (the sun on the walls at their cells;
   ``wall_solar_weights`` over the grid runs at set-up only), ``surface_fluxes``, ``net_surface_flux``,
   ``conduct_column_types`` on a table of the 13 land-cover column types x 10 layers with
   a random type per cell, in place, ``fluxes_at_new_state``, ``wall_fluxes`` on the
   town's wall cells, ``air_temperature_step_serial``) and, beside them, the kernels it
   used before (``sunlit_fraction``, ``conduct_columns``, ``column_energy_j_m2``,
   ``bottom_flux_w_m2``, the parallel ``air_temperature_step``), still in the package;
3. each kernel's NumPy twin, on the same grid when it is no larger than the twin's
   limit (TWIN_LIMIT_CELLS), otherwise on a smaller synthetic town of that limit
   (flagged ``smaller grid``). The speed ratio kernel/twin is per cell; ``ratio same
   grid`` also times the kernel on the twin's grid (for the sky view and the shadows the
   per-cell cost depends on the grid, since rays stop at its edge);
4. cold vs warm: besides the in-process first call, a subprocess with an empty
   ``NUMBA_CACHE_DIR`` times each kernel's first call with a full compile;
5. the whole heat model on the Harelbeke site (first a 50 m run to compile): the cells
   simulated (``model.n``: the study area and its margin) against the grid's; the sky
   view factor of the whole site computed (``HeatModel._compute_sky_view``, never the
   cache); the on-disk cache of the sky view (``HeatModel.sky_view``, ``$HEATSIM_CACHE``
   or ~/.cache/heatsim) primed with that array when it lacked it; then ``run()`` of 24
   simulated hours (``--model-days 1 --model-spinup-days 0``) with the sky view from the
   cache, once per ``--model-time-steps``: wall time, cell-steps per second, wall time
   per simulated day, and a breakdown of the run by kernel and NumPy helper (timers
   around the names the model imports into ``heatsim.heat.model``: MODEL_KERNELS,
   MODEL_HELPERS; the walls, the air step and the sky view also as inclusive groups);
6. thread pools: a small kernel right after a NumPy BLAS call, the serial and the
   parallel air step on the air grid of the 5 m site, and (``--compare-blas1``) the
   model once more in a subprocess with ``OPENBLAS_NUM_THREADS=1``. On two cores the
   spinning threads of OpenBLAS and of numba's OpenMP fight: a kernel of 0.07 ms takes
   4-8 ms right after ``x @ w``.

Other processes on the machine stall the second numba thread the same way, so each
section waits for quiet (``--wait-quiet``), records the CPU use of other processes, and a
disturbed grid size or model run is measured again (``--retries``).

Memory: 16 M cells need about 9 GB (the old per-cell conduction columns: 5 arrays of 10
layers x 8 B and a scratch of twice that size); the 5 m model about 2 GB. 16 M was not
tried yet.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np

from heatsim.heat.model import ET_CODES, ROOF_CLASSES
from heatsim.heat.parameters import HeatParameters
from heatsim.kernels.airtemp import (
    air_temperature_max_dt_s,
    air_temperature_step,
    air_temperature_step_numpy,
    air_temperature_step_serial,
)
from heatsim.kernels.conduction import (
    bottom_flux_w_m2,
    bottom_flux_w_m2_numpy,
    column_energy_j_m2,
    column_energy_j_m2_numpy,
    conduct_column_types,
    conduct_column_types_numpy,
    conduct_columns,
    conduct_columns_numpy,
)
from heatsim.kernels.linearised import (
    fluxes_at_new_state,
    fluxes_at_new_state_numpy,
    net_surface_flux,
    net_surface_flux_numpy,
)
from heatsim.kernels.shadows import (
    local_max_height_m,
    sunlit_fraction,
    sunlit_fraction_cells,
    sunlit_fraction_cells_numpy,
    sunlit_fraction_numpy,
)
from heatsim.kernels.skyview import sky_view_factor, sky_view_factor_numpy
from heatsim.kernels.surface_energy import (
    ET_OPEN_WATER,
    ET_PONDED,
    ET_SOIL,
    ET_VEGETATION,
    surface_fluxes,
    surface_fluxes_numpy,
)
from heatsim.kernels.walls import (
    WALL_ALBEDO,
    WALL_EMISSIVITY,
    facade_area_ratios,
    facade_front_cells,
    wall_direct_weight_cells,
    wall_direct_weight_cells_numpy,
    wall_fluxes,
    wall_fluxes_numpy,
    wall_solar_weights,
    wall_solar_weights_numpy,
)
from heatsim.landcover import default_table

CELL_M = 5.0
from bench_common import (CONTENTION, SETTINGS, again_if_disturbed, disturbed, machine_header, grid_shape,  # noqa: E402
                          machine_info, md_table, results_path, section, triad_bandwidth)

SEED = 20190725
SUN_AZIMUTH_DEG, SUN_ELEVATION_DEG = 135.0, 35.0  # a mid-morning sun in July (Harelbeke)
WIND_U_M_S, WIND_V_M_S = 2.0, -1.5

P = HeatParameters()
N_LAYERS = len(P.ground_layers_m)
F8 = 8  # bytes per float64

#: Bytes a call must move per cell update: every array it reads or writes counted once
#: (neighbour and ray re-reads assumed to hit the caches), write-allocate NOT counted
#: (as the triad). n = N_LAYERS = 10 layers of the model's columns.
KERNEL_BYTES_PER_CELL = {
    # reads surface_m, vegetation_top_m, canopy; writes out (ray samples of other cells: cache)
    "sunlit_fraction": 4 * F8,
    # reads the cell's flat index (int64) and height bound, its surface_m, vegetation_top_m, canopy;
    # writes out (ray samples of other cells: cache)
    "sunlit_fraction_cells": 2 * F8 + 3 * F8 + F8,
    # the same three inputs and out (out[i, :] is re-read n_directions times, a row stays in cache)
    "sky_view_factor": 4 * F8,
    # reads the 4 facade ratios, sunlit, sky view (the neighbours' from cache); writes 3 rows
    "wall_solar_weights": 4 * F8 + 2 * F8 + 3 * F8,
    # per WALL cell: reads the 4 facade ratios and the 4 front cells' indices (int64) and sunlit
    # fractions (scattered: a 64 B line each); writes out
    "wall_direct_weight_cells": 4 * F8 + 4 * F8 + 4 * 64 + F8,
    # reads surface_k, air_k, albedo, emissivity, sunlit, sky_view, roughness_m,
    # surface_resistance_s_m, water_availability (9 x 8 B) and et_kind (int8, 1 B); writes out (6 x 8 B)
    "surface_fluxes": 9 * F8 + 1 + 6 * F8,
    # reads the 6 flux rows; writes flux and slope
    "net_surface_flux": 6 * F8 + 2 * F8,
    # reads temperature, heat capacity, conductivity, thickness (4 x n x 8 B) and flux, slope,
    # bottom temperature (3 x 8 B); writes scratch (2n x 8 B; re-read while still in L1, not
    # counted again) and out (n x 8 B)
    "conduct_columns": 4 * N_LAYERS * F8 + 3 * F8 + 2 * N_LAYERS * F8 + N_LAYERS * F8,
    # reads temperature, heat capacity, thickness (3 x n x 8 B); writes out (8 B)
    "column_energy_j_m2": 3 * N_LAYERS * F8 + F8,
    # reads the last layer of temperature, conductivity, thickness: rows are 80 B apart, so each
    # read costs a whole 64 B cache line (3 x 64 B; only 3 x 8 B of it used), plus bottom
    # temperature (8 B); writes out (8 B)
    "bottom_flux_w_m2": 3 * 64 + F8 + F8,
    # in place: reads and writes temperature (2 x n x 8 B); reads flux, slope (2 x 8 B) and the
    # column type (int16, 2 B; the type tables are a few kB and stay in cache); writes the column
    # energy and the bottom flux (2 x 8 B)
    "conduct_column_types": 2 * N_LAYERS * F8 + 2 * F8 + 2 + 2 * F8,
    # reads the 6 flux rows, the old surface temperature and temperature[:, 0] (rows 80 B apart:
    # a whole 64 B line per cell); writes 3 rows
    "fluxes_at_new_state": 6 * F8 + F8 + 64 + 3 * F8,
    # per WALL cell: reads wall_k, air_k, facade ratio, direct weight, wall sky view; writes 4 rows
    "wall_fluxes": 5 * F8 + 4 * F8,
    # reads air_k, sensible flux; writes out (the 4 neighbours come from cache)
    "air_temperature_step": 3 * F8,
    "air_temperature_step_serial": 3 * F8,
}

#: A twin runs on the benchmark's grid when it has at most this many cells, else on a
#: synthetic town of this many cells. The sky view and conduction twins loop in Python.
TWIN_LIMIT_CELLS = {
    "sunlit_fraction": 250_000,
    "sunlit_fraction_cells": 250_000,
    "sky_view_factor": 100 * 100,
    "wall_solar_weights": 4_200_000,
    "wall_direct_weight_cells": 4_200_000,
    "surface_fluxes": 4_200_000,
    "net_surface_flux": 4_200_000,
    "conduct_columns": 20_000,
    "column_energy_j_m2": 4_200_000,
    "bottom_flux_w_m2": 4_200_000,
    "conduct_column_types": 20_000,
    "fluxes_at_new_state": 4_200_000,
    "wall_fluxes": 4_200_000,
    "air_temperature_step": 4_200_000,
    "air_temperature_step_serial": 4_200_000,
}
KERNEL_ORDER = list(KERNEL_BYTES_PER_CELL)
#: the kernels HeatModel.run() calls today (the others are its former kernels, still in the package)
MODEL_USES = {"sunlit_fraction_cells", "sky_view_factor", "wall_direct_weight_cells", "surface_fluxes", "net_surface_flux",
              "conduct_column_types", "fluxes_at_new_state", "wall_fluxes", "air_temperature_step_serial"}


# ---------------------------------------------------------------------- machine and triad
FIRST_CALLS: dict = {}  # kernel -> its first call in this process (cache load or compile)
RETRIES = 1  # a size disturbed by other processes is measured once more (set from --retries)
TRIADS: list = []  # every triad measurement of the run, in order


# ---------------------------------------------------------------------- synthetic town
def make_town(n_cells: int, seed: int = SEED) -> dict:
    """A seeded synthetic town of about ``n_cells`` 5 m cells (square-ish grid).

    Gentle terrain (15 m +- 6 m, Flemish), 10 m streets every 140 m, 35 m lots that hold
    a building block (3-5 cells a side, 6-15 m tall) in a paved or grass yard, a park or a
    grass plot; round tree crowns (7.5-40 m wide, 5-15 m tall, cover 0.6-0.95) in parks,
    half of the grass plots and a fifth of the yards; a 35 m wide meandering river.
    Land cover codes come from heatsim.landcover.default_table(). Returns the 2-D rasters
    the kernels need (float64, C order) and the land cover (uint8).
    """
    table = default_table()
    rng = np.random.default_rng(seed)
    ny, nx = grid_shape(n_cells)
    i = np.arange(ny)[:, None]
    j = np.arange(nx)[None, :]
    y_m, x_m = i * CELL_M, j * CELL_M
    elevation = (15.0 + 3.0 * np.sin(2 * np.pi * x_m / 1500.0) + 2.0 * np.cos(2 * np.pi * y_m / 1100.0)
                 + 1.0 * np.sin(2 * np.pi * (x_m + y_m) / 400.0))

    lot = 7
    nly, nlx = -(-ny // lot), -(-nx // lot)
    kind = rng.choice(4, size=(nly, nlx), p=[0.55, 0.20, 0.15, 0.10])  # 0 building, 1 park, 2 yard, 3 grass
    r0, c0 = rng.integers(0, 3, (nly, nlx)), rng.integers(0, 3, (nly, nlx))
    bh, bw = rng.integers(3, 6, (nly, nlx)), rng.integers(3, 6, (nly, nlx))
    height = rng.uniform(6.0, 15.0, (nly, nlx))
    yard_paved = rng.random((nly, nlx)) < 0.5
    has_tree = np.where(kind == 1, True, np.where(kind == 3, rng.random((nly, nlx)) < 0.5,
                                                  rng.random((nly, nlx)) < 0.2))
    crown_r = rng.uniform(0.75, 4.0, (nly, nlx))  # radius in cells
    crown_y, crown_x = rng.uniform(0, lot, (nly, nlx)), rng.uniform(0, lot, (nly, nlx))
    tree_h = rng.uniform(5.0, 15.0, (nly, nlx))
    cover = rng.uniform(0.6, 0.95, (nly, nlx))

    li, lj = i // lot, j // lot  # lot of each cell (broadcast to (ny, nx) on use)
    oi, oj = i % lot, j % lot  # offset within the lot

    def per_cell(lot_values):
        return lot_values[li, lj]

    street = (i % 28 < 2) | (j % 28 < 2)
    river_centre = 0.6 * ny + 0.08 * ny * np.sin(2 * np.pi * j / max(nx / 1.5, 1.0))
    river = np.abs(i - river_centre) < 3.5
    k = per_cell(kind)
    building = ((k == 0) & (oi >= per_cell(r0)) & (oi < per_cell(r0 + bh)) & (oj >= per_cell(c0))
                & (oj < per_cell(c0 + bw)) & ~street & ~river)
    crown = (per_cell(has_tree) & ((oi + 0.5 - per_cell(crown_y)) ** 2 + (oj + 0.5 - per_cell(crown_x)) ** 2
                                   < per_cell(crown_r) ** 2) & ~building & ~river)

    landcover = np.full((ny, nx), table.code("grass"), dtype=np.uint8)
    landcover[(k == 2) | ((k == 0) & per_cell(yard_paved))] = table.code("paving")
    landcover[street] = table.code("asphalt")
    landcover[crown] = table.code("trees")
    landcover[building] = table.code("building")
    landcover[river] = table.code("water")

    building_height = np.where(building, per_cell(height), 0.0)
    tree_height = np.where(crown, per_cell(tree_h), 0.0)
    canopy = np.ascontiguousarray(np.where(crown, per_cell(cover), 0.0))
    surface_m = np.ascontiguousarray(elevation + building_height)
    vegetation_top_m = np.ascontiguousarray(np.where(crown, elevation + tree_height, elevation))
    return {
        "shape": (ny, nx),
        "cells": ny * nx,
        "landcover": landcover,
        "surface_m": surface_m,
        "vegetation_top_m": vegetation_top_m,
        "canopy": canopy,
        "building_height_m": np.ascontiguousarray(building_height),
        "max_height_m": float(max(surface_m.max(), vegetation_top_m.max())),
        "building_share": float(building.mean()),
        "tree_share": float(crown.mean()),
    }


class Workload:
    """The kernels' arguments for one town, built on first use (and droppable, for memory)."""

    def __init__(self, town: dict):
        self.town = town
        self.shape = town["shape"]
        self.n = town["cells"]
        self.rng = np.random.default_rng(SEED + 1)
        self._cache: dict = {}

    def drop(self, *names):
        for name in names:
            self._cache.pop(name, None)

    def _get(self, name, build):
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    # -- radiation geometry (2-D rasters)
    def sunlit(self):
        t = self.town
        kw = {"cell_size_m": CELL_M, "sun_azimuth_deg": SUN_AZIMUTH_DEG, "sun_elevation_deg": SUN_ELEVATION_DEG,
                  "max_distance_m": P.horizon_distance_m, "max_height_m": t["max_height_m"],
                  "leaf_transmissivity": P.leaf_transmissivity, "out": self._get("sunlit_out", lambda: np.zeros(self.shape))}
        return (t["surface_m"], t["vegetation_top_m"], t["canopy"]), kw

    def sunlit_cells(self):
        """All cells of the town, each ray stopping at its local height bound (as the model's)."""
        t = self.town

        def build():
            t0 = time.perf_counter()
            horizon = local_max_height_m(t["surface_m"], t["vegetation_top_m"], cell_size_m=CELL_M,
                                         max_distance_m=P.horizon_distance_m).ravel()
            self.local_max_height_s = time.perf_counter() - t0
            cells = np.arange(self.n, dtype=np.int64)
            return cells, np.ascontiguousarray(horizon[cells]), np.zeros(self.n)

        cells, horizon, out = self._get("sunlit_cells", build)
        kw = {"cell_size_m": CELL_M, "sun_azimuth_deg": SUN_AZIMUTH_DEG, "sun_elevation_deg": SUN_ELEVATION_DEG,
              "max_distance_m": P.horizon_distance_m, "leaf_transmissivity": P.leaf_transmissivity, "out": out}
        return (t["surface_m"], t["vegetation_top_m"], t["canopy"], cells, horizon), kw

    def sky_view(self):
        t = self.town
        kw = {"cell_size_m": CELL_M, "n_directions": P.sky_view_directions, "max_distance_m": P.horizon_distance_m,
                  "leaf_transmissivity": P.leaf_transmissivity, "out": self._get("svf_out", lambda: np.zeros(self.shape))}
        return (t["surface_m"], t["vegetation_top_m"], t["canopy"]), kw

    # -- walls: facade ratios of the town's buildings, their sun and sky (2-D), and the wall cells (1-D)
    def _facades(self):
        def build():
            ratios = facade_area_ratios(self.town["building_height_m"], cell_size_m=CELL_M,
                                        out=np.empty((4,) + self.shape))
            sunlit, svf = self._radiation_fields()
            return {"ratios": ratios, "sunlit": sunlit.reshape(self.shape), "svf": svf.reshape(self.shape),
                    "weights": np.zeros((3,) + self.shape)}
        return self._get("facades", build)

    def wall_weights(self):
        f = self._facades()
        return (f["ratios"], f["sunlit"], f["svf"]), {"sun_azimuth_deg": SUN_AZIMUTH_DEG,
                                                      "sun_elevation_deg": SUN_ELEVATION_DEG, "out": f["weights"]}

    def _walls(self):
        def build():
            f = self._facades()
            weights = f["weights"]
            if not weights[1].any():  # wall_solar_weights has not run yet
                wall_solar_weights(f["ratios"], f["sunlit"], f["svf"], sun_azimuth_deg=SUN_AZIMUTH_DEG,
                                   sun_elevation_deg=SUN_ELEVATION_DEG, out=weights)
            index = np.flatnonzero(weights[1] > 0.0)
            n = index.size
            return {"n": n, "wall_k": 300.0 + self.rng.uniform(0.0, 20.0, n),
                    "air_k": 303.0 + self.rng.normal(0.0, 0.3, n),
                    "ratio": weights[1].ravel()[index].copy(), "direct": weights[0].ravel()[index].copy(),
                    "sky_view": weights[2].ravel()[index].copy(), "out": np.zeros((4, n))}
        return self._get("walls", build)

    def wall_direct(self):
        """The sun on the walls at the wall cells (what HeatModel's walls call every sunny step)."""
        def build():
            f = self._facades()
            self._walls()  # the weights, hence the wall cells
            index = np.flatnonzero(f["weights"][1] > 0.0)
            return {"ratios": np.ascontiguousarray(f["ratios"].reshape(4, -1)[:, index]),
                    "front": facade_front_cells(index, self.shape), "out": np.zeros(index.size)}
        d = self._get("wall_direct", build)
        return (d["ratios"], d["front"], self._facades()["sunlit"].ravel()), \
            {"sun_azimuth_deg": SUN_AZIMUTH_DEG, "sun_elevation_deg": SUN_ELEVATION_DEG, "out": d["out"]}

    def wall_cells(self) -> int:
        return self._walls()["n"]

    def wall_flux(self):
        w = self._walls()
        return (w["wall_k"], w["air_k"], w["ratio"], w["direct"], w["sky_view"]), \
            {"albedo": WALL_ALBEDO, "emissivity": WALL_EMISSIVITY, "dni_w_m2": 800.0, "diffuse_w_m2": 120.0,
             "sky_emissivity": 0.82, "wind_speed_m_s": 0.36 * 2.5, "out": w["out"]}

    def _radiation_fields(self):
        """sunlit and svf for the flux inputs: the kernels' results if they ran, else a cheap stand-in."""
        sunlit = self._cache.get("sunlit_out")
        svf = self._cache.get("svf_out")
        if sunlit is None or not sunlit.any():
            sunlit = np.where(self.town["canopy"] > 0, 0.1, 1.0)
        if svf is None or not svf.any():
            svf = np.where(self.town["canopy"] > 0, 0.3, 0.8)
        return sunlit.ravel(), svf.ravel()

    # -- per-cell surface parameters (1-D), as HeatModel._setup_cells derives them
    def _cells(self):
        def build():
            table = default_table()
            lc = self.town["landcover"].ravel()
            look = lambda name, fill=0.0: table.lookup(name, fill)[lc]
            et = np.zeros(max(c.code for c in table.classes.values()) + 1, dtype=np.int8)
            for cls in table.classes.values():
                et[cls.code] = ET_CODES[cls.et_kind]
            et_kind = et[lc]
            lai = look("leaf_area_index")
            surface_resistance = np.where(et_kind == ET_VEGETATION,
                                          P.bulk_stomatal_resistance_s_m / np.maximum(0.5 * lai, 1e-3), 0.0)
            availability = np.zeros(self.n)
            veg = (et_kind == ET_VEGETATION) | (et_kind == ET_SOIL)
            availability[veg] = self.rng.uniform(0.3, 1.0, int(veg.sum()))
            availability[et_kind == ET_OPEN_WATER] = 1.0
            availability[et_kind == ET_PONDED] = 0.0
            roof = np.isin(lc, table.codes(list(ROOF_CLASSES)))
            return {"lc": lc, "albedo": look("albedo"), "emissivity": look("emissivity"),
                    "roughness": look("roughness_length_m", 0.1), "et_kind": et_kind,
                    "surface_resistance": surface_resistance, "availability": availability, "roof": roof,
                    "water": et_kind == ET_OPEN_WATER, "look": look}
        return self._get("cells", build)

    def fluxes(self):
        c = self._cells()

        def temps():
            sunlit, _ = self._radiation_fields()
            surface_k = 295.0 + 25.0 * sunlit + self.rng.normal(0.0, 1.0, self.n)
            air_k = 303.0 + self.rng.normal(0.0, 0.3, self.n)
            return surface_k, air_k

        surface_k, air_k = self._get("temps", temps)
        sunlit, svf = self._radiation_fields()
        kw = {"direct_horizontal_w_m2": 600.0, "diffuse_w_m2": 120.0, "sky_emissivity": 0.82, "vapour_pressure_pa": 1500.0,
                  "wind_speed_m_s": 2.5, "reference_height_m": P.wind_reference_height_m,
                  "air_density_kg_m3": P.air_density_kg_m3, "air_heat_capacity_j_kg_k": P.air_heat_capacity_j_kg_k,
                  "psychrometric_pa_k": P.psychrometric_pa_k,
                  "out": self._get("flux_out", lambda: np.zeros((6, self.n)))}
        return (surface_k, air_k, c["albedo"], c["emissivity"], sunlit, svf, c["roughness"], c["et_kind"],
                c["surface_resistance"], c["availability"]), kw

    # -- conduction columns (n, N_LAYERS), as HeatModel._setup_cells and run() build them
    def _columns(self):
        def build():
            c = self._cells()
            roof, water, look = c["roof"], c["water"], c["look"]
            thickness = np.where(roof[:, None], np.asarray(P.roof_layers_m)[None, :],
                                 np.asarray(P.ground_layers_m)[None, :]).astype(np.float64)
            cap = np.repeat(look("heat_capacity_j_m3_k")[:, None], N_LAYERS, axis=1)
            cond = np.repeat(look("conductivity_w_m_k")[:, None], N_LAYERS, axis=1)
            insulation = roof[:, None] & (np.arange(N_LAYERS)[None, :] >= P.roof_covering_layers)
            cap[insulation] = P.insulation_heat_capacity_j_m3_k
            cond[insulation] = P.insulation_conductivity_w_m_k
            cond[water, :] = P.water_conductivity_w_m_k
            bottom = np.where(roof, P.indoor_temperature_k,
                              np.where(water, P.water_temperature_k, P.deep_ground_temperature_k))
            temperature = bottom[:, None] + self.rng.uniform(-2.0, 15.0, (self.n, 1)) * np.linspace(1.0, 0.0, N_LAYERS)
            flux_out = self._cache.get("flux_out")
            if flux_out is not None and flux_out.any():
                rn, h, le, drn, dh, dle = flux_out
                flux, slope = rn - h - le, drn - dh - dle
            else:
                flux = self.rng.uniform(-100.0, 500.0, self.n)
                slope = self.rng.uniform(-30.0, -5.0, self.n)
            return {"temperature": np.ascontiguousarray(temperature), "cap": np.ascontiguousarray(cap),
                    "cond": np.ascontiguousarray(cond), "thickness": thickness, "flux": flux, "slope": slope,
                    "bottom": bottom, "scratch": np.zeros((self.n, 2 * N_LAYERS)),
                    "out": np.zeros((self.n, N_LAYERS)), "out1": np.zeros(self.n)}
        return self._get("columns", build)

    def conduct(self):
        c = self._columns()
        return (c["temperature"], c["cap"], c["cond"], c["thickness"], c["flux"], c["slope"], c["bottom"]), \
            {"dt_s": P.time_step_s, "scratch": c["scratch"], "out": c["out"]}

    def energy(self):
        c = self._columns()
        return (c["temperature"], c["cap"], c["thickness"], c["out1"]), {}

    def bottom_flux(self):
        c = self._columns()
        return (c["temperature"], c["cond"], c["thickness"], c["bottom"], c["out1"]), {}

    # -- the model's step since the column types: flux rows -> F, dF/dTs -> columns in place -> fluxes
    def _surface_flux_rows(self):
        """The (6, n) rows of surface_fluxes: the kernel's result if it ran, else plausible values."""
        flux_out = self._cache.get("flux_out")
        if flux_out is not None and flux_out.any():
            return flux_out

        def build():
            rows = np.empty((6, self.n))
            rows[0] = self.rng.uniform(-80.0, 650.0, self.n)  # Rn
            rows[1] = self.rng.uniform(-20.0, 250.0, self.n)  # H
            rows[2] = self.rng.uniform(0.0, 300.0, self.n)  # LE
            rows[3] = self.rng.uniform(-7.0, -5.0, self.n)  # dRn/dTs
            rows[4] = self.rng.uniform(5.0, 30.0, self.n)  # dH/dTs
            rows[5] = self.rng.uniform(0.0, 20.0, self.n)  # dLE/dTs
            return rows
        return self._get("flux_rows", build)

    def net_flux(self):
        rows = self._surface_flux_rows()
        flux, slope = self._get("net_flux", lambda: (np.zeros(self.n), np.zeros(self.n)))
        return (rows, flux, slope), {}

    def _type_columns(self):
        """Columns from a table of the land-cover classes' column types, as HeatModel._setup_cells
        builds it (13 classes; roofs with insulation, water), a random type per cell."""
        def build():
            table = default_table()
            codes = sorted(c.code for c in table.classes.values())
            roof_codes = set(table.codes(list(ROOF_CLASSES)))
            n_codes = max(codes) + 1
            cap, cond = np.ones((n_codes, N_LAYERS)), np.ones((n_codes, N_LAYERS))
            dz = np.repeat(np.asarray(P.ground_layers_m, dtype=np.float64)[None, :], n_codes, axis=0)
            bottom = np.full(n_codes, P.deep_ground_temperature_k)
            for cls in table.classes.values():
                c = cls.code
                cap[c], cond[c] = cls["heat_capacity_j_m3_k"], cls["conductivity_w_m_k"]
                if c in roof_codes:
                    dz[c] = P.roof_layers_m
                    insulation = np.arange(N_LAYERS) >= P.roof_covering_layers
                    cap[c, insulation] = P.insulation_heat_capacity_j_m3_k
                    cond[c, insulation] = P.insulation_conductivity_w_m_k
                    bottom[c] = P.indoor_temperature_k
                elif cls.et_kind == "open_water":
                    cond[c] = P.water_conductivity_w_m_k
                    bottom[c] = P.water_temperature_k
            types = self.rng.choice(np.asarray(codes), self.n).astype(np.int16)
            temperature = bottom[types][:, None] + (self.rng.uniform(-2.0, 15.0, (self.n, 1))
                                                   * np.linspace(1.0, 0.0, N_LAYERS)[None, :])
            flux, slope = self._cache.get("net_flux", (None, None))
            if flux is None or not flux.any():
                flux = self.rng.uniform(-100.0, 500.0, self.n)
                slope = self.rng.uniform(-30.0, -5.0, self.n)
            temperature = np.ascontiguousarray(temperature)
            return {"temperature": temperature, "types": types, "cap": cap, "cond": cond, "dz": dz,
                    "bottom": bottom, "flux": flux, "slope": slope, "energy": np.zeros(self.n),
                    "bottom_flux": np.zeros(self.n), "old_surface": temperature[:, 0].copy(),
                    "terms": np.zeros((5, self.n)), "n_types": len(codes)}
        return self._get("type_columns", build)

    def conduct_types(self):
        c = self._type_columns()
        return (c["temperature"], c["types"], c["cap"], c["cond"], c["dz"], c["bottom"], c["flux"], c["slope"]), \
            {"dt_s": P.time_step_s, "out": c["temperature"], "energy_j_m2": c["energy"],
             "bottom_flux_w_m2": c["bottom_flux"]}

    def new_state(self):
        c = self._type_columns()
        return (self._surface_flux_rows(), c["old_surface"], c["temperature"], c["terms"]), {}

    # -- air (2-D, here on the fine grid itself)
    def air(self):
        def build():
            flux_out = self._cache.get("flux_out")
            h = (flux_out[1].reshape(self.shape).copy() if flux_out is not None and flux_out.any()
                 else self.rng.uniform(-20.0, 250.0, self.shape))
            air = 303.0 + self.rng.normal(0.0, 0.5, self.shape)
            return air, h, np.zeros(self.shape)
        air, h, out = self._get("air", build)
        tau = 3600.0
        dt = 0.9 * air_temperature_max_dt_s(wind_u_m_s=WIND_U_M_S, wind_v_m_s=WIND_V_M_S, cell_size_m=CELL_M,
                                            diffusivity_m2_s=P.air_horizontal_diffusivity_m2_s,
                                            relaxation_time_s=tau)
        return (air, h, 302.0), {"wind_u_m_s": WIND_U_M_S, "wind_v_m_s": WIND_V_M_S, "cell_size_m": CELL_M,
                                     "mixing_height_m": P.canopy_layer_depth_m,
                                     "diffusivity_m2_s": P.air_horizontal_diffusivity_m2_s, "relaxation_time_s": tau,
                                     "air_density_kg_m3": P.air_density_kg_m3,
                                     "air_heat_capacity_j_kg_k": P.air_heat_capacity_j_kg_k, "dt_s": dt, "out": out}

    air_serial = air


#: kernel name -> (kernel, twin, Workload method giving (args, kwargs))
KERNELS = {
    "sunlit_fraction": (sunlit_fraction, sunlit_fraction_numpy, Workload.sunlit),
    "sunlit_fraction_cells": (sunlit_fraction_cells, sunlit_fraction_cells_numpy, Workload.sunlit_cells),
    "sky_view_factor": (sky_view_factor, sky_view_factor_numpy, Workload.sky_view),
    "wall_solar_weights": (wall_solar_weights, wall_solar_weights_numpy, Workload.wall_weights),
    "wall_direct_weight_cells": (wall_direct_weight_cells, wall_direct_weight_cells_numpy, Workload.wall_direct),
    "surface_fluxes": (surface_fluxes, surface_fluxes_numpy, Workload.fluxes),
    "net_surface_flux": (net_surface_flux, net_surface_flux_numpy, Workload.net_flux),
    "conduct_columns": (conduct_columns, conduct_columns_numpy, Workload.conduct),
    "column_energy_j_m2": (column_energy_j_m2, column_energy_j_m2_numpy, Workload.energy),
    "bottom_flux_w_m2": (bottom_flux_w_m2, bottom_flux_w_m2_numpy, Workload.bottom_flux),
    "conduct_column_types": (conduct_column_types, conduct_column_types_numpy, Workload.conduct_types),
    "fluxes_at_new_state": (fluxes_at_new_state, fluxes_at_new_state_numpy, Workload.new_state),
    "wall_fluxes": (wall_fluxes, wall_fluxes_numpy, Workload.wall_flux),
    "air_temperature_step": (air_temperature_step, air_temperature_step_numpy, Workload.air),
    "air_temperature_step_serial": (air_temperature_step_serial, air_temperature_step_numpy, Workload.air_serial),
}
assert list(KERNELS) == KERNEL_ORDER
#: cells a kernel updates per call when not every cell of the town (default: Workload.n)
KERNEL_CELLS = {"wall_fluxes": Workload.wall_cells, "wall_direct_weight_cells": Workload.wall_cells}
#: kernels whose outputs are positional arguments (indices), for the twin's fresh copies
#: (default: the last positional argument, when there is no ``out=``)
TWIN_POSITIONAL_OUTPUTS = {"net_surface_flux": (1, 2)}
#: keyword outputs given fresh copies for the twin (so the kernel's state stays untouched)
TWIN_KEYWORD_OUTPUTS = ("out", "energy_j_m2", "bottom_flux_w_m2")
#: kernels whose inputs are derived from the radiation fields and the surface fluxes
NEEDS_FLUXES = {"wall_solar_weights", "wall_direct_weight_cells", "surface_fluxes", "net_surface_flux", "conduct_columns", "column_energy_j_m2",
                "bottom_flux_w_m2", "conduct_column_types", "fluxes_at_new_state", "wall_fluxes",
                "air_temperature_step", "air_temperature_step_serial"}


# ---------------------------------------------------------------------- timing
def timed(fn, args, kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def best_of(fn, args, kwargs, repeats: int = 3, warmup: bool = True) -> tuple[float | None, float, list]:
    """(time of the warm-up call or None, best of ``repeats`` calls, all repeat times)."""
    first = timed(fn, args, kwargs) if warmup else None
    times = [timed(fn, args, kwargs) for _ in range(repeats)]
    return first, min(times), times


def cache_stats(dispatcher) -> dict:
    s = dispatcher.stats
    return {"cache_path": s.cache_path, "cache_hits": sum(s.cache_hits.values()),
            "cache_misses": sum(s.cache_misses.values())}


# ---------------------------------------------------------------------- kernels
def bench_kernels(sizes_m: list[float], triad_gb_s: float, log) -> list[dict]:
    rows = []
    twin_cache: dict = {}  # (kernel, twin cells) -> twin result measured on a smaller town
    for k, size in enumerate(sizes_m):
        for attempt in range(1 + RETRIES):
            twins_before = set(twin_cache)
            with section(f"kernels at {size:g} M cells"):
                if k > 0 or attempt > 0:  # the bandwidth drifts: measure it again next to each size's kernels
                    triad = triad_bandwidth()
                    triad_gb_s = triad["gb_s"]
                    TRIADS.append({"before_size_m": size, **triad})
                    log(f"triad {triad_gb_s:.1f} GB/s")
                size_rows = _bench_size(size, triad_gb_s, twin_cache, log)
            others = CONTENTION[-1]["others_cores"] if CONTENTION else 0.0
            if not again_if_disturbed(attempt, RETRIES, log, f"the kernels at {size:g} M cells"):
                break
            for key in set(twin_cache) - twins_before:
                del twin_cache[key]
        for row in size_rows:
            row["others_cores_during_size"] = others
        rows.extend(size_rows)
    return rows


def _bench_size(size, triad_gb_s, twin_cache, log) -> list[dict]:
    rows = []
    n_target = round(size * 1e6)
    t0 = time.perf_counter()
    work = Workload(make_town(n_target))
    log(f"town of {work.n:,} cells ({work.shape[0]} x {work.shape[1]}) built in {time.perf_counter() - t0:.1f} s, "
        f"buildings {work.town['building_share']:.0%}, tree crowns {work.town['tree_share']:.0%}")
    for name in KERNEL_ORDER:
        kernel, twin, method = KERNELS[name]
        args, kwargs = method(work)
        cells = KERNEL_CELLS[name](work) if name in KERNEL_CELLS else work.n
        first, best, times = best_of(kernel, args, kwargs)
        row = {"kernel": name, "size_m": size, "cells": cells, "grid": list(work.shape), "grid_cells": work.n,
               "model_uses": name in MODEL_USES,
               "first_call_s": first, "warm_best_s": best, "warm_times_s": times,
               "cells_per_s": cells / best, "bytes_per_cell": KERNEL_BYTES_PER_CELL[name]}
        if name == "sunlit_fraction_cells":
            row["local_max_height_s"] = work.local_max_height_s
        if name == "conduct_column_types":
            row["column_types"] = work._type_columns()["n_types"]
        row["bytes_per_call"] = row["bytes_per_cell"] * cells
        row["gb_s"] = row["bytes_per_call"] / best / 1e9
        row["fraction_of_triad"] = row["gb_s"] / triad_gb_s
        row["triad_gb_s"] = triad_gb_s
        if name not in FIRST_CALLS:  # first call in this process: cache load or compile
            FIRST_CALLS[name] = {"cells": cells, "first_call_s": first, "warm_best_s": best,
                                 "numba_cache": cache_stats(kernel)}
        # the twin
        limit = TWIN_LIMIT_CELLS[name]
        if work.n <= limit:
            _, twin_best, _ = best_of(*_twin_call(name, twin, args, kwargs), warmup=False)
            row["twin"] = {"cells": cells, "grid": list(work.shape), "smaller_grid": False,
                           "best_s": twin_best, "cells_per_s": cells / twin_best}
            row["speedup_per_cell"] = row["cells_per_s"] / row["twin"]["cells_per_s"]
            row["speedup_same_grid"] = row["speedup_per_cell"]
        else:
            key = (name, limit)
            if key not in twin_cache:
                twin_cache[key] = bench_twin_small(name, limit)
            tw = twin_cache[key]
            row["twin"] = {k: tw[k] for k in ("cells", "grid", "best_s", "cells_per_s")}
            row["twin"]["smaller_grid"] = True
            row["speedup_per_cell"] = row["cells_per_s"] / tw["cells_per_s"]
            row["speedup_same_grid"] = tw["kernel_cells_per_s"] / tw["cells_per_s"]
            row["kernel_on_twin_grid_cells_per_s"] = tw["kernel_cells_per_s"]
        rows.append(row)
        log(format_row(row))
        if name == "air_temperature_step_serial":
            work.drop("air")
        if name == "bottom_flux_w_m2":
            work.drop("columns")  # the largest arrays
        if name == "fluxes_at_new_state":
            work.drop("type_columns", "net_flux")
        if name == "wall_fluxes":
            work.drop("walls", "facades")
        if name == "surface_fluxes":
            work.drop("temps")
        if name == "sunlit_fraction_cells":
            work.drop("sunlit_cells")
    del work
    return rows


def _twin_call(name, twin, args, kwargs):
    """Call a twin with fresh output arrays (so the kernel's results and state stay untouched;
    an in-place kernel's ``out`` is its input, and the twin then writes elsewhere)."""
    fresh_kw = {k: np.empty_like(v) for k, v in kwargs.items() if k in TWIN_KEYWORD_OUTPUTS}
    if fresh_kw:
        return twin, args, {**kwargs, **fresh_kw}
    args = list(args)
    for index in TWIN_POSITIONAL_OUTPUTS.get(name, (-1,)):
        args[index] = np.empty_like(args[index])
    return twin, tuple(args), kwargs


def bench_twin_small(name: str, n_cells: int) -> dict:
    """Twin and kernel on a separate synthetic town of ``n_cells`` (the twin's limit)."""
    kernel, twin, method = KERNELS[name]
    work = Workload(make_town(n_cells))
    if name in NEEDS_FLUXES:
        # inputs derived from the radiation fields and the fluxes: fill them as on the big grid
        sunlit_fraction(*Workload.sunlit(work)[0], **Workload.sunlit(work)[1])
        args_s, kw_s = Workload.sky_view(work)
        sky_view_factor(*args_s, **kw_s)
        args_f, kw_f = Workload.fluxes(work)
        surface_fluxes(*args_f, **kw_f)
        args_n, kw_n = Workload.net_flux(work)
        net_surface_flux(*args_n, **kw_n)
    args, kwargs = method(work)
    cells = KERNEL_CELLS[name](work) if name in KERNEL_CELLS else work.n
    _, kernel_best, _ = best_of(kernel, args, kwargs)
    fn, targs, tkw = _twin_call(name, twin, args, kwargs)
    _, twin_best, _ = best_of(fn, targs, tkw, warmup=False)
    return {"cells": cells, "grid": list(work.shape), "best_s": twin_best, "cells_per_s": cells / twin_best,
            "kernel_best_s": kernel_best, "kernel_cells_per_s": cells / kernel_best}


# ---------------------------------------------------------------------- thread pools
def thread_pool_probe(n_cells: int = 26_000, repeats: int = 21) -> dict:
    """A small numba kernel alone, right after a NumPy BLAS call (``x @ w``), and the BLAS call
    right after the kernel: median ms. OpenBLAS and numba's OpenMP each keep their threads
    spinning for a while after a call; on two cores the two pools then fight for the CPUs."""
    rng = np.random.default_rng(SEED)
    t, c, d = (rng.random((n_cells, N_LAYERS)) for _ in range(3))
    out = np.empty(n_cells)
    x, w = rng.random(n_cells), rng.random(n_cells)
    column_energy_j_m2(t, c, d, out)

    def kernel():
        column_energy_j_m2(t, c, d, out)

    def blas():
        return float(x @ w)

    def median_ms(before, measured):
        times = []
        for _ in range(repeats):
            if before is not None:
                before()
            t0 = time.perf_counter()
            measured()
            times.append(time.perf_counter() - t0)
        return float(np.median(times) * 1e3)

    result = {"cells": n_cells, "kernel": "column_energy_j_m2", "repeats": repeats,
              "kernel_alone_ms": median_ms(None, kernel), "kernel_after_blas_ms": median_ms(blas, kernel),
              "blas_alone_ms": median_ms(None, blas), "blas_after_kernel_ms": median_ms(kernel, blas)}
    # the air step on the air grid of the 5 m site (50 m cells: 209 x 124), as the model sub-steps it
    air_shape = (209, 124)
    air = 303.0 + rng.normal(0.0, 0.5, air_shape)
    h = rng.uniform(-20.0, 250.0, air_shape)
    out_air = np.empty(air_shape)
    kw = {"wind_u_m_s": 0.7, "wind_v_m_s": -0.5, "cell_size_m": 50.0, "mixing_height_m": P.canopy_layer_depth_m,
          "diffusivity_m2_s": P.air_horizontal_diffusivity_m2_s, "relaxation_time_s": 3600.0,
          "air_density_kg_m3": P.air_density_kg_m3, "air_heat_capacity_j_kg_k": P.air_heat_capacity_j_kg_k,
          "dt_s": 30.0, "out": out_air}
    for fn in (air_temperature_step, air_temperature_step_serial):
        fn(air, h, 302.0, **kw)
    result["air_grid"] = list(air_shape)
    # each after a pause, so that no thread pool still spins from the call before (serial first)
    time.sleep(0.5)
    result["air_serial_ms"] = median_ms(None, lambda: air_temperature_step_serial(air, h, 302.0, **kw))
    time.sleep(0.5)
    result["air_parallel_ms"] = median_ms(None, lambda: air_temperature_step(air, h, 302.0, **kw))
    # which code each dispatcher runs. air_temperature_step_serial is air_temperature_step.py_func
    # compiled without parallel=True; numba's on-disk cache keys an entry by the function's qualified
    # name, line, bytecode and signature, not by its flags, so the two may load one and the same code
    for label, fn in (("air_parallel", air_temperature_step), ("air_serial", air_temperature_step_serial)):
        result[f"{label}_code"] = dispatcher_code(fn)
    return result


def dispatcher_code(fn) -> dict:
    """Whether a dispatcher's (first) compiled version runs parallel code: compiled in this process
    (a cache miss) it follows its own flags; loaded from numba's cache (a hit) it runs what the
    cache entry holds, found here by the threading layer's ``do_scheduling`` symbol in it."""
    stats = cache_stats(fn)
    info = {"parallel_flag": bool(fn.targetoptions.get("parallel", False)), "cache_hits": stats["cache_hits"],
            "cache_misses": stats["cache_misses"], "cache_entry": None, "entry_is_parallel": None}
    try:  # numba internals, 0.5x-0.6x: Dispatcher._cache (FunctionCache) and its IndexDataCacheFile
        cache, cache_file = fn._cache, fn._cache._cache_file
        entry = cache_file._load_index().get(cache._index_key(fn.signatures[0], fn.targetctx.codegen()))
        if entry is not None:
            info["cache_entry"] = entry
            info["entry_is_parallel"] = b"do_scheduling" in (Path(cache_file._cache_path) / entry).read_bytes()
    except Exception as exc:  # noqa: BLE001 - informative only
        info["cache_entry"] = f"not readable: {exc!r}"
    info["runs_parallel_code"] = (info["entry_is_parallel"] if stats["cache_hits"] and info["entry_is_parallel"]
                                  is not None else info["parallel_flag"])
    return info


# ---------------------------------------------------------------------- cold compile (subprocess)
def compile_probe_child() -> None:
    """Run in a subprocess with an empty NUMBA_CACHE_DIR: first (compile) and second call per kernel."""
    work = Workload(make_town(64 * 64))
    out = {}
    for name in KERNEL_ORDER:
        kernel, _, method = KERNELS[name]
        args, kwargs = method(work)
        first = timed(kernel, args, kwargs)
        second = timed(kernel, args, kwargs)
        out[name] = {"first_s": first, "second_s": second, **cache_stats(kernel)}
    print(json.dumps(out))


def compile_probe() -> dict:
    with tempfile.TemporaryDirectory(prefix="heatsim-numba-cache-") as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--compile-probe-child"], env=env,
                              capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for value in result.values():
        value.pop("cache_path", None)
    return result


# ---------------------------------------------------------------------- whole model
#: the numba kernels HeatModel.run() calls; the model imports them by name into heatsim.heat.model,
#: so they are wrapped there (any other numba kernel found in that module is wrapped too)
MODEL_KERNELS = ("sunlit_fraction_cells", "surface_fluxes", "net_surface_flux", "conduct_column_types",
                 "fluxes_at_new_state", "weighted_sums", "wall_solar_weights", "wall_direct_weight_cells", "wall_fluxes",
                 "facade_area_ratios",
                 "water_availability", "draw_water", "air_temperature_step_serial", "aerodynamic_resistance",
                 "saturation_vapour_pressure_pa", "sky_view_factor")
#: NumPy / SciPy / Python helpers the time loop calls through the model module (none calls a wrapped name)
MODEL_HELPERS = ("local_max_height_m", "mean_radiant_temperature_c", "utci_c", "_upsample", "air_temperature_max_dt_s")
#: HeatModel methods that call no wrapped name (the hourly fields' _hourly_band calls some: a group)
MODEL_METHODS = ()
#: timed as a whole besides their parts: (class name in heatsim.heat.model, method, label)
MODEL_GROUPS = (("HeatModel", "sky_view", "HeatModel.sky_view (cache read, or compute and store)"),
                ("_Walls", "__init__", "walls set-up (_Walls.__init__)"),
                ("_Walls", "step", "walls step (_Walls.step)"),
                ("HeatModel", "_step_air", "air step (HeatModel._step_air)"),
                ("HeatModel", "_hourly_band", "hourly fields (HeatModel._hourly_band)"))
#: the caller of a wrapped name, when not run() itself, goes into the label
CALLER_LABELS = {"_hourly_band": "hourly fields", "step": "walls", "__init__": "walls set-up", "_step_air": "air", "_compute_sky_view": "sky view",
                 "stomatal_stress_factor": "stomata", "sky_view": "sky view"}


@contextmanager
def time_model_parts(totals: dict, counts: dict, groups: dict, seen: dict):
    """Wrap the kernels and the helpers HeatModel.run calls with timers (restored on exit).

    ``totals``/``counts``: leaves (they call nothing wrapped), labelled ``name [caller]`` when the
    caller is not run() (conduct_column_types runs for the ground and for the walls);
    ``groups``: inclusive times of MODEL_GROUPS; ``seen``: the walls' cell count."""
    import heatsim.heat.model as model_module

    patched = []

    def wrap(owner, attr, label, inclusive=False):
        original = getattr(owner, attr)

        def timed_call(*a, **kw):
            if inclusive:
                key = label
            else:
                caller = sys._getframe(1).f_code.co_name
                key = label if caller == "run" else f"{label} [{CALLER_LABELS.get(caller, caller)}]"
            t0 = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                elapsed = time.perf_counter() - t0
                if inclusive:
                    g = groups.setdefault(key, {"seconds": 0.0, "calls": 0})
                    g["seconds"] += elapsed
                    g["calls"] += 1
                else:
                    totals[key] = totals.get(key, 0.0) + elapsed
                    counts[key] = counts.get(key, 0) + 1

        if hasattr(original, "py_func"):  # HeatModel.sky_view hashes sky_view_factor.py_func's source
            timed_call.py_func = original.py_func
        setattr(owner, attr, timed_call)
        patched.append((owner, attr, original))

    found = {a for a, v in vars(model_module).items() if isinstance(v, numba.core.dispatcher.Dispatcher)}
    missing = [a for a in MODEL_KERNELS + MODEL_HELPERS if not callable(getattr(model_module, a, None))]
    if missing:
        print(f"note: heatsim.heat.model no longer holds {missing}; update MODEL_KERNELS / MODEL_HELPERS",
              file=sys.stderr)
    extra = sorted(found - set(MODEL_KERNELS))
    if extra:
        print(f"note: heatsim.heat.model holds numba kernels not in MODEL_KERNELS, wrapped too: {extra}",
              file=sys.stderr)
    for attr in [a for a in MODEL_KERNELS + MODEL_HELPERS if a not in missing] + extra:
        wrap(model_module, attr, attr)
    for attr in MODEL_METHODS:
        if hasattr(model_module.HeatModel, attr):
            wrap(model_module.HeatModel, attr, f"HeatModel.{attr}")
    for cls_name, attr, label in MODEL_GROUPS:
        cls = getattr(model_module, cls_name, None)
        if cls is not None and hasattr(cls, attr):
            wrap(cls, attr, label, inclusive=True)
    walls_cls = getattr(model_module, "_Walls", None)
    if walls_cls is not None:  # the number of wall cells, from the walls' step
        step = walls_cls.step

        def counting_step(self, *a, **kw):
            seen["wall_cells"] = int(self.index.size)
            return step(self, *a, **kw)

        walls_cls.step = counting_step
        patched.append((walls_cls, "step", step))
    try:
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def _run_model(site, table, weather, params, label, log) -> tuple[dict, object]:
    """One HeatModel.run() with the breakdown timers, repeated when disturbed."""
    from heatsim.heat.model import HeatModel

    for attempt in range(1 + RETRIES):
        model = HeatModel(site, table, weather, params)  # afresh: run() draws the model's water stores down
        totals: dict = {}
        counts: dict = {}
        groups: dict = {}
        seen: dict = {}
        with section(label), time_model_parts(totals, counts, groups, seen):
            t0 = time.perf_counter()
            result = model.run()
            run_s = time.perf_counter() - t0
        if not again_if_disturbed(attempt, RETRIES, log, label):
            break
    steps = len(result.ledger.reported)
    parts = {k: {"seconds": v, "calls": counts[k], "share_of_run": v / run_s, "ms_per_call": 1e3 * v / counts[k]}
             for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}
    rest = run_s - sum(totals.values())
    parts["rest (NumPy glue in run(): weather rows, takes, bincount, ledger lists, copies)"] = {
        "seconds": rest, "calls": None, "share_of_run": rest / run_s, "ms_per_call": None}
    for g in groups.values():
        g["share_of_run"] = g["seconds"] / run_s
    sim_days = weather.spinup_days + weather.days
    return {"time_step_s": params.time_step_s, "steps": steps, "run_s": run_s,
            "cell_steps_per_s": model.n * steps / run_s,
            "grid_cell_steps_per_s": model.grid.ny * model.grid.nx * steps / run_s,
            "run_s_per_simulated_day": run_s / sim_days, "energy_closure_rel": result.ledger.closure_rel,
            "wall_cells": seen.get("wall_cells"), "run_breakdown": parts, "groups": groups,
            "others_cores": CONTENTION[-1]["others_cores"] if CONTENTION else None}, model


def bench_model(resolution_m: float, log, time_steps=None, days: int = 1, spinup_days: int = 0) -> dict:
    from scipy import ndimage

    from heatsim.heat.model import HeatModel
    from heatsim.paths import cache_dir
    from heatsim.site.store import load_site
    from heatsim.weather import load_heat_weather

    table = default_table()
    time_steps = list(time_steps or [P.time_step_s])
    weather = load_heat_weather("hittegolf-2019", days=days, spinup_days=spinup_days)
    with section("model warm-up run at 50 m"):
        t0 = time.perf_counter()
        coarse = load_site("harelbeke", 50.0)
        HeatModel(coarse, table, weather, P).run()
        warmup_s = time.perf_counter() - t0
    log(f"model warm-up at 50 m (first run in this process: compiles / loads caches): {warmup_s:.1f} s")

    t0 = time.perf_counter()
    site = load_site("harelbeke", resolution_m)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = HeatModel(site, table, weather, P)
    setup_s = time.perf_counter() - t0
    grid_cells = model.grid.ny * model.grid.nx
    shade_cells = int(ndimage.maximum_filter(model.active2d, size=3, mode="constant").sum())
    log(f"site {resolution_m:g} m: {grid_cells:,} grid cells, {model.n:,} simulated ({model.n / grid_cells:.0%}), "
        f"study area {int(model.domain.sum()):,}, shadow cells {shade_cells:,}; load {load_s:.1f} s, "
        f"set-up {setup_s:.1f} s")

    # the sky view factor computed, never from the cache
    with section(f"model sky view computed at {resolution_m:g} m"):
        t0 = time.perf_counter()
        svf = model._compute_sky_view()
        svf_s = time.perf_counter() - t0
    log(f"sky view computed (_compute_sky_view): {svf_s:.2f} s")
    # the cache: primed with the array just computed when it lacks this surface (no second compute)
    folder = cache_dir() / "sky-view"
    before = set(folder.glob("*.npy")) if folder.is_dir() else set()
    model._compute_sky_view = lambda: svf  # instance attribute: only for this priming call
    t0 = time.perf_counter()
    cached = model.sky_view()
    prime_s = time.perf_counter() - t0
    del model._compute_sky_view
    stored = sorted(set(folder.glob("*.npy")) - before) if folder.is_dir() else []
    t0 = time.perf_counter()
    cached = model.sky_view()
    read_s = time.perf_counter() - t0
    svf_cache = {"dir": str(cache_dir()), "was_cached": not stored, "prime_s": prime_s, "read_s": read_s,
                 "same_as_computed": bool(np.array_equal(cached, svf))}
    log(f"sky view cache ({svf_cache['dir']}): {'hit' if svf_cache['was_cached'] else 'miss, stored'}; "
        f"read {read_s:.3f} s; equal to the computed array: {svf_cache['same_as_computed']}")
    del model, cached

    runs = []
    for dt in time_steps:
        params = dataclasses.replace(P, time_step_s=float(dt))
        label = f"model run at {resolution_m:g} m, {dt:g} s step (sky view from cache)"
        r, model = _run_model(site, table, weather, params, label, log)
        runs.append(r)
        log(f"{label}: {r['run_s']:.1f} s, {r['steps']} steps, {r['run_s_per_simulated_day']:.1f} s per simulated day")
    return {
        "site": "harelbeke", "resolution_m": resolution_m, "grid": list(model.grid.shape), "grid_cells": grid_cells,
        "cells": model.n, "cells_share_of_grid": model.n / grid_cells, "domain_cells": int(model.domain.sum()),
        "shade_cells": shade_cells, "simulated_days": weather.spinup_days + weather.days,
        "reported_days": weather.days, "spinup_days": weather.spinup_days,
        "warmup_run_50m_s": warmup_s, "site_load_s": load_s, "setup_s": setup_s,
        "sky_view_computed_s": svf_s, "sky_view_cells_per_s": grid_cells / svf_s, "sky_view_cache": svf_cache,
        "runs": runs,
        "note": "run() reads the sky view from the cache; the breakdown wrappers add ~1 us per call",
    }


def bench_model_blas1(resolution_m: float, time_steps, days: int, spinup_days: int) -> dict:
    """The same model benchmark in a subprocess whose OpenBLAS has one thread (so that its
    threads cannot fight numba's for the two cores)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--model-child", "--model-resolution",
                           str(resolution_m), "--model-time-steps", *(str(t) for t in time_steps),
                           "--model-days", str(days), "--model-spinup-days", str(spinup_days),
                           "--wait-quiet", str(SETTINGS["wait_quiet_s"]), "--retries", str(RETRIES)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- output
def format_header() -> str:
    return (f"{'kernel':<28} {'cells':>10} {'first s':>8} {'warm ms':>9} {'Mcell/s':>9} {'B/cell':>6} "
            f"{'MB/call':>7} {'GB/s':>6} {'%triad':>6} | {'twin cells':>10} {'twin Mcell/s':>12} {'ratio':>7} "
            f"{'same grid':>9}")


def format_row(r: dict) -> str:
    tw = r["twin"]
    mark = "*" if tw["smaller_grid"] else " "
    first = f"{r['first_call_s']:8.3f}"
    return (f"{r['kernel']:<28} {r['cells']:>10,} {first} {r['warm_best_s'] * 1e3:9.3f} {r['cells_per_s'] / 1e6:9.2f} "
            f"{r['bytes_per_cell']:>6} {r['bytes_per_call'] / 1e6:7.1f} {r['gb_s']:6.2f} "
            f"{100 * r['fraction_of_triad']:5.1f}% | "
            f"{tw['cells']:>9,}{mark} {tw['cells_per_s'] / 1e6:12.4f} {r['speedup_per_cell']:7.1f} "
            f"{r['speedup_same_grid']:9.1f}")


def _ratio(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def render(report: dict) -> str:
    m = report["machine"]
    out = [f"# Heat benchmarks, {report['date']}", ""]
    out += machine_header(m, "bench_heat")
    t = report.get("triad")
    if t:
        out += ["", "## Memory bandwidth (triad)", ""]
        out.append(f"`a = b + s*c`, numba prange, {t['elements'] / 2**20:.0f} Mi float64 ({t['array_mib']:.0f} MiB per "
                   f"array), best of {len(t['times_s'])}: {t['best_s'] * 1e3:.1f} ms -> **{t['gb_s']:.1f} GB/s** at "
                   f"24 B/element (write-allocate not counted; {t['gb_s_with_write_allocate']:.1f} GB/s if it is).")
        if len(report.get("triads", [])) > 1:
            out.append("Measured again before each size (each size's %triad uses the triad just before it): "
                       + ", ".join(f"{x['gb_s']:.1f} GB/s before {x['before_size_m']:g} M" for x in report["triads"])
                       + ".")
    kern = report.get("kernels")
    if kern:
        caches = ", ".join(f"{k} {v}" for k, v in m.get("caches_per_core_or_shared", {}).items())
        out += ["", "## Kernels vs their NumPy twins and the triad", ""]
        out.append(f"Seeded synthetic 5 m towns (sun azimuth {SUN_AZIMUTH_DEG:g} deg, elevation {SUN_ELEVATION_DEG:g} "
                   f"deg; {N_LAYERS} layers; sky view {P.sky_view_directions} directions, {P.horizon_distance_m:g} m). "
                   "**bold** = a kernel HeatModel.run() calls today; the others are its former kernels, still in the "
                   "package. first s: the warm-up call (at the first size the first in this process: numba cache load "
                   "or compile). warm ms: best of 3 after it. B/cell: bytes a call must move per cell "
                   "(`KERNEL_BYTES_PER_CELL`; write-allocate not counted). %triad above 100: when MB/call fits the "
                   f"caches ({caches}), cache; when it is far larger (4 M cells), a read-mostly kernel outruns the "
                   "triad, a third of whose traffic is writes (plus their write-allocate). kernel/twin: per cell; "
                   "* = the twin ran on a smaller town of that many cells, and 'same grid' is the ratio with the kernel timed on that town too. "
                   "`sunlit_fraction_cells`: every cell of the town, each ray stopping at its local height bound "
                   "(`local_max_height_m`, 300 m window); `sunlit_fraction`: the grid's maximum height. "
                   "`conduct_column_types`: a table of the 13 land-cover column types x 10 layers, a random type per "
                   "cell, in place. `wall_fluxes`: the town's wall cells only (cells column).")
        out.append("")
        rows = []
        for r in kern:
            tw = r["twin"]
            name = f"**{r['kernel']}**" if r.get("model_uses") else r["kernel"]
            rows.append([f"{r['size_m']:g} M", name, f"{r['cells']:,}", f"{r['first_call_s']:.3f}",
                         f"{r['warm_best_s'] * 1e3:.3f}", f"{r['cells_per_s'] / 1e6:.1f}", r["bytes_per_cell"],
                         f"{r['bytes_per_call'] / 1e6:.1f}", f"{r['gb_s']:.2f}", f"{100 * r['fraction_of_triad']:.0f} %",
                         f"{tw['cells']:,}{'*' if tw['smaller_grid'] else ''}", f"{tw['cells_per_s'] / 1e6:.3f}",
                         _ratio(r["speedup_per_cell"]),
                         _ratio(r["speedup_same_grid"]) if tw["smaller_grid"] else "",
                         f"{r.get('others_cores_during_size', 0.0):.2f}"])
        out.append(md_table(["size", "kernel", "cells", "first s", "warm ms", "Mcell/s", "B/cell", "MB/call", "GB/s",
                             "%triad", "twin cells", "twin Mcell/s", "kernel/twin", "same grid", "others (cores)"],
                            rows))
        out.append("")
        by = {(r["kernel"], r["size_m"]): r for r in kern}
        notes = []
        for size in report["sizes_m_cells"]:
            a, b = by.get(("sunlit_fraction_cells", size)), by.get(("sunlit_fraction", size))
            if a and b:
                notes.append(f"- {size:g} M: `sunlit_fraction_cells` (local bounds) / `sunlit_fraction` (grid maximum) "
                             f"per cell: {a['cells_per_s'] / b['cells_per_s']:.2f}; `local_max_height_m` (once per run) "
                             f"{a.get('local_max_height_s', float('nan')):.2f} s")
            ct = by.get(("conduct_column_types", size))
            old = [by.get((k, size)) for k in ("conduct_columns", "column_energy_j_m2", "bottom_flux_w_m2")]
            if ct and all(old):
                old_s = sum(o["warm_best_s"] for o in old)
                notes.append(f"- {size:g} M: `conduct_column_types` (in place, energy and bottom flux fused) "
                             f"{ct['warm_best_s'] * 1e3:.1f} ms vs `conduct_columns` + `column_energy_j_m2` + "
                             f"`bottom_flux_w_m2` {old_s * 1e3:.1f} ms: {old_s / ct['warm_best_s']:.2f}x")
            pa, se = by.get(("air_temperature_step", size)), by.get(("air_temperature_step_serial", size))
            if pa and se:
                notes.append(f"- {size:g} M: `air_temperature_step_serial` / `air_temperature_step` (parallel) per cell: "
                             f"{se['cells_per_s'] / pa['cells_per_s']:.2f}")
            wf = by.get(("wall_fluxes", size))
            if wf:
                notes.append(f"- {size:g} M: wall cells {wf['cells']:,} ({wf['cells'] / wf['grid_cells']:.0%} of the town)")
        out += notes
    fc = report.get("first_calls")
    if fc:
        out += ["", "## Cold vs warm", ""]
        probe = report.get("compile_probe") or {}
        rows = []
        for name, r in fc.items():
            c = r["numba_cache"]
            p = probe.get(name)
            rows.append([name, f"{r['first_call_s']:.3f}", f"{r['warm_best_s'] * 1e3:.3f}", f"{r['cells']:,}",
                         f"{c['cache_hits']} / {c['cache_misses']}",
                         f"{p['first_s']:.2f}" if p else "", f"{p['second_s'] * 1e3:.3f}" if p else ""])
        out.append("First call in this process (numba cache hits / misses) at the first size; compile: first call "
                   "in a subprocess with an empty `NUMBA_CACHE_DIR` on a 64 x 64 town.")
        out.append("")
        out.append(md_table(["kernel", "first call s", "warm ms", "cells", "cache hits / misses", "compile s",
                             "2nd call ms (64 x 64)"], rows))
    tp = report.get("thread_pools")
    if tp:
        out += ["", "## Thread pools", ""]
        out.append(f"- `{tp['kernel']}` on {tp['cells']:,} cells, median of {tp['repeats']}: alone "
                   f"{tp['kernel_alone_ms']:.3f} ms, right after a BLAS dot (`x @ w`) {tp['kernel_after_blas_ms']:.3f} ms; "
                   f"the dot alone {tp['blas_alone_ms']:.3f} ms, right after the kernel {tp['blas_after_kernel_ms']:.3f} ms")
        if "air_serial_ms" in tp:
            out.append(f"- the air step on the 5 m site's air grid ({tp['air_grid'][0]} x {tp['air_grid'][1]}): "
                       f"`air_temperature_step` (parallel) {tp['air_parallel_ms']:.3f} ms, "
                       f"`air_temperature_step_serial` {tp['air_serial_ms']:.3f} ms")
        if "air_serial_code" in tp:
            cp, cs = tp["air_parallel_code"], tp["air_serial_code"]

            def describe(c):
                source = (f"loaded from numba's cache entry {c['cache_entry']}" if c["cache_hits"]
                          else "compiled in this process")
                return f"{'parallel' if c['runs_parallel_code'] else 'serial'} code ({source})"

            out.append(f"- code run: `air_temperature_step` {describe(cp)}; `air_temperature_step_serial` "
                       f"{describe(cs)}"
                       + (". **The serial dispatcher runs the parallel code**: it is `air_temperature_step.py_func` "
                          "compiled without `parallel=True`, and numba's on-disk cache keys an entry by the "
                          "function's name, line, bytecode and signature, not by its flags, so both load the "
                          "version compiled first" if cs["runs_parallel_code"] else ""))
    md = report.get("model")
    if md:
        out += ["", f"## HeatModel on {md['site']} at {md['resolution_m']:g} m", ""]
        c = md["sky_view_cache"]
        out.append(f"Grid {md['grid'][0]} x {md['grid'][1]} = {md['grid_cells']:,} cells; simulated (`model.n`, the "
                   f"study area and its margin) **{md['cells']:,}** ({100 * md['cells_share_of_grid']:.0f} % of the grid); "
                   f"study area {md['domain_cells']:,}; shadow rays per step for {md['shade_cells']:,} cells. "
                   f"Weather hittegolf-2019, {md['spinup_days']} spin-up + {md['reported_days']} reported day(s) = "
                   f"{24 * md['simulated_days']} simulated hours. After a 50 m warm-up run ({md['warmup_run_50m_s']:.1f} s, "
                   f"numba caches); site load {md['site_load_s']:.1f} s, set-up {md['setup_s']:.1f} s.")
        out.append("")
        out.append(f"- sky view factor of the whole grid computed (`HeatModel._compute_sky_view`): "
                   f"**{md['sky_view_computed_s']:.2f} s** ({md['sky_view_cells_per_s'] / 1e6:.2f} M grid cells/s)")
        out.append(f"- sky view cache (`{c['dir']}`): {'held this surface already' if c['was_cached'] else 'lacked this surface: primed with the array just computed'}; "
                   f"`HeatModel.sky_view()` from the cache {c['read_s']:.3f} s; equal to the computed array: "
                   f"{c['same_as_computed']}")
        out.append("")
        rows = [[f"{r['time_step_s']:g} s", r["steps"], f"**{r['run_s']:.1f}**", f"{r['run_s_per_simulated_day']:.1f}",
                 f"{r['cell_steps_per_s'] / 1e6:.2f}", f"{r['grid_cell_steps_per_s'] / 1e6:.2f}",
                 f"{r['wall_cells']:,}" if r.get("wall_cells") is not None else "",
                 f"{r['energy_closure_rel']:.1e}", f"{r['others_cores']:.2f}" if r.get("others_cores") is not None else ""]
                for r in md["runs"]]
        out.append(md_table(["time step", "steps", "run() s", "s per simulated day", "M cell-steps/s (simulated cells)",
                             "M grid-cell-steps/s", "wall cells", "energy closure", "others (cores)"], rows))
        for r in md["runs"]:
            out += ["", (f"Where `run()` spends its time at {md['resolution_m']:g} m, {r['time_step_s']:g} s step "
                         f"({r['run_s']:.1f} s; timers around each call, ~1 us each; `[walls]`, `[air]`, ... = called "
                         "from the walls' step, the air step, ...):"), ""]
            rows = [[k, f"{v['seconds']:.2f}", f"{100 * v['share_of_run']:.1f} %", v["calls"] if v["calls"] is not None else "",
                     f"{v['ms_per_call']:.3f}" if v["ms_per_call"] is not None else ""]
                    for k, v in r["run_breakdown"].items()]
            out.append(md_table(["part", "s", "share", "calls", "ms/call"], rows))
            if r.get("groups"):
                out += ["", "Inclusive (the parts above that they call are in them):", ""]
                out.append(md_table(["group", "s", "share", "calls"],
                                    [[k, f"{g['seconds']:.2f}", f"{100 * g['share_of_run']:.1f} %", g["calls"]]
                                     for k, g in r["groups"].items()]))
    mb = report.get("model_openblas_1_thread")
    if md and mb:
        out += ["", "## The same model runs in a subprocess with OPENBLAS_NUM_THREADS=1", ""]
        for a, b in zip(md["runs"], mb["runs"]):
            out.append(f"- {b['time_step_s']:g} s step: run() {b['run_s']:.1f} s (above {a['run_s']:.1f} s)")
    if report.get("contention"):
        out += ["", "## CPU use per section", "",
                ("In cores: ours = this process and its children, others = every other process, steal = the "
                 "hypervisor. With 2 cores, others > 0.2 means the section's numbers are disturbed (the second numba "
                 "thread waits); 10 ms ticks, sections under 1 s are not judged."), ""]
        rows = [[c["section"], f"{c['wall_s']:.1f}", f"{c['ours_cores']:.2f}", f"{c['others_cores']:.2f}",
                 f"{c['steal_cores']:.2f}", f"{c['waited_for_quiet_s']:.0f}", "disturbed" if disturbed(c) else ""]
                for c in report["contention"]]
        out.append(md_table(["section", "wall s", "ours", "others", "steal", "waited s", ""], rows))
    out += ["", f"Total {report['total_s']:.0f} s. Command: `{report['command']}`", ""]
    return "\n".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.25, 1.0, 4.0],
                    help="grid sizes in million cells (default 0.25 1 4; 16 needs ~9 GB)")
    ap.add_argument("--model-resolution", type=float, default=10.0,
                    help="resolution of the Harelbeke model run [m] (default 10; 5 is the full site)")
    ap.add_argument("--model-time-steps", type=float, nargs="+", default=[P.time_step_s], metavar="S",
                    help=f"one model run per time step [s] (default {P.time_step_s:g}; e.g. 600 900)")
    ap.add_argument("--model-days", type=int, default=1, help="reported days of the model run (default 1)")
    ap.add_argument("--model-spinup-days", type=int, default=0,
                    help="spin-up days before them (default 0: a 24-h run)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    ap.add_argument("--out", metavar="PATH", help="markdown file (default benchmarks/results/heat-<date>.md)")
    ap.add_argument("--no-kernels", action="store_true", help="skip the triad, the kernels and the probes")
    ap.add_argument("--no-model", action="store_true", help="skip the whole-model run")
    ap.add_argument("--no-compile-probe", action="store_true", help="skip the empty-cache compile subprocess")
    ap.add_argument("--wait-quiet", type=float, default=60.0, metavar="S",
                    help="before each section wait up to S seconds for other processes to leave the CPUs "
                         "(default 60; 0: don't)")
    ap.add_argument("--retries", type=int, default=1,
                    help="measure a grid size or model run again when other processes disturbed it (default 1)")
    ap.add_argument("--threads", type=int, help="numba threads (default: numba's, the core count)")
    ap.add_argument("--compare-blas1", action="store_true",
                    help="run the model once more in a subprocess with OPENBLAS_NUM_THREADS=1")
    ap.add_argument("--compile-probe-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    global RETRIES
    SETTINGS["wait_quiet_s"] = args.wait_quiet
    RETRIES = args.retries
    if args.threads:
        numba.set_num_threads(args.threads)
    if args.compile_probe_child:
        compile_probe_child()
        return
    model_kw = {"time_steps": args.model_time_steps, "days": args.model_days, "spinup_days": args.model_spinup_days}
    if args.model_child:
        print(json.dumps({**bench_model(args.model_resolution, lambda msg: None, **model_kw),
                          "contention": CONTENTION}, default=float))
        return

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    report = {"date": _dt.date.today().isoformat(), "machine": machine_info(), "seed": SEED, "cell_size_m": CELL_M,
              "sizes_m_cells": args.sizes, "kernel_bytes_per_cell": KERNEL_BYTES_PER_CELL,
              "twin_limit_cells": TWIN_LIMIT_CELLS,
              "command": " ".join([Path(sys.executable).name, "benchmarks/bench_heat.py", *(argv or sys.argv[1:])])}
    report["machine"]["numba_threads"] = numba.get_num_threads()
    report["machine"]["loadavg_at_start"] = os.getloadavg()
    if not args.no_kernels:
        log("triad ...")
        with section("triad"):
            report["triad"] = triad_bandwidth()
        TRIADS.append({"before_size_m": args.sizes[0], **report["triad"]})
        log(f"triad {report['triad']['gb_s']:.1f} GB/s")
        log(format_header())
        report["kernels"] = bench_kernels(args.sizes, report["triad"]["gb_s"], log)
        report["triads"] = TRIADS
        report["first_calls"] = FIRST_CALLS
        with section("thread-pool probe"):
            report["thread_pools"] = thread_pool_probe()
        if not args.no_compile_probe:
            log("compile probe (empty numba cache, subprocess) ...")
            with section("compile probe (subprocess)"):
                report["compile_probe"] = compile_probe()
    if not args.no_model:
        report["model"] = bench_model(args.model_resolution, log, **model_kw)
        if args.compare_blas1:
            log("model again, in a subprocess with OPENBLAS_NUM_THREADS=1 ...")
            blas1 = bench_model_blas1(args.model_resolution, **model_kw)
            CONTENTION.extend({**c, "section": f"[OPENBLAS_NUM_THREADS=1 subprocess] {c['section']}"}
                              for c in blas1.pop("contention"))
            report["model_openblas_1_thread"] = blas1
    report["machine"]["numba_threading_layer"] = _threading_layer()
    report["total_s"] = time.perf_counter() - t_start
    report["contention"] = CONTENTION
    text = render(report)
    print(text)
    path = Path(args.out) if args.out else results_path("heat", report["date"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    log(f"wrote {path}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, default=float)
        log(f"wrote {args.json}")


def _threading_layer() -> str:
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel ran yet
        return "?"


if __name__ == "__main__":
    main()

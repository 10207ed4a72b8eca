"""The water model's overland-flow kernel against its NumPy twin and the machine's memory
bandwidth, the whole water model on the bundled Harelbeke site, and (optional) landlab's
OverlandFlow component on the same ground and rain.

Usage::

    python benchmarks/bench_water.py [--sizes 0.25 1 4 16] [--twin-max-size 16]
                                     [--resolution 25 10] [--landlab-resolution 25]
                                     [--landlab-python /tmp/landlab-venv/bin/python]
                                     [--no-kernels] [--no-model] [--no-landlab] [--storm-only]
                                     [--wait-quiet 30] [--retries 0] [--threads N]
                                     [--json PATH] [--out PATH]

A script run on demand, never in the tests. Everything is measured in one run: compare
numbers only within one run (two-core machines drift by +-30 % between runs, and other
processes on them stall the second numba thread), which is why the bandwidth triad is
measured here and not quoted. The results go to stdout as markdown tables and to
``benchmarks/results/water-<date>.md`` (``-2``, ``-3``, ... when that exists; ``--out``
overrides); ``--json PATH`` also writes every number.

What it measures:

1. a STREAM-like triad ``a = b + s*c`` (numba, parallel) on 32 Mi float64, best of 5,
   measured again before each grid size: GB/s at 24 B per element (write-allocate not
   counted, as in STREAM);
2. ``heatsim.kernels.overland_flow.flow_step`` and its parts ``face_fluxes``,
   ``limit_outflow``, ``update_depth`` on a seeded synthetic 5 m grid of 0.25, 1, 4, 16
   million cells: a 0.5 % slope with random bumps (+-0.4 m), ~10 % blocked cells
   (buildings), water 0-0.3 m deep on the rest (most faces wet: the share is printed),
   Manning's n 0.015 or 0.035. Each call starts from the same state (restored before each
   call, outside the timing); warm time = best of 5 after a warm-up call; cell updates per
   second; the effective bandwidth from the bytes counted in FLOW_BYTES_PER_CELL and its
   share of the triad measured just before that size;
3. the NumPy twins (``flow_step_numpy`` and the three ``*_numpy`` parts) on the same grid
   and state, best of 3 up to 1 M cells and ONE call above (they take seconds and
   allocate ~25 temporaries of the grid's size: ~4 GB at 16 M cells); ``--twin-max-size``
   skips them above a size. The kernel/twin ratio is per cell on the same grid; the twin's
   depth after one step is compared with the kernel's;
4. ``WaterModel.run()`` on Harelbeke with the baseline scenario (the T=20 composite
   storm, 2 h, plus ``after_storm_h`` = 1 h; ``--storm-only``: ``after_storm_h`` = 0, the
   2-hour storm alone) at 25 and 10 m (``--resolution 5``: the full 5 m site, minutes),
   after 50 m warm-up runs of both schemes (numba caches). At each resolution the model runs
   twice in this process, one after the other on the same site and storm: ``local`` = the
   default, local time steps (heatsim/kernels/local_steps.py), then ``global`` = one CFL
   step for the whole grid (``WaterParameters(local_time_step_ratio=1)``). For each run:
   set-up time (the ``WaterModel`` constructor), wall time of ``run()``, steps (with local
   time steps the SLOW steps, plus the fast region's sub-steps, fast cell-steps = its cells x
   sub-steps, and the ratios chosen), cell updates per second (global: grid cells x steps /
   run s; local: (grid cells x slow steps + fast cell-steps) / run s), flooded land
   (``blocked == 0``) deeper than 0.05 and 0.20 m at its maximum, the deepest cell, the ledger
   error; then global/local run time and the local - global differences of the flooded areas
   and the deepest cell (and of each land cell's deepest water); and where each run spends
   its time (each kernel the model calls, the parts of the global flow step
   ``flow_step_tracked`` or of the local step ``local_step`` (``slow_fluxes``,
   ``limit_slow_faces``, ``fast_substeps``, ``slow_continuity``) and the choice of the fast
   region every losses interval (``nearby_depth``, ``choose_ratio``, ``region_above``,
   ``region_work``), timed by wrappers with ~1 us per call; the rest is NumPy glue). With 5 m
   among the resolutions it states the issue's measure (5 m, 2-hour T=20 storm, ``run()``
   of the local scheme under 60 s: met or not; only with ``--storm-only``). Both schemes
   skip the dry tiles of the grid (``FlowTiles``), so cell updates per second count cells
   they did not have to compute. The coarsest resolution runs once more with local time
   steps on one numba thread (the parallel speed-up; ``--no-model-1-thread`` skips it);
5. landlab (optional, never a dependency of heatsim): ``landlab.components.OverlandFlow``
   (de Almeida et al. 2012, the same local-inertial family) on the same Harelbeke
   elevation (``--landlab-resolution``, default 25 m; buildings closed nodes, all four
   edges open as in the baseline scenario), with the same rain (the hyetograph stepped
   every 10 s, the model's longest flow step) for the same simulated time, with theta 0.7
   and alpha 0.5 as heatsim uses, steep_slopes on (Froude cap and a positivity guard, like
   heatsim's). It runs in this process when landlab imports, else in a subprocess of
   ``--landlab-python`` (a separate venv), else it is skipped with a message. landlab's
   OverlandFlow has no interception, depression storage, infiltration, sewers, culverts,
   inflow or held river levels: all the rain stays on the surface, so its water gets
   deeper, its CFL steps shorter and more numerous. Compare the per-step cost (cell
   updates per second) first; the wall-time ratio mixes in the different step counts.

Memory: 16 M cells need ~2 GB for the kernel (three saved states of depth, qx, qy) and
~4 GB more while the NumPy twin runs; the 5 m model ~1.5 GB.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np

from heatsim.kernels.overland_flow import (
    DEFAULT_ALPHA,
    DEFAULT_FROUDE_MAX,
    DEFAULT_H_MIN_FLOW_M,
    DEFAULT_IMPLICIT_FRICTION,
    DEFAULT_THETA,
    face_fluxes,
    face_fluxes_numpy,
    flow_step,
    flow_step_numpy,
    limit_outflow,
    limit_outflow_numpy,
    stable_time_step_s,
    update_depth,
    update_depth_numpy,
)

CELL_M = 5.0
from bench_common import (CONTENTION, SETTINGS, again_if_disturbed, disturbed, machine_header, CpuMonitor,  # noqa: E402
                          grid_shape, machine_info, md_table, results_path, section, triad_bandwidth)

SEED = 20240624
F8 = 8  # bytes per float64
SCENARIO = "scenarios/baseline.yaml"
LANDLAB_INTERVAL_S = 10.0  # rain intensity held over this interval (= WaterParameters.dt_max_s)

#: Bytes a call moves per cell, every array it reads or writes counted once per PASS over
#: the grid (a face array has ~1 element per cell; neighbour re-reads within a pass assumed
#: to hit the caches; write-allocate NOT counted, as in the triad). ``blocked`` is uint8.
FLOW_BYTES_PER_CELL = {
    # one sweep, x- and y-faces of a row together (no copy of qy: a ring row per chunk):
    # reads bed, depth, manning (3 x 8), blocked (1), qx, qy (2 x 8); writes qx, qy (2 x 8) = 57
    "face_fluxes": 57,
    # pass 1: reads qx, qy, depth; writes scale_work                                      = 32
    # pass 2: reads qx, scale_work; writes qx                                             = 24
    # pass 3: reads qy, scale_work; writes qy                                             = 24
    "limit_outflow": 32 + 24 + 24,
    # reads depth, qx, qy; writes depth
    "update_depth": 4 * F8,
    # two sweeps: face_fluxes plus the outflow scales (writes scale_work: 57 + 8), then
    # limits and continuity (reads qx, qy, scale_work, depth; writes depth: 40; the faces
    # are written back only where limited). Without FlowTiles: every tile computed.
    "flow_step": 65 + 40,
}
#: The least traffic any implementation of one flow step must have (a single fused pass):
#: read bed, manning (2 x 8), blocked (1); read and write depth, qx, qy (6 x 8). The work
#: arrays qy_work and scale_work need not exist.
FLOW_STEP_MIN_BYTES_PER_CELL = 2 * F8 + 1 + 6 * F8  # 65
PARTS = ["face_fluxes", "limit_outflow", "update_depth", "flow_step"]
#: The model's flow step in the breakdown of a run (with the flood maxima of the step)
FLOW_LABEL = "flow_step_tracked (the three flow: parts + call overhead; includes the maxima)"


# ---------------------------------------------------------------------- machine and triad
# (machine_info, the triad and the CPU monitor are copied from bench_heat.py)
RETRIES = 0


# ---------------------------------------------------------------------- synthetic ground
def make_ground(n_cells: int, seed: int = SEED) -> dict:
    """A seeded synthetic 5 m grid of about ``n_cells``: a plane falling 0.5 % to the
    south-east, random bumps (a coarse 8-cell random field, +-0.4 m, plus 2 cm noise),
    buildings (a 4 x 4 block in 40 % of the 8 x 8 lots: ~10 % blocked), water 0-0.3 m deep
    elsewhere, Manning's n 0.015 (paved) or 0.035 (grass) at random."""
    rng = np.random.default_rng(seed)
    ny, nx = grid_shape(n_cells)
    lot = 8
    nly, nlx = -(-ny // lot), -(-nx // lot)
    y = np.arange(ny)[:, None] * CELL_M
    x = np.arange(nx)[None, :] * CELL_M
    coarse = rng.uniform(-0.4, 0.4, (nly, nlx))
    bed = 30.0 - 0.005 * (x + y) / math.sqrt(2.0) + np.repeat(np.repeat(coarse, lot, 0), lot, 1)[:ny, :nx]
    bed += rng.normal(0.0, 0.02, (ny, nx))
    has_building = rng.random((nly, nlx)) < 0.4
    oi, oj = np.arange(ny)[:, None] % lot, np.arange(nx)[None, :] % lot
    inside = (oi >= 2) & (oi < 6) & (oj >= 2) & (oj < 6)
    blocked = (np.repeat(np.repeat(has_building, lot, 0), lot, 1)[:ny, :nx] & inside).astype(np.uint8)
    depth = rng.uniform(0.0, 0.3, (ny, nx))
    depth[blocked == 1] = 0.0
    manning = np.where(rng.random((ny, nx)) < 0.5, 0.015, 0.035)
    return {"shape": (ny, nx), "cells": ny * nx, "bed": np.ascontiguousarray(bed),
            "depth": np.ascontiguousarray(depth), "manning": np.ascontiguousarray(manning), "blocked": blocked,
            "blocked_share": float(blocked.mean())}


def wet_face_share(bed, depth, blocked, h_min=DEFAULT_H_MIN_FLOW_M) -> float:
    eta = bed + depth
    hx = np.maximum(eta[:, :-1], eta[:, 1:]) - np.maximum(bed[:, :-1], bed[:, 1:])
    hy = np.maximum(eta[:-1, :], eta[1:, :]) - np.maximum(bed[:-1, :], bed[1:, :])
    wx = (hx > h_min) & (blocked[:, :-1] == 0) & (blocked[:, 1:] == 0)
    wy = (hy > h_min) & (blocked[:-1, :] == 0) & (blocked[1:, :] == 0)
    return float((wx.sum() + wy.sum()) / (hx.size + hy.size))


# ---------------------------------------------------------------------- kernels
def _kwargs(dt):
    return dict(cell_size_m=CELL_M, dt_s=dt)


def _call(name, twin, g, s, dt):
    """One call of a part (kernel or twin) on the state arrays ``s``."""
    common = _kwargs(dt)
    ff = dict(theta=DEFAULT_THETA, h_min_flow_m=DEFAULT_H_MIN_FLOW_M, froude_max=DEFAULT_FROUDE_MAX,
              implicit_friction=DEFAULT_IMPLICIT_FRICTION, open_edges=True)
    if name == "face_fluxes":
        (face_fluxes_numpy if twin else face_fluxes)(g["bed"], s["depth"], g["manning"], g["blocked"], s["qx"],
                                                     s["qy"], qy_work=s["qy_work"], **common, **ff)
    elif name == "limit_outflow":
        (limit_outflow_numpy if twin else limit_outflow)(s["depth"], s["qx"], s["qy"], scale_work=s["scale"], **common)
    elif name == "update_depth":
        (update_depth_numpy if twin else update_depth)(s["depth"], s["qx"], s["qy"], row_outflow_m3=s["rows"],
                                                       **common)
    else:
        (flow_step_numpy if twin else flow_step)(g["bed"], s["depth"], g["manning"], g["blocked"], s["qx"], s["qy"],
                                                 open_edges=True, qy_work=s["qy_work"], scale_work=s["scale"],
                                                 row_outflow_m3=s["rows"], **common)


def _time_part(name, twin, g, start, s, dt, repeats, warmup):
    """(first call s or None, best s, all times): each call starts from the state ``start``."""
    def once():
        for k in ("depth", "qx", "qy"):
            np.copyto(s[k], start[k])
        t0 = time.perf_counter()
        _call(name, twin, g, s, dt)
        return time.perf_counter() - t0
    first = once() if warmup else None
    times = [once() for _ in range(repeats)]
    return first, min(times), times


def bench_size(size_m: float, triad_gb_s: float, twin_max_size: float, log) -> dict:
    t0 = time.perf_counter()
    g = make_ground(round(size_m * 1e6))
    ny, nx = g["shape"]
    n = g["cells"]
    build_s = time.perf_counter() - t0
    dt = stable_time_step_s(g["depth"], cell_size_m=CELL_M, alpha=DEFAULT_ALPHA, dt_max_s=10.0)
    wet = wet_face_share(g["bed"], g["depth"], g["blocked"])
    log(f"grid {n:,} cells ({ny} x {nx}) built in {build_s:.1f} s; blocked {g['blocked_share']:.1%}, "
        f"wet faces {wet:.1%}, dt {dt:.2f} s")

    def fresh():
        return {"depth": np.empty((ny, nx)), "qx": np.zeros((ny, nx + 1)), "qy": np.zeros((ny + 1, nx)),
                "qy_work": np.zeros((ny + 1, nx)), "scale": np.zeros((ny, nx)), "rows": np.zeros(ny)}

    # the state: two flow steps from rest, so the faces carry discharges (first call: numba cache/compile)
    s = fresh()
    np.copyto(s["depth"], g["depth"])
    t0 = time.perf_counter()
    _call("flow_step", False, g, s, dt)
    first_call_s = time.perf_counter() - t0
    _call("flow_step", False, g, s, dt)
    s0 = {k: s[k].copy() for k in ("depth", "qx", "qy")}
    _call("face_fluxes", False, g, s, dt)
    s1 = {k: s[k].copy() for k in ("depth", "qx", "qy")}
    _call("limit_outflow", False, g, s, dt)
    s2 = {k: s[k].copy() for k in ("depth", "qx", "qy")}
    starts = {"face_fluxes": s0, "limit_outflow": s1, "update_depth": s2, "flow_step": s0}
    moving = float(np.mean(np.abs(s0["qx"][:, 1:-1]) > 0))

    rows = {}
    for name in PARTS:
        _, best, times = _time_part(name, False, g, starts[name], s, dt, repeats=5, warmup=True)
        b = FLOW_BYTES_PER_CELL[name]
        rows[name] = {"part": name, "warm_best_s": best, "warm_times_s": times, "cells_per_s": n / best,
                      "bytes_per_cell": b, "gb_s": b * n / best / 1e9, "fraction_of_triad": b * n / best / 1e9 / triad_gb_s}
    # flow_step once more on one numba thread: the parallel speed-up (2 on two idle cores; below 1 when
    # another process holds a core, since each of the step's 7 parallel loops then waits for a time slice)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _, best, times = _time_part("flow_step", False, g, s0, s, dt, repeats=5, warmup=True)
    finally:
        numba.set_num_threads(threads)
    b = FLOW_BYTES_PER_CELL["flow_step"]
    rows["flow_step_1_thread"] = {"part": "flow_step_1_thread", "warm_best_s": best, "warm_times_s": times,
                                  "cells_per_s": n / best, "bytes_per_cell": b, "gb_s": b * n / best / 1e9,
                                  "fraction_of_triad": b * n / best / 1e9 / triad_gb_s,
                                  "parallel_speedup": best / rows["flow_step"]["warm_best_s"]}
    fs = rows["flow_step"]
    fs["min_bytes_per_cell"] = FLOW_STEP_MIN_BYTES_PER_CELL
    fs["min_gb_s"] = FLOW_STEP_MIN_BYTES_PER_CELL * n / fs["warm_best_s"] / 1e9
    fs["min_fraction_of_triad"] = fs["min_gb_s"] / triad_gb_s
    for k in ("depth", "qx", "qy"):  # the kernel's depth after one step, for the twin's check
        np.copyto(s[k], s0[k])
    _call("flow_step", False, g, s, dt)
    kernel_depth = s["depth"].copy()
    del s1, s2

    twin = {"ran": size_m <= twin_max_size + 1e-9}
    if twin["ran"]:
        twin_repeats = 3 if n <= 1_100_000 else 1
        twin["repeats"] = twin_repeats
        st = fresh()
        twin_starts = {"face_fluxes": s0, "flow_step": s0}
        # parts of the twin from the twin's own intermediate states (they differ from the kernel's by round-off)
        for k in ("depth", "qx", "qy"):
            np.copyto(st[k], s0[k])
        _call("face_fluxes", True, g, st, dt)
        twin_starts["limit_outflow"] = {k: st[k].copy() for k in ("depth", "qx", "qy")}
        _call("limit_outflow", True, g, st, dt)
        twin_starts["update_depth"] = {k: st[k].copy() for k in ("depth", "qx", "qy")}
        for name in PARTS:
            _, best, _ = _time_part(name, True, g, twin_starts[name], st, dt, repeats=twin_repeats, warmup=False)
            rows[name]["twin_best_s"] = best
            rows[name]["twin_cells_per_s"] = n / best
            rows[name]["kernel_over_twin"] = rows[name]["cells_per_s"] / (n / best)
        # st now holds the twin's flow_step from s0
        twin["max_abs_depth_diff_m"] = float(np.max(np.abs(st["depth"] - kernel_depth)))
        del st, twin_starts
    else:
        twin["skipped"] = f"size {size_m:g} M > --twin-max-size {twin_max_size:g}"
    for r in rows.values():
        log(format_kernel_line(size_m, n, r))
    return {"size_m": size_m, "cells": n, "grid": [ny, nx], "build_s": build_s, "dt_s": dt,
            "blocked_share": g["blocked_share"], "wet_face_share": wet, "moving_x_face_share": moving,
            "first_call_s": first_call_s, "triad_gb_s": triad_gb_s, "parts": rows, "twin": twin}


def bench_kernels(sizes, twin_max_size, log) -> tuple[list, list]:
    out, triads = [], []
    for size in sizes:
        for attempt in range(1 + RETRIES):
            with section(f"kernels at {size:g} M cells"):
                triad = triad_bandwidth()
                triads.append({"before_size_m": size, **triad})
                log(f"triad {triad['gb_s']:.1f} GB/s")
                r = bench_size(size, triad["gb_s"], twin_max_size, log)
            if not again_if_disturbed(attempt, RETRIES, log, f"the kernels at {size:g} M cells"):
                break
        r["others_cores"] = CONTENTION[-1]["others_cores"] if CONTENTION else None
        out.append(r)
    return out, triads


def format_kernel_line(size_m, n, r) -> str:
    twin = (f"twin {r['twin_cells_per_s'] / 1e6:8.2f} Mcell/s ratio {r['kernel_over_twin']:6.1f}"
            if "twin_best_s" in r else "twin skipped")
    return (f"  {size_m:>5g} M {r['part']:<14} {r['warm_best_s'] * 1e3:9.2f} ms {r['cells_per_s'] / 1e6:9.1f} Mcell/s "
            f"{r['gb_s']:6.1f} GB/s ({100 * r['fraction_of_triad']:5.1f} % triad)  {twin}")


# ---------------------------------------------------------------------- whole model
#: The two time-stepping schemes of WaterModel.run(), in the order they run at each resolution
SCHEMES = ("local", "global")
SCHEME_LABELS = {"local": "local time steps (default)", "global": "global step (local_time_step_ratio=1)"}
#: The model's flow step in the breakdown of a local-time-stepping run (with the flood maxima)
LOCAL_LABEL = "local_step (the four local_step: parts + call overhead; includes the maxima)"
#: Breakdown rows timed inside another row (flow_step_tracked, local_step): not added to the run's total
NESTED_PREFIXES = ("flow: ", "local_step: ")
#: The issue's measure: the 5 m site through the 2-hour T=20 storm in under this many seconds of run()
ISSUE_RESOLUTION_M, ISSUE_LIMIT_S = 5.0, 60.0


def _load_model_inputs(resolution_m: float):
    from heatsim.rain import load_storm
    from heatsim.scenario import apply_scenario, load_scenario
    from heatsim.site.store import load_site

    scenario = load_scenario(SCENARIO)
    site = load_site(scenario.site, resolution_m)
    site, _, _ = apply_scenario(site, scenario)
    storm = load_storm(scenario.weather.storm)
    return scenario, site, storm


def _water_boundaries(scenario, storm_only: bool):
    """The scenario's water boundaries; with ``storm_only`` a copy with ``after_storm_h`` = 0
    (the run then covers exactly the storm)."""
    if not storm_only:
        return scenario.water
    return dataclasses.replace(scenario.water,
                               setup=scenario.water.setup.model_copy(update={"after_storm_h": 0.0}))


def _scheme_params(scheme: str):
    """WaterParameters of a scheme: the defaults (local time steps) or the global step."""
    from heatsim.water.parameters import WaterParameters

    return WaterParameters() if scheme == "local" else WaterParameters(local_time_step_ratio=1)


def _cell_updates(cells: int, result) -> float:
    """Cell updates of a run: grid cells x (slow) steps, plus the fast region's cells x its
    sub-steps with local time steps (0 with the global step)."""
    return cells * result.steps + result.local_steps.get("fast_cell_steps", 0)


@contextmanager
def time_model_parts(totals: dict, counts: dict):
    """Wrap the numba kernels WaterModel.run calls (and the three parts of its global flow
    step, flow_step_tracked; the four parts of its local step, local_step, and the functions
    that choose the fast region) with timers, restored on exit. ~1 us per call of overhead."""
    import heatsim.kernels.local_steps as local_module
    import heatsim.kernels.overland_flow as flow_module
    import heatsim.water.model as model_module

    patched = []

    def wrap(owner, attr, label):
        original = getattr(owner, attr)

        def timed_call(*a, **kw):
            t0 = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                totals[label] = totals.get(label, 0.0) + time.perf_counter() - t0
                counts[label] = counts.get(label, 0) + 1

        setattr(owner, attr, timed_call)
        patched.append((owner, attr, original))

    # flow_step_tracked calls its parts through its module's globals: time them there (they
    # sum to the flow step): the chunk-edge saves and tile marks, the fluxes with the outflow
    # scales, the limits with continuity and the flood maxima
    for attr in ("_prepare_sweep", "_sweep_fluxes", "_sweep_continuity"):
        wrap(flow_module, attr, f"flow: {attr}")
    # local_step calls its four parts through its module's globals too (they sum to the step)
    for attr in ("slow_fluxes", "limit_slow_faces", "fast_substeps", "slow_continuity"):
        wrap(local_module, attr, f"local_step: {attr}")
    for attr, v in list(vars(model_module).items()):
        if isinstance(v, numba.core.dispatcher.Dispatcher):
            wrap(model_module, attr, attr)
    wrap(model_module, "flow_step_tracked", FLOW_LABEL)
    wrap(model_module, "local_step", LOCAL_LABEL)
    # the fast region, chosen again every losses interval (local time steps only)
    for attr in ("nearby_depth", "choose_ratio", "region_above", "region_work"):
        wrap(model_module, attr, f"{attr} (fast region, every losses interval)")
    # the tile flags after the losses: refresh (local time steps) or invalidate (global step)
    for attr in ("refresh", "invalidate"):
        wrap(model_module.FlowTiles, attr, f"FlowTiles.{attr} (after the losses)")
    for attr in ("_snapshot_store", "_hydrographs"):
        wrap(model_module.WaterModel, attr, f"WaterModel.{attr} (outputs)")
    wrap(model_module.InMemoryStack, "write", "depth snapshots kept (outputs)")
    try:
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def bench_model_1_thread(resolution_m: float, log, storm_only: bool = False) -> dict:
    """The model once more on one numba thread, local time steps (the default; no
    breakdown): the parallel speed-up of the whole run."""
    from heatsim.water.model import WaterModel

    scenario, site, storm = _load_model_inputs(resolution_m)
    model = WaterModel(site, scenario.table, storm, _water_boundaries(scenario, storm_only), _scheme_params("local"))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with section(f"model run at {resolution_m:g} m, local time steps, on 1 numba thread"):
            t0 = time.perf_counter()
            result = model.run()
            run_s = time.perf_counter() - t0
    finally:
        numba.set_num_threads(threads)
    cells = model.grid.shape[0] * model.grid.shape[1]
    lts = result.local_steps
    log(f"model {resolution_m:g} m, local time steps, on 1 thread: run {run_s:.1f} s")
    return {"resolution_m": resolution_m, "scheme": "local",
            "time_stepping": "local" if model.local_time_stepping else "global", "cells": cells,
            "steps": result.steps, "sub_steps": lts.get("sub_steps", 0), "fast_cell_steps": lts.get("fast_cell_steps", 0),
            "simulated_s": result.duration_s, "run_s": run_s,
            "cell_updates_per_s": _cell_updates(cells, result) / run_s,
            "others_cores": CONTENTION[-1]["others_cores"] if CONTENTION else None}


def _flood_numbers(model, result, thresholds_m) -> dict:
    """Flooded land (``model.blocked == 0``) above each depth and the deepest cell."""
    md = result.max_depth_m
    land = model.blocked == 0
    ha = model.grid.cell_area_m2 / 1e4
    i, j = np.unravel_index(int(np.argmax(md)), md.shape)
    return {"flooded_ha": {f"{h:g}": float(((md > h) & land).sum() * ha) for h in thresholds_m},
            "max_depth_m": float(md[i, j]), "deepest_cell": [int(i), int(j)], "deepest_cell_blocked": bool(model.blocked[i, j])}


def compare_schemes(local: dict, glob: dict, max_local, max_global, land) -> dict:
    """The global run against the local one at the same resolution (differences: local - global)."""
    diff = np.abs(max_local - max_global)[land]
    return {"resolution_m": local["resolution_m"], "speedup_global_over_local": glob["run_s"] / local["run_s"],
            "flooded_ha_diff": {k: local["flooded_ha"][k] - glob["flooded_ha"][k] for k in local["flooded_ha"]},
            "flooded_rel_diff": {k: (local["flooded_ha"][k] - glob["flooded_ha"][k]) / glob["flooded_ha"][k]
                                 if glob["flooded_ha"][k] > 0 else None for k in local["flooded_ha"]},
            "max_depth_diff_m": local["max_depth_m"] - glob["max_depth_m"],
            "same_deepest_cell": local["deepest_cell"] == glob["deepest_cell"],
            "land_max_abs_depth_diff_m": float(diff.max()) if diff.size else 0.0,
            "land_ha_depth_diff_over_5cm": float((diff > 0.05).sum() * local["cell_area_m2"] / 1e4)}


def bench_model(resolutions, log, storm_only: bool = False, schemes=SCHEMES) -> list[dict]:
    """WaterModel.run() on Harelbeke at each resolution, once per scheme (local time steps,
    then the global step), one record per run (``scheme`` says which); with both schemes the
    local record holds ``comparison`` (the global run against it)."""
    from heatsim.water.model import WaterModel

    with section("model warm-up runs at 50 m (" + ", ".join(schemes) + ")"):
        t0 = time.perf_counter()
        scenario, site, storm = _load_model_inputs(50.0)
        water = _water_boundaries(scenario, storm_only)
        for scheme in schemes:
            WaterModel(site, scenario.table, storm, water, _scheme_params(scheme)).run()
        warmup_s = time.perf_counter() - t0
    log(f"model warm-up at 50 m, {' and '.join(schemes)} (numba caches): {warmup_s:.1f} s")
    out = []
    for res in resolutions:
        t0 = time.perf_counter()
        scenario, site, storm = _load_model_inputs(res)
        water = _water_boundaries(scenario, storm_only)
        load_s = time.perf_counter() - t0
        maxima, by_scheme = {}, {}
        for scheme in schemes:
            params = _scheme_params(scheme)
            for attempt in range(1 + RETRIES):
                t0 = time.perf_counter()
                model = WaterModel(site, scenario.table, storm, water, params)
                setup_s = time.perf_counter() - t0
                totals, counts = {}, {}
                with section(f"model run at {res:g} m, {scheme}"), time_model_parts(totals, counts):
                    t0 = time.perf_counter()
                    result = model.run()
                    run_s = time.perf_counter() - t0
                if not again_if_disturbed(attempt, RETRIES, log, f"the {res:g} m {scheme} run"):
                    break
            ny, nx = model.grid.shape
            cells = ny * nx
            steps = result.steps
            lts = result.local_steps
            fast_cell_steps = lts.get("fast_cell_steps", 0)
            step_label = LOCAL_LABEL if lts else FLOW_LABEL
            flow_total = totals.get(step_label, 0.0)
            parts = {}
            for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
                # Mcell/s of a part: grid cells x calls / s; the fast sub-steps: fast cell-steps / s
                work = fast_cell_steps if k == "local_step: fast_substeps" else cells * counts[k]
                parts[k] = {"seconds": v, "calls": counts[k], "share_of_run": v / run_s,
                            "ms_per_call": 1e3 * v / counts[k], "cells_per_s": work / v if v > 0 else None}
            # the flow steps include their parts; the rest excludes them once
            top = sum(v for k, v in totals.items() if not k.startswith(NESTED_PREFIXES))
            rest = run_s - top
            parts["rest: NumPy glue in run() (mm<->m copies, rain fill, inflows, held levels, step sizes, records)"] = {
                "seconds": rest, "calls": None, "share_of_run": rest / run_s, "ms_per_call": None, "cells_per_s": None}
            r = {"resolution_m": res, "scheme": scheme, "scheme_label": SCHEME_LABELS[scheme],
                 "time_stepping": "local" if model.local_time_stepping else "global",
                 "grid": [ny, nx], "cells": cells, "cell_area_m2": model.grid.cell_area_m2,
                 "domain_cells": int((site["domain"].values == 1).sum()),
                 "blocked_cells": int(model.blocked.sum()), "steps": steps,
                 "sub_steps": lts.get("sub_steps", 0), "fast_cell_steps": fast_cell_steps,
                 "regions": lts.get("regions", 0), "fast_cells_max": lts.get("fast_cells_max", 0),
                 "ratios": {int(k): int(v) for k, v in sorted(lts.get("ratios", {}).items())},
                 "simulated_s": result.duration_s, "storm_s": storm.duration_s,
                 "after_storm_h": water.setup.after_storm_h, "storm_only": storm_only,
                 "storm": storm.name, "load_s": load_s, "setup_s": setup_s, "run_s": run_s,
                 "cell_updates": _cell_updates(cells, result),
                 "cell_updates_per_s": _cell_updates(cells, result) / run_s, "mean_dt_s": result.duration_s / steps,
                 "run_s_per_simulated_h": run_s / (result.duration_s / 3600.0),
                 "flow_step_label": step_label, "flow_step_share": flow_total / run_s,
                 "ledger_error_rel": result.ledger.error_rel,
                 **_flood_numbers(model, result, model.p.flood_thresholds_m),
                 "surface_water_end_m3": result.ledger.surface_water_m3, "rain_m3": result.ledger.rain_m3,
                 "infiltration_m3": result.ledger.infiltration_m3, "run_breakdown": parts,
                 "others_cores": CONTENTION[-1]["others_cores"] if CONTENTION else None,
                 "warmup_run_50m_s": warmup_s}
            if r["time_stepping"] != scheme:
                log(f"WARNING: the {scheme} run at {res:g} m ran the {r['time_stepping']} scheme")
            sub = (f", {r['sub_steps']:,} sub-steps, {fast_cell_steps:,} fast cell-steps, ratios {r['ratios']}"
                   if lts else "")
            log(f"model {res:g} m {scheme}: {cells:,} cells, {steps:,} {'slow ' if lts else ''}steps{sub}, "
                f"set-up {setup_s:.2f} s, run {run_s:.1f} s, {r['cell_updates_per_s'] / 1e6:.1f} M cell-updates/s, "
                f"{step_label.split(' ')[0]} {100 * r['flow_step_share']:.0f} % of it")
            maxima[scheme] = result.max_depth_m.copy()
            land = model.blocked == 0
            by_scheme[scheme] = r
            out.append(r)
            del model, result
        if "local" in by_scheme and "global" in by_scheme:
            c = compare_schemes(by_scheme["local"], by_scheme["global"], maxima["local"], maxima["global"], land)
            by_scheme["local"]["comparison"] = c
            log(f"model {res:g} m: global / local run time {c['speedup_global_over_local']:.2f}, deepest cell "
                f"local - global {c['max_depth_diff_m']:+.3f} m, flooded land local - global "
                + ", ".join(f"> {k} m {v:+.2f} ha" for k, v in c["flooded_ha_diff"].items()))
        del maxima
    return out


def issue_measure(mods) -> str | None:
    """The issue's measure (5 m site, 2-hour T=20 storm, run() < 60 s) from the local run at 5 m, if any."""
    r = next((r for r in mods if r["scheme"] == "local" and abs(r["resolution_m"] - ISSUE_RESOLUTION_M) < 1e-9), None)
    if r is None:
        return None
    head = (f"Issue's measure (the {ISSUE_RESOLUTION_M:g} m Harelbeke site through a 2-hour T=20 storm in under "
            f"{ISSUE_LIMIT_S:g} s on this 2-core machine): ")
    if r["simulated_s"] > r["storm_s"] + 1e-6:
        return (head + f"not measured: the run covered the {r['storm_s'] / 3600:g} h storm plus {r['after_storm_h']:g} h "
                f"after it (run() {r['run_s']:.1f} s); pass --storm-only")
    met = r["run_s"] < ISSUE_LIMIT_S
    return (head + f"{'MET' if met else 'NOT MET'}: WaterModel.run() with local time steps took {r['run_s']:.1f} s "
            f"for {r['simulated_s'] / 3600:g} h of storm `{r['storm']}` (set-up {r['setup_s']:.2f} s more; "
            "timers of the breakdown on"
            + (f", other processes {r['others_cores']:.2f} cores" if r["others_cores"] is not None else "") + ")")


# ---------------------------------------------------------------------- landlab
def landlab_available() -> bool:
    try:
        import landlab.components  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means: skip
        return False
    return True


def bench_landlab(resolution_m: float) -> dict:
    """landlab's OverlandFlow on the Harelbeke elevation with the baseline storm, and
    heatsim's flow_step alone on the same grid for the per-step comparison."""
    import landlab
    from landlab import RasterModelGrid
    from landlab.components import OverlandFlow

    scenario, site, storm = _load_model_inputs(resolution_m)
    from heatsim.water.model import WaterModel

    model = WaterModel(site, scenario.table, storm, scenario.water)  # for bed, blocked, manning as heatsim has them
    bed, blocked, manning = model.bed, model.blocked, model.manning
    ny, nx = bed.shape
    dx = model.grid.resolution_m
    duration = storm.duration_s + 3600.0 * scenario.water.setup.after_storm_h

    grid = RasterModelGrid((ny, nx), xy_spacing=dx)
    # landlab's row 0 is the southern edge, heatsim's the northern one
    grid.add_field("topographic__elevation", np.flipud(bed).ravel().copy(), at="node")
    grid.add_zeros("surface_water__depth", at="node")
    closed = np.flipud(blocked == 1).ravel()
    grid.status_at_node[closed] = grid.BC_NODE_IS_CLOSED  # buildings; the four edges stay open (fixed value)
    n_link = grid.map_mean_of_link_nodes_to_link(np.flipud(manning).ravel().copy())
    of = OverlandFlow(grid, alpha=DEFAULT_ALPHA, theta=DEFAULT_THETA, mannings_n=np.asarray(n_link),
                      steep_slopes=True)
    steps = [0]
    original = of.calc_time_step

    def counted():
        steps[0] += 1
        return original()

    of.calc_time_step = counted  # called once per internal (CFL) step
    h = grid.at_node["surface_water__depth"]
    h0_volume = float(h[grid.core_nodes].sum() * dx * dx)
    rain_m3 = 0.0
    with section(f"landlab OverlandFlow at {resolution_m:g} m"):
        t0 = time.perf_counter()
        t = 0.0
        while t < duration - 1e-9:
            interval = min(LANDLAB_INTERVAL_S, duration - t)
            rain_mm = float(storm.depth_between(t, t + interval))
            of.rainfall_intensity = rain_mm * 1e-3 / interval
            of.run_one_step(dt=interval)
            rain_m3 += rain_mm * 1e-3 * dx * dx * grid.number_of_core_nodes
            t += interval
        run_s = time.perf_counter() - t0
    core = grid.core_nodes
    water_m3 = float(h[core].sum() * dx * dx) - h0_volume

    # heatsim's flow kernel on the same grid, on landlab's final depth (wet where landlab is)
    depth = np.ascontiguousarray(np.flipud(h.reshape(ny, nx)))
    depth[blocked == 1] = 0.0
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    work = {"qy_work": np.zeros((ny + 1, nx)), "scale_work": np.zeros((ny, nx)), "row_outflow_m3": np.zeros(ny)}
    dt = stable_time_step_s(depth, cell_size_m=dx, alpha=DEFAULT_ALPHA, dt_max_s=10.0)

    def median_step_s(n_threads):
        threads = numba.get_num_threads()
        numba.set_num_threads(n_threads)
        try:
            times = []
            for k in range(23):
                t0 = time.perf_counter()
                flow_step(bed, depth, manning, blocked, qx, qy, cell_size_m=dx, dt_s=dt, open_edges=True, **work)
                if k >= 3:
                    times.append(time.perf_counter() - t0)
        finally:
            numba.set_num_threads(threads)
        return float(np.median(times))

    kernel_s = median_step_s(numba.get_num_threads())
    kernel_1_s = median_step_s(1)
    return {"resolution_m": resolution_m, "grid": [ny, nx], "nodes": ny * nx, "core_nodes": int(grid.number_of_core_nodes),
            "closed_nodes": int(closed.sum()), "landlab": landlab.__version__, "simulated_s": duration,
            "interval_s": LANDLAB_INTERVAL_S, "run_s": run_s, "steps": steps[0],
            "cell_updates_per_s": ny * nx * steps[0] / run_s, "mean_dt_s": duration / max(steps[0], 1),
            "rain_m3": rain_m3, "surface_water_end_m3": water_m3, "max_depth_m": float(h[core].max()),
            "heatsim_flow_step_on_this_grid": {"dt_s": dt, "threads": numba.get_num_threads(), "median_s": kernel_s,
                                               "cells_per_s": ny * nx / kernel_s, "median_s_1_thread": kernel_1_s,
                                               "cells_per_s_1_thread": ny * nx / kernel_1_s},
            "settings": {"alpha": DEFAULT_ALPHA, "theta": DEFAULT_THETA, "steep_slopes": True,
                         "h_init_m": 1e-5, "edges": "open (fixed value)", "buildings": "closed nodes"}}


def run_landlab(resolution_m: float, python: str | None, log) -> dict:
    if landlab_available():
        log(f"landlab OverlandFlow at {resolution_m:g} m (in this process) ...")
        return bench_landlab(resolution_m)
    if python:
        log(f"landlab OverlandFlow at {resolution_m:g} m (subprocess {python}) ...")
        mon = CpuMonitor()
        proc = subprocess.run([python, os.path.abspath(__file__), "--landlab-child", str(resolution_m)],
                              capture_output=True, text=True, cwd=os.getcwd())
        if proc.returncode != 0:
            return {"skipped": f"the landlab subprocess failed: {proc.stderr.strip().splitlines()[-1:]}"}
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        c = mon.result()
        if c is not None:
            CONTENTION.append({"section": f"landlab subprocess at {resolution_m:g} m", **c, "waited_for_quiet_s": 0.0})
        r["interpreter"] = python
        return r
    return {"skipped": "landlab is not importable here (install it in a separate venv and pass --landlab-python)"}


# ---------------------------------------------------------------------- output
def numba_threads(report) -> int:
    return report["machine"]["numba_threads"]


def render(report: dict) -> str:
    m = report["machine"]
    out = [f"# Water benchmarks, {report['date']}", ""]
    out += machine_header(m, "bench_water")
    kern = report.get("kernels")
    if kern:
        out += ["", "## Overland-flow kernel vs its NumPy twin and the triad", ""]
        out.append("Synthetic 5 m grid (0.5 % slope, random bumps, ~10 % blocked cells, water 0-0.3 m). "
                   "Warm time: best of 5 after a warm-up call, each call from the same state. "
                   "B/cell: bytes moved per cell as the code runs (each array read or written once per pass over "
                   "the grid, write-allocate not counted; counts in `FLOW_BYTES_PER_CELL`); for flow_step also "
                   f"the {FLOW_STEP_MIN_BYTES_PER_CELL} B/cell any single-pass implementation must move. "
                   "%triad: GB/s over the triad measured just before that size. Twin: best of 3 up to 1 M cells, "
                   "one call above. Ratio = kernel cell-updates/s over twin's, same grid and state.")
        out.append("")
        rows = []
        for k in kern:
            for name in PARTS:
                r = k["parts"][name]
                if name == "flow_step":
                    b = f"{r['bytes_per_cell']} / {r['min_bytes_per_cell']}"
                    gb = f"{r['gb_s']:.1f} / {r['min_gb_s']:.1f}"
                    pct = f"{100 * r['fraction_of_triad']:.0f} % / {100 * r['min_fraction_of_triad']:.0f} %"
                else:
                    b, gb, pct = str(r["bytes_per_cell"]), f"{r['gb_s']:.1f}", f"{100 * r['fraction_of_triad']:.0f} %"
                twin = (f"{r['twin_best_s'] * 1e3:.0f}", f"{r['twin_cells_per_s'] / 1e6:.1f}", f"{r['kernel_over_twin']:.1f}") \
                    if "twin_best_s" in r else ("skipped", "", "")
                rows.append([f"{k['size_m']:g} M ({k['grid'][0]} x {k['grid'][1]})" if name == PARTS[0] else "",
                             f"`{name}`", f"{r['warm_best_s'] * 1e3:.2f}", f"{r['cells_per_s'] / 1e6:.1f}", b, gb, pct,
                             f"{k['triad_gb_s']:.1f}" if name == PARTS[0] else "", *twin,
                             f"{k['others_cores']:.2f}" if name == PARTS[0] and k.get("others_cores") is not None else ""])
            r1 = k["parts"].get("flow_step_1_thread")
            if r1:
                rows.append(["", f"`flow_step` on 1 thread (speed-up of {numba_threads(report)} threads: {r1['parallel_speedup']:.2f})",
                             f"{r1['warm_best_s'] * 1e3:.2f}", f"{r1['cells_per_s'] / 1e6:.1f}", str(r1["bytes_per_cell"]),
                             f"{r1['gb_s']:.1f}", f"{100 * r1['fraction_of_triad']:.0f} %", "", "", "", "", ""])
        out.append(md_table(["grid", "part", "kernel ms", "Mcell/s", "B/cell", "GB/s", "%triad", "triad GB/s",
                             "twin ms", "twin Mcell/s", "kernel/twin", "others (cores)"], rows))
        out.append("")
        for k in kern:
            tw = k["twin"]
            twin_note = (f"twin vs kernel depth after one step: max |diff| {tw['max_abs_depth_diff_m']:.1e} m"
                         if tw["ran"] else tw["skipped"])
            out.append(f"- {k['size_m']:g} M: dt {k['dt_s']:.2f} s, blocked {k['blocked_share']:.1%}, wet faces "
                       f"{k['wet_face_share']:.0%} (x-faces moving water {k['moving_x_face_share']:.0%}); grid built "
                       f"in {k['build_s']:.1f} s; first flow_step call {k['first_call_s']:.2f} s; {twin_note}")
    mods = report.get("model")
    if mods:
        out += ["", "## WaterModel.run() on Harelbeke (baseline scenario): local time steps and the global step", ""]
        first = mods[0]
        after = ("with `after_storm_h` = 0 (`--storm-only`): the storm alone" if first.get("storm_only") else
                 f"plus {first['after_storm_h']:g} h after it")
        out.append(f"Storm `{first['storm']}`: {first['storm_s'] / 3600:g} h {after} = {first['simulated_s'] / 3600:g} h "
                   f"simulated. At each resolution `run()` runs twice in this process, one after the other on the same "
                   f"site and storm: `local` = the default, local time steps (`water.time_stepping: local`); `global` = "
                   f"one CFL step for the whole grid (`WaterParameters(local_time_step_ratio=1)`). After 50 m warm-up "
                   f"runs of both ({first['warmup_run_50m_s']:.1f} s, numba caches). Set-up = the `WaterModel` "
                   f"constructor; run = `run()`, with the breakdown's timers on (~1 us per call). Steps: flow steps of "
                   f"the global scheme, SLOW steps of the local one (sub-steps: the fast region's steps, summed; fast "
                   f"cell-steps: its cells x sub-steps, summed; ratios: the ratio (sub-steps per slow step at most) chosen x "
                   f"times, every losses interval; 1 = no fast region). M cell-updates/s: global = grid cells x steps / run s; local = (grid cells x slow "
                   f"steps + fast cell-steps) / run s. Both count the whole grid (also outside the study area) and the "
                   f"dry tiles the sweeps skip (`FlowTiles`), so they count cells not computed.")
        out.append("")
        rows = []
        for r in mods:
            ratios = ", ".join(f"{k}x{v}" for k, v in r["ratios"].items()) if r["ratios"] else ""
            lts = r["time_stepping"] == "local"
            rows.append([f"{r['resolution_m']:g} m", r["scheme"] + ("" if r["time_stepping"] == r["scheme"] else
                                                                   f" (ran {r['time_stepping']}!)"),
                         f"{r['grid'][0]} x {r['grid'][1]}", f"{r['cells']:,}", f"{r['setup_s']:.2f}",
                         f"{r['run_s']:.1f}", f"{r['run_s_per_simulated_h']:.1f}", f"{r['steps']:,}",
                         f"{r['mean_dt_s']:.2f}", f"{r['sub_steps']:,}" if lts else "",
                         f"{r['fast_cell_steps']:,}" if lts else "", ratios,
                         f"{r['cell_updates_per_s'] / 1e6:.1f}",
                         f"{r['flow_step_label'].split(' ')[0]} {100 * r['flow_step_share']:.0f} %",
                         f"{r['others_cores']:.2f}" if r.get("others_cores") is not None else ""])
        m1 = report.get("model_1_thread")
        if m1:
            same = next((r for r in mods if r["resolution_m"] == m1["resolution_m"] and r["scheme"] == "local"), None)
            rows.append([f"{m1['resolution_m']:g} m", "local, 1 numba thread", "", f"{m1['cells']:,}", "",
                         f"{m1['run_s']:.1f}", "", f"{m1['steps']:,}", "", f"{m1['sub_steps']:,}",
                         f"{m1['fast_cell_steps']:,}", "", f"{m1['cell_updates_per_s'] / 1e6:.1f}",
                         f"(speed-up of {numba_threads(report)} threads: {m1['run_s'] / same['run_s']:.2f})" if same else "",
                         f"{m1['others_cores']:.2f}" if m1.get("others_cores") is not None else ""])
        out.append(md_table(["resolution", "scheme", "grid", "cells", "set-up s", "run s", "s per simulated h",
                             "steps (local: slow)", "mean dt s (local: slow)", "sub-steps", "fast cell-steps",
                             "ratios chosen (ratio x times)", "M cell-updates/s (see above)", "flow step share",
                             "others (cores)"], rows))
        out += ["", "What the runs computed (maxima over the run; flooded = land cells, `blocked == 0`, whose deepest "
                "water exceeded the depth; deepest cell over the whole grid, (row, col)):", ""]
        keys = list(first["flooded_ha"])
        rows = [[f"{r['resolution_m']:g} m", r["scheme"], *[f"{r['flooded_ha'][k]:.2f}" for k in keys],
                 f"{r['max_depth_m']:.3f} ({r['deepest_cell'][0]}, {r['deepest_cell'][1]})",
                 f"{r['ledger_error_rel']:.1e}", f"{r['surface_water_end_m3'] / 1e3:,.1f}", f"{r['rain_m3'] / 1e3:,.1f}"]
                for r in mods]
        out.append(md_table(["resolution", "scheme", *[f"flooded > {k} m (ha)" for k in keys], "deepest cell m",
                             "ledger error", "surface water at end (1000 m3)", "rain (1000 m3)"], rows))
        comps = [r["comparison"] for r in mods if "comparison" in r]
        if comps:
            out += ["", "Local against global at the same resolution (differences: local - global; abs. diff.: of "
                    "the deepest water of each land cell over the run; \"another cell\": the deepest cell moved):", ""]
            rows = []
            for c in comps:
                rel = c["flooded_rel_diff"]
                rows.append([f"{c['resolution_m']:g} m", f"{c['speedup_global_over_local']:.2f}",
                             *[f"{c['flooded_ha_diff'][k]:+.2f}" + (f" ({100 * rel[k]:+.1f} %)" if rel[k] is not None
                                                                    else "") for k in keys],
                             f"{c['max_depth_diff_m']:+.3f}" + ("" if c["same_deepest_cell"] else " (another cell)"),
                             f"{c['land_max_abs_depth_diff_m']:.3f}", f"{c['land_ha_depth_diff_over_5cm']:.2f}"])
            out.append(md_table(["resolution", "speed-up global/local (run s)",
                                 *[f"flooded > {k} m, ha" for k in keys], "deepest cell, m", "largest abs. diff. on land, m",
                                 "land with abs. diff. > 0.05 m (ha)"], rows))
        measure = issue_measure(mods)
        if measure:
            out += ["", f"**{measure}**"]
        for r in mods:
            inner = ("`local_step:` rows are inside local_step; Mcell/s = grid cells x calls / s, for `fast_substeps` "
                     "fast cell-steps / s" if r["time_stepping"] == "local" else
                     "`flow:` rows are inside flow_step_tracked; Mcell/s = grid cells x calls / s")
            out += ["", f"Where `run()` spends its time at {r['resolution_m']:g} m with the {r['scheme_label']}, "
                    f"{r['run_s']:.1f} s (timers around each kernel call, ~1 us each; {inner}):", ""]
            rows = []
            for k, v in r["run_breakdown"].items():
                rows.append([k, f"{v['seconds']:.2f}", f"{100 * v['share_of_run']:.1f} %",
                             v["calls"] if v["calls"] is not None else "",
                             f"{v['ms_per_call']:.3f}" if v["ms_per_call"] is not None else "",
                             f"{v['cells_per_s'] / 1e6:.0f}" if v["cells_per_s"] else ""])
            out.append(md_table(["part", "s", "share", "calls", "ms/call", "Mcell/s"], rows))
    ll = report.get("landlab")
    if ll:
        out += ["", "## landlab OverlandFlow on the same ground and rain", ""]
        if "skipped" in ll:
            out.append(f"Skipped: {ll['skipped']}.")
        else:
            # heatsim's runs on the same grid for the same simulated time (--storm-only shortens them, not landlab's)
            same = {r["scheme"]: r for r in (mods or []) if abs(r["resolution_m"] - ll["resolution_m"]) < 1e-9
                    and abs(r["simulated_s"] - ll["simulated_s"]) < 1.0}
            hs, hs_local = same.get("global"), same.get("local")  # the global step: landlab's scheme, like for like
            k = ll["heatsim_flow_step_on_this_grid"]
            out.append(f"landlab {ll['landlab']} `OverlandFlow` (de Almeida et al. 2012), alpha {ll['settings']['alpha']}, "
                       f"theta {ll['settings']['theta']}, steep_slopes on, h_init 1e-5 m; Harelbeke {ll['resolution_m']:g} m "
                       f"elevation ({ll['grid'][0]} x {ll['grid'][1]}), {ll['closed_nodes']:,} building nodes closed, "
                       f"edges open; rain = the same hyetograph, intensity held over {ll['interval_s']:g} s intervals; "
                       f"{ll['simulated_s'] / 3600:g} h simulated. landlab computes flow and rain only: no "
                       "interception, depression storage, infiltration, sewers, culverts, inflow or held river "
                       "levels, so all its rain stays on the ground (deeper water, shorter CFL steps). "
                       f"{'Run in ' + ll['interpreter'] if 'interpreter' in ll else 'Run in this process'}.")
            out.append("")
            rows = [["landlab OverlandFlow", f"{ll['run_s']:.1f}", f"{ll['steps']:,}", f"{ll['mean_dt_s']:.2f}",
                     f"{ll['cell_updates_per_s'] / 1e6:.2f}", f"{ll['max_depth_m']:.2f}",
                     f"{ll['surface_water_end_m3'] / 1e3:,.0f}", f"{ll['rain_m3'] / 1e3:,.0f}"]]
            for label, h in (("global step", hs), ("local time steps (slow steps; cell-updates incl. fast)", hs_local)):
                if h:
                    rows.append([f"heatsim WaterModel.run(), {label}", f"{h['run_s']:.1f}", f"{h['steps']:,}",
                                 f"{h['mean_dt_s']:.2f}", f"{h['cell_updates_per_s'] / 1e6:.2f}", f"{h['max_depth_m']:.2f}",
                                 f"{h['surface_water_end_m3'] / 1e3:,.0f}", f"{h['rain_m3'] / 1e3:,.0f}"])
            m1 = report.get("model_1_thread")
            if (m1 and abs(m1["resolution_m"] - ll["resolution_m"]) < 1e-9
                    and abs(m1["simulated_s"] - ll["simulated_s"]) < 1.0):
                rows.append(["heatsim WaterModel.run(), local time steps, 1 numba thread", f"{m1['run_s']:.1f}",
                             f"{m1['steps']:,}", "", f"{m1['cell_updates_per_s'] / 1e6:.2f}", "", "", ""])
            else:
                m1 = None
            rows.append([f"heatsim flow_step alone, {k.get('threads', '?')} threads (this grid, landlab's final depth)",
                         "", "", f"{k['dt_s']:.2f}", f"{k['cells_per_s'] / 1e6:.2f}", "", "", ""])
            if "cells_per_s_1_thread" in k:
                rows.append(["heatsim flow_step alone, 1 thread", "", "", f"{k['dt_s']:.2f}",
                             f"{k['cells_per_s_1_thread'] / 1e6:.2f}", "", "", ""])
            out.append(md_table(["", "wall s", "steps", "mean dt s", "M cell-updates/s", "max depth m",
                                 "surface water at end (1000 m3)", "rain (1000 m3)"], rows))
            out.append("")
            if not same and mods:
                out.append("- no heatsim run on this grid for the same simulated time (`--storm-only` shortens "
                           "heatsim's runs, not landlab's): no ratios")
            if hs:
                out.append(f"- wall time landlab / heatsim model (global step): {ll['run_s'] / hs['run_s']:.1f}; "
                           f"steps landlab / heatsim: {ll['steps'] / hs['steps']:.2f}")
                out.append(f"- cell-updates/s heatsim model (global step) / landlab: "
                           f"{hs['cell_updates_per_s'] / ll['cell_updates_per_s']:.1f} (the model's step includes "
                           "the hydrology and bookkeeping landlab does not do)")
            if hs_local:
                out.append(f"- wall time landlab / heatsim model with local time steps: "
                           f"{ll['run_s'] / hs_local['run_s']:.1f}")
            if hs_local and m1:
                out.append(f"- on 1 numba thread (landlab runs on one), local time steps: wall time landlab / heatsim model "
                           f"{ll['run_s'] / m1['run_s']:.1f}, cell-updates/s heatsim model / landlab "
                           f"{m1['cell_updates_per_s'] / ll['cell_updates_per_s']:.1f}")
            out.append(f"- cell-updates/s heatsim flow_step alone / landlab: "
                       f"{k['cells_per_s'] / ll['cell_updates_per_s']:.1f}"
                       + (f", on 1 thread {k['cells_per_s_1_thread'] / ll['cell_updates_per_s']:.1f}"
                          if "cells_per_s_1_thread" in k else "") + " (the flow step like for like)")
    if report.get("contention"):
        out += ["", "## CPU use per section", "",
                "In cores: ours = this process and its children, others = every other process. With 2 cores, "
                "others > 0.2 means the section's numbers are disturbed (the second numba thread waits).", ""]
        rows = [[c["section"], f"{c['wall_s']:.1f}", f"{c['ours_cores']:.2f}", f"{c['others_cores']:.2f}",
                 f"{c['steal_cores']:.2f}", f"{c['waited_for_quiet_s']:.0f}",
                 "disturbed" if disturbed(c) else ""] for c in report["contention"]]
        out.append(md_table(["section", "wall s", "ours", "others", "steal", "waited s", ""], rows))
    out += ["", f"Total {report['total_s']:.0f} s. Command: `{report['command']}`", ""]
    return "\n".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.25, 1.0, 4.0, 16.0],
                    help="kernel grid sizes in million cells (default 0.25 1 4 16)")
    ap.add_argument("--twin-max-size", type=float, default=16.0,
                    help="run the NumPy twins only up to this size in M cells (default 16: all)")
    ap.add_argument("--resolution", type=float, nargs="+", default=[25.0, 10.0],
                    help="resolutions of the Harelbeke model runs [m] (default 25 10; 5 takes many minutes)")
    ap.add_argument("--landlab-resolution", type=float, default=25.0,
                    help="resolution of the landlab comparison [m] (default 25; 10 takes ~10 min)")
    ap.add_argument("--landlab-python", metavar="PYTHON",
                    help="an interpreter with landlab and heatsim, for the landlab part when landlab does not "
                         "import here (e.g. /tmp/landlab-venv/bin/python)")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--no-landlab", action="store_true")
    ap.add_argument("--no-model-1-thread", action="store_true",
                    help="skip the extra run of the coarsest model (local time steps) on one numba thread")
    ap.add_argument("--storm-only", action="store_true",
                    help="model runs with after_storm_h = 0: exactly the 2-hour T=20 storm (the issue's measure at "
                         "--resolution 5: run() of the local scheme under 60 s); default: the storm plus the "
                         "scenario's after_storm_h (1 h). landlab keeps the scenario's duration")
    ap.add_argument("--wait-quiet", type=float, default=30.0, metavar="S",
                    help="before each section wait up to S s for other processes to leave the CPUs (default 30)")
    ap.add_argument("--retries", type=int, default=0, help="measure a disturbed section again (default 0)")
    ap.add_argument("--threads", type=int, help="numba threads (default: numba's, the core count)")
    ap.add_argument("--json", metavar="PATH", help="also write every number as JSON to PATH")
    ap.add_argument("--out", metavar="PATH", help="markdown file (default benchmarks/results/water-<date>.md)")
    ap.add_argument("--landlab-child", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    global RETRIES
    SETTINGS["wait_quiet_s"], RETRIES = args.wait_quiet, args.retries
    if args.threads:
        numba.set_num_threads(args.threads)
    if args.landlab_child is not None:
        print(json.dumps(bench_landlab(args.landlab_child), default=float))
        return

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    report = {"date": _dt.date.today().isoformat(), "machine": machine_info(), "seed": SEED, "cell_size_m": CELL_M,
              "flow_bytes_per_cell": FLOW_BYTES_PER_CELL, "flow_step_min_bytes_per_cell": FLOW_STEP_MIN_BYTES_PER_CELL,
              "command": " ".join([Path(sys.executable).name, "benchmarks/bench_water.py", *(argv or sys.argv[1:])])}
    report["machine"]["loadavg_at_start"] = os.getloadavg()
    if not args.no_kernels:
        report["kernels"], report["triads"] = bench_kernels(args.sizes, args.twin_max_size, log)
    report["machine"]["numba_threading_layer"] = numba.threading_layer() if not args.no_kernels else "?"
    if not args.no_model:
        report["model"] = bench_model(args.resolution, log, storm_only=args.storm_only)
        if not args.no_model_1_thread:
            report["model_1_thread"] = bench_model_1_thread(max(args.resolution), log, storm_only=args.storm_only)
        measure = issue_measure(report["model"])
        if measure:
            log(measure)
    if not args.no_landlab:
        report["landlab"] = run_landlab(args.landlab_resolution, args.landlab_python, log)
        if "skipped" in report["landlab"]:
            log(f"landlab skipped: {report['landlab']['skipped']}")
    report["total_s"] = time.perf_counter() - t_start
    report["contention"] = CONTENTION
    text = render(report)
    print(text)
    path = Path(args.out) if args.out else results_path("water", report["date"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, default=float)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

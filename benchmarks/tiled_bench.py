"""Dask-tiled against single-array kernels on the same input, for ``run_all.py``
(its ``tiled_cases()`` hook calls :func:`run` when ``heatsim.tiling`` imports). Imported, not run.

What ``heatsim.tiling`` provides is looked up at run time; each comparison whose function
is missing is reported as not available:

- ``sky_view_factor_tiled`` (the heat model's tiled sky view: halo = the horizon radius)
  against ``sky_view_factor`` on bench_heat's synthetic town;
- ``map_tiled`` with the air step (``air_temperature_step_serial``, a 5-point stencil:
  halo 1) against the same kernel on the whole grid: the cost of dask's chunking, halo
  copies and assembly for a cheap kernel;
- ``TiledFlowStepper`` (the flow step by bands of rows with a 4-row halo) against
  ``flow_step`` on bench_water's synthetic ground (both include copying the start state).

Each tiled result is compared with the single-array one (max |difference|).
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

CHUNKS = (256, 1024)  # chunk edge [cells]; the whole grid is one chunk when it is smaller
SCHEDULER = "threads"


def _best(fn, repeats: int) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()  # warm-up (numba cache, dask import, page faults), counted when it took over 2 s
    times = [time.perf_counter() - t0]
    if times[0] > 2.0:
        return times[0], out
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run(tiling, sizes_m, kernels, args, log) -> dict:
    import bench_heat as bh

    max_size = getattr(args, "tiled_max_size", 4.0)
    sizes = [s for s in sizes_m if s <= max_size + 1e-9]
    rows = []
    have_svf = callable(getattr(tiling, "sky_view_factor_tiled", None))
    have_map = callable(getattr(tiling, "map_tiled", None))
    have_flow = getattr(tiling, "TiledFlowStepper", None) is not None
    threads = numba.get_num_threads()
    for size in sizes:
        work = bh.Workload(bh.make_town(round(size * 1e6)))
        n = work.n
        # -- the sky view: the model's tiled computation
        if have_svf and (not kernels or "sky_view_factor" in kernels):
            args_s, kw_s = work.sky_view()
            kw = {k: v for k, v in kw_s.items() if k != "out"}
            single_s, single = _best(lambda: bh.sky_view_factor(*args_s, **kw_s).copy(), 1)
            for chunk in CHUNKS:
                if chunk >= max(work.shape):
                    continue
                tiled_s, tiled = _best(lambda: tiling.sky_view_factor_tiled(*args_s, **kw, chunks=chunk,
                                                                            scheduler=SCHEDULER), 1)
                depth = math.ceil(kw["max_distance_m"] / kw["cell_size_m"]) + 1
                r = _row("sky_view_factor", "sky_view_factor_tiled", size, n, work.shape, chunk, depth, single_s,
                         tiled_s, float(np.max(np.abs(tiled - single))))
                rows.append(r)
                log(_line(r))
        # -- map_tiled with a cheap stencil kernel: dask's overhead per cell
        if have_map and (not kernels or "air_temperature_step_serial" in kernels):
            (air, h, t_above), kw_a = work.air()
            kw = {k: v for k, v in kw_a.items() if k != "out"}
            kernel = bh.air_temperature_step_serial

            def single_call():
                return kernel(air, h, t_above, **kw, out=np.empty(air.shape))

            def block_kernel(a, b):
                return kernel(a, b, t_above, **kw, out=np.empty(a.shape))

            single_s, single = _best(single_call, 3)
            for chunk in CHUNKS:
                if chunk >= max(work.shape):
                    continue
                tiled_s, tiled = _best(lambda: tiling.map_tiled(block_kernel, air, h, depth=1, chunks=chunk,
                                                                scheduler=SCHEDULER), 3)
                r = _row("air_temperature_step_serial", "map_tiled", size, n, work.shape, chunk, 1, single_s, tiled_s,
                         float(np.max(np.abs(tiled - single))))
                rows.append(r)
                log(_line(r))
        # -- the flow step by bands of rows (TiledFlowStepper) against flow_step on the whole grid
        if have_flow and (not kernels or "flow_step" in kernels):
            rows += _flow_rows(tiling, size, log)
        del work
    notes = []
    if not have_svf:
        notes.append("heatsim.tiling.sky_view_factor_tiled not available")
    if not have_map:
        notes.append("heatsim.tiling.map_tiled not available")
    if not have_flow:
        notes.append("heatsim.tiling.TiledFlowStepper not available")
    if not sizes:
        notes.append(f"no size <= {max_size:g} M (--tiled-max-size)")
    header = ["size", "kernel", "tiled by", "grid", "chunk", "halo", "single s", "tiled s", "tiled / single",
              "single Mcell/s", "tiled Mcell/s", "max |diff|"]
    table = [[f"{r['size_m']:g} M", r["kernel"], f"`{r['tiled_by']}`", f"{r['grid'][0]} x {r['grid'][1]}",
              r["chunk"], r["halo"], f"{r['single_s']:.3f}", f"{r['tiled_s']:.3f}", f"{r['tiled_over_single']:.2f}",
              f"{r['single_cells_per_s'] / 1e6:.2f}", f"{r['tiled_cells_per_s'] / 1e6:.2f}",
              f"{r['max_abs_diff']:.1e}"] for r in rows]
    return {"available": bool(rows), "rows_raw": rows, "header": header, "rows": table,
            "note": "; ".join(notes) if not rows else "; ".join(notes),
            "description": (f"`heatsim.tiling` on dask's `{SCHEDULER}` scheduler, {threads} numba threads, sizes up "
                            f"to {max_size:g} M cells (`--tiled-max-size`), the same synthetic town as the kernels; "
                            "single = the kernel on the whole array, best of N after a warm-up call (the sky view: "
                            "one call). tiled / single > 1: tiling costs time (halos recomputed, dask's "
                            "scheduling and copies). " + "; ".join(notes) + ".")}


def _flow_rows(tiling, size, log) -> list[dict]:
    """One flow step (dt 0.5 s on bench_water's synthetic ground) whole vs by bands."""
    import bench_water as bw

    from heatsim.kernels.overland_flow import flow_step

    g = bw.make_ground(round(size * 1e6))
    ny, nx = g["shape"]
    work = dict(qy_work=np.empty((ny + 1, nx)), scale_work=np.empty((ny, nx)), row_outflow_m3=np.empty(ny))
    start = (g["depth"], np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx)))

    def whole():
        d, qx, qy = (a.copy() for a in start)
        flow_step(g["bed"], d, g["manning"], g["blocked"], qx, qy, cell_size_m=bw.CELL_M, dt_s=0.5, open_edges=True,
                  **work)
        return d

    out = []
    single_s, single = _best(whole, 3)
    for band in CHUNKS:
        if band >= ny:
            continue
        stepper = tiling.TiledFlowStepper(g["bed"], g["manning"], g["blocked"], cell_size_m=bw.CELL_M, open_edges=True,
                                          rows_per_band=band, scheduler=SCHEDULER)

        def tiled():
            d, qx, qy = (a.copy() for a in start)
            stepper.step(d, qx, qy, 0.5)
            return d

        tiled_s, result = _best(tiled, 3)
        r = _row("flow_step", "TiledFlowStepper (rows per band)", size, ny * nx, (ny, nx), band,
                 tiling.FLOW_HALO_ROWS, single_s, tiled_s, float(np.max(np.abs(result - single))))
        out.append(r)
        log(_line(r))
    return out


def _row(kernel, tiled_by, size, n, shape, chunk, depth, single_s, tiled_s, diff) -> dict:
    return {"kernel": kernel, "tiled_by": tiled_by, "size_m": size, "cells": n, "grid": list(shape), "chunk": chunk,
            "halo": depth, "single_s": single_s, "tiled_s": tiled_s, "tiled_over_single": tiled_s / single_s,
            "single_cells_per_s": n / single_s, "tiled_cells_per_s": n / tiled_s, "max_abs_diff": diff}


def _line(r) -> str:
    return (f"  tiled {r['size_m']:>5g} M {r['kernel']:<28} chunk {r['chunk']:>5} halo {r['halo']:>3}: single "
            f"{r['single_s']:.3f} s, tiled {r['tiled_s']:.3f} s ({r['tiled_over_single']:.2f}x), "
            f"max |diff| {r['max_abs_diff']:.1e}")

"""Every kernel of the heat and water models, and both models, in one run: cell updates per
second from 0.25 to 64 million cells, the NumPy twins, the share of a STREAM-like triad,
one vs two numba threads, dask-tiled vs single-array, and a log-log scaling plot.

Usage::

    python benchmarks/run_all.py                       # sizes 0.25 1 4 16 64 M cells, models at 25 and 10 m (long)
    python benchmarks/run_all.py --quick               # sizes 0.25 1, models at 25 m (~3 min)
    python benchmarks/run_all.py --sizes 0.25 1 4 16 --kernels flow_step surface_fluxes --no-models
    python benchmarks/run_all.py --list                # the kernels it knows

A script run on demand, never in the tests. All numbers come from one run: compare them
with each other (ratios), not with another run or machine. It prints a markdown report
and writes ``benchmarks/results/suite-<date>.md``, ``.json`` (every number and the
machine) and ``.png`` (the scaling plot); ``-2``, ``-3``, ... when one of them exists
(``--out``, ``--json``, ``--plot`` elsewhere).

The kernels, their inputs and their byte counts come from ``bench_heat.py`` and
``bench_water.py`` (see ``suite.py``); the columns are explained in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench_common as bc  # noqa: E402
import suite  # noqa: E402

MEMORY_SHARE = 0.60  # a group runs at a size only if its estimated peak is below this share of free memory
MEMORY_MARGIN = 1.15  # on the per-cell peak measured at a smaller size


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- memory
def mem_available_bytes() -> int | None:
    try:
        import psutil  # optional
        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Peak resident memory of a stretch of the run above its start (VmHWM, reset through
    /proc/self/clear_refs), with stretches left out (the twins: they run only at the
    smallest sizes and must not inflate the estimate for the large ones)."""

    def __init__(self):
        self.ok = self._reset()
        self.base = _status_kb("VmRSS") or 0
        self.peak_kb = 0

    @staticmethod
    def _reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def take(self):
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            self.peak_kb = max(self.peak_kb, hwm - self.base)

    def resume(self):
        self._reset()

    def result_bytes(self) -> int | None:
        self.take()
        return self.peak_kb * 1024 if self.ok else None


# ---------------------------------------------------------------------- timing
def once(call, restore) -> float:
    if restore is not None:
        restore()
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def repeats_for(first_s: float, repeats: int) -> int:
    """Best of ``repeats`` for fast calls, fewer for slow ones (the run time stays sane)."""
    return repeats if first_s < 0.25 else 2 if first_s < 3.0 else 1


def bench_case(case, size_m, size_index, args, triad_gb_s, history, peak=None) -> dict:
    row = {"kernel": case.name, "group": case.group, "size_m": size_m, "cells": case.cells,
           "grid_cells": case.grid_cells, "model_uses": case.model_uses, "bytes_per_cell": case.bytes_per_cell,
           "bytes_source": case.bytes_source, "note": case.note, **case.extra}
    prev = history.get(case.name)
    if prev and args.max_call_s > 0:
        predicted = case.cells / prev
        if predicted > args.max_call_s:
            row["skipped"] = f"~{predicted:.0f} s per call at the last size's rate > --max-call-s {args.max_call_s:g}"
            return row
    threads = args.thread_counts
    main_t = threads[0]
    numba.set_num_threads(main_t)
    try:
        first = once(case.call, case.restore)
        n_rep = repeats_for(first, args.repeats)
        row["first_call_s"] = first
        row["repeats"] = n_rep
        row["threads"] = {}
        for t in threads:
            numba.set_num_threads(t)
            # a call over 3 s is compute-bound: its first call (page faults of the outputs) counts as warm
            times = [first] if (t == main_t and first > 3.0) else [once(case.call, case.restore)
                                                                   for _ in range(n_rep)]
            row["threads"][str(t)] = {"best_s": min(times), "times_s": times, "cells_per_s": case.cells / min(times)}
    finally:
        numba.set_num_threads(main_t)
    # the faster thread count: on a busy two-core machine the second thread only waits
    best_t = min(row["threads"], key=lambda t: row["threads"][t]["best_s"])
    best = row["threads"][best_t]["best_s"]
    row["best_threads"] = int(best_t)
    row["warm_best_s"] = best
    row["cells_per_s"] = case.cells / best
    history[case.name] = row["cells_per_s"]
    if len(threads) > 1:
        row["thread_speedup"] = row["threads"][str(threads[-1])]["best_s"] / row["threads"][str(main_t)]["best_s"]
    if case.bytes_per_cell is not None:
        row["bytes_per_call"] = case.bytes_per_cell * case.cells
        row["gb_s"] = row["bytes_per_call"] / best / 1e9
        row["fraction_of_triad"] = row["gb_s"] / triad_gb_s
        if "min_bytes_per_cell" in row:
            row["min_gb_s"] = row["min_bytes_per_cell"] * case.cells / best / 1e9
            row["min_fraction_of_triad"] = row["min_gb_s"] / triad_gb_s
    row["triad_gb_s"] = triad_gb_s
    # the NumPy twin, at the smallest sizes only (outside the memory peak: it never runs at the large sizes)
    if size_index < args.twin_sizes and peak is not None:
        peak.take()
    try:
        _bench_twin(case, row, size_index, args)
    finally:
        if size_index < args.twin_sizes and peak is not None:
            peak.resume()
    return row


def _bench_twin(case, row, size_index, args) -> None:
    if size_index < args.twin_sizes:
        if case.twin is not None:
            t1 = once(case.twin, case.twin_restore)
            times = [t1] + ([once(case.twin, case.twin_restore) for _ in range(2)] if t1 < 0.5 else [])
            tb = min(times)
            row["twin"] = {"cells": case.cells, "best_s": tb, "cells_per_s": case.cells / tb, "same_input": True}
            row["kernel_over_twin"] = row["cells_per_s"] / row["twin"]["cells_per_s"]
        elif case.twin_small is not None:
            tw = case.twin_small()
            row["twin"] = {"cells": tw["cells"], "best_s": tw["best_s"], "cells_per_s": tw["cells_per_s"],
                           "same_input": False, "kernel_cells_per_s_on_twin_input": tw["kernel_cells_per_s"]}
            row["kernel_over_twin"] = row["cells_per_s"] / tw["cells_per_s"]
            row["kernel_over_twin_same_input"] = tw["kernel_cells_per_s"] / tw["cells_per_s"]
            row["note"] = "; ".join(x for x in (row.get("note"), row.get("twin_note")) if x)


def format_row(r: dict) -> str:
    if "error" in r or "skipped" in r:
        return f"  {r['size_m']:>5g} M {r['kernel']:<28} {r.get('error') or r.get('skipped')}"
    th = r["threads"]
    thr = " ".join(f"{t}t {v['cells_per_s'] / 1e6:8.1f}" for t, v in th.items())
    bw = f"{r['gb_s']:6.1f} GB/s {100 * r['fraction_of_triad']:4.0f} %" if "gb_s" in r else ""
    twin = f" twin x{r['kernel_over_twin']:.1f}" if "kernel_over_twin" in r else ""
    return (f"  {r['size_m']:>5g} M {r['kernel']:<28} {r['warm_best_s'] * 1e3:10.2f} ms  Mcell/s {thr}  {bw}{twin}")


# ---------------------------------------------------------------------- dask tiled: the hook
def tiled_cases(sizes_m: list[float], kernels: list[str], args) -> dict:
    """HOOK for heatsim.tiling (being written): dask-tiled runs against the single-array kernel
    on the same input. Returns {"available": False, "note": ...} while the module is missing
    or provides none of ``map_tiled`` / ``TiledFlowStepper``; never a made-up number."""
    try:
        import heatsim.tiling as tiling
    except ImportError as exc:
        return {"available": False, "note": f"heatsim.tiling not available ({exc})"}
    provided = [n for n in ("map_tiled", "TiledFlowStepper") if callable(getattr(tiling, n, None))]
    if not provided:
        return {"available": False, "note": "heatsim.tiling not available (it provides neither map_tiled nor "
                                            "TiledFlowStepper)"}
    try:
        import tiled_bench  # the comparison itself, written against the module's API
    except ImportError as exc:
        return {"available": False, "provides": provided,
                "note": f"heatsim.tiling provides {provided}, but the suite's comparison is not wired in ({exc})"}
    try:
        return tiled_bench.run(tiling, sizes_m, kernels, args, log)
    except Exception as exc:  # noqa: BLE001 - report, never crash the run
        return {"available": False, "provides": provided, "note": f"the tiled comparison failed: {exc!r}",
                "traceback": traceback.format_exc()}


# ---------------------------------------------------------------------- models
def bench_heat_model(resolutions: list[float]) -> dict:
    """HeatModel.run() of 24 simulated hours on Harelbeke (bench_heat._run_model), sky view
    from the cache (primed before the run), after a 50 m warm-up run."""
    import bench_heat as bh
    from heatsim.heat.model import HeatModel
    from heatsim.landcover import default_table
    from heatsim.site.store import load_site
    from heatsim.weather import load_heat_weather

    bh.RETRIES = 0
    table = default_table()
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=0)
    t0 = time.perf_counter()
    HeatModel(load_site("harelbeke", 50.0), table, weather, bh.P).run()
    out = {"warmup_run_50m_s": time.perf_counter() - t0, "runs": []}
    for res in resolutions:
        site = load_site("harelbeke", res)
        t0 = time.perf_counter()
        HeatModel(site, table, weather, bh.P).sky_view()  # compute and store once if the cache lacks it
        prime_s = time.perf_counter() - t0
        r, model = bh._run_model(site, table, weather, bh.P, f"heat model at {res:g} m", log)
        hours = 24.0 * (weather.spinup_days + weather.days)
        grid_cells = model.grid.ny * model.grid.nx
        run = {"resolution_m": res, "grid": [model.grid.ny, model.grid.nx], "grid_cells": grid_cells,
               "cells": model.n, "steps": r["steps"], "time_step_s": r["time_step_s"], "simulated_h": hours,
               "run_s": r["run_s"], "s_per_simulated_h": r["run_s"] / hours, "s_per_step": r["run_s"] / r["steps"],
               "cell_updates_per_s": r["cell_steps_per_s"], "grid_cell_updates_per_s": r["grid_cell_steps_per_s"],
               "sky_view_prime_s": prime_s, "others_cores": r.get("others_cores"),
               "breakdown_top": dict(list(r["run_breakdown"].items())[:6])}
        log(f"heat model {res:g} m: {model.n:,} cells simulated, {r['steps']} steps, run {r['run_s']:.1f} s, "
            f"{r['cell_steps_per_s'] / 1e6:.1f} M cell-updates/s")
        out["runs"].append(run)
        del model
    return out


def bench_water_model(resolutions: list[float]) -> dict:
    """WaterModel.run() on Harelbeke, baseline scenario (bench_water.bench_model): local time
    steps (the default) and the global step at each resolution, one record per run."""
    import bench_water as bw

    bw.RETRIES = 0
    runs = bw.bench_model(resolutions, log)
    out = {"runs": []}
    for r in runs:
        out["warmup_run_50m_s"] = r.get("warmup_run_50m_s")
        out["runs"].append({k: r[k] for k in ("resolution_m", "scheme", "grid", "cells", "steps", "sub_steps",
                                               "fast_cell_steps", "simulated_s", "run_s", "cell_updates_per_s",
                                               "mean_dt_s", "run_s_per_simulated_h", "flow_step_share",
                                               "others_cores") if k in r}
                           | {"s_per_step": r["run_s"] / r["steps"]})
    return out


# ---------------------------------------------------------------------- output
def fmt_rate(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x / 1e6:,.0f}" if x >= 1e8 else f"{x / 1e6:.1f}" if x >= 1e6 else f"{x / 1e6:.2f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def scaling_slopes(rows: list[dict]) -> dict:
    """Least-squares slope of log(seconds per call) against log(cells), per kernel."""
    by: dict = {}
    for r in rows:
        if "warm_best_s" in r:  # as plotted: the faster of the thread counts
            by.setdefault(r["kernel"], []).append((r["cells"], r["warm_best_s"]))
    out = {}
    for k, pts in by.items():
        if len(pts) >= 2:
            x = np.log([p[0] for p in pts])
            y = np.log([p[1] for p in pts])
            out[k] = {"slope": float(np.polyfit(x, y, 1)[0]), "points": len(pts),
                      "slope_above_1m": (float(np.polyfit(x[np.exp(x) >= 0.9e6], y[np.exp(x) >= 0.9e6], 1)[0])
                                         if (np.exp(x) >= 0.9e6).sum() >= 2 else None)}
    return out


def render(report: dict) -> str:
    m = report["machine"]
    threads = report["thread_counts"]
    tmain, tlow = threads[0], threads[-1]
    out = [f"# Benchmark suite, {report['date']}", ""]
    out += bc.machine_header(m, "run_all")
    out += ["", f"Commit {report['git']['commit']}{' (with uncommitted changes)' if report['git']['dirty'] else ''}. "
            f"Sizes {', '.join(f'{s:g}' for s in report['sizes_m_cells'])} M cells; threads {' vs '.join(map(str, threads))}; "
            f"twins at the {report['twin_sizes']} smallest sizes; free memory at the start "
            f"{report['mem_available_start_gb']:.1f} GB."]
    out += ["", "## Memory bandwidth (triad) and memory per size", ""]
    rows = []
    for s in report["sizes"]:
        tri = s.get("triad")
        mem = "; ".join(f"{g}: {v['decision']}" for g, v in s["memory"].items())
        rows.append([f"{s['size_m']:g} M", f"{tri['gb_s']:.1f}" if tri else "", f"{s['mem_available_gb']:.1f}",
                     mem, f"{s['others_cores']:.2f}" if s.get("others_cores") is not None else "",
                     "disturbed" if s.get("disturbed") else ""])
    out.append(bc.md_table(["size", "triad GB/s", "free GB", "groups: est. peak (decision)", "others (cores)", ""],
                           rows))
    out += ["", "Triad: `a = b + s*c`, numba prange, 32 Mi float64 per array, best of 5, 24 B per element "
            "(write-allocate not counted), measured again before each size; each size's %triad uses its own.", ""]
    out += ["## Kernels", ""]
    out.append(f"Mcell/s = cell updates per second, best of N warm calls (`{tmain}t` = {tmain} numba threads, "
               f"`{tlow}t` = {tlow}); speed-up = {tlow}-thread time / {tmain}-thread time. warm ms, GB/s, %triad "
               "and kernel/twin use the faster of the thread counts (on a busy two-core machine the second "
               "thread only waits). B/cell = bytes a call must move per cell (write-allocate not counted). twin = the `*_numpy` twin on the same input (`*`: on a smaller town, then "
               "'same input' is the ratio on that town); kernel/twin per cell. **bold** = called by the models' "
               "run(). Shares above 100 %: see the README (cache at the small sizes; in-place and read-mostly "
               "kernels against a triad a third of whose bytes are writes).")
    out.append("")
    header = ["size", "kernel", "cells", "warm ms", f"Mcell/s {tmain}t", f"Mcell/s {tlow}t", "speed-up",
              "B/cell", "GB/s", "%triad", "twin Mcell/s", "kernel/twin", "same input", "note"]
    rows = []
    for r in report["kernels"]:
        name = f"**{r['kernel']}**" if r.get("model_uses") else r["kernel"]
        if "error" in r or "skipped" in r:
            rows.append([f"{r['size_m']:g} M", name, f"{r['cells']:,}" if r.get("cells") else "", "", "", "", "", "",
                         "", "", "", "", "", r.get("error") or r.get("skipped")])
            continue
        th = r["threads"]
        tw = r.get("twin")
        b = r["bytes_per_cell"]
        bcell = "" if b is None else f"{b:g}" + (f" / {r['min_bytes_per_cell']}" if "min_bytes_per_cell" in r else "")
        gb = "" if "gb_s" not in r else f"{r['gb_s']:.1f}" + (f" / {r['min_gb_s']:.1f}" if "min_gb_s" in r else "")
        pct = "" if "fraction_of_triad" not in r else f"{100 * r['fraction_of_triad']:.0f} %" + (
            f" / {100 * r['min_fraction_of_triad']:.0f} %" if "min_fraction_of_triad" in r else "")
        rows.append([f"{r['size_m']:g} M", name, f"{r['cells']:,}", f"{r['warm_best_s'] * 1e3:.2f}",
                     fmt_rate(th[str(tmain)]["cells_per_s"]),
                     fmt_rate(th[str(tlow)]["cells_per_s"]) if len(threads) > 1 else "",
                     f"{r['thread_speedup']:.2f}" if "thread_speedup" in r else "", bcell, gb, pct,
                     (fmt_rate(tw["cells_per_s"]) + ("" if tw["same_input"] else f"* ({tw['cells']:,})")) if tw else "",
                     fmt_ratio(r.get("kernel_over_twin")), fmt_ratio(r.get("kernel_over_twin_same_input")),
                     r.get("note", "")])
    out.append(bc.md_table(header, rows))
    sl = report.get("scaling")
    if sl:
        out += ["", "## Scaling: slope of log(time per call) against log(cells)", "",
                "Time per call = the faster of the thread counts (as in the plot). "
                "1 = cost linear in cells (the plot's dashed line). Below 1 at the small sizes: fixed costs per call "
                "(thread start-up, ~10-50 us) and the caches; above 1: the arrays leave the caches.", ""]
        out.append(bc.md_table(["kernel", "sizes", "slope (all)", "slope (>= 1 M)"],
                               [[k, v["points"], f"{v['slope']:.2f}",
                                 f"{v['slope_above_1m']:.2f}" if v["slope_above_1m"] is not None else ""]
                                for k, v in sl.items()]))
    out += ["", "## Dask tiled vs single array", ""]
    td = report["tiled"]
    if not td.get("available"):
        out.append(td["note"] + ".")
    else:
        out.append(td.get("description", ""))
        out.append("")
        out.append(bc.md_table(td["header"], td["rows"]))
    mo = report.get("models")
    if mo:
        out += ["", "## Models on Harelbeke", ""]
        rows = []
        h = mo.get("heat")
        if h and "runs" in h:
            for r in h["runs"]:
                rows.append(["HeatModel.run()", f"{r['resolution_m']:g} m", f"{r['cells']:,} of {r['grid_cells']:,}",
                             f"{r['steps']:,} x {r['time_step_s']:g} s", f"{r['run_s']:.1f}",
                             f"{r['s_per_simulated_h']:.2f} per simulated hour",
                             f"{r['s_per_step'] * 1e3:.1f}", fmt_rate(r["cell_updates_per_s"]),
                             f"{r['others_cores']:.2f}" if r.get("others_cores") is not None else ""])
        elif h:
            rows.append(["HeatModel.run()", "", "", "", "", h.get("error", ""), "", "", ""])
        w = mo.get("water")
        if w and "runs" in w:
            for r in w["runs"]:
                local = r.get("scheme") == "local"
                rows.append(["WaterModel.run(), " + ("local time steps" if local else r.get("scheme", "?") + " step"),
                             f"{r['resolution_m']:g} m", f"{r['cells']:,} (whole grid)",
                             f"{r['steps']:,}{' slow' if local else ''} (mean {r['mean_dt_s']:.2f} s)", f"{r['run_s']:.1f}",
                             f"{r['run_s_per_simulated_h']:.1f} per simulated hour",
                             f"{r['s_per_step'] * 1e3:.2f}", fmt_rate(r["cell_updates_per_s"]),
                             f"{r['others_cores']:.2f}" if r.get("others_cores") is not None else ""])
        elif w:
            rows.append(["WaterModel.run()", "", "", "", "", w.get("error", ""), "", "", ""])
        out.append(bc.md_table(["model", "resolution", "cells", "steps", "run s", "wall time", "ms per step",
                                "M cell-updates/s", "others (cores)"], rows))
        out += ["", "Heat: 24 simulated hours (hittegolf-2019, no spin-up), cells = the simulated cells (`model.n`), "
                "sky view from the cache. Water: baseline scenario (T=20 storm, 2 h + 1 h), cells = the whole grid, "
                "local time steps (the default; slow steps, cell updates = cells x slow steps + fast cell-steps) "
                "and the global step, one after the other. "
                "Both after a 50 m warm-up run; the models' own breakdowns are in bench_heat.py / bench_water.py."]
    if report.get("contention"):
        out += ["", "## CPU use per section", "",
                "In cores: ours = this process, others = every other process. With 2 cores, others > 0.2 means the "
                "section's numbers are disturbed (the second numba thread waits).", ""]
        out.append(bc.md_table(["section", "wall s", "ours", "others", "steal", "waited s", ""],
                               [[c["section"], f"{c['wall_s']:.1f}", f"{c['ours_cores']:.2f}",
                                 f"{c['others_cores']:.2f}", f"{c['steal_cores']:.2f}",
                                 f"{c['waited_for_quiet_s']:.0f}", "disturbed" if bc.disturbed(c) else ""]
                                for c in report["contention"]]))
    out += ["", f"Total {report['total_s']:.0f} s. Command: `{report['command']}`. Plot: `{report.get('plot')}`.", ""]
    return "\n".join(out)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by: dict = {}
    for r in report["kernels"]:
        if "warm_best_s" in r:  # the faster of the thread counts: a busy second core only slows the other
            by.setdefault((r["group"], r["kernel"]), []).append((r["cells"], r["warm_best_s"]))
    fig, ax = plt.subplots(figsize=(12.0, 7.2), dpi=110)
    styles = {"heat": "-", "water": "-.", "hydrology": ":"}
    colors = list(plt.cm.tab10.colors) + list(plt.cm.Dark2.colors) + list(plt.cm.Set1.colors)
    markers = "osD^v<>ph*"
    slopes = report.get("scaling", {})
    all_x, all_y = [], []
    for i, ((group, name), pts) in enumerate(by.items()):
        pts.sort()
        x, y = [p[0] for p in pts], [p[1] for p in pts]
        all_x += x
        all_y += y
        sl = slopes.get(name)
        label = f"{name} [{group}]" + (f"  slope {sl['slope']:.2f}" if sl else "")
        ax.loglog(x, y, ls=styles.get(group, "-"), marker=markers[i % len(markers)], color=colors[i % len(colors)], lw=1.7, ms=5.5, label=label)
    if all_x:
        x0, x1 = min(all_x) / 1.3, max(all_x) * 1.3
        # the slope-1 reference: cost proportional to cells, through the geometric mean of the points
        cx, cy = math.exp(np.mean(np.log(all_x))), math.exp(np.mean(np.log(all_y)))
        xs = np.array([x0, x1])
        ax.loglog(xs, cy * xs / cx, "k--", lw=1.4, label="slope 1: time proportional to cells")
        for decade in (-2, 2):  # faint parallel guides, two decades apart
            ax.loglog(xs, cy * 10.0**decade * xs / cx, color="0.75", ls="--", lw=0.8)
        ax.set_xlim(x0, x1)
        ax.set_ylim(min(all_y) / 2, max(all_y) * 2)
    ax.set_xlabel("cells per call")
    ax.set_ylabel("seconds per call (best warm call; the faster of "
                  + " and ".join(map(str, sorted(report["thread_counts"]))) + " numba threads)")
    ax.set_title(f"heatsim kernels: cost against grid size ({report['date']}, {report['machine']['cpu_model']})",
                 fontsize=10)
    ax.grid(True, which="major", color="0.85")
    ax.grid(True, which="minor", color="0.94", lw=0.5)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def git_info() -> dict:
    def run(*cmd):
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": run("rev-parse", "--short", "HEAD") or "?",
            "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


def output_paths(args, date: str) -> tuple[Path, Path, Path]:
    stem = bc.results_stem("suite", date, (".md", ".json", ".png"))
    return (Path(args.out).resolve() if args.out else stem.with_suffix(".md"),
            Path(args.json).resolve() if args.json else stem.with_suffix(".json"),
            Path(args.plot).resolve() if args.plot else stem.with_suffix(".png"))


# ---------------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.25, 1.0, 4.0, 16.0, 64.0],
                    help="grid sizes in million cells (default 0.25 1 4 16 64)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: sizes 0.25 1, models at 25 m only")
    ap.add_argument("--kernels", nargs="+", metavar="NAME", help="only these kernels (see --list)")
    ap.add_argument("--list", action="store_true", help="list the kernels and exit")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="numba thread counts to compare (default 1 2; capped at NUMBA_NUM_THREADS)")
    ap.add_argument("--repeats", type=int, default=5, help="best of N warm calls for fast kernels (default 5)")
    ap.add_argument("--twin-sizes", type=int, default=2,
                    help="run the NumPy twins at the N smallest sizes only (default 2)")
    ap.add_argument("--max-call-s", type=float, default=30.0,
                    help="skip a kernel at a size where one call would take longer than this at the last size's "
                         "rate (default 30; 0: never)")
    ap.add_argument("--model-resolutions", type=float, nargs="+", metavar="M",
                    help="Harelbeke model runs [m] (default 25 10; --quick 25)")
    ap.add_argument("--no-models", action="store_true", help="skip the heat and water model runs")
    ap.add_argument("--no-tiled", action="store_true", help="skip the dask-tiled comparison")
    ap.add_argument("--tiled-max-size", type=float, default=4.0, metavar="M",
                    help="the dask-tiled comparison at sizes up to M million cells (default 4)")
    ap.add_argument("--wait-quiet", type=float, default=10.0, metavar="S",
                    help="before each size wait up to S s for other processes to leave the CPUs (default 10)")
    ap.add_argument("--json", metavar="PATH", help="JSON file (default benchmarks/results/suite-<date>.json)")
    ap.add_argument("--plot", metavar="PATH", help="PNG file (default benchmarks/results/suite-<date>.png)")
    ap.add_argument("--out", metavar="PATH", help="markdown file (default benchmarks/results/suite-<date>.md)")
    args = ap.parse_args(argv)
    if args.list:
        for g, names in suite.GROUPS.items():
            print(f"{g}: {' '.join(names)}")
        return
    if args.quick:
        args.sizes = [0.25, 1.0]
    sizes = sorted(args.sizes)
    model_res = args.model_resolutions or ([25.0] if args.quick else [25.0, 10.0])
    max_t = numba.config.NUMBA_NUM_THREADS
    args.thread_counts = sorted({max(1, min(t, max_t)) for t in args.threads}, reverse=True)
    known = [k for names in suite.GROUPS.values() for k in names]
    if args.kernels:
        unknown = [k for k in args.kernels if k not in known]
        if unknown:
            ap.error(f"unknown kernels {unknown}; known: {' '.join(known)}")
    wanted = {g: [k for k in names if not args.kernels or k in args.kernels] for g, names in suite.GROUPS.items()}
    wanted = {g: v for g, v in wanted.items() if v}
    bc.SETTINGS["wait_quiet_s"] = args.wait_quiet
    date = _dt.date.today().isoformat()
    md_path, json_path, png_path = output_paths(args, date)
    os.chdir(REPO)  # bench_water reads scenarios/baseline.yaml relative to the repository

    t_start = time.perf_counter()
    report = {"date": date, "machine": bc.machine_info(), "git": git_info(), "sizes_m_cells": sizes,
              "thread_counts": args.thread_counts, "twin_sizes": args.twin_sizes, "repeats": args.repeats,
              "max_call_s": args.max_call_s, "memory_share_limit": MEMORY_SHARE,
              "suite_bytes_per_cell": suite.SUITE_BYTES_PER_CELL,
              "command": " ".join([Path(sys.executable).name, "benchmarks/run_all.py", *(argv or sys.argv[1:])]),
              "sizes": [], "kernels": []}
    report["machine"]["loadavg_at_start"] = os.getloadavg()
    avail = mem_available_bytes()
    report["mem_available_start_gb"] = (avail or 0) / 1e9
    log(f"run_all: sizes {sizes} M cells, threads {args.thread_counts}, kernels "
        f"{sum(len(v) for v in wanted.values())}, free memory {(avail or 0) / 1e9:.1f} GB")
    peak_per_cell: dict = {}  # group -> (resident bytes per cell, cells) measured at the largest size so far
    history: dict = {}  # kernel -> cells/s at the last size (for --max-call-s)
    for index, size in enumerate(sizes):
        n_target = round(size * 1e6)
        ny, nx = bc.grid_shape(n_target)
        entry = {"size_m": size, "cells": ny * nx, "memory": {}}
        avail = mem_available_bytes()
        entry["mem_available_gb"] = (avail or 0) / 1e9
        with bc.section(f"kernels at {size:g} M cells"):
            log(f"== {size:g} M cells ({ny} x {nx}); free memory {entry['mem_available_gb']:.1f} GB; triad ...")
            entry["triad"] = bc.triad_bandwidth()
            triad = entry["triad"]["gb_s"]
            log(f"   triad {triad:.1f} GB/s")
            for group, names in wanted.items():
                # never below the fallback: at the small sizes glibc keeps freed arrays of a few MB in its
                # heap and reuses them, so the measured peak there is low (arrays of 32 MB and more are mapped
                # and unmapped one by one: measured right from 4 M cells on)
                measured_per_cell, measured_at = peak_per_cell.get(group, (0.0, 0))
                fallback = suite.FALLBACK_PEAK_BYTES_PER_CELL[group]
                per_cell = measured_per_cell if measured_at >= 3.9e6 else max(measured_per_cell, fallback)
                need = per_cell * ny * nx * MEMORY_MARGIN
                avail = mem_available_bytes()
                mem = {"estimated_peak_gb": need / 1e9, "available_gb": (avail or 0) / 1e9,
                       "estimate_bytes_per_cell": per_cell,
                       "estimate_from": (f"measured at {measured_at / 1e6:g} M" if per_cell == measured_per_cell
                                         else "fallback (suite.FALLBACK_PEAK_BYTES_PER_CELL)")}
                if avail is not None and need > MEMORY_SHARE * avail:
                    mem["decision"] = (f"skipped: needs ~{need / 1e9:.1f} GB > {100 * MEMORY_SHARE:.0f} % of "
                                       f"{avail / 1e9:.1f} GB free")
                    entry["memory"][group] = mem
                    log(f"   {group}: {mem['decision']}")
                    for name in names:
                        report["kernels"].append({"kernel": name, "group": group, "size_m": size,
                                                  "cells": ny * nx, "skipped": f"memory: {mem['decision']}"})
                    continue
                log(f"   {group}: est. peak {need / 1e9:.2f} GB of {(avail or 0) / 1e9:.1f} GB free")
                peak = PeakRss()
                gen = suite.GROUP_CASES[group](n_target, names)
                while True:
                    try:
                        case = next(gen)
                    except StopIteration:
                        break
                    except Exception as exc:  # noqa: BLE001 - the set-up of one kernel broke the group
                        log(f"   {group}: set-up failed: {exc!r}")
                        break
                    if case.error:
                        row = {"kernel": case.name, "group": group, "size_m": size, "cells": ny * nx,
                               "error": case.error}
                    else:
                        try:
                            peak.take()
                            row = bench_case(case, size, index, args, triad, history, peak)
                        except Exception as exc:  # noqa: BLE001 - a broken kernel: report it, go on
                            row = {"kernel": case.name, "group": group, "size_m": size, "cells": case.cells,
                                   "error": f"failed: {type(exc).__name__}: {exc}"}
                    report["kernels"].append(row)
                    log(format_row(row))
                    del case
                del gen
                measured = peak.result_bytes()
                if measured:
                    mem["measured_peak_gb"] = measured / 1e9
                    peak_per_cell[group] = (measured / (ny * nx), ny * nx)
                mem["decision"] = (f"est. {need / 1e9:.2f} GB" + (f", measured {measured / 1e9:.2f} GB"
                                                                    if measured else "") + ", ran")
                entry["memory"][group] = mem
        c = bc.CONTENTION[-1] if bc.CONTENTION else None
        entry["others_cores"] = c["others_cores"] if c else None
        entry["disturbed"] = bc.disturbed(c)
        report["sizes"].append(entry)
    report["scaling"] = scaling_slopes(report["kernels"])
    if args.no_tiled:
        report["tiled"] = {"available": False, "note": "skipped (--no-tiled)"}
    else:
        with bc.section("dask tiled vs single array"):
            report["tiled"] = tiled_cases(sizes, args.kernels or [], args)
    log(f"tiled: {report['tiled'].get('note', 'ran')}")
    if not args.no_models:
        report["models"] = {}
        for name, fn in (("heat", bench_heat_model), ("water", bench_water_model)):
            log(f"{name} model at {model_res} m ...")
            try:
                with bc.section(f"{name} model"):
                    report["models"][name] = fn(model_res)
            except Exception as exc:  # noqa: BLE001 - report it, keep the kernels' results
                report["models"][name] = {"error": f"failed: {type(exc).__name__}: {exc}",
                                          "traceback": traceback.format_exc()}
                log(f"{name} model failed: {exc!r}")
    try:
        report["machine"]["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        report["machine"]["numba_threading_layer"] = "?"
    report["total_s"] = time.perf_counter() - t_start
    report["contention"] = bc.CONTENTION
    report["plot"] = str(png_path.relative_to(REPO)) if png_path.is_relative_to(REPO) else str(png_path)
    for p in (md_path, json_path, png_path):
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        plot(report, png_path)
        log(f"wrote {png_path}")
    except Exception as exc:  # noqa: BLE001
        report["plot"] = f"failed: {exc!r}"
        log(f"plot failed: {exc!r}")
    text = render(report)
    print(text)
    md_path.write_text(text, encoding="utf-8")
    log(f"wrote {md_path}")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, default=float)
    log(f"wrote {json_path}")


if __name__ == "__main__":
    main()

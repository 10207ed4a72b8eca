"""Peak memory of the heat and the water model on the bundled Harelbeke site, per grid cell.

Usage::

    python benchmarks/bench_memory.py [--model heat water] [--resolution 10 5] [--out PATH]
                                      [--water-stop-s S]

A script run on demand, never in the tests. Each (model, resolution) runs in a fresh child
process, so that its peak resident set (``ru_maxrss``) is its own:

1. the site is loaded (``load_site``; a 1 m site is built first if it is not cached: build it
   beforehand with ``heatsim site build --resolution 1``, the build's own peak would count);
   the resident set after loading is the baseline;
2. the model is set up and run as ``heatsim run`` runs it, its fields streamed to a temporary
   NetCDF file: heat = the hot day of ``benchmarks/scenarios/hot-day.yaml`` (1 spin-up + 1
   reported day, 600 s steps), hourly fields to ``hourly.nc``; water = the baseline
   scenario's storm (T=20, 2 h, then 1 h) and boundaries, depth snapshots to
   ``depth_snapshots.nc``;
3. reported: the peak resident set of the child, the baseline, and (peak - baseline) per
   grid cell, the number that scales a run to another resolution; wall times (disturbed by
   anything else running, for orientation only).

``--water-stop-s S`` stops the water model after S simulated seconds (a 1 m storm takes
hours): every array of the run is allocated at its start and the rain has touched every
cell after the first losses interval (30 s), so the peak of the first minutes is most of
the run's; the table says "stopped at S s" then, and the whole run's peak may be higher by
the arrays touched later (the flow's discharges where water moves).

The results go to stdout as a markdown table and to ``benchmarks/results/memory-<date>.md``
(``-2``, ... when it exists; ``--out`` overrides).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss_gib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class _Stop(Exception):
    pass


def child(model: str, resolution_m: float, water_stop_s: float | None = None) -> dict:
    """One model at one resolution, in this process; returns the measurements."""
    from heatsim.scenario import apply_scenario, load_scenario
    from heatsim.site.store import load_site

    scenario = load_scenario(ROOT / ("benchmarks/scenarios/hot-day.yaml" if model == "heat"
                                     else "scenarios/baseline.yaml"))
    site = load_site(scenario.site, resolution_m)
    site.load()
    site, _, _ = apply_scenario(site, scenario)
    gc.collect()  # as run_scenario does: the site before the scenario is held by a reference cycle
    cells = site.sizes["x"] * site.sizes["y"]
    loaded_gib, loaded_peak_gib = _rss_gib(), _peak_gib()
    out = {"model": model, "resolution_m": resolution_m, "grid_cells": cells, "site_loaded_gib": loaded_gib,
           "peak_while_loading_gib": loaded_peak_gib}
    with tempfile.TemporaryDirectory(prefix="heatsim-memory-") as folder:
        started = time.perf_counter()
        if model == "heat":
            from heatsim.heat.model import HeatModel
            from heatsim.heat.parameters import HeatParameters
            from heatsim.weather import load_heat_weather

            cfg = scenario.weather.heat
            weather = load_heat_weather(cfg.preset, days=cfg.days, spinup_days=cfg.spinup_days)
            m = HeatModel(site, scenario.table, weather, HeatParameters(time_step_s=float(cfg.time_step_s)))
            out["setup_s"] = time.perf_counter() - started
            out["simulated_cells"] = int(m.n)
            result = m.run(hourly_path=Path(folder) / "hourly.nc")
            result.fields.close()
        else:
            from heatsim.rain import load_storm
            from heatsim.water.model import WaterModel

            storm = load_storm(scenario.weather.storm, source=str(scenario.path))
            m = WaterModel(site, scenario.table, storm, scenario.water, source=str(scenario.path))
            out["setup_s"] = time.perf_counter() - started
            out["simulated_cells"] = cells
            def progress(t, total):
                if water_stop_s is not None and t >= water_stop_s:
                    raise _Stop

            try:
                result = m.run(progress=progress, snapshot_path=Path(folder) / "depth_snapshots.nc")
                result.snapshots.close()
            except _Stop:
                out["stopped_at_s"] = water_stop_s
        out["total_s"] = time.perf_counter() - started
    out["peak_gib"] = _peak_gib()
    out["above_site_b_per_cell"] = (out["peak_gib"] - loaded_gib) * 2**30 / cells
    return out


def main(argv=None) -> None:
    from bench_common import machine_header, machine_info, md_table, results_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=["heat", "water"], choices=["heat", "water"])
    parser.add_argument("--resolution", nargs="+", type=float, default=[10.0, 5.0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--water-stop-s", type=float, default=None,
                        help="stop the water model after this many simulated seconds (see above)")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "RESOLUTION"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], float(args.child[1]), args.water_stop_s)))
        return
    machine = machine_info()
    machine["loadavg_at_start"] = os.getloadavg()
    rows = []
    for model in args.model:
        for res in args.resolution:
            command = [sys.executable, __file__, "--child", model, f"{res:g}"]
            if args.water_stop_s is not None:
                command += ["--water-stop-s", str(args.water_stop_s)]
            proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{model} at {res:g} m failed (exit {proc.returncode})")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(json.dumps(r), flush=True)
            rows.append([model, f"{res:g}", f"{r['grid_cells'] / 1e6:.2f}", f"{r['simulated_cells'] / 1e6:.2f}",
                         f"{r['site_loaded_gib']:.2f}", f"{r['peak_while_loading_gib']:.2f}", f"{r['peak_gib']:.2f}",
                         f"{r['above_site_b_per_cell']:.0f}", f"{r['total_s']:.0f}"
                         + (f" (stopped at {r['stopped_at_s']:g} s simulated)" if "stopped_at_s" in r else "")])
    table = md_table(["model", "resolution [m]", "grid cells [M]", "simulated cells [M]", "site loaded [GiB]",
                      "peak while loading [GiB]", "peak [GiB]", "peak above the site [B per grid cell]",
                      "set-up + run [s]"], rows)
    text = "\n".join(["# Peak memory of the models (benchmarks/bench_memory.py)", "",
                      *machine_header(machine, "bench_memory"), "", table, ""])
    print(text)
    path = args.out or results_path("memory", time.strftime("%Y-%m-%d"))
    path.write_text(text, encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()

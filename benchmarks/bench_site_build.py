"""Time the schematic site build (rasterising vectors + terrain) at several resolutions.

Usage: python benchmarks/bench_site_build.py [RES ...]   (default 50 25 10 5)

Each resolution is built into a fresh temporary copy of the site definition,
so nothing is cached. Prints wall time and cells per second; compare numbers
within one run only (two-core machines drift by +-30% between runs).
"""

from __future__ import annotations

import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from heatsim.paths import inputs_dir
from heatsim.site.build import build_schematic_site
from heatsim.site.store import read_definition


def main(resolutions: list[float]) -> None:
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "harelbeke"
        shutil.copytree(inputs_dir() / "harelbeke", folder, ignore=shutil.ignore_patterns("build"))
        definition = read_definition(folder)
        print(f"{'resolution':>10} {'cells':>12} {'seconds':>8} {'cells/s':>12}")
        for res in resolutions:
            start = time.perf_counter()
            site = build_schematic_site(folder, definition, res)
            seconds = time.perf_counter() - start
            cells = site.sizes["x"] * site.sizes["y"]
            print(f"{res:>9g}m {cells:>12,d} {seconds:>8.2f} {cells / seconds:>12,.0f}")


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [50.0, 25.0, 10.0, 5.0])

"""What both benchmark scripts share: the machine's description, a STREAM-like triad for
the memory bandwidth measured in the same run, who else used the CPUs during a section,
grid shapes, markdown tables and the results file name."""

from __future__ import annotations

import math
import os
import platform
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np

TRIAD_N = 32 * 2**20  # 32 Mi float64 per array, 256 MiB each: far beyond any cache
TRIAD_BYTES_PER_ELEMENT = 24  # read b, read c, write a; write-allocate of a not counted (STREAM convention)


def blas_name() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - informative only
        return "unknown"


def machine_info() -> dict:
    cpu_model = platform.processor() or ""
    mem_gb = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_gb = round(int(line.split()[1]) / 2**20, 1)
                    break
    except OSError:
        pass
    caches = {}
    for index in range(8):
        folder = f"/sys/devices/system/cpu/cpu0/cache/index{index}"
        try:
            level, kind, size = (Path(folder, n).read_text().strip() for n in ("level", "type", "size"))
        except OSError:
            break
        caches[f"L{level} {kind}"] = size
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_gb": mem_gb,
        "caches_per_core_or_shared": caches,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numpy_blas": blas_name(),
        "env": {k: os.environ[k] for k in ("NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "NUMBA_CACHE_DIR",
                                           "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS")
                if k in os.environ},
    }


@numba.njit(parallel=True)
def _fill(a, value):
    for i in numba.prange(a.shape[0]):
        a[i] = value


@numba.njit(parallel=True)
def _triad(a, b, c, s):
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


class CpuMonitor:
    """Who used the CPUs over a section: this process (threads and waited-for children),
    everybody else, and the hypervisor (steal), in cores, from /proc/stat and /proc/self/stat
    (10 ms ticks: meaningful over sections of a second or more). Other processes on a
    two-core machine stall the second numba thread, so a section with others > ~0.2 cores
    is suspect."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            with open("/proc/self/stat") as f:
                s = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        busy = v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq (guest is in user)
        steal = v[7] if len(v) > 7 else 0
        ours = sum(int(x) for x in s[11:15])  # utime stime cutime cstime
        return time.perf_counter(), busy, steal, ours

    def __init__(self):
        self.start = self._snapshot()

    def result(self) -> dict | None:
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        d_busy, d_steal, d_ours = (end[k] - self.start[k] for k in (1, 2, 3))
        scale = 1.0 / (self.TICK * wall) if wall > 0 else 0.0
        return {"wall_s": wall, "ours_cores": d_ours * scale, "others_cores": max(d_busy - d_ours, 0) * scale,
                "steal_cores": d_steal * scale}


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.15) -> float:
    """Wait (in 1 s samples, at most ``max_wait_s``) until other processes use less than
    ``threshold_cores``; returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait_s:
        mon = CpuMonitor()
        time.sleep(1.0)
        r = mon.result()
        if r is None or r["others_cores"] < threshold_cores:
            break
    return time.perf_counter() - t0


def triad_bandwidth(n: int = TRIAD_N, repeats: int = 5) -> dict:
    """STREAM triad a = b + s*c, numba prange; arrays first touched in parallel."""
    a, b, c = np.empty(n), np.empty(n), np.empty(n)
    _fill(a, 0.0)
    _fill(b, 1.0)
    _fill(c, 2.0)
    _triad(a, b, c, 3.0)  # compile (not cached) and warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _triad(a, b, c, 3.0)
        times.append(time.perf_counter() - t0)
    assert a[0] == 7.0 and a[-1] == 7.0
    best = min(times)
    gb_s = TRIAD_BYTES_PER_ELEMENT * n / best / 1e9
    return {"elements": n, "array_mib": n * 8 / 2**20, "best_s": best, "times_s": times,
            "bytes_per_element": TRIAD_BYTES_PER_ELEMENT, "write_allocate_counted": False,
            "gb_s": gb_s, "gb_s_with_write_allocate": gb_s * 32 / 24}


def grid_shape(n_cells: int) -> tuple[int, int]:
    ny = max(1, int(math.sqrt(n_cells)))
    return ny, max(1, round(n_cells / ny))


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def results_path(kind: str, date: str) -> Path:
    """``benchmarks/results/<kind>-<date>.md``, or ``-2``, ``-3``, ... when it exists (never overwrite)."""
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{date}.md"
    k = 2
    while path.exists():
        path = folder / f"{kind}-{date}-{k}.md"
        k += 1
    return path


DISTURBED_CORES = 0.2  # other processes using more than this many cores disturb a section
CONTENTION: list = []  # one CpuMonitor result per section of the run, in order
SETTINGS = {"wait_quiet_s": 0.0}  # set from --wait-quiet by the script


def disturbed(contention: dict | None) -> bool:
    return (contention is not None and contention["others_cores"] > DISTURBED_CORES
            and contention["wall_s"] >= 1.0)


@contextmanager
def section(name: str):
    """Time a section of the run: wait for quiet first (``SETTINGS``), then record who else
    used the CPUs during it in ``CONTENTION``."""
    wait_s = SETTINGS["wait_quiet_s"]
    waited = wait_for_quiet(wait_s) if wait_s > 0 else 0.0
    mon = CpuMonitor()
    try:
        yield
    finally:
        r = mon.result()
        if r is not None:
            CONTENTION.append({"section": name, **r, "waited_for_quiet_s": waited})


def again_if_disturbed(attempt: int, retries: int, log, what: str) -> bool:
    """After a section: whether to run it again because other processes disturbed it (the last
    of ``CONTENTION``) and ``attempt`` < ``retries``; if so, marks it as repeated and says so."""
    last = CONTENTION[-1] if CONTENTION else None
    if not disturbed(last) or attempt == retries:
        return False
    last["section"] += " (disturbed: repeated)"
    log(f"others used {last['others_cores']:.2f} cores during {what}: running it again")
    return True


def machine_header(m: dict, script: str) -> list[str]:
    """The report lines that say on which machine a run was made (``m`` from :func:`machine_info`
    plus the load average at the start) and how to read its numbers."""
    return [f"Machine: {m['cpu_model']}, {m['cpus_usable']} usable CPUs, {m['memory_gb']} GB, "
            f"caches {', '.join(f'{k} {v}' for k, v in m['caches_per_core_or_shared'].items())}; "
            f"Python {m['python']}, NumPy {m['numpy']} ({m['numpy_blas']}), numba {m['numba']} "
            f"({m['numba_threads']} threads, {m.get('numba_threading_layer', '?')}); {m['platform']}. "
            f"Load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}. "
            f"Environment: {', '.join(f'{k}={v}' for k, v in m['env'].items()) or 'no thread settings'}.",
            "",
            f"All numbers from one run of `benchmarks/{script}.py`: compare them only with each other "
            "(ratios), not with another run or machine."]


def results_stem(kind: str, date: str, suffixes: tuple[str, ...] = (".md",)) -> Path:
    """``benchmarks/results/<kind>-<date>`` (no suffix), or ``-2``, ``-3``, ... when a file of
    that name with any of ``suffixes`` exists: one free name for a run's several files."""
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stem, k = folder / f"{kind}-{date}", 2
    while any(stem.with_name(stem.name + s).exists() for s in suffixes):
        stem, k = folder / f"{kind}-{date}-{k}", k + 1
    return stem

"""The kernel registry of ``run_all.py``: which kernels the suite times, on what input, and
how many bytes a call moves per cell. Imported, not run.

The kernels' set-ups and byte counts are not written here: they come from
``bench_heat.py`` (the synthetic town, ``Workload``, ``KERNEL_BYTES_PER_CELL``, the
twin limits) and ``bench_water.py`` (the synthetic ground, ``_call``,
``FLOW_BYTES_PER_CELL``), imported at run time. Only the kernels those scripts do not
time (the per-cell hydrology kernels, the flood maxima, ``flow_step_tracked``) get their
inputs and counts here (``SUITE_BYTES_PER_CELL``).

Each group is a generator ``cases(n_cells, wanted)`` that builds its input once per
grid size and yields one :class:`Case` per kernel, in order (a kernel may use the
outputs of the one before it, as in the model). A kernel that does not import, or whose
set-up fails (a renamed or fused kernel, a changed signature), yields a Case with
``error`` set: the suite reports it as "not available" and goes on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

F8 = 8

#: The heat kernels HeatModel.run() calls, in bench_heat's order (bench_heat.MODEL_USES)
HEAT_KERNELS = ["sunlit_fraction_cells", "sky_view_factor", "wall_direct_weight_cells", "surface_fluxes",
                "net_surface_flux", "conduct_column_types", "fluxes_at_new_state", "wall_fluxes",
                "air_temperature_step_serial"]
#: The water model's flow kernels (bench_water.PARTS), its tracked flow step and the maxima
WATER_KERNELS = ["face_fluxes", "limit_outflow", "update_depth", "flow_step", "flow_step_tracked",
                 "track_flood_maxima"]
#: The per-cell hydrology kernels of WaterModel.run() (culvert_transfer works on a few cells: not here)
HYDROLOGY_KERNELS = ["intercept", "depression_storage", "infiltrate_green_ampt", "sewer_inlets"]
GROUPS = {"heat": HEAT_KERNELS, "water": WATER_KERNELS, "hydrology": HYDROLOGY_KERNELS}

#: Bytes per cell for the kernels bench_heat / bench_water do not count, by the same
#: conventions: every array a call reads or writes counted once (neighbour re-reads from
#: cache), write-allocate NOT counted.
SUITE_BYTES_PER_CELL = {
    # flow_step (bench_water's count) plus the maxima in the continuity sweep, every maximum
    # rising (the suite zeroes them before each call): reads max_depth, max_speed (2 x 8), the
    # skip mask (uint8, 1); writes max_depth, time_of_max, max_speed (3 x 8)
    "flow_step_tracked+": 2 * F8 + 1 + 3 * F8,
    # reads depth (8) and both faces of qx and qy (each face row once: 2 x 8), max_depth,
    # max_speed (2 x 8); writes max_depth, time_of_max, max_speed (3 x 8): every maximum rising
    "track_flood_maxima": F8 + 2 * F8 + 2 * F8 + 3 * F8,
    # reads rain, canopy share, capacity, canopy store, intercepted total (5 x 8);
    # writes canopy store, intercepted total, throughfall (3 x 8)
    "intercept": 5 * F8 + 3 * F8,
    # reads water in, capacity, store, free water, total (5 x 8); writes store, free water, total (3 x 8)
    "depression_storage": 5 * F8 + 3 * F8,
    # every cell wet: reads kind (int8, 1), free water, depression store, impervious share, K, suction,
    # deficit, infiltrated, total (8 x 8; the cap and the substrate capacity are read only by their
    # kinds, 10 % of the cells: not counted); writes free water, store, infiltrated, total (4 x 8)
    "infiltrate_green_ampt": 1 + 8 * F8 + 4 * F8,
    # reads depth, connected share, capacity, total (4 x 8); writes depth, total (2 x 8)
    "sewer_inlets": 4 * F8 + 2 * F8,
}


@dataclass
class Case:
    """One kernel on one input: ``call()`` runs it once (the timed part), ``restore()``
    (untimed, before each call) resets the state an in-place kernel changed, ``twin()``
    runs its NumPy twin on the same input (fresh outputs, the kernel's state untouched)."""

    name: str
    group: str
    cells: int = 0
    grid_cells: int = 0
    bytes_per_cell: float | None = None
    bytes_source: str = ""
    call: Callable | None = None
    restore: Callable | None = None
    twin: Callable | None = None
    twin_restore: Callable | None = None
    #: the twin ran on another (smaller) input: dict(cells, best_s, cells_per_s, kernel_cells_per_s)
    twin_small: Callable | None = None
    model_uses: bool = True
    note: str = ""
    error: str | None = None
    extra: dict = field(default_factory=dict)


def unavailable(name: str, group: str, exc: BaseException | str) -> Case:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Case(name=name, group=group, error=f"not available ({text})")


# ---------------------------------------------------------------------- heat (bench_heat)
#: Workload caches to free after a kernel (as bench_heat._bench_size does): memory at 16 M cells
HEAT_DROP_AFTER = {"sunlit_fraction_cells": ("sunlit_cells",), "wall_direct_weight_cells": ("wall_direct",),
                   "surface_fluxes": ("temps",),
                   "fluxes_at_new_state": ("type_columns", "net_flux"), "wall_fluxes": ("walls", "facades"),
                   "air_temperature_step_serial": ("air",)}


def heat_cases(n_cells: int, wanted: list[str]):
    try:
        import bench_heat as bh
    except Exception as exc:  # noqa: BLE001 - any failure: every heat kernel unavailable
        for name in wanted:
            yield unavailable(name, "heat", exc)
        return
    work = bh.Workload(bh.make_town(n_cells))
    twin_small_cache: dict = {}
    for name in wanted:
        try:
            kernel, twin, method = bh.KERNELS[name]
            args, kwargs = method(work)
            cells = bh.KERNEL_CELLS[name](work) if name in bh.KERNEL_CELLS else work.n
            bytes_per_cell = bh.KERNEL_BYTES_PER_CELL[name]
        except Exception as exc:  # noqa: BLE001
            yield unavailable(name, "heat", exc)
            continue
        case = Case(name=name, group="heat", cells=cells, grid_cells=work.n, bytes_per_cell=bytes_per_cell,
                    bytes_source="bench_heat.KERNEL_BYTES_PER_CELL", model_uses=name in bh.MODEL_USES,
                    call=lambda k=kernel, a=args, kw=kwargs: k(*a, **kw))
        limit = bh.TWIN_LIMIT_CELLS.get(name, 0)
        if work.n <= limit:
            fn, targs, tkw = bh._twin_call(name, twin, args, kwargs)
            case.twin = lambda f=fn, a=targs, kw=tkw: f(*a, **kw)
        else:
            def small(name=name, limit=limit):
                if name not in twin_small_cache:
                    twin_small_cache[name] = bh.bench_twin_small(name, limit)
                return twin_small_cache[name]
            case.twin_small = small
            case.extra["twin_note"] = f"twin on a {limit:,}-cell town (bench_heat.TWIN_LIMIT_CELLS)"
        if name == "wall_fluxes":
            case.note = "the town's wall cells only"
        yield case
        for key in HEAT_DROP_AFTER.get(name, ()):
            work.drop(key)
    del work


# ---------------------------------------------------------------------- water (bench_water)
def water_cases(n_cells: int, wanted: list[str]):
    try:
        import bench_water as bw
    except Exception as exc:  # noqa: BLE001
        for name in wanted:
            yield unavailable(name, "water", exc)
        return
    try:
        from heatsim.kernels.overland_flow import DEFAULT_ALPHA, stable_time_step_s
        g = bw.make_ground(n_cells)
        ny, nx = g["shape"]
        n = g["cells"]
        dt = stable_time_step_s(g["depth"], cell_size_m=bw.CELL_M, alpha=DEFAULT_ALPHA, dt_max_s=10.0)
        s = {"depth": g["depth"].copy(), "qx": np.zeros((ny, nx + 1)), "qy": np.zeros((ny + 1, nx)),
             "qy_work": np.zeros((ny + 1, nx)), "scale": np.zeros((ny, nx)), "rows": np.zeros(ny)}
        # the state: two flow steps from rest, so the faces carry discharges (as bench_water.bench_size)
        bw._call("flow_step", False, g, s, dt)
        bw._call("flow_step", False, g, s, dt)
    except Exception as exc:  # noqa: BLE001
        for name in wanted:
            yield unavailable(name, "water", exc)
        return
    state_keys = ("depth", "qx", "qy")
    s0 = {k: s[k].copy() for k in state_keys}
    #: the parts before a part, run (untimed) from s0 to give its start state: no saved copies of
    #: the intermediate states (64 M cells: 1.5 GB each)
    before = {"limit_outflow": ("face_fluxes",), "update_depth": ("face_fluxes", "limit_outflow")}
    twin_state: dict = {}

    def restorer(state, start, parts=(), twin=False):
        def restore():
            for k in state_keys:
                np.copyto(state[k], start[k])
            for part in parts:
                bw._call(part, twin, g, state, dt)
        return restore

    def twin_arrays():
        if not twin_state:
            twin_state.update({k: np.empty_like(v) for k, v in s.items()})
        return twin_state

    maxima: dict = {}

    def maxima_arrays(twin=False):
        key = "twin" if twin else "kernel"
        if key not in maxima:
            maxima[key] = {k: np.zeros((ny, nx)) for k in ("max_depth_m", "time_of_max_s", "max_speed_m_s")}
        return maxima[key]

    def maxima_restorer(state, start, arrays):
        base = restorer(state, start)

        def restore():
            base()
            for a in arrays.values():
                a.fill(0.0)
        return restore

    for name in wanted:
        try:
            if name in bw.PARTS:
                b = bw.FLOW_BYTES_PER_CELL[name]
                case = Case(name=name, group="water", cells=n, grid_cells=n, bytes_per_cell=b,
                            bytes_source="bench_water.FLOW_BYTES_PER_CELL",
                            call=lambda name=name: bw._call(name, False, g, s, dt),
                            restore=restorer(s, s0, before.get(name, ())),
                            twin=lambda name=name: bw._call(name, True, g, twin_arrays(), dt),
                            twin_restore=lambda name=name: restorer(twin_arrays(), s0, before.get(name, ()), True)())
                case.model_uses = False  # the model calls flow_step_tracked
                if name == "flow_step":
                    case.extra["min_bytes_per_cell"] = bw.FLOW_STEP_MIN_BYTES_PER_CELL
            elif name == "flow_step_tracked":
                from heatsim.kernels.overland_flow import flow_step_tracked, flow_step_tracked_numpy

                common = dict(cell_size_m=bw.CELL_M, dt_s=dt, open_edges=True, time_s=60.0, speed_min_depth_m=0.01)

                def tracked(fn, st, mx):
                    return fn(g["bed"], st["depth"], g["manning"], g["blocked"], st["qx"], st["qy"],
                              qy_work=st["qy_work"], scale_work=st["scale"], row_outflow_m3=st["rows"], **common, **mx)

                b = bw.FLOW_BYTES_PER_CELL["flow_step"] + SUITE_BYTES_PER_CELL["flow_step_tracked+"]
                case = Case(name=name, group="water", cells=n, grid_cells=n, bytes_per_cell=b,
                            bytes_source="bench_water flow_step + suite (maxima)",
                            call=lambda: tracked(flow_step_tracked, s, maxima_arrays()),
                            restore=maxima_restorer(s, s0, maxima_arrays()),
                            twin=lambda: tracked(flow_step_tracked_numpy, twin_arrays(), maxima_arrays(True)),
                            twin_restore=lambda: maxima_restorer(twin_arrays(), s0, maxima_arrays(True))(),
                            note="maxima every cell, all rising; no FlowTiles (every tile computed)")
            elif name == "track_flood_maxima":
                from heatsim.kernels.flood_maxima import track_flood_maxima, track_flood_maxima_numpy

                def maxima_call(fn, st, mx):
                    return fn(st["depth"], st["qx"], st["qy"], 60.0, min_depth_m=0.01, **mx)

                case = Case(name=name, group="water", cells=n, grid_cells=n,
                            bytes_per_cell=SUITE_BYTES_PER_CELL[name], bytes_source="suite",
                            call=lambda: maxima_call(track_flood_maxima, s, maxima_arrays()),
                            restore=maxima_restorer(s, s0, maxima_arrays()),
                            twin=lambda: maxima_call(track_flood_maxima_numpy, twin_arrays(), maxima_arrays(True)),
                            twin_restore=lambda: maxima_restorer(twin_arrays(), s0, maxima_arrays(True))(),
                            model_uses=False, note="all maxima rising; the model runs it inside flow_step_tracked")
            else:
                case = unavailable(name, "water", f"not in bench_water.PARTS {bw.PARTS}")
        except Exception as exc:  # noqa: BLE001
            case = unavailable(name, "water", exc)
        yield case


# ---------------------------------------------------------------------- hydrology (suite inputs)
HYDRO_SEED = 20240625


def hydrology_inputs(n: int, keys) -> dict:
    """Seeded per-cell inputs of the hydrology kernels (only ``keys``: one kernel's at a time, for
    memory), as WaterModel.run() holds them in mm: 60 % site soil, 25 % sealed (none), 5 % capped
    paving, 5 % green-roof substrate, 5 % open water; every cell wet (free water 0-20 mm), so
    every kernel does its full work. Each array has its own seed: the same values whatever is asked."""
    from heatsim.kernels.hydrology import INF_CAPPED, INF_NONE, INF_OPEN_WATER, INF_SITE_SOIL, INF_SUBSTRATE

    kinds = np.array([INF_SITE_SOIL, INF_NONE, INF_CAPPED, INF_SUBSTRATE, INF_OPEN_WATER], dtype=np.int8)
    builders = {
        "kind": lambda r: r.choice(kinds, n, p=[0.60, 0.25, 0.05, 0.05, 0.05]).astype(np.int8),
        "impervious": lambda r: r.uniform(0.0, 0.6, n), "conductivity": lambda r: r.uniform(1.0, 30.0, n),
        "suction": lambda r: r.uniform(50.0, 300.0, n), "deficit": lambda r: r.uniform(0.1, 0.4, n),
        "cap": lambda r: np.full(n, 100.0), "substrate": lambda r: np.full(n, 30.0),
        "free": lambda r: r.uniform(0.0, 20.0, n), "depression": lambda r: r.uniform(0.0, 2.0, n),
        "infiltrated": lambda r: r.uniform(0.1, 20.0, n), "infiltrated_total": lambda r: r.uniform(0.1, 20.0, n),
        "rain": lambda r: np.full(n, 1.5), "canopy": lambda r: r.uniform(0.0, 1.0, n),
        "interception_capacity": lambda r: r.uniform(0.0, 2.0, n), "canopy_store": lambda r: r.uniform(0.0, 1.0, n),
        "intercepted_total": lambda r: r.uniform(0.0, 1.0, n), "throughfall": lambda r: np.zeros(n),
        "depression_capacity": lambda r: r.uniform(0.0, 2.0, n), "depression_total": lambda r: r.uniform(0.0, 2.0, n),
        "connected": lambda r: r.uniform(0.0, 1.0, n), "sewer_rate": lambda r: np.full(n, 20.0),
        "sewer_total": lambda r: r.uniform(0.0, 5.0, n),
    }
    names = list(builders)
    return {k: builders[k](np.random.default_rng([HYDRO_SEED, names.index(k)])) for k in keys}


#: kernel -> (its input arrays, the state it changes, a function (kernel, arrays) -> one call)
HYDRO_INPUTS = {
    "intercept": ("rain", "canopy", "interception_capacity", "canopy_store", "intercepted_total", "throughfall"),
    "depression_storage": ("rain", "depression_capacity", "depression", "free", "depression_total"),
    "infiltrate_green_ampt": ("kind", "impervious", "conductivity", "suction", "deficit", "cap", "substrate", "free",
                              "depression", "infiltrated", "infiltrated_total"),
    "sewer_inlets": ("free", "connected", "sewer_rate", "sewer_total"),
}
HYDRO_CALLS = {
    "intercept": (("canopy_store", "intercepted_total", "throughfall"),
                  lambda f, a: f(a["rain"], a["canopy"], a["interception_capacity"], a["canopy_store"],
                                 a["intercepted_total"], a["throughfall"])),
    "depression_storage": (("depression", "free", "depression_total"),
                           lambda f, a: f(a["rain"], a["depression_capacity"], a["depression"], a["free"],
                                          a["depression_total"])),
    "infiltrate_green_ampt": (("free", "depression", "infiltrated", "infiltrated_total"),
                              lambda f, a: f(a["kind"], a["impervious"], a["conductivity"], a["suction"],
                                             a["deficit"], a["cap"], a["substrate"], a["free"], a["depression"],
                                             a["infiltrated"], a["infiltrated_total"], dt_s=60.0)),
    "sewer_inlets": (("free", "sewer_total"),
                     lambda f, a: f(a["free"], a["connected"], a["sewer_rate"], 60.0, a["sewer_total"])),
}


def hydrology_cases(n_cells: int, wanted: list[str]):
    try:
        import heatsim.kernels.hydrology as hydro
        from bench_common import grid_shape

        ny, nx = grid_shape(n_cells)
        n = ny * nx  # the same cell count as the 2-D groups' grid of this size
    except Exception as exc:  # noqa: BLE001
        for name in wanted:
            yield unavailable(name, "hydrology", exc)
        return
    for name in wanted:
        try:
            kernel, twin = getattr(hydro, name), getattr(hydro, f"{name}_numpy")
            changed, call = HYDRO_CALLS[name]
            a = hydrology_inputs(n, HYDRO_INPUTS[name])
            start = {k: a[k].copy() for k in changed}
            twin_a = dict(a)
            twin_a.update({k: np.empty_like(a[k]) for k in changed})

            def restorer(arrays, start=start):
                def restore():
                    for k, v in start.items():
                        np.copyto(arrays[k], v)
                return restore

            case = Case(name=name, group="hydrology", cells=n, grid_cells=n,
                        bytes_per_cell=SUITE_BYTES_PER_CELL[name], bytes_source="suite",
                        call=lambda k=kernel, c=call, a=a: c(k, a), restore=restorer(a),
                        twin=lambda t=twin, c=call, ta=twin_a: c(t, ta), twin_restore=restorer(twin_a))
        except Exception as exc:  # noqa: BLE001
            case = unavailable(name, "hydrology", exc)
        yield case
        del case, a, start, twin_a


GROUP_CASES = {"heat": heat_cases, "water": water_cases, "hydrology": hydrology_cases}
#: Resident bytes per cell of each group while it runs (its arrays counted from the code, with the
#: transients of the set-up), for the memory check until the suite has measured the group's peak
#: at 4 M cells or more (run_all.py: below that the measured peak is too low)
FALLBACK_PEAK_BYTES_PER_CELL = {"heat": 650, "water": 250, "hydrology": 160}

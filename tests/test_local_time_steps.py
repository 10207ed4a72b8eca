"""Two-level local time stepping of the overland flow (heatsim.kernels.local_steps and
WaterParameters.local_time_step_ratio): the kernels against their twins on several fast
regions, mass and positivity, the lake at rest, ratio 1 = the global scheme, and LTS against
the global scheme on the bundled baseline."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_site, tiny_arrays, tiny_grid
from test_kernels_overland_flow import random_grid, serial

from heatsim.kernels.local_steps import (FAST, RIM, SLOW, _count_above, build_region, build_region_numpy, choose_ratio,
                                         fast_substeps, nearby_depth, fast_substeps_numpy,
                                         limit_slow_faces, limit_slow_faces_numpy, local_step, region_from_mask,
                                         region_work, slow_continuity, slow_continuity_numpy, slow_fluxes,
                                         slow_fluxes_numpy, step_sizes)
from heatsim.kernels.overland_flow import DEFAULT_ALPHA, DEFAULT_THETA, GRAVITY_M_S2
from heatsim.landcover import default_table
from heatsim.paths import scenarios_dir
from heatsim.rain import Hyetograph, load_storm
from heatsim.scenario import apply_scenario, load_scenario
from heatsim.scenario.loader import WaterBoundaries
from heatsim.scenario.schema import WaterSetup
from heatsim.water.model import WaterModel
from heatsim.water.parameters import WaterParameters

SCHEME = dict(theta=DEFAULT_THETA, h_min_flow_m=1e-3, froude_max=1.0, implicit_friction=True)
DX = 5.0


def fast_masks(ny, nx, blocked):
    """Fast regions of several shapes: a band through the middle, a corner block touching
    the west and north edges, a block around the buildings (walls inside and on its rim),
    the whole grid, none, and a random scatter."""
    rng = np.random.default_rng(7)
    band = np.zeros((ny, nx), bool)
    band[ny // 2 - 2:ny // 2 + 2, 3:nx - 3] = True
    corner = np.zeros((ny, nx), bool)
    corner[:6, :8] = True
    walls = np.zeros((ny, nx), bool)
    walls[2:ny - 2, 2:nx - 2] = True
    walls &= np.asarray(blocked, bool) | (rng.random((ny, nx)) < 0.5)
    return {"band": band, "corner": corner, "walls": walls, "all": np.ones((ny, nx), bool),
            "none": np.zeros((ny, nx), bool), "scatter": rng.random((ny, nx)) < 0.3}


def cases():
    for seed in (0, 1):
        for name in ("band", "corner", "walls", "all", "none", "scatter"):
            yield seed, name


def state(seed, ny=16, nx=21):
    bed, depth, manning, blocked, qx, qy = random_grid(seed, ny, nx)
    return bed, depth, manning, blocked, qx, qy


def maxima(shape, rng):
    return [rng.uniform(0.0, 0.2, shape), rng.uniform(0.0, 5.0, shape), rng.uniform(0.0, 0.5, shape)]


@pytest.mark.parametrize(("seed", "name"), list(cases()))
def test_each_kernel_equals_its_twin(seed, name):
    bed, depth, manning, blocked, qx, qy = state(seed)
    ny, nx = depth.shape
    reg = region_from_mask(fast_masks(ny, nx, blocked)[name], blocked)
    assert not (reg.region != SLOW)[blocked == 1].any()
    open_edges = seed == 1
    dt_s, n_sub = 1.2, 3
    runs = []
    for numba_kernels in (True, False):
        d, x, y = depth.copy(), qx.copy(), qy.copy()
        scale = np.full((ny, nx), -1.0)
        work = region_work(reg)
        rng = np.random.default_rng(3)
        track = maxima((ny, nx), rng)
        skip = (rng.random((ny, nx)) < 0.1).astype(np.uint8)
        # inflows: one into the fast region when it has cells, one into an open cell outside it if any
        open_cells = np.argwhere((blocked == 0) & (reg.region == SLOW))
        sources = [reg.cells[0]] if reg.size else []
        sources += [open_cells[len(open_cells) // 2]] if len(open_cells) else []
        sources = np.array(sources, dtype=np.int64).reshape(-1, 2)
        assert len(sources)
        source_depth = np.linspace(0.2, 0.5, len(sources))
        # after every sub-step: a culvert from a fast cell to an open cell, a held fast cell,
        # and their maxima (when the region has cells enough)
        flat = lambda rc: np.ravel_multi_index(np.asarray(rc).T, (ny, nx)).astype(np.int64)  # noqa: E731
        late = dict(culvert_in=np.zeros(0, np.int64), culvert_out=np.zeros(0, np.int64), capacity=np.zeros(0),
                    held_index=np.zeros(0, np.int64), held_depth=np.zeros(0), late_cells=np.zeros(0, np.int64))
        if reg.size > 2 and len(open_cells) and (depth[reg.cells[:, 0], reg.cells[:, 1]] > 0.05).any():
            lowest = open_cells[np.argmin((bed + depth)[open_cells[:, 0], open_cells[:, 1]])]  # downhill pipe
            wet_fast = reg.cells[depth[reg.cells[:, 0], reg.cells[:, 1]] > 0.05]
            highest = wet_fast[np.argmax((bed + depth)[wet_fast[:, 0], wet_fast[:, 1]])]
            late.update(culvert_in=flat(highest[None]), culvert_out=flat(lowest[None]), capacity=np.array([0.8]),
                        held_index=flat(reg.cells[reg.size // 2:reg.size // 2 + 1]), held_depth=np.array([0.05]))
            late["late_cells"] = np.concatenate([late["culvert_in"], late["held_index"]])
        volumes = np.zeros(3)
        fluxes = slow_fluxes if numba_kernels else slow_fluxes_numpy
        fluxes(bed, d, manning, blocked, x, y, reg.region, reg, cell_size_m=DX, dt_s=dt_s, open_edges=open_edges,
               qy_work=np.zeros((ny + 1, nx)), scale_work=scale, saved_x=work["saved_x"], saved_y=work["saved_y"],
               **SCHEME)
        after_fluxes = (x.copy(), y.copy(), scale.copy())
        (limit_slow_faces if numba_kernels else limit_slow_faces_numpy)(x, y, scale)
        after_limit = (x.copy(), y.copy())
        fast = fast_substeps if numba_kernels else fast_substeps_numpy
        fast_out = fast(bed, d, manning, blocked, x, y, reg.region, reg.cells, reg.fast_x, reg.fast_y, reg.edge_x,
                        reg.edge_y, reg.iface_x, reg.iface_y, work["q_ix"], work["q_iy"], work["acc_x"],
                        work["acc_y"], work["new_x"], work["new_y"], scale, n_sub, dt_s / n_sub, dt_s, DX,
                        SCHEME["theta"], SCHEME["h_min_flow_m"], SCHEME["froude_max"], SCHEME["implicit_friction"],
                        open_edges, True, 10.0, 10.0 + dt_s, 0.01, *track, skip, sources, source_depth,
                        d.reshape(-1), bed.reshape(-1), late["culvert_in"], late["culvert_out"], late["capacity"],
                        late["held_index"], late["held_depth"], late["late_cells"], DX * DX, volumes)
        after_fast = (d.copy(), x.copy(), y.copy(), *[a.copy() for a in track], volumes.copy())
        cont = slow_continuity if numba_kernels else slow_continuity_numpy
        rows = np.zeros(ny)
        slow_out = cont(d, x, y, reg.region, cell_size_m=DX, dt_s=dt_s, row_outflow_m3=rows, track=True,
                        time_s=10.0 + dt_s, min_depth_m=0.01, max_depth_m=track[0], time_of_max_s=track[1],
                        max_speed_m_s=track[2], skip_maxima=skip)
        runs.append((after_fluxes, after_limit, after_fast, fast_out, slow_out, (d, x, y, *track, rows)))
    for part_numba, part_numpy in zip(*runs):
        for a, b in zip(part_numba, part_numpy):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    d = runs[0][-1][0]
    assert d.min() >= 0.0
    # nothing was created or lost: the water and the sources moved, the held cell gave up or
    # was given water, the rest left through the edges
    edge = runs[0][3][0] + runs[0][4][0]
    held_out, held_in = volumes[1], volumes[2]
    before = (depth.sum() + source_depth.sum()) * DX * DX + held_in
    assert abs(d.sum() * DX * DX + edge + held_out - before) < 1e-12 * before
    if late["culvert_in"].size:
        assert volumes[0] > 0.0  # the culvert carried water
    if not open_edges:
        assert edge == 0.0


def lts_run(bed, depth, manning, blocked, *, ratio, steps, open_edges, numpy=False, each_step=None):
    """``steps`` slow steps of the adaptive two-level scheme, the region chosen again every 10."""
    ny, nx = depth.shape
    depth = depth.copy()
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    w = dict(qy_work=np.zeros((ny + 1, nx)), scale_work=np.zeros((ny, nx)), row_outflow_m3=np.zeros(ny))
    outflow, subs = 0.0, 0
    with serial():
        for k in range(steps):
            if k % 10 == 0:
                reg = build_region(depth, blocked, ratio)
                work = region_work(reg)
                h_fast = float(depth.max(where=reg.region != SLOW, initial=0.0))
                h_slow = float(depth.max(where=reg.region != FAST, initial=0.0))
            dt, n, _ = step_sizes(h_fast, h_slow, cell_size_m=DX, alpha=DEFAULT_ALPHA, ratio=ratio, dt_limit_s=10.0)
            edge, h_fast, h_slow = local_step(bed, depth, manning, blocked, qx, qy, reg, work, cell_size_m=DX, dt_s=dt,
                                              n_sub=n, open_edges=open_edges, numpy=numpy, **SCHEME, **w)
            outflow += edge
            subs += n
            if each_step is not None:
                each_step(depth, reg)
    return depth, qx, qy, outflow, subs


@pytest.mark.parametrize("open_edges", [False, True])
def test_a_channel_takes_sub_steps_keeps_its_mass_and_never_goes_negative(open_edges):
    """A deep channel (1.5 m) through shallow, rough, built-up ground with random
    depths: the fast region is the channel and two cells around it; 60 slow steps of the
    numba chain equal those of the twins, no depth is ever negative, mass closes."""
    bed, depth, manning, blocked, _, _ = random_grid(5, 24, 30)
    depth *= 0.1
    channel = np.zeros(depth.shape, bool)
    channel[10:13, :] = True
    bed[channel] -= 1.5
    blocked[channel] = 0
    depth[channel] += 1.5
    depth[blocked == 1] = 0.0

    def check(d, reg):
        assert d.min() >= 0.0
        assert reg.region[channel].all() and (reg.region == RIM).any()

    runs = [lts_run(bed, depth, manning, blocked, ratio=4, steps=60, open_edges=open_edges, numpy=numpy,
                    each_step=check) for numpy in (False, True)]
    final, qx, qy, outflow, subs = runs[0]
    assert subs > 2 * 60  # the channel took several sub-steps per step
    for a, b in zip(runs[0][:4], runs[1][:4]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    total = depth.sum() * DX * DX
    assert abs(final.sum() * DX * DX + outflow - total) < 1e-13 * total
    assert (outflow > 0.0) == open_edges


@pytest.mark.parametrize("ratio", [2, 4, 8])
def test_the_lake_at_rest_stays_at_rest_with_local_steps(ratio):
    """The well-balanced lake of test_kernels_overland_flow (bumps below a flat level,
    dry islands, buildings; open edges, a dry rim): deep and shallow parts in different
    regions, 300 slow steps, nothing moves."""
    rng = np.random.default_rng(21)
    ny, nx = 30, 40
    rows, cols = np.mgrid[0:ny, 0:nx]
    bed = 0.6 + 0.1 * rng.standard_normal((ny, nx))
    for _ in range(6):  # islands
        r0, c0 = rng.uniform(0, ny), rng.uniform(0, nx)
        bed += 0.8 * np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / 8.0)
    bed[:8, :10] -= 0.8  # a deep hole: the fast region
    bed[[0, -1], :] = bed[:, [0, -1]] = 1.5
    level = 1.0
    blocked = (rng.random((ny, nx)) < 0.03).astype(np.uint8)
    depth = np.where(blocked == 1, 0.0, np.maximum(level - bed, 0.0))
    manning = rng.uniform(0.0, 0.05, (ny, nx))
    regions = []
    final, qx, qy, outflow, subs = lts_run(bed, depth, manning, blocked, ratio=ratio, steps=300, open_edges=True,
                                           each_step=lambda d, reg: regions.append(reg.size))
    assert 0 < min(regions) and max(regions) < (blocked == 0).sum()  # two regions, really
    assert subs > 300
    assert max(np.abs(qx).max(), np.abs(qy).max()) < 1e-10
    wet = depth > 0
    assert np.abs((bed + final)[wet] - level).max() < 1e-10
    assert np.abs(final - depth).max() < 1e-10
    assert outflow == 0.0


def test_step_sizes():
    # a 1.6 m channel, 0.1 m elsewhere: 4 sub-steps of the channel's CFL step
    dt_s, n, dt_f = step_sizes(1.6, 0.1, cell_size_m=5.0, alpha=0.5, ratio=4, dt_limit_s=10.0)
    cfl = 0.5 * 5.0 / np.sqrt(9.80665 * 1.6)
    assert n == 4 and dt_s == pytest.approx(4 * cfl) and dt_f == pytest.approx(cfl)
    # the slow region's own limit, then dt_max, then a dry fast region
    dt_s, n, _ = step_sizes(1.6, 0.5, cell_size_m=5.0, alpha=0.5, ratio=8, dt_limit_s=10.0)
    assert dt_s == pytest.approx(0.5 * 5.0 / np.sqrt(9.80665 * 0.5)) and n == 2
    assert step_sizes(0.0, 0.0, cell_size_m=5.0, alpha=0.5, ratio=4, dt_limit_s=10.0) == (10.0, 1, 10.0)
    assert step_sizes(1.6, 0.0, cell_size_m=5.0, alpha=0.5, ratio=4, dt_limit_s=0.1) == (0.1, 1, 0.1)


def test_the_ratio_must_be_a_small_integer():
    for bad in (0, 2.0, True, 100):
        with pytest.raises(ValueError):
            WaterParameters(local_time_step_ratio=bad)


# --------------------------------------------------------------------------- the water model


def tiny_storm_run(monkeypatch=None, time_stepping="local", **params):
    t = default_table()
    site = make_site(tiny_arrays(), tiny_grid())
    rain = Hyetograph(times_s=np.arange(6) * 300.0, intensity_mm_h=np.array([20.0, 60.0, 120.0, 90.0, 40.0, 10.0]),
                      end_s=1800.0, name="test", source="test")
    bounds = WaterBoundaries(WaterSetup(edge="open", after_storm_h=0.25, time_stepping=time_stepping), None)
    return WaterModel(site, t, rain, bounds, WaterParameters(**params)).run()


def test_the_default_is_local_time_stepping():
    result = tiny_storm_run()
    assert result.local_steps["sub_steps"] > result.steps
    assert result.local_steps["ratios"] and max(result.local_steps["ratios"]) <= WaterParameters().local_time_step_ratio


def test_ratio_1_and_global_time_stepping_run_the_global_scheme_unchanged(monkeypatch):
    """local_time_step_ratio = 1 and the scenario's ``time_stepping: global`` never touch the
    local-step code and give the same results, bit for bit."""
    import heatsim.water.model as model_module

    def forbidden(*a, **k):
        raise AssertionError("local-step code called at ratio 1")

    for name in ("nearby_depth", "choose_ratio", "region_above", "local_step", "step_sizes", "region_work"):
        monkeypatch.setattr(model_module, name, forbidden)
    default = tiny_storm_run(time_stepping="global")
    one = tiny_storm_run(local_time_step_ratio=1)
    assert one.steps == default.steps and one.local_steps == {} == default.local_steps
    for name in ("max_depth_m", "max_speed_m_s", "time_of_max_depth_s", "infiltrated_mm", "depression_mm"):
        np.testing.assert_array_equal(getattr(one, name), getattr(default, name))
    np.testing.assert_array_equal(one.snapshots["depth"].values, default.snapshots["depth"].values)
    np.testing.assert_array_equal(one.hydrographs.values, default.hydrographs.values)
    assert one.ledger == default.ledger


def no_negative_depths(monkeypatch):
    """Check every local step of the water model for negative depths; returns the count."""
    import heatsim.water.model as model_module

    calls = {"n": 0}
    original = model_module.local_step

    def checked(bed, depth, *a, **k):
        out = original(bed, depth, *a, **k)
        assert depth.min() >= 0.0
        calls["n"] += 1
        return out

    monkeypatch.setattr(model_module, "local_step", checked)
    return calls


def test_the_tiny_site_with_local_steps_closes_its_mass(monkeypatch):
    calls = no_negative_depths(monkeypatch)
    result = tiny_storm_run(local_time_step_ratio=4)
    assert calls["n"] == result.steps > 100
    assert result.local_steps["sub_steps"] > result.steps and result.local_steps["fast_cells_max"] > 0
    assert abs(result.ledger.error_rel) < 1e-12
    assert result.ledger.edge_outflow_m3 > 0.0
    assert np.nanmin(result.snapshots["depth"].values) >= 0.0


def baseline(site_50m=None, resolution=None, preset=None):
    scenario = load_scenario(scenarios_dir() / "baseline.yaml")
    if site_50m is None:
        from heatsim.site.store import load_site

        site_50m = load_site(scenario.site, resolution)
    site, _, _ = apply_scenario(site_50m, scenario)
    spec = scenario.weather.storm if preset is None else scenario.weather.storm.model_copy(update={"preset": preset})
    return scenario, site, load_storm(spec)


def test_the_baseline_at_50m_with_local_steps_closes_its_mass(harelbeke_50m, monkeypatch):
    """The bundled baseline (held Leie, Gaverbeek inflow and culverts) at 50 m, T=2 storm, m = 4."""
    calls = no_negative_depths(monkeypatch)
    scenario, site, storm = baseline(harelbeke_50m, preset="composite-t2")
    result = WaterModel(site, scenario.table, storm, scenario.water, WaterParameters(local_time_step_ratio=4)).run()
    assert calls["n"] == result.steps > 100
    assert result.local_steps["sub_steps"] > result.steps
    assert abs(result.ledger.error_rel) < 1e-12
    assert np.nanmin(result.snapshots["depth"].values) >= 0.0


def test_local_steps_agree_with_the_global_step_on_the_baseline_at_25m():
    """The baseline (T=20 storm, 3 h) at 25 m: the default local time steps (the ratio chosen
    adaptively up to 16) against the global step.

    LTS changes the time discretisation (the shallow region steps up to m times longer, with
    the interface fluxes frozen over a slow step), not the equations, so the maps cannot
    agree bit for bit. The yardstick is the global scheme's own sensitivity to its step:
    the same run with alpha 0.35 instead of 0.5 (steps 30 % shorter). LTS must differ from
    the global step by no more than that does, in the flooded areas (> 0.05 m, > 0.20 m:
    threshold counts, where cells near the threshold flip) and the p99 of the max-depth
    difference of land cells (with floors of 2 cells and 1 mm, below what a flood map shows;
    measured when written: > 0.20 m 72 cells global, 90 with alpha 0.35, 82 local; p99
    0.56 mm for alpha 0.35, 0.88 mm local); plus fixed bounds: 5 % flooded area, 2 cm p99
    max depth, 1 % outflow (edges + the held Leie, an integral over the whole run)."""
    scenario, site, storm = baseline(resolution=25.0)
    runs = {}
    for name, params in (("global", dict(local_time_step_ratio=1)), ("shorter", dict(local_time_step_ratio=1, alpha=0.35)),
                         ("local", {})):
        model = WaterModel(site, scenario.table, storm, scenario.water, WaterParameters(**params))
        runs[name] = model.run()
    land = model.blocked == 0
    ref, lts = runs["global"], runs["local"]
    assert lts.steps < ref.steps and lts.local_steps["sub_steps"] > lts.steps
    assert abs(lts.ledger.error_rel) < 1e-12
    for threshold in (0.05, 0.20):
        flooded = {k: int((r.max_depth_m[land] > threshold).sum()) for k, r in runs.items()}
        assert flooded["global"] > 50
        assert abs(flooded["local"] - flooded["global"]) <= max(abs(flooded["shorter"] - flooded["global"]), 2)
        if threshold == 0.05:
            assert abs(flooded["local"] / flooded["global"] - 1.0) < 0.05
    p99 = {k: np.percentile(np.abs(r.max_depth_m - ref.max_depth_m)[land], 99) for k, r in runs.items()}
    assert p99["local"] <= max(p99["shorter"], 1e-3) and p99["local"] < 0.02
    assert lts.ledger.outflow_m3 == pytest.approx(ref.ledger.outflow_m3, rel=0.01)
    assert lts.ledger.edge_outflow_m3 == pytest.approx(ref.ledger.edge_outflow_m3, rel=0.01)


@pytest.mark.parametrize("seed", range(6))
def test_the_numba_region_equals_its_numpy_twin(seed):
    """build_region (numba dilation and lists) against build_region_numpy (scipy.ndimage,
    np.argwhere): the same codes and the same lists in the same order, on grids with deep
    cells at the edges and corners, walls next to them, and ratios 1 (nothing fast) to 8."""
    rng = np.random.default_rng(seed)
    ny, nx = rng.integers(3, 40, size=2)
    depth = rng.random((ny, nx)) ** 6
    depth[0, 0] = depth[-1, -1] = depth.max() * 2  # deep corners
    blocked = (rng.random((ny, nx)) < 0.2).astype(np.uint8)
    depth[blocked == 1] = 0.0
    for ratio in (1, 2, 4, 8):
        got, want = build_region(depth, blocked, ratio), build_region_numpy(depth, blocked, ratio)
        for name in ("region", "cells", "fast_x", "fast_y", "edge_x", "edge_y", "iface_x", "iface_y"):
            a, b = getattr(got, name), getattr(want, name)
            assert a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b), (ratio, name)
    assert build_region(depth, blocked, 8).size > 0
    assert build_region(np.zeros((ny, nx)), blocked, 8).size == 0


def test_the_ratio_is_chosen_by_its_cost():
    """choose_ratio: one deep channel cell in shallow ground takes the largest ratio (its
    region is tiny); ground all equally deep takes none (every cell would be fast); a step
    capped at the fast step gains nothing from sub-steps; and its counts of fast cells are
    those of the region each ratio would build."""
    rng = np.random.default_rng(5)
    blocked = (rng.random((60, 80)) < 0.1).astype(np.uint8)
    shallow = np.where(blocked == 1, 0.0, rng.uniform(0.0, 0.004, (60, 80)))
    channel = shallow.copy()
    channel[30, 40] = 1.2
    kw = dict(cell_size_m=5.0, alpha=0.5, dt_limit_s=1e9)
    near = nearby_depth(channel, blocked)
    assert choose_ratio(near, 1.2, 16, **kw) == 16
    flat = np.where(blocked == 1, 0.0, 0.5)
    assert choose_ratio(nearby_depth(flat, blocked), 0.5, 16, **kw) == 1
    dt_fast = 0.5 * 5.0 / np.sqrt(GRAVITY_M_S2 * 1.2)
    assert choose_ratio(near, 1.2, 16, **{**kw, "dt_limit_s": dt_fast}) == 1
    assert choose_ratio(near, 1.2, 1, **kw) == 1 and choose_ratio(near, 0.0, 16, **kw) == 1
    ratios = np.arange(2, 17)
    for depth in (channel, shallow + 0.3 * rng.random((60, 80)) ** 8):
        h = float(depth.max())
        near = nearby_depth(depth, blocked)
        counts = _count_above(near, h / ratios.astype(float) ** 2)
        assert [int(c) for c in counts] == [build_region_numpy(depth, blocked, int(m)).size for m in ratios]


@pytest.mark.parametrize("limited_rows", [(), (0,), (5,), (11,), (0, 6, 11)])
def test_limiting_skips_only_rows_without_a_limited_cell(limited_rows):
    """limit_slow_faces skips the rows whose factors are all 1: the same faces as its twin,
    which scales every face, bit for bit, with the limited cells in the first, a middle and
    the last row (whose y-faces above and below must still be scaled)."""
    rng = np.random.default_rng(len(limited_rows))
    ny, nx = 12, 9
    qx, qy = rng.normal(0, 0.1, (ny, nx + 1)), rng.normal(0, 0.1, (ny + 1, nx))
    scale = np.ones((ny, nx))
    for i in limited_rows:
        scale[i, rng.integers(0, nx, 2)] = rng.uniform(0.1, 0.9, 2)
    got = [qx.copy(), qy.copy()]
    want = [qx.copy(), qy.copy()]
    limit_slow_faces(*got, scale)
    limit_slow_faces_numpy(*want, scale)
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
    changed = (got[0] != qx).sum() + (got[1] != qy).sum()
    assert (changed > 0) == bool(limited_rows)


def test_skipping_dry_tiles_with_local_steps_changes_nothing(monkeypatch):
    """The slow sweep of the local steps skips dry tiles (WaterModel.flow_tiles, the flags set
    by slow_continuity): the 25 m baseline storm (culverts, the held Leie, the Gaverbeek
    inflow) gives the same maps, hydrographs and ledger as with every tile computed, bit for
    bit, and tiles were skipped."""
    import heatsim.kernels.local_steps as module

    original = module.slow_fluxes
    shares = []

    def spy(*a, tiles=None, **k):
        out = original(*a, tiles=tiles, **k)
        if tiles is not None:
            shares.append(tiles.active_share)
        return out

    monkeypatch.setattr(module, "slow_fluxes", spy)
    scenario, site, storm = baseline(resolution=25.0)
    runs = []
    for flow_tiles in (True, False):
        model = WaterModel(site, scenario.table, storm, scenario.water)
        model.flow_tiles = flow_tiles
        runs.append(model.run())
    tiled, full = runs
    assert tiled.local_steps and full.steps == tiled.steps
    assert shares and min(shares) < 0.5  # dry tiles were skipped
    for name in ("max_depth_m", "max_speed_m_s", "time_of_max_depth_s", "infiltrated_mm", "depression_mm"):
        np.testing.assert_array_equal(getattr(full, name), getattr(tiled, name))
    np.testing.assert_array_equal(full.snapshots["depth"].values, tiled.snapshots["depth"].values)
    np.testing.assert_array_equal(full.hydrographs.values, tiled.hydrographs.values)
    assert full.ledger == tiled.ledger

"""Hydrology kernels (heatsim.kernels.hydrology): twins, Green-Ampt against its analytic
solution and a textbook example, mass closure, limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatsim.kernels.hydrology import (
    INF_CAPPED,
    INF_NONE,
    INF_OPEN_WATER,
    INF_SITE_SOIL,
    INF_SUBSTRATE,
    SEWER_CAPACITY_MM_H,
    _green_ampt_increment_mm,
    _green_ampt_lower_bound_mm,
    culvert_capacity_m3_s,
    culvert_transfer,
    culvert_transfer_numpy,
    depression_storage,
    depression_storage_numpy,
    infiltrate_green_ampt,
    infiltrate_green_ampt_numpy,
    hold_levels,
    hold_levels_numpy,
    infiltration_kind_code,
    infiltration_kind_lut,
    intercept,
    intercept_numpy,
    moisture_deficit,
    relative_saturation,
    sewer_inlets,
    sewer_inlets_numpy,
)
from heatsim.landcover import INFILTRATION_KINDS, default_table

ROUND_OFF = 1e-12
KINDS = np.array([INF_SITE_SOIL, INF_NONE, INF_CAPPED, INF_SUBSTRATE, INF_OPEN_WATER], dtype=np.int8)


def soil(name):
    """(K [mm/h], psi [mm], theta_e, porosity) of a texture of the bundled table (Rawls et al. 1983)."""
    s = default_table().soils[name]
    return s["saturated_conductivity_mm_h"], s["suction_head_mm"], s["effective_porosity"], s["porosity"]


def copies(arrays):
    return [a.copy() for a in arrays]


def assert_same(fast, slow):
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=ROUND_OFF, atol=ROUND_OFF)


# --------------------------------------------------------------------------- kinds


def test_kind_codes_cover_the_table_and_refuse_unknown_kinds():
    assert [infiltration_kind_code(k) for k in INFILTRATION_KINDS] == list(range(len(INFILTRATION_KINDS)))
    with pytest.raises(ValueError, match="expected one of"):
        infiltration_kind_code("gravel")
    table = default_table()
    lut = infiltration_kind_lut({c.code: c.infiltration for c in table.classes.values()})
    assert lut.dtype == np.int8 and lut.shape == table.lookup("albedo").shape
    assert lut[table.code("asphalt")] == INF_NONE and lut[table.code("grass")] == INF_SITE_SOIL
    assert lut[table.code("permeable_paving")] == INF_CAPPED and lut[table.code("green_roof")] == INF_SUBSTRATE
    assert lut[table.code("water")] == INF_OPEN_WATER and lut[0] == INF_NONE


def test_moisture_deficit_from_water_content():
    _, _, theta_e, porosity = soil("silt_loam")
    residual = porosity - theta_e
    se = relative_saturation(porosity, theta_e, residual + 0.3 * theta_e)
    assert se == pytest.approx(0.3)
    assert moisture_deficit(theta_e, se) == pytest.approx(0.7 * theta_e)
    assert relative_saturation(porosity, theta_e, 0.0) == 0.0 and relative_saturation(porosity, theta_e, 0.9) == 1.0


# --------------------------------------------------------------------------- twins


def random_cells(rng, n):
    kind = rng.choice(KINDS, n)
    impervious = np.where(rng.random(n) < 0.3, rng.uniform(0.0, 1.0, n), rng.choice([0.0, 1.0], n))
    k = rng.uniform(0.3, 120.0, n)
    psi = rng.uniform(45.0, 320.0, n)
    deficit = np.where(rng.random(n) < 0.05, 0.0, rng.uniform(0.0, 0.45, n))
    cap = np.where(kind == INF_CAPPED, rng.uniform(1.0, 300.0, n), np.nan)
    substrate_cap = np.where(kind == INF_SUBSTRATE, rng.uniform(5.0, 40.0, n), np.nan)
    free = np.where(rng.random(n) < 0.2, 0.0, rng.exponential(5.0, n))
    held = rng.uniform(0.0, 5.0, n)
    infiltrated = np.where(rng.random(n) < 0.2, 0.0, rng.exponential(20.0, n))
    total = rng.uniform(0.0, 50.0, n)
    return [kind, impervious, k, psi, deficit, cap, substrate_cap], [free, held, infiltrated, total]


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 900.0])
def test_infiltration_matches_twin(dt_s):
    rng = np.random.default_rng(int(dt_s))
    params, state = random_cells(rng, 500)
    fast, slow = copies(state), copies(state)
    infiltrate_green_ampt(*params, *fast, dt_s=dt_s)
    infiltrate_green_ampt_numpy(*params, *slow, dt_s=dt_s)
    assert np.abs(fast[2] - state[2]).max() > 1e-3  # it did something
    assert_same(fast, slow)


def test_the_supply_limited_shortcut_changes_nothing():
    """The kernel skips the Newton solve where a lower bound of the capacity already exceeds
    the water on the cell. The bound is a bound, and cells on both sides of it (taken in full
    and capacity-limited) get exactly what the twin, which always solves, gives them."""
    rng = np.random.default_rng(11)
    n = 2000
    params, state = random_cells(rng, n)
    kind, impervious, k, psi, deficit, cap, _ = params
    dt_s = 30.0
    soil = ((kind == INF_SITE_SOIL) | (kind == INF_CAPPED)) & (impervious < 1.0)
    lower = np.zeros(n)
    for i in np.flatnonzero(soil):
        f0 = state[2][i] / (1.0 - impervious[i])
        args = (f0, k[i] * dt_s / 3600.0, psi[i] * deficit[i])
        lower[i] = _green_ampt_lower_bound_mm(*args)
        exact = _green_ampt_increment_mm(*args)
        assert lower[i] <= exact * (1 + 1e-12), (i, lower[i], exact)
    # water on each soil cell around its bound: half below (shortcut), half above (solve)
    water = lower * (1.0 - impervious) * np.where(rng.random(n) < 0.5, rng.uniform(0.2, 0.99, n),
                                                  rng.uniform(1.5, 20.0, n))
    state[0] = np.where(soil, water, state[0])
    state[1] = np.where(soil, 0.0, state[1])
    capped = np.where(kind == INF_CAPPED, cap * dt_s / 3600.0, np.inf)
    shortcut = soil & (water <= np.minimum(lower, capped) * (1.0 - impervious))
    assert 100 < shortcut.sum() < soil.sum() - 100
    fast, slow = copies(state), copies(state)
    infiltrate_green_ampt(*params, *fast, dt_s=dt_s)
    infiltrate_green_ampt_numpy(*params, *slow, dt_s=dt_s)
    assert_same(fast, slow)
    for a, b in zip(fast, slow):  # where nothing is solved, not even round-off differs
        assert np.array_equal(a[shortcut], b[shortcut])
    assert (fast[0][shortcut] == 0.0).all()  # taken in full
    assert (fast[0][soil & ~shortcut] > 0.0).any()  # limited by the capacity


def test_the_green_ampt_increment_solves_its_equation():
    """The Newton solve stops after a correction below 1e-7 of dF, on the argument that the
    iterate is then within 0.5e-14 dF of the root: checked against a bisection to the last
    bit of the implicit equation dF - S ln(1 + dF/(F0 + S)) = K dt, over five decades of
    F0, K dt and S."""
    worst = 0.0
    for f0 in np.geomspace(1e-3, 300.0, 12):
        for k_dt in np.geomspace(1e-4, 30.0, 12):
            for s in np.geomspace(0.1, 300.0, 8):
                df = _green_ampt_increment_mm(f0, k_dt, s)

                def g(x):
                    return x - s * math.log1p(x / (f0 + s)) - k_dt

                lo, hi = 0.0, k_dt + math.sqrt(k_dt * k_dt + 2.0 * s * k_dt) + 1.0
                for _ in range(200):
                    mid = 0.5 * (lo + hi)
                    lo, hi = (mid, hi) if g(mid) < 0.0 else (lo, mid)
                worst = max(worst, abs(df - 0.5 * (lo + hi)) / df)
    assert worst < 1e-12


def test_interception_depression_and_sewer_match_twins():
    rng = np.random.default_rng(7)
    n = 400
    rain = rng.exponential(2.0, n)
    canopy = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.0, 1.0, n))
    capacity = rng.uniform(0.0, 1.5, n)
    store = rng.uniform(0.0, 1.0, n) * canopy * capacity * rng.uniform(0.0, 1.3, n)
    state = [store, rng.uniform(0.0, 10.0, n), np.empty(n)]
    fast, slow = copies(state), copies(state)
    intercept(rain, canopy, capacity, *fast)
    intercept_numpy(rain, canopy, capacity, *slow)
    assert_same(fast, slow)

    depression_capacity = rng.uniform(0.0, 8.0, n)
    state = [rng.uniform(0.0, 8.0, n), rng.exponential(3.0, n) * (rng.random(n) < 0.5), rng.uniform(0.0, 9.0, n)]
    fast, slow = copies(state), copies(state)
    depression_storage(rain, depression_capacity, *fast)
    depression_storage_numpy(rain, depression_capacity, *slow)
    assert_same(fast, slow)

    connected = rng.choice([0.0, 0.5, 1.0], n)
    sewer_capacity = rng.uniform(10.0, 60.0, n)
    state = [rng.exponential(4.0, n), rng.uniform(0.0, 30.0, n)]
    fast, slow = copies(state), copies(state)
    sewer_inlets(fast[0], connected, sewer_capacity, 300.0, fast[1])
    sewer_inlets_numpy(slow[0], connected, sewer_capacity, 300.0, slow[1])
    assert_same(fast, slow)


def random_culverts(rng, n_cells, m):
    depth = np.where(rng.random(n_cells) < 0.3, 0.0, rng.exponential(0.3, n_cells))
    bed = rng.uniform(10.0, 14.0, n_cells)
    inlet = rng.integers(0, n_cells, m)
    inlet[: m // 3] = inlet[0]  # several culverts share an inlet
    outlet = rng.integers(0, n_cells, m)
    outlet[1] = inlet[2]  # and a chain
    capacity = rng.uniform(0.0, 3.0, m)
    return depth, bed, inlet, outlet, capacity


def test_culvert_matches_twin():
    rng = np.random.default_rng(11)
    depth, bed, inlet, outlet, capacity = random_culverts(rng, 60, 12)
    fast, slow = depth.copy(), depth.copy()
    moved = culvert_transfer(fast, bed, inlet, outlet, capacity, 30.0, 25.0)
    moved_twin = culvert_transfer_numpy(slow, bed, inlet, outlet, capacity, 30.0, 25.0)
    assert moved > 0.0
    assert moved == pytest.approx(moved_twin, rel=ROUND_OFF)
    np.testing.assert_allclose(fast, slow, rtol=ROUND_OFF, atol=ROUND_OFF)


# --------------------------------------------------------------------------- Green-Ampt answers


def analytic_green_ampt_mm(t_h, k_mm_h, storage_suction_mm):
    """Ponded Green-Ampt F(t): solve t = (F - S ln(1 + F/S)) / K by bisection. [mm]"""
    lo, hi = 0.0, k_mm_h * t_h + math.sqrt(2.0 * storage_suction_mm * k_mm_h * t_h) + k_mm_h * t_h + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (mid - storage_suction_mm * math.log1p(mid / storage_suction_mm)) / k_mm_h < t_h:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def ponded_cells(kinds, impervious, k, psi, deficit, cap=np.nan):
    n = len(kinds)

    def full(value):
        return np.full(n, value, dtype=np.float64)

    params = [np.asarray(kinds, dtype=np.int8), np.asarray(impervious, dtype=np.float64), full(k), full(psi),
              full(deficit), full(cap), full(np.nan)]
    state = [full(0.0), full(0.0), full(0.0), full(0.0)]  # free, depression, infiltrated, total
    return params, state


@pytest.mark.parametrize("kernel", [infiltrate_green_ampt, infiltrate_green_ampt_numpy])
def test_ponded_green_ampt_follows_the_analytic_solution(kernel):
    """Under continuous ponding, many steps give the analytic F(t) (the step is exact)."""
    k, psi, theta_e, _ = soil("silt_loam")
    deficit = float(moisture_deficit(theta_e, 0.3))
    storage_suction = psi * deficit
    # a fully pervious cell, a mixed one (40% pervious), and one with its water in the depression store
    params, state = ponded_cells([INF_SITE_SOIL] * 3, [0.0, 0.6, 0.0], k, psi, deficit)
    dt_s, hours = 60.0, 3.0
    for step in range(int(hours * 3600 / dt_s)):
        state[0][:2] = 1000.0  # keep the surface ponded
        state[1][2] = 1000.0
        kernel(*params, *state, dt_s=dt_s)
        if step in (59, 179):
            expected = analytic_green_ampt_mm((step + 1) * dt_s / 3600.0, k, storage_suction)
            got = state[2] / np.array([1.0, 0.4, 1.0])  # per pervious area
            np.testing.assert_allclose(got, expected, rtol=5e-3)  # the brief's tolerance
            np.testing.assert_allclose(got, expected, rtol=1e-9)  # what the exact step achieves


def test_green_ampt_worked_example_silt_loam():
    """Chow, Maidment & Mays (1988), sec. 4.3, worked example: silt loam (Rawls et al. 1983:
    K = 0.65 cm/h, psi = 16.7 cm, theta_e = 0.486) at 30% effective saturation, ponded:
    after 1 h, F = 3.17 cm and f = 1.81 cm/h."""
    k, psi, theta_e, _ = soil("silt_loam")
    deficit = float(moisture_deficit(theta_e, 0.3))
    params, state = ponded_cells([INF_SITE_SOIL], [0.0], k, psi, deficit)
    for _ in range(4):  # four 15-min steps
        state[0][:] = 1000.0
        infiltrate_green_ampt(*params, *state, dt_s=900.0)
    f_mm = state[2][0]
    rate_mm_h = k * (1.0 + psi * deficit / f_mm)
    assert f_mm == pytest.approx(31.7, rel=5e-3)
    assert rate_mm_h == pytest.approx(18.1, rel=5e-3)


def test_rain_below_conductivity_all_infiltrates():
    k, psi, _, _ = soil("sandy_loam")
    params, state = ponded_cells([INF_SITE_SOIL, INF_CAPPED], [0.0, 0.0], k, psi, 0.3, cap=250.0)
    rain_mm_h, dt_s = 0.9 * k, 300.0
    for _ in range(int(6 * 3600 / dt_s)):
        state[0] += rain_mm_h * dt_s / 3600.0
        infiltrate_green_ampt(*params, *state, dt_s=dt_s)
        assert (state[0] == 0.0).all()  # never ponds
    np.testing.assert_allclose(state[2], rain_mm_h * 6.0, rtol=1e-12)


def test_ponding_starts_at_the_mein_larson_time():
    """Steady rain i > K ponds when F reaches K S / (i - K) (Mein & Larson 1973; Chow et al. 1988,
    sec. 4.4: silty clay at 25% effective saturation under 1 cm/h ponds after 0.49 h)."""
    k, psi, theta_e, _ = soil("silty_clay")
    deficit = float(moisture_deficit(theta_e, 0.25))
    rain_mm_h, dt_s = 10.0, 10.0
    ponding_h = k * psi * deficit / (rain_mm_h * (rain_mm_h - k))
    assert ponding_h == pytest.approx(0.49, abs=0.005)
    params, state = ponded_cells([INF_SITE_SOIL], [0.0], k, psi, deficit)
    t_h = 0.0
    while state[0][0] == 0.0 and t_h < 2.0:
        state[0] += rain_mm_h * dt_s / 3600.0
        infiltrate_green_ampt(*params, *state, dt_s=dt_s)
        t_h += dt_s / 3600.0
    assert t_h == pytest.approx(ponding_h, abs=2 * dt_s / 3600.0)


# --------------------------------------------------------------------------- limits and mass


def test_sealed_and_open_water_cells_take_nothing_capped_at_most_the_cap():
    k, psi, _, _ = soil("sand")
    cap = 20.0
    params, state = ponded_cells([INF_NONE, INF_OPEN_WATER, INF_SITE_SOIL, INF_CAPPED, INF_CAPPED],
                                 [0.0, 0.0, 1.0, 0.0, 0.5], k, psi, 0.35, cap=cap)
    dt_s = 600.0
    for _ in range(6):
        state[0][:] += 100.0
        state[1][:] = 2.0
        before = state[2].copy()
        infiltrate_green_ampt(*params, *state, dt_s=dt_s)
        step = state[2] - before
        assert (step[:3] == 0.0).all()  # sealed, water, fully impervious site soil
        assert step[3] == pytest.approx(cap * dt_s / 3600.0, rel=1e-12)  # sand would take more: the cap binds
        assert step[4] == pytest.approx(0.5 * cap * dt_s / 3600.0, rel=1e-12)  # cap on the pervious half


def test_substrate_fills_to_capacity_and_the_rest_stays_on_the_roof():
    params, state = ponded_cells([INF_SUBSTRATE, INF_SUBSTRATE], [1.0, 1.0], np.nan, np.nan, np.nan)
    params[6][:] = 28.0  # substrate capacity
    state[2][1] = 27.0  # the second roof is nearly full
    state[0][:] = 10.0
    state[1][:] = 1.0
    infiltrate_green_ampt(*params, *state, dt_s=60.0)
    np.testing.assert_allclose(state[2], [11.0, 28.0])
    np.testing.assert_allclose(state[0], [0.0, 9.0])  # taken from the free water first
    np.testing.assert_allclose(state[1], [0.0, 1.0])  # the depression store only once that is gone
    np.testing.assert_allclose(state[3], [11.0, 1.0])


@pytest.mark.parametrize("kernel", [infiltrate_green_ampt, infiltrate_green_ampt_numpy])
def test_infiltration_conserves_mass_and_draws_free_water_first(kernel):
    rng = np.random.default_rng(3)
    params, state = random_cells(rng, 2000)
    before = copies(state)
    kernel(*params, *state, dt_s=300.0)
    free, held, infiltrated, total = state
    taken = infiltrated - before[2]
    assert (taken >= 0.0).all() and (free >= 0.0).all() and (held >= 0.0).all()
    np.testing.assert_allclose(total - before[3], taken, atol=1e-12)
    np.testing.assert_allclose((before[0] - free) + (before[1] - held), taken, atol=1e-11)
    # the depression store is touched only once the free water is gone
    touched = held < before[1]
    assert (free[touched] == 0.0).all()
    substrate = params[0] == INF_SUBSTRATE
    assert (infiltrated[substrate] <= np.maximum(params[6][substrate], before[2][substrate]) + 1e-12).all()


@pytest.mark.parametrize("kernel", [intercept, intercept_numpy])
def test_interception_mass_and_capacity(kernel):
    rng = np.random.default_rng(5)
    n = 1000
    canopy = rng.uniform(0.0, 1.0, n)
    capacity = rng.uniform(0.0, 1.2, n)
    store, total, throughfall = np.zeros(n), np.zeros(n), np.empty(n)
    rain_sum = np.zeros(n)
    for _ in range(20):
        rain = rng.exponential(0.3, n) * (rng.random(n) < 0.7)
        before = store.copy()
        kernel(rain, canopy, capacity, store, total, throughfall)
        rain_sum += rain
        np.testing.assert_allclose(rain, (store - before) + throughfall, rtol=0, atol=1e-14)
        assert (throughfall >= 0.0).all() and (store >= 0.0).all()
        assert (store <= canopy * capacity + 1e-14).all()
    np.testing.assert_allclose(total, store, atol=1e-13)
    # a heavy storm fills every canopy
    kernel(np.full(n, 50.0), canopy, capacity, store, total, throughfall)
    np.testing.assert_allclose(store, canopy * capacity, rtol=1e-14)


@pytest.mark.parametrize("kernel", [depression_storage, depression_storage_numpy])
def test_depression_storage_mass_and_fill_order(kernel):
    rng = np.random.default_rng(9)
    n = 1000
    capacity = rng.uniform(0.0, 8.0, n)
    held = capacity * rng.uniform(0.0, 1.0, n)
    free = rng.exponential(1.0, n) * (rng.random(n) < 0.5)  # run-on from neighbours
    total = np.zeros(n)
    water_in = rng.exponential(2.0, n)
    before_held, before_free = held.copy(), free.copy()
    kernel(water_in, capacity, held, free, total)
    np.testing.assert_allclose(water_in, (held - before_held) + (free - before_free), atol=1e-13)
    np.testing.assert_allclose(total, held - before_held, atol=1e-15)
    assert (free >= 0.0).all() and (held <= capacity + 1e-15).all()
    assert np.all((free == 0.0) | np.isclose(held, capacity, rtol=1e-15, atol=0))  # free water only over a full store


@pytest.mark.parametrize("kernel", [sewer_inlets, sewer_inlets_numpy])
def test_sewer_mass_and_capacity(kernel):
    rng = np.random.default_rng(13)
    n = 1000
    connected = rng.choice([0.0, 0.5, 1.0], n)
    capacity = np.full(n, SEWER_CAPACITY_MM_H)
    depth = rng.exponential(3.0, n)
    total = np.zeros(n)
    before = depth.copy()
    dt_s = 300.0
    kernel(depth, connected, capacity, dt_s, total)
    removed = before - depth
    np.testing.assert_allclose(total, removed, atol=1e-14)
    limit = SEWER_CAPACITY_MM_H * connected * dt_s / 3600.0
    assert (depth >= 0.0).all() and (removed <= limit * (1 + 1e-15)).all()
    np.testing.assert_array_equal(removed[connected == 0.0], 0.0)
    np.testing.assert_allclose(removed, np.minimum(before, limit), rtol=1e-12)


@pytest.mark.parametrize("kernel", [culvert_transfer, culvert_transfer_numpy])
def test_culvert_mass_and_limits(kernel):
    rng = np.random.default_rng(17)
    area, dt_s = 25.0, 60.0
    for _ in range(20):
        depth, bed, inlet, outlet, capacity = random_culverts(rng, 30, 8)
        before = depth.copy()
        moved = kernel(depth, bed, inlet, outlet, capacity, dt_s, area)
        assert depth.sum() * area == pytest.approx(before.sum() * area, rel=1e-14)
        assert (depth >= 0.0).all()
        assert 0.0 <= moved <= capacity.sum() * dt_s * (1 + 1e-14)
    # one culvert, a lot of water upstream: the capacity limits
    depth, bed = np.array([2.0, 0.0]), np.array([10.0, 9.0])
    one, zero = np.array([0]), np.array([1])
    moved = kernel(depth, bed, one, zero, np.array([0.5]), dt_s, area)
    assert moved == pytest.approx(30.0) and depth[0] == pytest.approx(2.0 - 30.0 / area)
    # little water upstream: all of it goes, and not a drop more
    depth = np.array([0.1, 0.0])
    moved = kernel(depth, bed, one, zero, np.array([5.0]), dt_s, area)
    assert moved == pytest.approx(0.1 * area) and depth[0] == 0.0 and depth[1] == pytest.approx(0.1)
    # the outlet's water stands higher: nothing flows uphill; nearly level: only up to the level
    depth = np.array([0.5, 1.6])
    assert kernel(depth, bed, one, zero, np.array([5.0]), dt_s, area) == 0.0
    depth = np.array([0.5, 1.3])
    kernel(depth, bed, one, zero, np.array([5.0]), dt_s, area)
    assert depth[0] + bed[0] == pytest.approx(depth[1] + bed[1])


def test_culvert_capacity_manning_full_pipe():
    # D = 1 m, S = 0.001, n = 0.013: Q = (1/n) (pi/4) (1/4)^(2/3) sqrt(S) = 0.758 m3/s
    assert culvert_capacity_m3_s(1.0, 0.001, 0.013) == pytest.approx(0.758, abs=0.001)
    ratio = culvert_capacity_m3_s(np.array([2.0]), 0.001, 0.013) / culvert_capacity_m3_s(1.0, 0.001, 0.013)
    assert ratio[0] == pytest.approx(2.0 ** (8.0 / 3.0))


def test_held_levels_match_their_twin_and_account_for_every_volume():
    """hold_levels sets its cells to their held depths; what they gave up and were given is
    counted, so the water before plus the supply equals the water after plus the outflow."""
    rng = np.random.default_rng(4)
    depth = rng.uniform(0.0, 0.6, 300)
    index = rng.choice(300, 40, replace=False).astype(np.int64)
    held = rng.uniform(0.0, 0.4, 40)
    area = 25.0
    runs = []
    for kernel in (hold_levels, hold_levels_numpy):
        d, volumes = depth.copy(), np.zeros(2)
        kernel(d, index, held, area, volumes)
        runs.append((d, volumes))
    (d, volumes), (d_twin, volumes_twin) = runs
    assert np.array_equal(d, d_twin) and np.array_equal(volumes, volumes_twin)
    assert np.array_equal(d[index], held) and volumes.min() > 0.0
    assert (depth.sum() * area + volumes[1]) == pytest.approx(d.sum() * area + volumes[0], rel=1e-14)

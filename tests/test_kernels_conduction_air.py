"""Kernels for layered heat conduction (heatsim.kernels.conduction) and near-surface
air temperature (heatsim.kernels.airtemp): twins, analytic solutions, budgets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erfc

from heatsim.kernels.airtemp import (air_temperature_max_dt_s, air_temperature_step, air_temperature_step_numpy,
                                    air_temperature_step_serial)
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

ASPHALT_C = 1.94e6  # J m-3 K-1
ASPHALT_K = 0.75  # W m-1 K-1
DAY_S = 86400.0


# --------------------------------------------------------------------------- conduction


def random_columns(rng, n_cells, n_layers):
    """Mixed columns: a thin surface skin over layers drawn from insulation to concrete."""
    heat_capacity = rng.uniform(3e4, 2.5e6, (n_cells, n_layers))
    conductivity = 10.0 ** rng.uniform(np.log10(0.03), np.log10(2.0), (n_cells, n_layers))
    thickness = rng.uniform(0.005, 0.3, (n_cells, n_layers))
    thickness[:, 0] = rng.uniform(0.005, 0.01, n_cells)
    temperature = rng.uniform(270.0, 340.0, (n_cells, n_layers))
    flux = rng.uniform(-500.0, 900.0, n_cells)
    slope = rng.uniform(-80.0, 0.0, n_cells)
    bottom = rng.uniform(280.0, 300.0, n_cells)
    return temperature, heat_capacity, conductivity, thickness, flux, slope, bottom


def step(columns, dt_s, kernel=conduct_columns, out=None):
    temperature = columns[0]
    n_cells, n_layers = temperature.shape
    out = np.empty_like(temperature) if out is None else out
    scratch = np.empty((n_cells, 2 * n_layers))
    return kernel(*columns, dt_s=dt_s, scratch=scratch, out=out)


@pytest.mark.parametrize("n_layers", [1, 2, 10])
@pytest.mark.parametrize("dt_s", [1.0, 60.0, 3600.0])
def test_conduct_columns_matches_twin(n_layers, dt_s):
    rng = np.random.default_rng(100 * n_layers + int(dt_s))
    columns = random_columns(rng, 40, n_layers)
    fast = step(columns, dt_s)
    slow = step(columns, dt_s, kernel=conduct_columns_numpy)
    assert np.abs(fast - columns[0]).max() > 1e-3  # the step did something
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_conduct_columns_in_place_equals_out_of_place():
    columns = random_columns(np.random.default_rng(7), 30, 6)
    separate = step(columns, 300.0)
    temperature = columns[0].copy()
    in_place = step((temperature, *columns[1:]), 300.0, out=temperature)
    assert in_place is temperature
    np.testing.assert_array_equal(in_place, separate)


def typed_columns(rng, n_cells, n_types, n_layers):
    """Cells drawn from a few column types, as the heat model builds them from land cover."""
    _, cap, cond, dz, _, _, bottom = random_columns(rng, n_types, n_layers)
    column_type = rng.integers(0, n_types, n_cells).astype(np.int16)
    temperature = rng.uniform(270.0, 340.0, (n_cells, n_layers))
    flux, slope = rng.uniform(-500.0, 900.0, n_cells), rng.uniform(-80.0, 0.0, n_cells)
    return temperature, column_type, cap, cond, dz, bottom, flux, slope


@pytest.mark.parametrize("n_cells", [7, 2048, 5000])  # inside one work chunk, exactly one, across chunks
def test_conduct_column_types_matches_twin_and_per_cell_kernel(n_cells):
    args = typed_columns(np.random.default_rng(n_cells), n_cells, 5, 10)
    temperature, column_type, cap, cond, dz, bottom, flux, slope = args
    outs = [(np.empty_like(temperature), np.empty(n_cells), np.empty(n_cells)) for _ in range(2)]
    for kernel, (out, energy, bottom_flux) in zip((conduct_column_types, conduct_column_types_numpy), outs):
        kernel(*args, dt_s=600.0, out=out, energy_j_m2=energy, bottom_flux_w_m2=bottom_flux)
    for fast, slow in zip(*outs):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-9)
    per_cell = step((temperature, cap[column_type], cond[column_type], dz[column_type], flux, slope,
                     bottom[column_type]), 600.0)
    np.testing.assert_allclose(outs[0][0], per_cell, rtol=1e-14, atol=0)  # same algebra, reordered
    assert np.abs(per_cell - temperature).max() > 1e-3
    # fused bookkeeping equals the separate helpers
    np.testing.assert_allclose(outs[0][1], column_energy_j_m2(per_cell, cap[column_type], dz[column_type],
                                                              np.empty(n_cells)), rtol=1e-13)
    np.testing.assert_allclose(outs[0][2], bottom_flux_w_m2(per_cell, cond[column_type], dz[column_type],
                                                            bottom[column_type], np.empty(n_cells)),
                               rtol=1e-12, atol=1e-10)  # G (T - Tb): round-off of T ~300 K times G


def test_conduct_column_types_in_place():
    args = typed_columns(np.random.default_rng(11), 3000, 3, 6)
    kw = dict(dt_s=300.0, energy_j_m2=np.empty(3000), bottom_flux_w_m2=np.empty(3000))
    separate = conduct_column_types(*args, out=np.empty_like(args[0]), **kw)
    temperature = args[0].copy()
    in_place = conduct_column_types(temperature, *args[1:], out=temperature, **kw)
    np.testing.assert_array_equal(in_place, separate)


def test_energy_helpers_match_twins():
    temperature, heat_capacity, conductivity, thickness, _, _, bottom = random_columns(np.random.default_rng(3), 25, 5)
    np.testing.assert_allclose(
        column_energy_j_m2(temperature, heat_capacity, thickness, np.empty(25)),
        column_energy_j_m2_numpy(temperature, heat_capacity, thickness, np.empty(25)), rtol=1e-14)
    np.testing.assert_allclose(
        bottom_flux_w_m2(temperature, conductivity, thickness, bottom, np.empty(25)),
        bottom_flux_w_m2_numpy(temperature, conductivity, thickness, bottom, np.empty(25)), rtol=1e-13)


@pytest.mark.parametrize("n_layers", [1, 3, 12])
def test_conduction_energy_closure(n_layers):
    """(E_new - E_old)/dt = F0 + S (T0_new - T0_old) - bottom flux, to round-off."""
    rng = np.random.default_rng(11 + n_layers)
    columns = random_columns(rng, 200, n_layers)
    temperature, heat_capacity, conductivity, thickness, flux, slope, bottom = columns
    n = temperature.shape[0]
    for dt_s in (10.0, 600.0, 3600.0):
        new = step(columns, dt_s)
        e_old = column_energy_j_m2(temperature, heat_capacity, thickness, np.empty(n))
        e_new = column_energy_j_m2(new, heat_capacity, thickness, np.empty(n))
        surface = flux + slope * (new[:, 0] - temperature[:, 0])
        down = bottom_flux_w_m2(new, conductivity, thickness, bottom, np.empty(n))
        storage = (e_new - e_old) / dt_s
        scale = np.abs(surface) + np.abs(down)
        assert np.all(scale > 1.0)
        # 1e-10 of the fluxes, plus the floor set by E_new - E_old cancelling (E is
        # relative to 0 K, so a few ulps of E per dt; it dominates only for short steps)
        tolerance = 1e-10 * scale + 16 * np.finfo(float).eps * e_old / dt_s
        assert np.all(np.abs(storage - (surface - down)) <= tolerance)
        assert np.abs(storage).max() > 1.0  # energy really moved


def asphalt_column(depth_m, dz_m, t_init_k):
    n = int(round(depth_m / dz_m))
    shape = (1, n)
    return (np.full(shape, t_init_k), np.full(shape, ASPHALT_C), np.full(shape, ASPHALT_K), np.full(shape, dz_m))


STIFF_SLOPE = -1e6  # W m-2 K-1: holds node 0 at the target to ~k/dz / 1e6 = 1e-4 of the change


def stiff_surface_step(temperature, props, target_k, bottom_k, dt_s, scratch, out):
    """Impose node 0's temperature by a very stiff linearised flux:
    F(T0) = S (T0 - target), i.e. F0 = S (T0_old - target) with slope S -> -inf."""
    flux = np.array([STIFF_SLOPE * (temperature[0, 0] - target_k)])
    return conduct_columns(temperature, *props, flux, np.array([STIFF_SLOPE]), bottom_k,
                           dt_s=dt_s, scratch=scratch, out=out)


def test_periodic_surface_temperature_damping_depth():
    """Carslaw & Jaeger (1959), ch. 2: T(z,t) = Tm + A0 exp(-z/d) sin(wt - z/d),
    d = sqrt(2 kappa / w). The surface temperature is imposed at node 0 (the centre
    of the first 1 cm layer), so depths are measured from that node."""
    dz, dt, mean, a0 = 0.01, 60.0, 300.0, 10.0
    temperature, *props = asphalt_column(1.2, dz, mean)
    bottom = np.array([mean])
    scratch = np.empty((1, 2 * temperature.shape[1]))
    out = np.empty_like(temperature)
    omega = 2.0 * np.pi / DAY_S
    steps_per_day = int(DAY_S / dt)
    spin_up_days = 4
    sin_sum = np.zeros(temperature.shape[1])
    cos_sum = np.zeros(temperature.shape[1])
    for s in range((spin_up_days + 1) * steps_per_day):
        t_new = (s + 1) * dt
        stiff_surface_step(temperature, props, mean + a0 * np.sin(omega * t_new), bottom, dt, scratch, out)
        temperature, out = out, temperature
        if s >= spin_up_days * steps_per_day:  # last day: Fourier coefficients of the daily harmonic
            sin_sum += (temperature[0] - mean) * np.sin(omega * t_new)
            cos_sum += (temperature[0] - mean) * np.cos(omega * t_new)
    amplitude = 2.0 / steps_per_day * np.hypot(sin_sum, cos_sum)
    lag = -np.arctan2(cos_sum, sin_sum)  # T - Tm = A sin(wt - lag)
    kappa = ASPHALT_K / ASPHALT_C
    d = math.sqrt(2.0 * kappa / omega)
    assert 0.10 < d < 0.105
    assert amplitude[0] == pytest.approx(a0, rel=1e-3)
    for depth in (0.05, 0.1, 0.15, 0.2):
        i = int(round(depth / dz))
        assert amplitude[i] == pytest.approx(a0 * math.exp(-depth / d), rel=0.02), depth
        assert lag[i] == pytest.approx(depth / d, rel=0.02), depth


def test_step_change_of_surface_temperature_erfc():
    """Carslaw & Jaeger (1959), ch. 2: T(z,t) = Ti + dT erfc(z / (2 sqrt(kappa t)))."""
    dz, dt, initial, jump = 0.01, 60.0, 290.0, 10.0
    temperature, *props = asphalt_column(1.0, dz, initial)
    bottom = np.array([initial])
    scratch = np.empty((1, 2 * temperature.shape[1]))
    out = np.empty_like(temperature)
    kappa = ASPHALT_K / ASPHALT_C
    checks = {3600.0: (0.02, 0.05), 6 * 3600.0: (0.02, 0.05, 0.1, 0.2), DAY_S: (0.05, 0.1, 0.2, 0.3)}
    elapsed = 0.0
    for when, depths in checks.items():
        while elapsed < when:
            stiff_surface_step(temperature, props, initial + jump, bottom, dt, scratch, out)
            temperature, out = out, temperature
            elapsed += dt
        for depth in depths:
            expected = jump * erfc(depth / (2.0 * math.sqrt(kappa * when)))
            got = temperature[0, int(round(depth / dz))] - initial
            assert got == pytest.approx(expected, rel=0.02), (when, depth)


def test_conduction_large_step_is_stable_and_bounded():
    """Backward Euler: a step of a month keeps every node between the old extremes,
    the bottom temperature and the surface's equilibrium temperature (maximum principle)."""
    rng = np.random.default_rng(5)
    columns = random_columns(rng, 100, 8)
    temperature, _, _, _, flux, slope, bottom = columns
    new = step(columns, 30 * DAY_S)
    t_eq = temperature[:, 0] - flux / slope  # where F(T0) = 0
    low = np.minimum.reduce([temperature.min(axis=1), bottom, t_eq])
    high = np.maximum.reduce([temperature.max(axis=1), bottom, t_eq])
    assert np.all(np.isfinite(new))
    assert np.all(new >= low[:, None] - 1e-9) and np.all(new <= high[:, None] + 1e-9)


# --------------------------------------------------------------------------- air temperature

AIR = dict(mixing_height_m=100.0, air_density_kg_m3=1.2, air_heat_capacity_j_kg_k=1005.0)


def air_step(kernel, air, flux, reference, *, u, v, dx, k, tau, dt):
    return kernel(air, flux, reference, wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx, diffusivity_m2_s=k,
                  relaxation_time_s=tau, dt_s=dt, out=np.empty_like(air), **AIR)


@pytest.mark.parametrize("u, v", [(0.0, 0.0), (2.0, -1.0), (-3.0, 1.5), (0.0, 2.5), (-1.0, 0.0)])
def test_air_temperature_step_matches_twin(u, v):
    rng = np.random.default_rng(int(10 * (u + 2 * v)) + 50)
    air = rng.uniform(285.0, 310.0, (23, 31))
    flux = rng.uniform(-50.0, 400.0, air.shape)
    dx, k, tau = 10.0, 30.0, 3600.0
    dt = 0.9 * air_temperature_max_dt_s(wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx, diffusivity_m2_s=k,
                                        relaxation_time_s=tau)
    fast = air_step(air_temperature_step, air, flux, 295.0, u=u, v=v, dx=dx, k=k, tau=tau, dt=dt)
    slow = air_step(air_temperature_step_numpy, air, flux, 295.0, u=u, v=v, dx=dx, k=k, tau=tau, dt=dt)
    serial = air_step(air_temperature_step_serial, air, flux, 295.0, u=u, v=v, dx=dx, k=k, tau=tau, dt=dt)
    assert np.abs(fast - air).max() > 0.1
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(serial, fast)


def test_air_max_dt_formula():
    got = air_temperature_max_dt_s(wind_u_m_s=3.0, wind_v_m_s=-4.0, cell_size_m=10.0, diffusivity_m2_s=50.0,
                                   relaxation_time_s=1800.0)
    assert got == pytest.approx(1.0 / (0.3 + 0.4 + 2.0 + 1.0 / 1800.0), rel=1e-15)
    assert air_temperature_max_dt_s(wind_u_m_s=0.0, wind_v_m_s=0.0, cell_size_m=10.0, diffusivity_m2_s=0.0,
                                    relaxation_time_s=math.inf) == math.inf


@pytest.mark.parametrize("u, v", [(0.0, 0.0), (3.0, -2.0)])
def test_air_at_reference_without_flux_stays_unchanged(u, v):
    air = np.full((12, 17), 293.15)
    out = air_step(air_temperature_step, air, np.zeros_like(air), 293.15, u=u, v=v, dx=5.0, k=20.0, tau=900.0,
                   dt=0.5)
    np.testing.assert_array_equal(out, air)


def test_air_heat_budget_without_wind():
    """No wind: all edges zero-gradient, so diffusion only redistributes heat and
    rho cp h dx^2 sum(dTa) = dt dx^2 (sum H - rho cp h sum(Ta - Tref) / tau)."""
    rng = np.random.default_rng(2)
    air = rng.uniform(290.0, 300.0, (15, 20))
    flux = np.zeros_like(air)
    flux[7, 0] = 800.0  # a source on the western edge
    dx, k, tau, reference = 10.0, 40.0, 1800.0, 294.0
    dt = air_temperature_max_dt_s(wind_u_m_s=0.0, wind_v_m_s=0.0, cell_size_m=dx, diffusivity_m2_s=k,
                                  relaxation_time_s=tau)
    new = air_step(air_temperature_step, air, flux, reference, u=0.0, v=0.0, dx=dx, k=k, tau=tau, dt=dt)
    rho_cp_h = AIR["air_density_kg_m3"] * AIR["air_heat_capacity_j_kg_k"] * AIR["mixing_height_m"]
    gained = rho_cp_h * dx**2 * np.sum(new - air)
    source = dt * dx**2 * flux.sum()
    relaxation_loss = dt * dx**2 * rho_cp_h * np.sum(air - reference) / tau
    assert abs(relaxation_loss) > 0.01 * source  # both terms matter
    assert gained == pytest.approx(source - relaxation_loss, rel=1e-9)
    # and diffusion did spread the field (not a budget that holds trivially)
    assert np.abs(new - (air + dt * flux / rho_cp_h - dt * (air - reference) / tau)).max() > 0.1


@pytest.mark.parametrize("u, v, shift", [(1.0, 0.0, (0, 1)), (-1.0, 0.0, (0, -1)), (0.0, 1.0, (-1, 0)),
                                         (0.0, -1.0, (1, 0))])
def test_air_pure_advection_cfl_one_moves_blob_one_cell(u, v, shift):
    """CFL 1, no diffusion/relaxation/source: exact shift downwind, reference from the inflow edge.
    v > 0 is northward, i.e. towards row 0."""
    reference = 290.0
    air = np.full((9, 11), reference)
    air[3:5, 4:7] = [[300.0, 305.0, 301.0], [302.0, 299.0, 303.0]]
    dx = dt = 10.0  # |u| dt / dx = 1
    state = air
    for n in range(1, 4):
        state = air_step(air_temperature_step, state, np.zeros_like(air), reference, u=u, v=v, dx=dx, k=0.0,
                         tau=math.inf, dt=dt)
        expected = np.full_like(air, reference)
        expected[3 + n * shift[0]:5 + n * shift[0], 4 + n * shift[1]:7 + n * shift[1]] = air[3:5, 4:7]
        np.testing.assert_allclose(state, expected, rtol=0, atol=1e-12)


def test_air_pure_advection_out_of_the_grid_leaves_reference():
    """Outflow is zero-gradient: a blob at the downwind edge leaves, inflow air is at the reference."""
    reference = 290.0
    air = np.full((4, 5), reference)
    air[:, -1] = 300.0  # on the eastern (outflow) edge
    air[:, 0] = 280.0  # on the western (inflow) edge
    out = air_step(air_temperature_step, air, np.zeros_like(air), reference, u=2.0, v=0.0, dx=4.0, k=0.0,
                   tau=math.inf, dt=2.0)
    np.testing.assert_allclose(out[:, 0], reference, atol=1e-12)
    np.testing.assert_allclose(out[:, 1], 280.0, atol=1e-12)
    np.testing.assert_allclose(out[:, -1], reference, atol=1e-12)


def test_air_step_at_stability_limit_is_monotone():
    """At dt = air_temperature_max_dt_s the update is a convex combination: no new extremes."""
    rng = np.random.default_rng(9)
    air = rng.uniform(280.0, 310.0, (20, 25))
    reference = 295.0
    u, v, dx, k, tau = 2.5, -1.5, 10.0, 25.0, 1200.0
    dt = air_temperature_max_dt_s(wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx, diffusivity_m2_s=k,
                                  relaxation_time_s=tau)
    state = air
    for _ in range(20):
        state = air_step(air_temperature_step, state, np.zeros_like(air), reference, u=u, v=v, dx=dx, k=k, tau=tau,
                         dt=dt)
        assert state.min() >= air.min() - 1e-9 and state.max() <= air.max() + 1e-9
    assert state.max() - state.min() < 0.5 * (air.max() - air.min())


def test_the_serial_air_step_has_its_own_cache_entry():
    """numba's disk cache keys compiled code by qualified name and position, not by the
    parallel option: the serial twin must be a differently named function, or it loads the
    parallel code compiled first (found by the heat benchmark)."""
    assert air_temperature_step_serial.py_func.__qualname__ != air_temperature_step.py_func.__qualname__
    assert not air_temperature_step_serial.targetoptions.get("parallel", False)
    assert air_temperature_step.targetoptions.get("parallel", False)

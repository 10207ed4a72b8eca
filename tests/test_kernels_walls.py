"""Kernels for building walls (heatsim.kernels.walls): twins, facade geometry, sun on the
facades, equilibrium and energy closure of a wall column stepped by conduct_columns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatsim.kernels.conduction import bottom_flux_w_m2, column_energy_j_m2, conduct_columns
from heatsim.kernels.walls import (
    CONVECTION_STILL_W_M2_K,
    CONVECTION_WIND_J_M3_K,
    WALL_ALBEDO,
    WALL_CONDUCTIVITY_W_M_K,
    WALL_EMISSIVITY,
    WALL_HEAT_CAPACITY_J_M3_K,
    WALL_LAYERS_M,
    facade_area_ratios,
    facade_area_ratios_numpy,
    facade_front_cells,
    wall_direct_weight_cells,
    wall_direct_weight_cells_numpy,
    wall_fluxes,
    wall_fluxes_numpy,
    wall_solar_weights,
    wall_solar_weights_numpy,
)

N, E, S, W = 0, 1, 2, 3
FLUX_KW = dict(albedo=WALL_ALBEDO, emissivity=WALL_EMISSIVITY, dni_w_m2=780.0, diffuse_w_m2=120.0,
               sky_emissivity=0.8, wind_speed_m_s=1.2)


def ratios(height, cell_size_m, kernel=facade_area_ratios):
    return kernel(height, cell_size_m=cell_size_m, out=np.empty((4,) + height.shape))


def weights(facades, sunlit, svf, azimuth, elevation, kernel=wall_solar_weights):
    return kernel(facades, sunlit, svf, sun_azimuth_deg=azimuth, sun_elevation_deg=elevation,
                  out=np.empty((3,) + sunlit.shape))


def random_town(rng, ny=23, nx=31):
    """Blocks of random height, some touching, some at the grid edge, in float32 like the site."""
    height = np.where(rng.uniform(size=(ny, nx)) < 0.45, rng.uniform(3.0, 30.0, (ny, nx)), 0.0)
    return height.astype(np.float32)


# --------------------------------------------------------------------------- twins


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_facade_area_ratios_equal_their_twin(seed):
    height = random_town(np.random.default_rng(seed))
    fast = ratios(height, 5.0)
    slow = ratios(height, 5.0, kernel=facade_area_ratios_numpy)
    assert fast.max() > 1.0
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("azimuth, elevation", [(135.0, 35.0), (250.0, 12.0), (0.0, 60.0), (90.0, 5.0),
                                                (300.0, -3.0)])
def test_wall_solar_weights_equal_their_twin(azimuth, elevation):
    rng = np.random.default_rng(int(azimuth + elevation))
    height = random_town(rng)
    facades = ratios(height, 5.0)
    sunlit = rng.uniform(0.0, 1.0, height.shape)
    svf = rng.uniform(0.1, 1.0, height.shape)
    fast = weights(facades, sunlit, svf, azimuth, elevation)
    slow = weights(facades, sunlit, svf, azimuth, elevation, kernel=wall_solar_weights_numpy)
    assert fast[1].max() > 1.0 and fast[2].max() > 0.1
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("azimuth, elevation", [(135.0, 35.0), (250.0, 12.0), (0.0, 60.0), (300.0, -3.0)])
def test_the_walls_direct_weight_at_their_cells_equals_the_grid_kernel(azimuth, elevation):
    """The heat model computes the sun on the walls at the wall cells only (no grid-sized arrays);
    it must give the grid kernel's row 0 there, including cells at the grid's edge."""
    rng = np.random.default_rng(int(azimuth))
    height = random_town(rng)
    facades = ratios(height, 5.0)
    sunlit = rng.uniform(0.0, 1.0, height.shape)
    grid = weights(facades, sunlit, np.ones(height.shape), azimuth, elevation, kernel=wall_solar_weights_numpy)
    cells = np.flatnonzero(grid[1] > 0.0)
    rows, cols = np.divmod(cells, height.shape[1])
    assert ((rows == 0) | (cols == 0) | (rows == height.shape[0] - 1) | (cols == height.shape[1] - 1)).any()
    args = (np.ascontiguousarray(facades.reshape(4, -1)[:, cells]), facade_front_cells(cells, height.shape),
            sunlit.ravel())
    kw = dict(sun_azimuth_deg=azimuth, sun_elevation_deg=elevation)
    direct = wall_direct_weight_cells(*args, **kw, out=np.empty(cells.size))
    if elevation > 0:
        assert direct.max() > 0.1
    np.testing.assert_allclose(direct, grid[0].ravel()[cells], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(wall_direct_weight_cells_numpy(*args, **kw, out=np.empty(cells.size)), direct,
                               rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wall_fluxes_equal_their_twin(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    area = np.where(rng.uniform(size=n) < 0.2, 0.0, rng.uniform(0.1, 8.0, n))
    args = (rng.uniform(280.0, 330.0, n), rng.uniform(285.0, 310.0, n), area, area * rng.uniform(0.0, 1.0, n),
            rng.uniform(0.0, 0.5, n))
    kw = dict(FLUX_KW, wind_speed_m_s=float(rng.uniform(0.0, 4.0)))
    fast = wall_fluxes(*args, **kw, out=np.empty((4, n)))
    slow = wall_fluxes_numpy(*args, **kw, out=np.empty((4, n)))
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert np.all(fast[:, area == 0.0] == 0.0)


# --------------------------------------------------------------------------- geometry


def test_isolated_box_has_its_perimeter_times_height_of_facade():
    dx, h = 2.5, 9.0
    height = np.zeros((12, 14))
    height[3:8, 4:11] = h  # 5 rows (12.5 m north-south) x 7 columns (17.5 m east-west)
    facades = ratios(height, dx)
    area = facades.sum(axis=(1, 2)) * dx * dx  # [m2] per orientation
    np.testing.assert_allclose(area, [17.5 * h, 12.5 * h, 17.5 * h, 12.5 * h], rtol=1e-14)
    assert area.sum() == pytest.approx(2 * (12.5 + 17.5) * h, rel=1e-14)
    # each side on its own edge cells: north on row 3, east on column 10, ...
    assert np.all(facades[N, 3, 4:11] == h / dx) and facades[N].sum() == pytest.approx(7 * h / dx)
    assert np.all(facades[E, 3:8, 10] == h / dx) and facades[E].sum() == pytest.approx(5 * h / dx)
    assert np.all(facades[S, 7, 4:11] == h / dx) and np.all(facades[W, 3:8, 4] == h / dx)
    # no facade inside the footprint or off the building
    assert np.all(facades[:, 4:7, 5:10] == 0.0)
    assert np.all(facades[:, height == 0.0] == 0.0)


def test_next_to_a_taller_building_only_the_height_difference_is_exposed():
    dx = 5.0
    height = np.zeros((8, 12))
    height[2:6, 2:6] = 6.0
    height[2:6, 6:10] = 10.0  # touching the first on its east side
    facades = ratios(height, dx)
    assert np.all(facades[E, 2:6, 5] == 0.0)  # the lower block's east side is hidden
    np.testing.assert_allclose(facades[W, 2:6, 6], (10.0 - 6.0) / dx)  # the taller one shows 4 m
    # lower block: N, S, W sides 20 m x 6 m; taller: N, S, E 20 m x 10 m and 20 m x 4 m to the west
    assert facades.sum() * dx * dx == pytest.approx(3 * 20 * 6.0 + 3 * 20 * 10.0 + 20 * 4.0, rel=1e-14)


def test_a_building_at_the_grid_edge_is_exposed_towards_the_outside():
    height = np.zeros((5, 5))
    height[0, :2] = 7.0
    facades = ratios(height, 1.0)
    np.testing.assert_array_equal(facades[N, 0, :2], [7.0, 7.0])
    assert facades[W, 0, 0] == 7.0 and facades[E, 0, 1] == 7.0 and facades[E, 0, 0] == 0.0


# --------------------------------------------------------------------------- sun and sky


def isolated_box():
    height = np.zeros((9, 10))
    height[3:6, 3:7] = 12.0
    facades = ratios(height, 4.0)
    return facades, np.ones(height.shape), np.ones(height.shape)


@pytest.mark.parametrize("elevation", [5.0, 30.0, 62.0])
def test_sun_due_south_lights_only_the_south_facades(elevation):
    facades, sunlit, svf = isolated_box()
    out = weights(facades, sunlit, svf, 180.0, elevation)
    expected = facades[S] * math.cos(math.radians(elevation))
    np.testing.assert_allclose(out[0], expected, rtol=0, atol=1e-12)
    assert out[0].max() > 1.0
    # the two outputs that do not depend on the sun
    np.testing.assert_array_equal(out[1], facades.sum(axis=0))
    np.testing.assert_allclose(out[2], np.where(out[1] > 0, 0.5, 0.0), rtol=1e-15)


def test_sun_from_the_south_east_lights_south_and_east_facades():
    facades, sunlit, svf = isolated_box()
    elevation = 40.0
    out = weights(facades, sunlit, svf, 135.0, elevation)
    cos_i = math.cos(math.radians(elevation)) * math.cos(math.radians(45.0))
    np.testing.assert_allclose(out[0], (facades[S] + facades[E]) * cos_i, rtol=1e-13, atol=1e-12)
    assert out[0][4, 6] == pytest.approx(facades[E, 4, 6] * cos_i)  # middle of the east side
    assert np.all(out[0][3, 3:6] == 0.0)  # north side, away from the corner: dark


@pytest.mark.parametrize("elevation", [0.0, -0.5, -20.0])
def test_no_direct_sun_on_the_facades_below_the_horizon(elevation):
    facades, sunlit, svf = isolated_box()
    out = weights(facades, sunlit, svf, 180.0, elevation)
    assert np.all(out[0] == 0.0)


def test_a_shaded_street_in_front_shades_the_facade_and_the_front_sets_its_sky():
    facades, sunlit, svf = isolated_box()
    sunlit[6, 3:5] = 0.0  # the street south of the building's two western columns
    svf[6, :] = 0.4
    svf[3:6, 7] = 0.8  # east of the building
    out = weights(facades, sunlit, svf, 180.0, 45.0)
    cos_e = math.cos(math.radians(45.0))
    np.testing.assert_array_equal(out[0][5, 3:5], 0.0)
    np.testing.assert_allclose(out[0][5, 5:7], facades[S, 5, 5:7] * cos_e, rtol=1e-14)
    a = facades[:, 5, 6]  # south-east corner: south and east facades, the same height
    assert a[S] > 0 and a[E] > 0 and a[N] == 0 and a[W] == 0
    assert out[2][5, 6] == pytest.approx(0.5 * (a[S] * 0.4 + a[E] * 0.8) / (a[S] + a[E]), rel=1e-14)


# --------------------------------------------------------------------------- energy balance


def wall_column(n_cells, t0):
    nl = len(WALL_LAYERS_M)
    shape = (n_cells, nl)
    return (np.full(shape, t0), np.full(shape, WALL_HEAT_CAPACITY_J_M3_K), np.full(shape, WALL_CONDUCTIVITY_W_M_K),
            np.tile(np.asarray(WALL_LAYERS_M), (n_cells, 1)))


def test_wall_flux_slopes_match_finite_differences():
    n = 3
    tw = np.array([285.0, 300.0, 325.0])

    def args(t):
        return t, np.full(n, 298.0), np.array([0.5, 2.0, 6.0]), np.array([0.2, 1.0, 0.0]), np.array([0.1, 0.3, 0.5])

    base = wall_fluxes(*args(tw), **FLUX_KW, out=np.empty((4, n)))
    eps = 1e-3
    up = wall_fluxes(*args(tw + eps), **FLUX_KW, out=np.empty((4, n)))
    down = wall_fluxes(*args(tw - eps), **FLUX_KW, out=np.empty((4, n)))
    numeric = (up[:2] - down[:2]) / (2 * eps)
    np.testing.assert_allclose(base[2], numeric[0], rtol=1e-7)
    np.testing.assert_allclose(base[3], numeric[1], rtol=1e-7)
    assert base[3, 0] == pytest.approx(CONVECTION_STILL_W_M2_K + CONVECTION_WIND_J_M3_K * 1.2)


def test_a_wall_at_equilibrium_with_air_and_indoors_stays_there():
    """No sun, sky emissivity 1 (longwave in = sigma Ta^4 whatever the sky view), wall =
    air = indoor temperature: every flux is zero and the column does not move."""
    n, t0 = 4, 296.5
    temperature, cap, cond, dz = wall_column(n, t0)
    area = np.array([0.6, 2.0, 4.5, 1.2])
    direct = np.array([0.3, 1.0, 2.0, 0.0])  # no effect: the sun is off
    sky = np.array([0.1, 0.25, 0.5, 0.4])
    kw = dict(FLUX_KW, dni_w_m2=0.0, diffuse_w_m2=0.0, sky_emissivity=1.0)
    fluxes = np.empty((4, n))
    new = np.empty_like(temperature)
    scratch = np.empty((n, 2 * temperature.shape[1]))
    for _ in range(500):
        wall_fluxes(temperature[:, 0].copy(), np.full(n, t0), area, direct, sky, **kw, out=fluxes)
        rn, h, drn, dh = fluxes
        conduct_columns(temperature, cap, cond, dz, rn - h, drn - dh, np.full(n, t0), dt_s=600.0, scratch=scratch,
                        out=new)
        temperature, new = new, temperature
    assert np.abs(temperature - t0).max() < 1e-9
    assert np.abs(fluxes).max() > 0.0  # the slopes are there; the fluxes are ~0


def test_wall_energy_closes_over_a_day_and_the_wall_warms_the_night_air():
    """One wall column (the centre cell of a 3x3 grid: an isolated 10 m tower on 5 m cells)
    over a synthetic clear day: sum of (Rn - H) at the new state minus the inner-face flux,
    times dt, equals the column's energy change to round-off."""
    dx, dt, day = 5.0, 600.0, 86400.0
    height = np.zeros((3, 3))
    height[1, 1] = 10.0
    facades = ratios(height, dx)
    sunlit, svf = np.ones((3, 3)), np.full((3, 3), 0.9)
    geometry = np.empty((3, 3, 3))
    temperature, cap, cond, dz = wall_column(1, 294.0)
    indoor = np.array([299.15])
    scratch = np.empty((1, 2 * temperature.shape[1]))
    new = np.empty_like(temperature)
    fluxes = np.empty((4, 1))
    energy = np.empty(1)
    e_start = column_energy_j_m2(temperature, cap, dz, np.empty(1))[0]
    surface_sum = inner_sum = scale = 0.0
    h_night, h_day = [], []
    for k in range(int(day / dt)):
        t = k * dt
        phase = 2 * math.pi * (t / day - 0.25)  # 0 at 06:00 solar time
        elevation = 58.0 * math.sin(phase)
        azimuth = 180.0 - 110.0 * math.cos(phase)  # 70 deg at 06:00, south at noon, 290 deg at 18:00
        air = np.array([295.0 + 6.0 * math.sin(phase - 0.6)])
        wall_solar_weights(facades, sunlit, svf, sun_azimuth_deg=azimuth, sun_elevation_deg=elevation, out=geometry)
        dni = 800.0 if elevation > 1.0 else 0.0
        diffuse = 150.0 * max(math.sin(math.radians(elevation)), 0.0)
        tower = geometry.reshape(3, -1)[:, 4:5]  # direct weight, facade ratio, sky view of the centre cell
        wall_fluxes(temperature[:, 0].copy(), air, tower[1], tower[0], tower[2],
                    **dict(FLUX_KW, dni_w_m2=dni, diffuse_w_m2=diffuse), out=fluxes)
        assert tower[1, 0] == pytest.approx(4 * 10.0 / dx) and tower[2, 0] == pytest.approx(0.45)
        rn, h, drn, dh = fluxes
        conduct_columns(temperature, cap, cond, dz, rn - h, drn - dh, indoor, dt_s=dt, scratch=scratch, out=new)
        d_tw = new[:, 0] - temperature[:, 0]
        rn_new, h_new = rn + drn * d_tw, h + dh * d_tw
        inner = bottom_flux_w_m2(new, cond, dz, indoor, np.empty(1))
        surface_sum += float((rn_new - h_new)[0]) * dt
        inner_sum += float(inner[0]) * dt
        scale += (abs(float(rn_new[0])) + abs(float(h_new[0])) + abs(float(inner[0]))) * dt
        (h_day if elevation > 0 else h_night).append(float(h_new[0]))
        temperature, new = new, temperature
    e_end = column_energy_j_m2(temperature, cap, dz, energy)[0]
    assert abs((e_end - e_start) - (surface_sum - inner_sum)) <= 1e-10 * scale
    assert scale > 1e6 and abs(e_end - e_start) > 1e4  # energy really moved
    assert np.mean(h_night) > 0.0  # the wall gives heat to the night air

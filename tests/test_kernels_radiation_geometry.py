"""Shadow and sky-view kernels: equal to their NumPy twins, and right on shapes with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatsim.kernels.shadows import (local_max_height_m, sunlit_fraction, sunlit_fraction_cells,
                                    sunlit_fraction_cells_numpy, sunlit_fraction_numpy)
from heatsim.kernels.skyview import sky_view_factor, sky_view_factor_numpy


def random_dsm(ny: int, nx: int, seed: int, dtype: str = "float64"):
    """Rolling terrain with random box buildings and single-cell trees of random cover."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx]
    terrain = 10.0 + 2.0 * np.sin(xx / 9.0) + 1.5 * np.cos(yy / 7.0)
    buildings = np.zeros((ny, nx))
    for _ in range(max(1, ny * nx // 60)):
        i, j = rng.integers(0, ny), rng.integers(0, nx)
        h, w = rng.integers(1, 5, size=2)
        buildings[i:i + h, j:j + w] = rng.uniform(3.0, 30.0)
    trees = (rng.random((ny, nx)) < 0.2) & (buildings == 0)
    tree_height = np.where(trees, rng.uniform(2.0, 15.0, (ny, nx)), 0.0)
    surface = terrain + buildings
    # where there are no trees the vegetation top is the terrain (below roofs) or lower
    vegetation_top = terrain + tree_height - np.where(trees, 0.0, rng.uniform(0.0, 1.0, (ny, nx)))
    canopy = np.where(trees, rng.uniform(0.2, 1.0, (ny, nx)), rng.uniform(0.0, 0.3, (ny, nx)))
    return surface.astype(dtype), vegetation_top.astype(dtype), canopy.astype(dtype)


def sunlit(surface, vegetation_top=None, canopy=None, *, az, el, cell=1.0, dist=200.0, tau=0.03):
    vegetation_top = surface if vegetation_top is None else vegetation_top
    canopy = np.zeros_like(surface) if canopy is None else canopy
    return sunlit_fraction(surface, vegetation_top, canopy, cell_size_m=cell, sun_azimuth_deg=float(az),
                           sun_elevation_deg=float(el), max_distance_m=dist,
                           max_height_m=float(max(surface.max(), vegetation_top.max())),
                           leaf_transmissivity=tau, out=np.empty_like(surface))


def svf(surface, vegetation_top=None, canopy=None, *, cell=1.0, n=32, dist=200.0, tau=0.03):
    vegetation_top = surface if vegetation_top is None else vegetation_top
    canopy = np.zeros_like(surface) if canopy is None else canopy
    return sky_view_factor(surface, vegetation_top, canopy, cell_size_m=cell, n_directions=n, max_distance_m=dist,
                           leaf_transmissivity=tau, out=np.empty_like(surface))


# --- kernels equal their twins ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", range(5))
def test_sunlit_fraction_equals_numpy_twin(seed, dtype):
    rng = np.random.default_rng(100 + seed)
    surface, vegetation_top, canopy = random_dsm(30, 40, seed, dtype)
    kw = dict(cell_size_m=float(rng.choice([1.0, 2.0, 5.0])), sun_azimuth_deg=float(rng.uniform(0, 360)),
              sun_elevation_deg=float(rng.uniform(5, 80)), max_distance_m=float(rng.uniform(20, 150)),
              leaf_transmissivity=float(rng.uniform(0, 0.3)))
    # the kernel stops rays at the tallest surface, the twin marches them to the end
    top = float(max(surface.max(), vegetation_top.max()))
    got = sunlit_fraction(surface, vegetation_top, canopy, max_height_m=top, out=np.empty_like(surface), **kw)
    want = sunlit_fraction_numpy(surface, vegetation_top, canopy, max_height_m=np.inf, out=np.empty((30, 40)), **kw)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 if dtype == "float32" else 1e-12)
    # the scene is varied enough to exercise full sun, full shade and partial shade under crowns
    assert (want == 0).any() and (want == 1).any() and ((want > 0) & (want < 1)).any()


@pytest.mark.parametrize("seed", range(4))
def test_sunlit_fraction_of_some_cells_with_local_height_bounds_equals_twin(seed):
    """The per-cell rays stop at the local maximum height within reach; same answer."""
    rng = np.random.default_rng(150 + seed)
    surface, vegetation_top, canopy = random_dsm(30, 40, seed, "float64")
    surface[:, :10] += 25.0  # a hill on the west side: its height must not bound the rays on the east
    kw = dict(cell_size_m=2.0, sun_azimuth_deg=float(rng.uniform(0, 360)), sun_elevation_deg=float(rng.uniform(5, 60)),
              max_distance_m=float(rng.uniform(10, 40)), leaf_transmissivity=0.05)
    cells = np.sort(rng.choice(surface.size, 500, replace=False))
    bound = local_max_height_m(surface, vegetation_top, cell_size_m=2.0, max_distance_m=kw["max_distance_m"]).ravel()
    assert (bound[cells] < surface.max()).any()  # some rays get a lower bound than the grid's top
    got = sunlit_fraction_cells(surface, vegetation_top, canopy, cells, bound[cells], out=np.empty(500), **kw)
    want = sunlit_fraction_cells_numpy(surface, vegetation_top, canopy, cells, bound[cells], out=np.empty(500), **kw)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert (want == 0).any() and (want == 1).any()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", range(4))
def test_sky_view_factor_equals_numpy_twin(seed, dtype):
    rng = np.random.default_rng(200 + seed)
    surface, vegetation_top, canopy = random_dsm(30, 40, seed, dtype)
    kw = dict(cell_size_m=float(rng.choice([1.0, 2.0, 5.0])), n_directions=int(rng.integers(4, 33)),
              max_distance_m=float(rng.uniform(20, 150)), leaf_transmissivity=float(rng.uniform(0, 0.3)))
    got = sky_view_factor(surface, vegetation_top, canopy, out=np.empty_like(surface), **kw)
    want = sky_view_factor_numpy(surface, vegetation_top, canopy, out=np.empty((30, 40)), **kw)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 if dtype == "float32" else 1e-12)
    assert 0.0 < want.min() and want.max() <= 1.0 and want.std() > 0.05


def test_sky_view_factor_step_growth_error_is_small():
    """The kernel's growing step against a constant half-cell step, on a 5 m synthetic city."""
    surface, vegetation_top, canopy = random_dsm(80, 80, 7)
    kw = dict(cell_size_m=5.0, n_directions=32, max_distance_m=300.0, leaf_transmissivity=0.03)
    coarse = sky_view_factor(surface, vegetation_top, canopy, out=np.empty_like(surface), **kw)
    fine = sky_view_factor_numpy(surface, vegetation_top, canopy, out=np.empty_like(surface),
                                 distance_step_fraction=0.0, **kw)
    error = np.abs(coarse - fine)
    assert error.mean() < 0.005
    assert error.max() < 0.05


# --- flat ground, sun below the horizon ------------------------------------------------------------------

def test_flat_ground_is_sunlit_and_sees_the_whole_sky():
    ground = np.full((25, 30), 12.0)
    for az, el in [(0, 10), (135, 30), (250, 75)]:
        np.testing.assert_array_equal(sunlit(ground, az=az, el=el), 1.0)
        np.testing.assert_array_equal(sunlit_fraction_numpy(
            ground, ground, np.zeros_like(ground), cell_size_m=1.0, sun_azimuth_deg=az, sun_elevation_deg=el,
            max_distance_m=50.0, max_height_m=np.inf, leaf_transmissivity=0.03, out=np.empty_like(ground)), 1.0)
    np.testing.assert_allclose(svf(ground, dist=50.0), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("el", [0.0, -10.0])
def test_sun_below_horizon_gives_no_direct_beam(el):
    surface, vegetation_top, canopy = random_dsm(20, 20, 3)
    kw = dict(cell_size_m=2.0, sun_azimuth_deg=180.0, sun_elevation_deg=el, max_distance_m=50.0,
              leaf_transmissivity=0.03)
    out = np.full_like(surface, 0.5)
    np.testing.assert_array_equal(sunlit_fraction(surface, vegetation_top, canopy, max_height_m=100.0, out=out, **kw), 0)
    out = np.full_like(surface, 0.5)
    np.testing.assert_array_equal(
        sunlit_fraction_numpy(surface, vegetation_top, canopy, max_height_m=100.0, out=out, **kw), 0)


# --- a box building: shadow length H / tan(elevation) ----------------------------------------------------

H = 10.0
TOP, LEFT, SIDE = 50, 50, 10  # building rows/cols 50..59 on a 1 m grid


def box():
    surface = np.zeros((120, 120))
    surface[TOP:TOP + SIDE, LEFT:LEFT + SIDE] = H
    return surface


def shaded_run(shade, cells):
    """Number of consecutive shaded cells along `cells`, starting at the first."""
    n = 0
    for i, j in cells:
        if not shade[i, j]:
            break
        n += 1
    return n


@pytest.mark.parametrize("el", [20.0, 40.0, 60.0])
@pytest.mark.parametrize("az", [90, 135, 180, 225, 270])
def test_box_building_shadow_length(az, el):
    surface = box()
    shade = sunlit(surface, az=az, el=el) < 0.5
    length = H / math.tan(math.radians(el))
    mid = TOP + SIDE // 2
    bottom, right = TOP + SIDE - 1, LEFT + SIDE - 1
    if az == 180:  # sun in the south: shadow to the north of the north wall
        run = shaded_run(shade, [(TOP - m, mid) for m in range(1, 60)])
    elif az == 90:  # sun in the east: shadow west
        run = shaded_run(shade, [(mid, LEFT - m) for m in range(1, 60)])
    elif az == 270:
        run = shaded_run(shade, [(mid, right + m) for m in range(1, 60)])
    elif az == 135:  # sun in the south-east: shadow north-west of the north-west corner
        run = shaded_run(shade, [(TOP - m, LEFT - m) for m in range(1, 60)])
    else:  # 225, sun in the south-west: shadow north-east of the north-east corner
        run = shaded_run(shade, [(TOP - m, right + m) for m in range(1, 60)])
    step = math.sqrt(2.0) if az in (135, 225) else 1.0
    assert abs(run * step - length) <= step

    # the shadow on the ground has the area of the footprint swept along the shadow vector
    ground_shadow = shade.copy()
    ground_shadow[TOP:TOP + SIDE, LEFT:LEFT + SIDE] = False
    vx, vy = length * abs(math.sin(math.radians(az))), length * abs(math.cos(math.radians(az)))
    area = SIDE * vx + SIDE * vy
    assert abs(ground_shadow.sum() - area) <= 0.1 * area + SIDE
    # nothing is shaded on the sun's side of the building
    if az == 180:
        assert not shade[bottom + 1:, :].any()
    if az == 90:
        assert not shade[:, right + 1:].any()
    if az == 270:
        assert not shade[:, :LEFT].any()


# --- street canyons: SVF = cos(atan(2H/W)) at the centre of the floor ------------------------------------

def canyon(height, width=20, wall=30, length=241):
    """A north-south street of `width` 1 m cells between two building rows `wall` cells thick."""
    surface = np.zeros((length, 2 * wall + width))
    surface[:, :wall] = height
    surface[:, wall + width:] = height
    centre_cols = [wall + width // 2 - 1, wall + width // 2]  # the two cells either side of the axis
    return surface, length // 2, centre_cols


@pytest.mark.parametrize("aspect", [1.0, 0.5])
@pytest.mark.parametrize("orientation", ["north-south", "east-west"])
def test_street_canyon_sky_view_factor(aspect, orientation):
    width = 20
    surface, row, cols = canyon(aspect * width, width)
    if orientation == "east-west":
        surface = np.ascontiguousarray(surface.T)
    result = svf(surface, dist=250.0)
    if orientation == "east-west":
        result = result.T
    expected = math.cos(math.atan(2.0 * aspect))
    for col in cols:
        assert result[row, col] == pytest.approx(expected, abs=0.03)
    # on the roofs, far from the street, the sky is open
    assert result[row, 0] == pytest.approx(1.0, abs=1e-12) and result[row, -1] == pytest.approx(1.0, abs=1e-12)


def test_tree_rows_instead_of_buildings_let_their_transmissivity_through():
    """Per direction: 1 - (1 - cos^2 beta) (1 - tau) for full cover, i.e. svf_b + (1 - svf_b) tau."""
    width, tau = 20, 0.1
    walls, row, cols = canyon(20.0, width)
    ground = np.zeros_like(walls)
    canopy = (walls > 0).astype(float)
    with_buildings = svf(walls, tau=tau)
    with_trees = svf(ground, walls, canopy, tau=tau)
    for col in cols:
        b = with_buildings[row, col]
        assert with_trees[row, col] == pytest.approx(b + (1 - b) * tau, abs=1e-12)
    # under a crown the ground gets its own crown's 1 - c (1 - tau) of what reaches the crown
    # (the own cell is not part of its horizon, so zeroing its cover changes only that factor)
    bare_own_cell = canopy.copy()
    bare_own_cell[row, 5] = 0.0
    without_own = svf(ground, walls, bare_own_cell, tau=tau)
    assert with_trees[row, 5] == pytest.approx(tau * without_own[row, 5], abs=1e-12)
    assert with_trees[row, 5] < 0.5 * tau


# --- tree crowns let some sun through --------------------------------------------------------------------

def test_tree_crown_shadow_passes_leaf_transmissivity():
    tau = 0.1
    ground = np.zeros((60, 60))
    vegetation_top = ground.copy()
    canopy = np.zeros_like(ground)
    vegetation_top[40, 30] = 10.0  # one 1 m crown cell, 10 m tall
    canopy[40, 30] = 1.0
    out = sunlit(ground, vegetation_top, canopy, az=180, el=30, tau=tau)
    length = 10.0 / math.tan(math.radians(30.0))
    behind = out[40 - int(length) + 1:40, 30]  # north of the tree, within the shadow length
    assert len(behind) >= 15
    np.testing.assert_allclose(behind, tau, rtol=0, atol=1e-12)  # ~tau, not 0
    assert out[40, 30] == pytest.approx(tau)  # under its own crown
    assert out[40 - int(length) - 2, 30] == 1.0  # beyond the shadow
    assert out[41:, :].min() == 1.0  # nothing south of it is shaded

    # crowns are read as independent per cell: two crown cells along the ray pass tau**2
    vegetation_top[39, 30] = 10.0
    canopy[39, 30] = 1.0
    out = sunlit(ground, vegetation_top, canopy, az=180, el=30, tau=tau)
    assert out[30, 30] == pytest.approx(tau**2)
    # half cover passes half the beam plus tau of the other half
    canopy[39, 30] = 0.0
    canopy[40, 30] = 0.5
    vegetation_top[39, 30] = 0.0
    out = sunlit(ground, vegetation_top, canopy, az=180, el=30, tau=tau)
    assert out[35, 30] == pytest.approx(0.5 + 0.5 * tau)

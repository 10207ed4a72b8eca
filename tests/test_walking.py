"""Walking time on synthetic grids against the analytic distance / speed."""

from __future__ import annotations

import numpy as np
import pytest

from heatsim.walking import WALKING_SPEED_M_S, cool_places, walking_time_s


def test_straight_walk_equals_distance_over_speed():
    walkable = np.ones((5, 101), bool)
    target = np.zeros_like(walkable)
    target[2, 0] = True
    t = walking_time_s(walkable, target, cell_size_m=5.0)
    np.testing.assert_allclose(t[2, :], np.arange(101) * 5.0 / WALKING_SPEED_M_S, rtol=1e-12)


def test_diagonal_walk_costs_root_two_per_step():
    walkable = np.ones((60, 60), bool)
    target = np.zeros_like(walkable)
    target[0, 0] = True
    t = walking_time_s(walkable, target, cell_size_m=10.0)
    np.testing.assert_allclose(t[59, 59], 59 * np.sqrt(2) * 10.0 / WALKING_SPEED_M_S, rtol=1e-12)


def test_walk_around_a_wall_matches_the_shortest_path_around_its_end():
    """A wall from the top down to row 39 between start and target: the walk goes around
    its lower end. On an 8-connected grid the analytic shortest path (straight segments
    to the corner past the wall's end) is approximated within the grid's error: octile
    distances are at most 8 % longer than Euclidean ones (1 / cos(22.5 deg))."""
    n, dx = 81, 2.0
    walkable = np.ones((n, n), bool)
    walkable[:40, 40] = False  # the wall, column 40, rows 0-39 (the 45-degree path to its end is exact)
    target = np.zeros_like(walkable)
    target[0, 80] = True
    t = walking_time_s(walkable, target, cell_size_m=dx)
    corner = np.array([40.0, 40.0])  # just below the wall's end
    start, goal = np.array([0.0, 0.0]), np.array([0.0, 80.0])
    euclid_m = (np.linalg.norm(corner - start) + np.linalg.norm(goal - corner)) * dx
    assert euclid_m / WALKING_SPEED_M_S * (1 - 1e-9) <= t[0, 0] <= 1.0824 * euclid_m / WALKING_SPEED_M_S
    assert np.isinf(t[10, 40])  # the wall itself


def test_unreachable_cells_are_infinite_and_no_target_means_no_time():
    walkable = np.ones((10, 10), bool)
    walkable[:, 5] = False
    target = np.zeros_like(walkable)
    target[0, 9] = True
    t = walking_time_s(walkable, target, cell_size_m=5.0)
    assert np.isinf(t[:, :5]).all() and np.isfinite(t[:, 6:]).all()
    assert np.isinf(walking_time_s(walkable, np.zeros_like(walkable), 5.0)).all()


def test_cool_places_are_large_enough_green_areas_below_the_threshold():
    codes = {"grass": 1, "asphalt": 2, "trees": 3}
    lc = np.full((40, 40), 2)
    lc[0:10, 0:10] = 3  # 100 cells of 100 m2 = 1 ha of trees
    lc[30:33, 30:33] = 1  # 9 cells: too small
    utci = np.full((40, 40), 35.0)
    utci[0:10, 0:10] = 30.0
    utci[30:33, 30:33] = 30.0
    places = cool_places(lc, utci, codes, cell_area_m2=100.0)
    assert places[0:10, 0:10].all() and not places[30:33, 30:33].any() and places.sum() == 100
    utci[0:10, 0:10] = 33.0  # in strong heat stress: not a cool place
    assert not cool_places(lc, utci, codes, cell_area_m2=100.0).any()


@pytest.mark.parametrize("seed", [0, 1])
def test_starting_from_the_targets_rim_gives_the_times_of_starting_from_every_target(seed):
    """walking_time_s starts its search at the target cells next to walkable non-target cells
    only (a 1 m town has ~28 M target cells); the times must equal a search started from all."""
    from scipy import ndimage
    from skimage.graph import MCP_Geometric

    rng = np.random.default_rng(seed)
    walkable = rng.uniform(size=(60, 80)) > 0.25
    targets = ndimage.binary_dilation(rng.uniform(size=(60, 80)) > 0.995, iterations=3) & walkable
    fast = walking_time_s(walkable, targets, 2.0)
    costs = np.where(walkable, 2.0 / WALKING_SPEED_M_S, np.inf)
    every, _ = MCP_Geometric(costs, fully_connected=True).find_costs(list(zip(*np.nonzero(targets))))
    every = np.where(walkable, every, np.inf)
    assert targets.sum() > 50 and np.isfinite(fast).sum() > 1000
    np.testing.assert_allclose(fast, every, rtol=1e-12, atol=1e-9)

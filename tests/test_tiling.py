"""Tiled runs with dask equal single-array runs: small grids, chunks smaller than the
interventions and than the halo, on the threaded scheduler and a dask.distributed cluster."""

from __future__ import annotations

import numpy as np
import pytest

from heatsim.errors import InputError
from heatsim.kernels.skyview import sky_view_factor
from heatsim.tiling import map_tiled, scheduler_for, sky_view_factor_tiled

SVF = dict(cell_size_m=5.0, n_directions=16, max_distance_m=40.0, leaf_transmissivity=0.03)


def town(ny=47, nx=61, seed=1):
    """Random ground with blocks of buildings and trees (heights in m)."""
    rng = np.random.default_rng(seed)
    surface = rng.uniform(0.0, 3.0, (ny, nx))
    surface[rng.random((ny, nx)) < 0.12] += 12.0
    vegetation = np.where(rng.random((ny, nx)) < 0.1, surface + 8.0, surface - 1.0)
    canopy = np.where(vegetation > surface, 0.7, 0.0)
    return surface, vegetation, canopy


@pytest.mark.parametrize("chunks", [3, 10, (20, 7)])
def test_tiled_sky_view_equals_the_whole_grid_bit_for_bit(chunks):
    surface, vegetation, canopy = town()
    whole = sky_view_factor(surface, vegetation, canopy, out=np.empty(surface.shape), **SVF)
    tiled = sky_view_factor_tiled(surface, vegetation, canopy, chunks=chunks, **SVF)
    assert np.array_equal(whole, tiled)


def test_a_halo_narrower_than_the_stencil_shows_at_the_seams():
    """The check above can fail: with too small a halo the tiles disagree with the whole grid."""
    surface, vegetation, canopy = town()
    whole = sky_view_factor(surface, vegetation, canopy, out=np.empty(surface.shape), **SVF)

    def kernel(s, v, c):
        return sky_view_factor(s, v, c, out=np.empty(s.shape), **SVF)

    narrow = map_tiled(kernel, surface, vegetation, canopy, depth=2, chunks=10)
    assert not np.array_equal(whole, narrow)


def test_the_tiles_run_on_a_dask_distributed_cluster_too():
    from distributed import Client, LocalCluster

    surface, vegetation, canopy = town(30, 40, seed=2)
    whole = sky_view_factor(surface, vegetation, canopy, out=np.empty(surface.shape), **SVF)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        tiled = sky_view_factor_tiled(surface, vegetation, canopy, chunks=12, scheduler=cluster.scheduler_address,
                                      **SVF)
        tiled_client = sky_view_factor_tiled(surface, vegetation, canopy, chunks=12, scheduler=client, **SVF)
    assert np.array_equal(whole, tiled) and np.array_equal(whole, tiled_client)


def test_an_unknown_or_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(InputError, match="not a scheduler"):
        scheduler_for("fast")
    with pytest.raises(InputError, match="no dask scheduler answers"):
        scheduler_for("tcp://127.0.0.1:1")


def test_the_heat_models_sky_view_by_tiles_equals_the_whole_grid(tmp_path, monkeypatch):
    from conftest import make_site, tiny_arrays, tiny_grid

    from heatsim.heat.model import HeatModel
    from heatsim.landcover import default_table
    from heatsim.tiling import Tiling
    from heatsim.weather import load_heat_weather

    monkeypatch.setenv("HEATSIM_CACHE", str(tmp_path))
    from heatsim.heat.parameters import HeatParameters

    # a 40 m horizon (9 cells of halo) so that the 60 x 40 site really is cut into 3 x 5 tiles
    model = HeatModel(make_site(tiny_arrays(), tiny_grid()), default_table(),
                      load_heat_weather("warme-zomerdag", days=1, spinup_days=0),
                      HeatParameters(horizon_distance_m=40.0))
    whole = model._compute_sky_view()
    model.tiling = Tiling(9)
    assert np.array_equal(model._compute_sky_view(), whole)


def test_a_tiled_run_from_the_command_line_records_its_tiling(tmp_path, scenario_dir, monkeypatch):
    import json

    from heatsim.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEATSIM_CACHE", str(tmp_path / "cache"))  # the sky view is computed, by tiles
    scenario = scenario_dir("heat", "name: heat\ntitle: heat\nsite: SITE\nweather:\n"
                                    "  heat: {preset: warme-zomerdag, days: 1, spinup_days: 0, time_step_s: 1800}\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--tile-size", "8",
                 "--scheduler", "synchronous"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["tiling"] == {"chunk_cells": 8, "scheduler": "synchronous"}
    assert main(["run", str(scenario), "--scheduler", "threads"]) == 2  # a scheduler without tiles


@pytest.mark.parametrize("open_edges", [False, True])
@pytest.mark.parametrize("rows_per_band", [1, 3, 8])
def test_the_flow_step_by_bands_equals_the_whole_grid_bit_for_bit(open_edges, rows_per_band):
    """Random terrain with walls, water and flows; 30 steps at the CFL step of the whole grid;
    bands as thin as one row (its halo then spans several bands)."""
    from heatsim.kernels.overland_flow import GRAVITY_M_S2, flow_step
    from heatsim.tiling import TiledFlowStepper

    rng = np.random.default_rng(7)
    ny, nx, dx = 23, 17, 5.0
    bed = rng.uniform(0.0, 1.0, (ny, nx)) + np.linspace(0.0, 2.0, nx)[None, :]
    blocked = (rng.random((ny, nx)) < 0.1).astype(np.uint8)
    manning = rng.uniform(0.02, 0.08, (ny, nx))
    depth = np.where(blocked == 1, 0.0, rng.uniform(0.0, 0.3, (ny, nx)) * (rng.random((ny, nx)) < 0.7))
    qx, qy = rng.normal(0, 0.01, (ny, nx + 1)), rng.normal(0, 0.01, (ny + 1, nx))
    single = [a.copy() for a in (depth, qx, qy)]
    tiled = [a.copy() for a in (depth, qx, qy)]
    stepper = TiledFlowStepper(bed, manning, blocked, cell_size_m=dx, open_edges=open_edges,
                               rows_per_band=rows_per_band, scheduler="threads")
    out_single = out_tiled = 0.0
    for _ in range(30):
        dt = 0.5 * dx / np.sqrt(GRAVITY_M_S2 * max(single[0].max(), 1e-3))
        out_single += flow_step(bed, *single[:1], manning, blocked, *single[1:], cell_size_m=dx, dt_s=dt,
                                open_edges=open_edges, qy_work=np.empty((ny + 1, nx)),
                                scale_work=np.empty((ny, nx)), row_outflow_m3=np.empty(ny))
        out_tiled += stepper.step(*tiled, dt)
        for a, b in zip(single, tiled):
            assert np.array_equal(a, b)
    assert out_tiled == pytest.approx(out_single, rel=1e-12, abs=1e-12)
    assert (out_single > 0) == open_edges


def test_a_flow_halo_of_two_rows_is_too_narrow(monkeypatch):
    """The equality above is not automatic: with 2 rows of halo the bands' artificial edges
    reach into the kept rows (3 is the least that works; the default keeps 4)."""
    import heatsim.tiling as tiling
    from heatsim.kernels.overland_flow import GRAVITY_M_S2, flow_step

    monkeypatch.setattr(tiling, "FLOW_HALO_ROWS", 2)
    rng = np.random.default_rng(7)
    ny, nx, dx = 23, 17, 5.0
    bed = rng.uniform(0.0, 1.0, (ny, nx)) + np.linspace(0.0, 2.0, nx)[None, :]
    blocked = np.zeros((ny, nx), np.uint8)
    manning = np.full((ny, nx), 0.05)
    depth = rng.uniform(0.0, 0.3, (ny, nx))
    qx, qy = np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx))
    single, tiled = [a.copy() for a in (depth, qx, qy)], [a.copy() for a in (depth, qx, qy)]
    stepper = tiling.TiledFlowStepper(bed, manning, blocked, cell_size_m=dx, open_edges=True, rows_per_band=3)
    equal = True
    for _ in range(10):
        dt = 0.5 * dx / np.sqrt(GRAVITY_M_S2 * single[0].max())
        flow_step(bed, single[0], manning, blocked, single[1], single[2], cell_size_m=dx, dt_s=dt, open_edges=True,
                  qy_work=np.empty((ny + 1, nx)), scale_work=np.empty((ny, nx)), row_outflow_m3=np.empty(ny))
        stepper.step(*tiled, dt)
        equal &= all(np.array_equal(a, b) for a, b in zip(single, tiled))
    assert not equal


def test_the_water_model_by_bands_equals_the_whole_grid(harelbeke_50m):
    """The bundled baseline (outlets, the Gaverbeek inflow and culvert) at 50 m through the T=2
    storm: the flow step by bands of 30 rows gives the same maps, snapshots and volumes."""
    from heatsim.paths import scenarios_dir
    from heatsim.rain import load_storm
    from heatsim.scenario import apply_scenario, load_scenario
    from heatsim.tiling import Tiling
    from heatsim.water.model import WaterModel
    from heatsim.water.parameters import WaterParameters

    scenario = load_scenario(scenarios_dir() / "baseline.yaml")
    site, _, _ = apply_scenario(harelbeke_50m, scenario)
    storm = load_storm(scenario.weather.storm.model_copy(update={"preset": "composite-t2"}))
    results = []
    for tiling in (None, Tiling(30)):
        # by bands the flow takes the global step; the whole grid is told to take it too
        model = WaterModel(site, scenario.table, storm, scenario.water, WaterParameters(local_time_step_ratio=1))
        model.tiling = tiling
        assert not model.local_time_stepping
        results.append(model.run())
    whole, tiled = results
    assert whole.steps == tiled.steps > 100
    for name in ("max_depth_m", "max_speed_m_s", "time_of_max_depth_s", "infiltrated_mm"):
        assert np.array_equal(getattr(whole, name), getattr(tiled, name), equal_nan=True), name
    assert np.array_equal(whole.snapshots["depth"].values, tiled.snapshots["depth"].values)
    assert tiled.ledger.outflow_m3 == pytest.approx(whole.ledger.outflow_m3, rel=1e-12)
    assert abs(tiled.ledger.error_rel) < 1e-12

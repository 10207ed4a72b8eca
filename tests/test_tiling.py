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

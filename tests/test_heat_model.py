"""The heat model: kernel twins, equilibrium, energy closure, and a scenario's effect."""

import numpy as np
import pytest
from conftest import make_site, tiny_arrays, tiny_grid

from heatsim.heat.model import HeatModel
from heatsim.heat.parameters import HeatParameters
from heatsim.heat.summary import heat_summary, local_hour_index
from heatsim.kernels.conduction import conduct_columns
from heatsim.kernels.surface_energy import (ET_NONE, ET_OPEN_WATER, ET_VEGETATION, STEFAN_BOLTZMANN_W_M2_K4,
                                            surface_fluxes, surface_fluxes_numpy)
from heatsim.landcover import default_table
from heatsim.paths import scenarios_dir
from heatsim.scenario import apply_scenario, load_scenario
from heatsim.weather import load_heat_weather

T = default_table()
FLUX_KW = dict(direct_horizontal_w_m2=650.0, diffuse_w_m2=130.0, sky_emissivity=0.82, vapour_pressure_pa=1800.0,
               wind_speed_m_s=2.5, reference_height_m=10.0, air_density_kg_m3=1.15, air_heat_capacity_j_kg_k=1005.0,
               psychrometric_pa_k=67.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_surface_fluxes_equal_their_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    args = (rng.uniform(280, 335, n), rng.uniform(285, 315, n), rng.uniform(0.05, 0.3, n), rng.uniform(0.9, 0.98, n),
            rng.uniform(0, 1, n), rng.uniform(0.2, 1, n), rng.choice([0.0002, 0.005, 0.03, 0.5, 1.0], n),
            rng.integers(0, 5, n).astype(np.int8), rng.uniform(0, 300, n), rng.uniform(0, 1, n))
    kw = dict(FLUX_KW, wind_speed_m_s=float(rng.uniform(0.2, 6)))
    a = surface_fluxes(*args, **kw, out=np.empty((6, n)))
    b = surface_fluxes_numpy(*args, **kw, out=np.empty((6, n)))
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


def test_flux_slopes_match_finite_differences():
    """The linearisation handed to the implicit solve is the derivative of the fluxes.

    r_a is held at the previous state's stability in the slope (lagged), so H and LE are
    compared in strong wind, where stability barely changes r_a."""
    n = 3
    ts = np.array([300.0, 315.0, 290.0])
    args = lambda t: (t, np.full(n, 303.0), np.full(n, 0.15), np.full(n, 0.95), np.ones(n), np.ones(n),  # noqa: E731
                      np.full(n, 0.03), np.array([ET_NONE, ET_VEGETATION, ET_OPEN_WATER], np.int8),
                      np.array([0.0, 80.0, 0.0]), np.ones(n))
    kw = dict(FLUX_KW, wind_speed_m_s=200.0)
    base = surface_fluxes(*args(ts), **kw, out=np.empty((6, n)))
    eps = 1e-4
    up = surface_fluxes(*args(ts + eps), **kw, out=np.empty((6, n)))
    down = surface_fluxes(*args(ts - eps), **kw, out=np.empty((6, n)))
    numeric = (up[:3] - down[:3]) / (2 * eps)
    np.testing.assert_allclose(base[3], numeric[0], rtol=1e-6)
    np.testing.assert_allclose(base[4], numeric[1], rtol=2e-3)
    np.testing.assert_allclose(base[5], numeric[2], rtol=2e-3, atol=1e-6)


def test_a_cell_at_radiative_equilibrium_stays_there():
    """No sun, no sky (svf 0: longwave from walls at air temperature), surface = air = deep
    temperature, no evaporation: every flux is zero and the column does not move."""
    n, nl, t0 = 4, 10, 295.0
    temperature = np.full((n, nl), t0)
    cap = np.full((n, nl), 2e6)
    cond = np.full((n, nl), 1.0)
    dz = np.tile(np.asarray(HeatParameters().ground_layers_m), (n, 1))
    fluxes = np.empty((6, n))
    new = np.empty_like(temperature)
    for _ in range(500):
        surface_fluxes(temperature[:, 0].copy(), np.full(n, t0), np.full(n, 0.2), np.full(n, 0.95), np.zeros(n),
                       np.zeros(n), np.full(n, 0.03), np.full(n, ET_NONE, np.int8), np.zeros(n), np.zeros(n),
                       **dict(FLUX_KW, direct_horizontal_w_m2=0.0, diffuse_w_m2=0.0), out=fluxes)
        rn, h, le, drn, dh, dle = fluxes
        conduct_columns(temperature, cap, cond, dz, rn - h - le, drn - dh - dle, np.full(n, t0), dt_s=600.0,
                        scratch=np.empty((n, 2 * nl)), out=new)
        temperature, new = new, temperature
    assert np.abs(temperature - t0).max() < 1e-9
    assert STEFAN_BOLTZMANN_W_M2_K4 == pytest.approx(5.670374419e-8)


@pytest.fixture(scope="module")
def tiny_heat_run():
    site = make_site(tiny_arrays(), tiny_grid())
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=1)
    return site, HeatModel(site, T, weather, HeatParameters(air_grid_m=25.0)).run()


def test_energy_closes_to_round_off_over_two_days(tiny_heat_run):
    site, result = tiny_heat_run
    assert result.ledger.closure_rel < 1e-9
    assert len(result.ledger.net_radiation_w) == 2 * 144


def test_tiny_site_hourly_fields_and_summary(tiny_heat_run):
    site, result = tiny_heat_run
    f = result.fields
    assert f.sizes["time"] == 24
    i15, i04 = local_hour_index(f, 15), local_hour_index(f, 4)
    ts15 = f["surface_temperature"].isel(time=i15).values
    lc = site["landcover"].values
    asphalt = ts15[lc == T.code("asphalt")].mean()
    grass = ts15[lc == T.code("grass")].mean()
    assert asphalt > grass + 5.0  # sealed and dark vs transpiring grass in the afternoon sun
    # at night the sealed surface is the warmer one (heat stored by day)
    ts04 = f["surface_temperature"].isel(time=i04).values
    assert ts04[lc == T.code("asphalt")].mean() > ts04[lc == T.code("grass")].mean()
    assert np.all(np.isnan(f["utci"].isel(time=i15).values[lc == T.code("building")]))
    summary = heat_summary(site, T, result)
    assert summary["surface_temperature_15h_c"]["by_class"]["asphalt"] == pytest.approx(float(asphalt), abs=1e-3)
    assert summary["energy_closure_rel"] < 1e-9


def test_banded_streamed_run_equals_the_whole_grid_in_memory(tiny_heat_run, tmp_path):
    """A run that updates the cells in bands of a few rows and writes its hourly fields band by
    band into NetCDF (how a 1 m town fits in memory) gives the one-band, in-memory run's fields
    and file; only the ledger's sums are added in another order."""
    import xarray as xr

    from heatsim.heat.summary import write_heat_outputs

    site, whole = tiny_heat_run
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=1)
    model = HeatModel(site, T, weather, HeatParameters(air_grid_m=25.0))
    model.band_cells = 3 * site.sizes["x"]
    bands = model._bands()
    assert len(bands) > 3 and bands[0][:2] == (0, 3) and bands[-1][1] == site.sizes["y"]
    assert [b[2] for b in bands[1:]] == [b[3] for b in bands[:-1]] and bands[-1][3] == model.n
    banded = model.run(hourly_path=tmp_path / "run" / "hourly.nc")
    assert banded.fields["utci"].chunks is not None  # read lazily from the file
    for name in whole.fields.data_vars:
        np.testing.assert_allclose(banded.fields[name].values, whole.fields[name].values, rtol=0, atol=1e-4,
                                   err_msg=name)
    for a, b in ((banded.ledger.net_radiation_w, whole.ledger.net_radiation_w),
                 (banded.ledger.storage_change_w, whole.ledger.storage_change_w)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-6 * np.abs(b).max())
    assert banded.ledger.closure_rel < 1e-9
    # the streamed file is the file the in-memory result is written to, attributes and CRS included
    write_heat_outputs(tmp_path / "memory", site, whole)
    written = write_heat_outputs(tmp_path / "run", site, banded)
    assert written[0] == tmp_path / "run" / "hourly.nc"
    with xr.open_dataset(tmp_path / "memory" / "hourly.nc", engine="h5netcdf") as a, \
            xr.open_dataset(tmp_path / "run" / "hourly.nc", engine="h5netcdf") as b:
        xr.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
        assert a.attrs == b.attrs and a["utci"].attrs == b["utci"].attrs
        assert a.rio.crs == b.rio.crs and a.rio.transform() == b.rio.transform()
    banded.fields.close()


def test_hour_by_hour_reductions_equal_numpy_over_all_hours(tiny_heat_run):
    from heatsim.heat.summary import hourly_min, hours_above, last_day_slice

    _, result = tiny_heat_run
    f = result.fields
    day = last_day_slice(f)
    utci = f["utci"].isel(time=day).values
    counts = hours_above(f, "utci", 32.0, day)
    assert 0 < counts.max() <= 24
    np.testing.assert_array_equal(counts, (utci > 32.0).sum(axis=0))
    air = f["air_temperature"].isel(time=day).values
    np.testing.assert_array_equal(hourly_min(f, "air_temperature", day), air.min(axis=0))
    # the outputs, the summary and the exposure share one reduction per result
    from heatsim.heat.summary import last_day_hours_above, last_day_night_min

    assert last_day_hours_above(result, 32.0) is last_day_hours_above(result, 32.0)
    np.testing.assert_array_equal(last_day_hours_above(result, 32.0), counts)
    np.testing.assert_array_equal(last_day_night_min(result), air.min(axis=0))


def _markt_window(site, half_m=700.0):
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform(3.3097, 50.8553)
    part = site.sel(x=slice(x - half_m, x + half_m), y=slice(y + half_m, y - half_m))
    return part, x, y


def test_greened_marktplein_is_cooler_and_the_cooling_fades_with_distance(harelbeke_5m):
    scenario = load_scenario(scenarios_dir() / "vergroening-marktplein.yaml")
    changed_site, _, changed = apply_scenario(harelbeke_5m, scenario)
    base, x, y = _markt_window(harelbeke_5m)
    green, _, _ = _markt_window(changed_site)
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=1)
    params = HeatParameters(time_step_s=900.0)
    runs = [HeatModel(s, T, weather, params).run() for s in (base, green)]
    i15 = local_hour_index(runs[0].fields, 15)
    ts = [r.fields["surface_temperature"].isel(time=i15).values for r in runs]
    ta = [r.fields["air_temperature"].isel(time=i15).values for r in runs]
    mask = _markt_window(harelbeke_5m.assign(changed=(("y", "x"), changed)))[0]["changed"].values
    assert (ts[0] - ts[1])[mask].mean() > 5.0  # the square itself: shade, grass, permeable paving
    xx, yy = np.meshgrid(base.x.values, base.y.values)
    distance = np.hypot(xx - x, yy - y)
    cooling = ta[0] - ta[1]
    near = cooling[distance < 75].mean()
    far = cooling[(distance > 400) & (distance < 600)].mean()
    assert near > 0.0
    assert far < near


@pytest.mark.parametrize("seed", [0, 1])
def test_water_store_kernels_equal_their_twins(seed):
    from heatsim.kernels.water_stores import draw_water, draw_water_numpy, water_availability, water_availability_numpy

    rng = np.random.default_rng(seed)
    n = 500
    kind = rng.integers(0, 5, n).astype(np.int8)
    root, taw, ponded = rng.uniform(0, 80, n), rng.choice([0.0, 10.0, 120.0], n), rng.choice([0.0, 0.4, 3.0], n)
    a = water_availability(kind, root, taw, ponded, depletion_fraction=0.5, out=np.empty(n))
    b = water_availability_numpy(kind, root, taw, ponded, depletion_fraction=0.5, out=np.empty(n))
    np.testing.assert_allclose(a, b)
    le = rng.uniform(-50, 600, n)
    r1, p1, r2, p2 = root.copy(), ponded.copy(), root.copy(), ponded.copy()
    draw_water(kind, le, r1, p1, dt_s=600.0, latent_heat_j_kg=2.45e6)
    draw_water_numpy(kind, le, r2, p2, dt_s=600.0, latent_heat_j_kg=2.45e6)
    np.testing.assert_allclose(r1, r2)
    np.testing.assert_allclose(p1, p2)
    assert np.all(r1 >= 0) and np.all(p1 >= 0)


def test_weighted_sums_equal_their_twin():
    from heatsim.kernels.ledger import weighted_sums, weighted_sums_numpy

    rng = np.random.default_rng(3)
    values, weights = rng.normal(size=(5, 10001)), rng.uniform(0, 25, 10001)
    np.testing.assert_allclose(weighted_sums(values, weights, np.empty(5)),
                               weighted_sums_numpy(values, weights, np.empty(5)), rtol=1e-12)


def test_sky_view_is_computed_once_per_surface_and_cached(tmp_path, monkeypatch):
    """The sky view factor is cached by a hash of the surface: a second model on the same
    surface reads it, a changed surface (a new building) computes its own, a damaged
    cache file is recomputed."""
    monkeypatch.setenv("HEATSIM_CACHE", str(tmp_path))
    weather = load_heat_weather("warme-zomerdag", days=1, spinup_days=0)
    arrays = tiny_arrays()
    site = make_site(arrays, tiny_grid())
    first = HeatModel(site, T, weather).sky_view()
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(np.load(files[0]), first)
    np.testing.assert_array_equal(HeatModel(site, T, weather).sky_view(), first)
    files[0].write_bytes(b"not a numpy file")
    np.testing.assert_array_equal(HeatModel(site, T, weather).sky_view(), first)
    taller = dict(arrays, building_height=arrays["building_height"].copy())
    taller["building_height"][10:14, 10:14] = 30.0
    taller["landcover"] = arrays["landcover"].copy()
    taller["landcover"][10:14, 10:14] = T.code("building")
    other = HeatModel(make_site(taller, tiny_grid()), T, weather).sky_view()
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    assert other[16, 12] < first[16, 12] - 0.05  # next to the new tower the sky is smaller


def test_linearised_flux_glue_equals_its_twins():
    from heatsim.kernels.linearised import (fluxes_at_new_state, fluxes_at_new_state_numpy, net_surface_flux,
                                            net_surface_flux_numpy)
    rng = np.random.default_rng(5)
    fluxes = rng.normal(0.0, 200.0, (6, 1000))
    old, new = rng.uniform(290, 330, 1000), rng.uniform(290, 330, (1000, 4))
    a, b = (np.empty(1000), np.empty(1000)), (np.empty(1000), np.empty(1000))
    net_surface_flux(fluxes, *a)
    net_surface_flux_numpy(fluxes, *b)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-12)
    c, d = np.empty((5, 1000)), np.empty((5, 1000))
    fluxes_at_new_state(fluxes, old, new, c)
    fluxes_at_new_state_numpy(fluxes, old, new, d)
    np.testing.assert_allclose(c[:3], d[:3], rtol=1e-14, atol=1e-12)
    # Rn - H - LE at the new state is the flux of the old state plus its slope times the change
    np.testing.assert_allclose(c[0] - c[1] - c[2], a[0] + a[1] * (new[:, 0] - old), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("shape, factor", [((103, 211), 5), ((100, 200), 10), ((7, 9), 2), ((5, 4), 5)])
def test_air_grid_upsampling_is_bilinear_between_air_cell_centres(shape, factor):
    from scipy import ndimage

    from heatsim.heat.model import _upsample
    coarse = np.random.default_rng(factor).normal(size=(-(-shape[0] // factor), -(-shape[1] // factor)))
    rows, cols = ((np.arange(n) + 0.5) / factor - 0.5 for n in shape)
    reference = ndimage.map_coordinates(coarse, np.meshgrid(rows, cols, indexing="ij"), order=1, mode="nearest")
    np.testing.assert_allclose(_upsample(coarse, factor, shape), reference, rtol=0, atol=1e-12)

"""The water model on synthetic sites with known answers and on the bundled Harelbeke site:
mass closure, boundaries, culverts, scenario effects, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_site, tiny_arrays, tiny_grid

from heatsim.errors import InputError
from heatsim.kernels.flood_maxima import (track_flood_maxima, track_flood_maxima_cells,
                                          track_flood_maxima_cells_numpy, track_flood_maxima_numpy)
from heatsim.landcover import default_table
from heatsim.paths import scenarios_dir
from heatsim.rain import Hyetograph, load_storm
from heatsim.scenario import apply_scenario, load_scenario
from heatsim.scenario.loader import WaterBoundaries
from heatsim.scenario.schema import WaterSetup
from heatsim.water.model import WaterModel
from heatsim.water.parameters import WaterParameters
from heatsim.water.summary import water_summary

T = default_table()


def storm(mm_h: float, minutes: int, step_min: int = 5) -> Hyetograph:
    n = minutes // step_min
    return Hyetograph(times_s=np.arange(n) * 60.0 * step_min, intensity_mm_h=np.full(n, float(mm_h)),
                      end_s=60.0 * minutes, name=f"{mm_h} mm/h", source="test")


def run(site, rain, setup=None, **params):
    bounds = WaterBoundaries(setup or WaterSetup(edge="closed", after_storm_h=0.5), None)
    return WaterModel(site, T, rain, bounds, WaterParameters(**params)).run()


def test_flood_maxima_kernel_equals_its_twin():
    rng = np.random.default_rng(3)
    depth = np.where(rng.uniform(size=(20, 30)) < 0.3, 0.0, rng.uniform(0, 0.5, (20, 30)))
    qx, qy = rng.normal(0, 0.05, (20, 31)), rng.normal(0, 0.05, (21, 30))
    states = [(rng.uniform(0, 0.4, (20, 30)), np.full((20, 30), np.nan), rng.uniform(0, 0.3, (20, 30))) for _ in "ab"]
    states[1] = tuple(a.copy() for a in states[0])
    h_fast = track_flood_maxima(depth, qx, qy, 12.5, min_depth_m=0.01, max_depth_m=states[0][0],
                                time_of_max_s=states[0][1], max_speed_m_s=states[0][2])
    h_slow = track_flood_maxima_numpy(depth, qx, qy, 12.5, min_depth_m=0.01, max_depth_m=states[1][0],
                                      time_of_max_s=states[1][1], max_speed_m_s=states[1][2])
    assert h_fast == h_slow == depth.max()
    for a, b in zip(*states):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=0, equal_nan=True)
    assert (states[0][1] == 12.5).any() and np.isnan(states[0][1]).any()


def test_flood_maxima_of_a_few_cells_equal_the_full_pass_there():
    rng = np.random.default_rng(4)
    depth = np.where(rng.uniform(size=(20, 30)) < 0.3, 0.0, rng.uniform(0, 0.5, (20, 30)))
    qx, qy = rng.normal(0, 0.05, (20, 31)), rng.normal(0, 0.05, (21, 30))
    cells = np.array([0, 7, 31, 599, 300, 7], np.int64)  # corners, the middle, a duplicate
    start = (rng.uniform(0, 0.4, (20, 30)), np.full((20, 30), np.nan), rng.uniform(0, 0.3, (20, 30)))
    full, few, twin = (tuple(a.copy() for a in start) for _ in range(3))
    track_flood_maxima(depth, qx, qy, 3.0, min_depth_m=0.01, max_depth_m=full[0], time_of_max_s=full[1],
                       max_speed_m_s=full[2])
    h_few = track_flood_maxima_cells(cells, depth, qx, qy, 3.0, min_depth_m=0.01, max_depth_m=few[0],
                                     time_of_max_s=few[1], max_speed_m_s=few[2])
    h_twin = track_flood_maxima_cells_numpy(cells, depth, qx, qy, 3.0, min_depth_m=0.01, max_depth_m=twin[0],
                                            time_of_max_s=twin[1], max_speed_m_s=twin[2])
    assert h_few == h_twin == depth.ravel()[cells].max()
    picked = np.zeros(depth.shape, bool)
    picked.ravel()[cells] = True
    for f, a, b, s in zip(full, few, twin, start):
        np.testing.assert_array_equal(a[picked], f[picked])
        np.testing.assert_array_equal(a[~picked], s[~picked])
        np.testing.assert_allclose(b, a, rtol=1e-14, atol=0, equal_nan=True)
    assert track_flood_maxima_cells(np.zeros(0, np.int64), depth, qx, qy, 3.0, min_depth_m=0.01,
                                    max_depth_m=few[0], time_of_max_s=few[1], max_speed_m_s=few[2]) == 0.0


def test_skipping_dry_tiles_does_not_change_a_storm_with_culverts_and_outlets(harelbeke_runs):
    """The model skips the flow step's dry tiles (WaterModel.flow_tiles): the 25 m baseline
    storm (culverts, the held Leie, the Gaverbeek inflow) computed on every cell gives the
    same maps, hydrographs and ledger, bit for bit."""
    site, _ = harelbeke_runs["baseline"]
    scenario = load_scenario(scenarios_dir() / "baseline.yaml")
    runs = []
    for flow_tiles in (True, False):  # the global step: local time steps skip no tiles
        model = WaterModel(site, scenario.table, load_storm(scenario.weather.storm), scenario.water,
                           WaterParameters(local_time_step_ratio=1))
        model.flow_tiles = flow_tiles
        runs.append(model.run())
    tiled, full = runs
    assert full.steps == tiled.steps
    for name in ("max_depth_m", "max_speed_m_s", "time_of_max_depth_s", "infiltrated_mm", "depression_mm"):
        np.testing.assert_array_equal(getattr(full, name), getattr(tiled, name))
    np.testing.assert_array_equal(full.snapshots["depth"].values, tiled.snapshots["depth"].values)
    np.testing.assert_array_equal(full.hydrographs.values, tiled.hydrographs.values)
    assert full.ledger == tiled.ledger


def test_sealed_closed_bowl_keeps_all_rain_and_fills_to_the_level_the_volume_implies():
    """A sealed, closed basin: nothing infiltrates, no sewer, no outflow; the rain ends up as
    a lake whose level is the one its volume implies on the known bed."""
    arrays = tiny_arrays()
    ny, nx = arrays["landcover"].shape
    rows, cols = np.mgrid[0:ny, 0:nx]
    bed = 15.0 + 0.002 * ((rows - ny / 2) ** 2 + (cols - nx / 2) ** 2)  # a paraboloid bowl [m]
    arrays.update(landcover=np.full((ny, nx), T.code("paving"), "uint8"), elevation=bed.astype("float32"),
                  building_height=np.zeros((ny, nx), "float32"), canopy=np.zeros((ny, nx), "float32"),
                  tree_height=np.zeros((ny, nx), "float32"))
    site = make_site(arrays, tiny_grid())
    result = run(site, storm(30.0, 60), WaterSetup(edge="closed", after_storm_h=1.0, sewer_capacity_mm_h=0.0))
    led = result.ledger
    assert led.infiltration_m3 == 0.0 and led.sewer_m3 == 0.0 and led.outflow_m3 == 0.0
    assert led.error_rel < 1e-12
    # the free water at rest: its level, from the volume on the bed (depression stores full, 1.91 mm)
    depth = result.snapshots["depth"].isel(time=-1).values.astype(np.float64)
    bed32 = site["elevation"].values.astype(np.float64)
    volume = led.surface_water_m3
    area = 25.0
    levels = np.linspace(bed32.min(), bed32.min() + 2.0, 20001)
    held = np.array([np.maximum(level - bed32, 0.0).sum() * area for level in levels])
    implied = np.interp(volume, held, levels)
    wet = depth > 0.01
    np.testing.assert_allclose((bed32 + depth)[wet], implied, atol=0.01)  # 1 cm: thin films on the slopes


def test_snapshots_streamed_to_their_file_equal_those_kept_in_memory(tmp_path):
    """With ``snapshot_path`` each depth snapshot goes into the NetCDF file as it is taken (a 1 m
    town's would be 5 GB in memory); the file equals the one written from memory."""
    import xarray as xr

    from heatsim.water.summary import write_water_outputs

    site = make_site(tiny_arrays(), tiny_grid())
    setup = WaterSetup(edge="closed", after_storm_h=0.25, snapshot_interval_min=10)
    bounds = WaterBoundaries(setup, None)
    kept = WaterModel(site, T, storm(40.0, 30), bounds).run()
    streamed = WaterModel(site, T, storm(40.0, 30), bounds).run(snapshot_path=tmp_path / "run" / "depth_snapshots.nc")
    assert streamed.snapshots["depth"].chunks is not None and kept.snapshots.sizes["time"] == 1 + 45 // 10
    assert kept.snapshots["depth"].values.max() > 0.001
    np.testing.assert_array_equal(streamed.snapshots["depth"].values, kept.snapshots["depth"].values)
    write_water_outputs(tmp_path / "memory", site, kept, T)
    written = write_water_outputs(tmp_path / "run", site, streamed, T)
    assert tmp_path / "run" / "depth_snapshots.nc" in written
    with xr.open_dataset(tmp_path / "memory" / "depth_snapshots.nc", engine="h5netcdf") as a, \
            xr.open_dataset(tmp_path / "run" / "depth_snapshots.nc", engine="h5netcdf") as b:
        xr.testing.assert_identical(a, b)
        assert a.rio.crs == b.rio.crs and a.rio.transform() == b.rio.transform()
    streamed.snapshots.close()


def grass_and_asphalt_site():
    """The tiny grid, flat, grass on the west half and asphalt on the east half."""
    arrays = tiny_arrays()
    ny, nx = arrays["landcover"].shape
    lc = np.full((ny, nx), T.code("grass"), "uint8")
    lc[:, nx // 2:] = T.code("asphalt")
    arrays.update(landcover=lc, elevation=np.full((ny, nx), 15.0, "float32"),
                  building_height=np.zeros((ny, nx), "float32"), canopy=np.zeros((ny, nx), "float32"),
                  tree_height=np.zeros((ny, nx), "float32"))
    return make_site(arrays, tiny_grid()), lc


def test_sandy_field_takes_in_light_rain_and_sealed_surfaces_send_it_to_the_sewer():
    site, lc = grass_and_asphalt_site()
    result = run(site, storm(5.0, 60), WaterSetup(edge="closed", after_storm_h=0.5, sewer_capacity_mm_h=32.4))
    infiltrated = result.infiltrated_mm
    # 5 mm/h is below the sandy loam's conductivity (Rawls 1983: 10.9 mm/h): all that reaches the grass soaks in
    grass = lc == T.code("grass")
    assert np.allclose(infiltrated[grass][(slice(None))], infiltrated[grass].mean(), rtol=1e-6)
    assert infiltrated[grass].mean() > 4.0  # 5 mm minus interception (0.5 mm for grass)
    assert infiltrated[~grass].max() == 0.0
    assert result.ledger.sewer_m3 > 0.0
    assert result.ledger.error_rel < 1e-12


def test_culvert_never_carries_more_than_its_capacity():
    arrays = tiny_arrays()
    ny, nx = arrays["landcover"].shape
    rows, cols = np.mgrid[0:ny, 0:nx]
    bed = 20.0 - 0.02 * cols  # sloping east
    culvert = np.zeros((ny, nx), "uint8")
    stream = np.zeros((ny, nx), "uint8")
    culvert[ny // 2, 20:40] = 1
    stream[ny // 2, :] = 1
    arrays.update(landcover=np.full((ny, nx), T.code("asphalt"), "uint8"), elevation=bed.astype("float32"),
                  building_height=np.zeros((ny, nx), "float32"), canopy=np.zeros((ny, nx), "float32"),
                  tree_height=np.zeros((ny, nx), "float32"), culvert=culvert, stream=stream)
    site = make_site(arrays, tiny_grid())
    result = run(site, storm(100.0, 30), WaterSetup(edge="open", after_storm_h=0.25, sewer_capacity_mm_h=0.0,
                                                    culvert_diameter_m=0.15))
    capacity = result.culvert_capacity_m3_s[0]
    assert result.hydrographs["culvert_m3_s"].max() <= capacity * (1 + 1e-9)
    assert result.hydrographs["culvert_m3_s"].max() > 0.5 * capacity  # it was used, near its limit
    assert result.ledger.error_rel < 1e-12


@pytest.fixture(scope="module")
def harelbeke_runs():
    """The baseline and two projects through the T=20 storm on the 25 m site (a few s each; the
    opened channel is one cell wide there, coarse but enough for its effect on the streets)."""
    from heatsim.site.store import load_site
    base = load_site("harelbeke", 25.0)
    runs = {}
    for name in ("baseline", "ontharding", "openleggen-gaverbeek"):
        scenario = load_scenario(scenarios_dir() / f"{name}.yaml")
        site, _, _ = apply_scenario(base, scenario)
        result = WaterModel(site, scenario.table, load_storm(scenario.weather.storm), scenario.water).run()
        runs[name] = (site, result)
    return runs


def test_mass_closes_over_a_whole_storm_on_harelbeke(harelbeke_runs):
    site, result = harelbeke_runs["baseline"]
    summary = water_summary(site, result, T)
    assert summary["mass_balance_error_rel"] < 1e-6
    parts = (summary["interception_m3"] + summary["infiltration_m3"] + summary["sewer_m3"] + summary["outflow_m3"]
             + summary["storage_m3"])
    assert parts == pytest.approx(summary["rain_m3"] + summary["inflow_m3"] + summary["outlet_supply_m3"], rel=1e-6)
    assert set(summary["flooded_area_m2"]) == {"0.05", "0.20"}
    assert summary["flooded_area_m2"]["0.05"] >= summary["flooded_area_m2"]["0.20"] > 0
    # districts partition the study area: their flooded areas add up to the town's
    districts = summary["by_district"].values()
    assert sum(d["flooded_area_m2"]["0.05"] for d in districts) == pytest.approx(summary["flooded_area_m2"]["0.05"])
    assert sum(d["infiltration_m3"] for d in districts) == pytest.approx(summary["study_area"]["infiltration_m3"])


def test_depaving_raises_infiltration_and_lowers_the_sewer_load(harelbeke_runs):
    base, depaved = harelbeke_runs["baseline"][1].ledger, harelbeke_runs["ontharding"][1].ledger
    assert depaved.infiltration_m3 > base.infiltration_m3
    assert depaved.sewer_m3 < base.sewer_m3


def test_opening_the_gaverbeek_lowers_flooding_along_the_former_culvert(harelbeke_runs):
    """Land cells (not the channel, in either site) within 50 m of the culverted reach: the open
    channel collects the streets' runoff, so fewer of them flood and their water is shallower."""
    from scipy import ndimage
    base_site, base = harelbeke_runs["baseline"]
    open_site, opened = harelbeke_runs["openleggen-gaverbeek"]
    route = ndimage.binary_dilation(base_site["culvert"].values == 1, iterations=2)  # 2 x 25 m
    land = route & (base_site["stream"].values == 0) & (open_site["stream"].values == 0)
    assert land.sum() > 100
    assert (opened.max_depth_m[land] > 0.05).sum() < (base.max_depth_m[land] > 0.05).sum()
    assert opened.max_depth_m[land].mean() < base.max_depth_m[land].mean()
    assert opened.ledger.error_rel < 1e-6


def test_dem_with_holes_is_refused_with_one_clear_message():
    arrays = tiny_arrays()
    elevation = arrays["elevation"].copy()
    elevation[3, 4] = np.nan
    arrays["elevation"] = elevation
    site = make_site(arrays, tiny_grid())
    with pytest.raises(InputError, match="DTM has 1 cells without a height"):
        WaterModel(site, T, storm(10.0, 30), WaterBoundaries(WaterSetup(), None))


def test_a_storm_needing_absurdly_many_steps_is_refused():
    site = make_site(tiny_arrays(), tiny_grid())
    with pytest.raises(InputError, match="steps"):
        WaterModel(site, T, storm(10.0, 60), WaterBoundaries(WaterSetup(after_storm_h=48.0), None),
                   WaterParameters(max_steps=1000))


def test_a_wet_storm_before_the_heat_cools_permeable_ground_and_not_sealed_ground():
    """Coupling (storm, then hot day): the water the storm put into the ground feeds
    transpiration, so the grass is cooler at 15:00 than after no rain; asphalt takes no water
    in, and differs only through the shared air (and the few mm ponded in its dips, gone by
    mid-morning)."""
    from heatsim.heat.model import HeatModel
    from heatsim.heat.parameters import HeatParameters
    from heatsim.heat.summary import local_hour_index
    from heatsim.weather import load_heat_weather

    site, lc = grass_and_asphalt_site()
    wet = run(site, storm(20.0, 120), WaterSetup(edge="open", after_storm_h=0.5))
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=0)
    params = HeatParameters(time_step_s=900.0)
    dry_run = HeatModel(site, T, weather, params).run()
    wet_run = HeatModel(site, T, weather, params, storm_water_mm=wet.infiltrated_mm,
                        ponded_water_mm=wet.depression_mm).run()
    i15 = local_hour_index(dry_run.fields, 15)
    cooling = (dry_run.fields["surface_temperature"].isel(time=i15).values
               - wet_run.fields["surface_temperature"].isel(time=i15).values)
    grass = lc == T.code("grass")
    assert wet.infiltrated_mm[grass].mean() > 20.0  # the storm's water went into the grass
    assert cooling[grass].mean() > 1.0
    assert abs(cooling[~grass].mean()) < 0.2 * cooling[grass].mean()


def test_exposure_counts_residents_at_their_door_and_districts_add_up():
    """Two districts, residents in one building block; heat-stress hours, night air and
    flood depth given: every figure follows from them by hand."""
    from heatsim.population import SHARE_OVER_65, SHARE_UNDER_5, Population, exposure_summary, schematic_population

    arrays = tiny_arrays()
    ny, nx = arrays["landcover"].shape
    district = np.ones((ny, nx), "uint8")
    district[:, nx // 2:] = 2
    arrays["district"] = district
    site = make_site(arrays, tiny_grid())
    site.attrs["districts"] = '["west", "east"]'
    roof_codes = [T.code("building")]
    residents = schematic_population(site, roof_codes, total=1000.0)
    roof = np.isin(site["landcover"].values, roof_codes)
    assert residents.sum() == pytest.approx(1000.0) and (residents[~roof] == 0).all()
    hours = np.full((ny, nx), 3.0)
    night = np.full((ny, nx), 18.0)
    night[:, 30:] = 22.0  # the east half (where the block stands, cols 35-44) stays above 20 C
    depth = np.zeros((ny, nx))
    population = Population(residents, np.full((ny, nx), SHARE_OVER_65), np.full((ny, nx), SHARE_UNDER_5), "test")
    summary = exposure_summary(site, population, roof, utci_hours_above=hours, night_min_air_c=night,
                               max_depth_m=depth)
    assert summary["residents"] == pytest.approx(1000.0)
    assert summary["person_hours_strong_heat_stress"]["all"] == pytest.approx(3000.0)
    assert summary["person_hours_strong_heat_stress"]["over_65"] == pytest.approx(3000.0 * SHARE_OVER_65)
    assert summary["residents_tropical_night"] == pytest.approx(1000.0)
    assert summary["residents_flooded_above_0.20_m"] == 0.0
    west, east = summary["by_district"]["west"], summary["by_district"]["east"]
    assert west["residents"] + east["residents"] == pytest.approx(summary["residents"])
    assert (west["person_hours_strong_heat_stress"]["all"] + east["person_hours_strong_heat_stress"]["all"]
            == pytest.approx(summary["person_hours_strong_heat_stress"]["all"]))


def test_statistical_sectors_place_their_residents_and_shares_and_bad_sectors_are_refused(tmp_path):
    """Two sectors over the tiny site: each sector's residents land on the building floor area
    inside it (or spread over it when it has no building), its shares on its cells; a sector
    outside the site or without a number is one clear error."""
    import json

    from conftest import cell_box, polygon_geojson

    from heatsim.population import POPULATION_FILE, exposure_summary, population_for

    site = make_site(tiny_arrays(), tiny_grid())  # the building block: rows 10-19, cols 35-44
    ny, nx = site["landcover"].shape

    def sectors(rows):
        data = polygon_geojson(cell_box(0, ny, 30, nx))  # east: holds the building block
        west = polygon_geojson(cell_box(0, ny, 0, 30))["features"][0]
        data["features"][0]["properties"] = rows[0]
        west["properties"] = rows[1]
        data["features"].append(west)
        (tmp_path / POPULATION_FILE).write_text(json.dumps(data))

    sectors([{"residents": 300, "share_over_65": 0.3, "share_under_5": 0.04},
             {"residents": 100, "share_over_65": 0.1, "share_under_5": 0.08}])
    roof_codes = [T.code("building")]
    pop = population_for(site, tmp_path, roof_codes)
    roof = np.isin(site["landcover"].values, roof_codes)
    assert pop.residents[:, 30:].sum() == pytest.approx(300.0) and pop.residents[roof].sum() == pytest.approx(300.0)
    assert pop.residents[:, :30].sum() == pytest.approx(100.0)  # no building there: spread over the sector
    assert np.allclose(pop.residents[:, :30], 100.0 / (ny * 30))
    assert (pop.share_over_65[:, 30:] == 0.3).all() and (pop.share_under_5[:, :30] == 0.08).all()
    hours = np.full((ny, nx), 2.0)
    summary = exposure_summary(site, pop, roof, utci_hours_above=hours, night_min_air_c=None, max_depth_m=None)
    assert summary["person_hours_strong_heat_stress"]["over_65"] == pytest.approx(2.0 * (300 * 0.3 + 100 * 0.1))
    assert summary["source"].startswith("statistical sectors")

    sectors([{"residents": 300, "share_over_65": 0.3, "share_under_5": 0.04},
             {"residents": "many", "share_over_65": 0.1, "share_under_5": 0.08}])
    with pytest.raises(InputError, match=r"features\[1\]\.properties\.residents: expected a number"):
        population_for(site, tmp_path, roof_codes)
    far = polygon_geojson([(10000, 10000), (10100, 10000), (10100, 10100), (10000, 10000)])
    far["features"][0]["properties"] = {"residents": 5, "share_over_65": 0.2, "share_under_5": 0.05}
    (tmp_path / POPULATION_FILE).write_text(json.dumps(far))
    with pytest.raises(InputError, match="covers no cell of the site"):
        population_for(site, tmp_path, roof_codes)


def test_with_the_air_held_at_the_station_a_wet_storm_changes_permeable_cells_only():
    """The coupling check as the issue states it: with the town's air switched off (every
    cell sees the station's air, ``town_air=False``) and only the infiltrated water handed
    over, sealed cells are bit-for-bit identical after a wet storm and after none, while
    the grass, whose soil took the water in, is cooler."""
    from heatsim.heat.model import HeatModel
    from heatsim.heat.parameters import HeatParameters
    from heatsim.heat.summary import local_hour_index
    from heatsim.weather import load_heat_weather

    site, lc = grass_and_asphalt_site()
    wet = run(site, storm(20.0, 120), WaterSetup(edge="open", after_storm_h=0.5))
    weather = load_heat_weather("hittegolf-2019", days=1, spinup_days=0)
    params = HeatParameters(time_step_s=900.0, town_air=False)
    dry_run = HeatModel(site, T, weather, params).run()
    wet_run = HeatModel(site, T, weather, params, storm_water_mm=wet.infiltrated_mm).run()
    sealed = lc == T.code("asphalt")
    grass = lc == T.code("grass")
    assert sealed.any() and grass.any()
    dry_ts = dry_run.fields["surface_temperature"].values
    wet_ts = wet_run.fields["surface_temperature"].values
    assert np.array_equal(dry_ts[:, sealed], wet_ts[:, sealed])
    i15 = local_hour_index(dry_run.fields, 15)
    assert (dry_ts[i15][grass] - wet_ts[i15][grass]).mean() > 1.0

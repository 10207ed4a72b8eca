"""Rain for the water model: composite design storms, juli-2021, the hyetograph, rain and
hydrograph CSV files, and the scenario's weather.storm (preset or file)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from heatsim.errors import InputError
from heatsim.presets import STORM_PRESETS
from heatsim.rain import (
    GROWTH_SLOPE,
    IDF_DEPTH_MM,
    IDF_DURATIONS_MIN,
    MAX_RAIN_MM_H,
    RETURN_PERIODS,
    VMM_2016_DEPTH_1H_MM,
    VMM_2016_RETURN_PERIOD,
    Hydrograph,
    Hyetograph,
    composite_storm,
    derived_idf_depth_mm,
    growth_factor,
    idf_depth_mm,
    juli_2021_storm,
    load_storm,
    preset_storm,
    read_hydrograph_csv,
    read_rain_csv,
    write_rain_csv,
)


def centred_depth(storm: Hyetograph, d_s: float) -> float:
    mid = storm.duration_s / 2.0
    return storm.depth_between(mid - d_s / 2.0, mid + d_s / 2.0)


# ---------------------------------------------------------------- the IDF table

def test_published_t2_depths():
    """The two published numbers of the Flemish T=2 composite storm are in the table exactly."""
    assert idf_depth_mm(3600, 2) == pytest.approx(15.9, abs=1e-12)
    assert idf_depth_mm(24 * 3600, 2) == pytest.approx(40.8, abs=1e-12)


def test_idf_table_is_the_stated_derivation():
    """Every derived number is the documented derivation rounded to 0.1 mm (drop this test when the
    table is replaced by published values)."""
    for t in RETURN_PERIODS:
        for d, depth in zip(IDF_DURATIONS_MIN, IDF_DEPTH_MM[t], strict=True):
            assert depth == pytest.approx(derived_idf_depth_mm(d, t), abs=0.05 + 1e-9), (t, d)
    assert growth_factor(2) == 1.0
    assert growth_factor(20) == pytest.approx(1.857, abs=1e-3)
    assert growth_factor(100) == pytest.approx(2.456, abs=1e-3)


def test_growth_reproduces_its_calibration_point():
    """The T-ratio was fitted to VMM's 34.19 mm in 1 h = once in 44 years; T=20 and T=100 bracket it.
    (A consistency check of the fit, not an independent validation.)"""
    assert 15.9 * growth_factor(VMM_2016_RETURN_PERIOD) == pytest.approx(VMM_2016_DEPTH_1H_MM, abs=1e-9)
    assert idf_depth_mm(3600, 20) < VMM_2016_DEPTH_1H_MM < idf_depth_mm(3600, 100)
    assert GROWTH_SLOPE > 0


def test_idf_table_is_monotone():
    for t in RETURN_PERIODS:
        assert np.all(np.diff(IDF_DEPTH_MM[t]) > 0)
        # mean intensity falls with duration
        assert np.all(np.diff(np.array(IDF_DEPTH_MM[t]) / np.array(IDF_DURATIONS_MIN)) < 0)
    for a, b in itertools.pairwise(RETURN_PERIODS):
        assert np.all(np.array(IDF_DEPTH_MM[b]) > np.array(IDF_DEPTH_MM[a]))


def test_idf_interpolation_and_limits():
    # log-log between tabulated durations, proportional below 5 min
    assert idf_depth_mm(600, 20) == pytest.approx(13.5)
    mid = idf_depth_mm(40 * 60, 2)
    assert 12.1 < mid < 14.2
    assert idf_depth_mm(150, 2) == pytest.approx(4.9 / 2)
    assert idf_depth_mm(0, 100) == 0.0
    np.testing.assert_allclose(idf_depth_mm(np.array([300.0, 3600.0]), 2), [4.9, 15.9])
    with pytest.raises(ValueError, match="24 h"):
        idf_depth_mm(25 * 3600, 2)
    with pytest.raises(ValueError, match="T = 50"):
        idf_depth_mm(3600, 50)


# ---------------------------------------------------------------- composite storms

@pytest.mark.parametrize("t", RETURN_PERIODS)
def test_composite_centred_windows_hold_the_idf_depth(t):
    storm = composite_storm(t)  # the preset: 2 h at 5-min steps
    assert storm.duration_s == 7200 and storm.step_s == 300
    for d_min in (10, 20, 30, 60, 90, 120):  # table durations that are an even number of 5-min steps
        assert centred_depth(storm, d_min * 60) == pytest.approx(idf_depth_mm(d_min * 60, t), abs=0.1)
        assert storm.max_depth_in_window(d_min * 60) == pytest.approx(idf_depth_mm(d_min * 60, t), abs=0.1)
    assert storm.depth_mm == pytest.approx(IDF_DEPTH_MM[t][IDF_DURATIONS_MIN.index(120)], abs=1e-9)
    # symmetric, peaked in the middle, falling off on both sides
    np.testing.assert_allclose(storm.intensity_mm_h, storm.intensity_mm_h[::-1], rtol=0, atol=1e-12)
    half = storm.intensity_mm_h[len(storm.intensity_mm_h) // 2:]
    assert np.all(np.diff(half) <= 1e-9)
    assert storm.peak_mm_h == pytest.approx(idf_depth_mm(600, t) * 6)


@pytest.mark.parametrize("t", RETURN_PERIODS)
def test_composite_24h(t):
    storm = composite_storm(t, duration_s=24 * 3600, step_s=300)
    assert storm.depth_mm == pytest.approx(IDF_DEPTH_MM[t][-1], abs=1e-9)
    for d_min in (10, 20, 30, 60, 90, 120, 180, 360, 720, 1440):
        assert centred_depth(storm, d_min * 60) == pytest.approx(idf_depth_mm(d_min * 60, t), abs=0.1)
    # unimodal up to the 0.1-mm rounding of the table
    half = storm.intensity_mm_h[len(storm.intensity_mm_h) // 2:]
    assert np.all(np.diff(half) <= 0.01)


def test_t2_composite_holds_the_published_depths():
    storm = composite_storm(2, duration_s=24 * 3600, step_s=600)
    assert centred_depth(storm, 3600) == pytest.approx(15.9, abs=1e-9)
    assert storm.depth_mm == pytest.approx(40.8, abs=1e-9)
    assert storm.max_depth_in_window(3600) == pytest.approx(15.9, abs=1e-9)


def test_composite_other_steps_and_refusals():
    storm = composite_storm(20, duration_s=3 * 3600, step_s=60)
    assert len(storm.times_s) == 180
    assert centred_depth(storm, 3600) == pytest.approx(29.5, abs=0.1)
    assert centred_depth(storm, 15 * 60) == pytest.approx(idf_depth_mm(900, 20), abs=0.1)
    with pytest.raises(ValueError, match="even number"):
        composite_storm(20, duration_s=7200, step_s=7200 / 5)
    with pytest.raises(ValueError, match="even number"):
        composite_storm(20, duration_s=1000, step_s=300)
    with pytest.raises(ValueError, match="24 h"):
        composite_storm(20, duration_s=48 * 3600)
    with pytest.raises(ValueError, match="T = 5"):
        composite_storm(5)


def test_every_preset_builds():
    for name in STORM_PRESETS:
        storm = preset_storm(name)
        assert storm.name == name and storm.depth_mm > 0
    with pytest.raises(KeyError):
        preset_storm("composite-t1000")


def test_juli_2021_just_over_50_mm_in_24_h():
    storm = preset_storm("juli-2021")
    assert storm.duration_s == 24 * 3600
    assert 50.0 < storm.depth_mm < 53.0
    assert storm.max_depth_in_window(24 * 3600) == pytest.approx(storm.depth_mm)
    # a long, smooth event: no more than a few mm in any hour, peak in the middle
    assert storm.max_depth_in_window(3600) < 5.0
    assert np.argmax(storm.intensity_mm_h) in (len(storm.times_s) // 2 - 1, len(storm.times_s) // 2)
    assert np.max(np.abs(np.diff(storm.intensity_mm_h))) < 0.1
    assert juli_2021_storm(step_s=300).depth_mm == pytest.approx(storm.depth_mm)


# ---------------------------------------------------------------- the hyetograph

@pytest.fixture
def small():
    # 0-10 min: 12 mm/h, 10-20: 36, 20-30: 0, 30-40: 6 -> 2 + 6 + 0 + 1 = 9 mm
    return Hyetograph(times_s=np.array([0, 600, 1200, 1800]), intensity_mm_h=np.array([12.0, 36.0, 0.0, 6.0]),
                      end_s=2400)


def test_hyetograph_basics(small):
    assert small.depth_mm == pytest.approx(9.0)
    assert small.duration_s == 2400 and small.step_s == 600 and small.peak_mm_h == 36.0
    assert small.intensity_at(0) == 12.0 and small.intensity_at(599.9) == 12.0 and small.intensity_at(600) == 36.0
    assert small.intensity_at(2400) == 0.0 and small.intensity_at(-1) == 0.0
    np.testing.assert_array_equal(small.intensity_at([0, 700, 1300, 2000, 5000]), [12, 36, 0, 6, 0])
    assert small.depth_between(300, 900) == pytest.approx(1.0 + 3.0)
    assert small.depth_between(-100, 10000) == pytest.approx(9.0)
    assert small.depth_between(5000, 6000) == 0.0
    assert small.max_depth_in_window(600) == pytest.approx(6.0)
    assert small.max_depth_in_window(900) == pytest.approx(7.0)  # 5 min of 12 + 10 min of 36
    assert small.max_depth_in_window(10 ** 6) == pytest.approx(9.0)
    with pytest.raises(ValueError):
        small.depth_between(10, 5)


def test_depth_between_is_exact_for_any_steps():
    rng = np.random.default_rng(4)
    for storm in (composite_storm(20), preset_storm("juli-2021"), composite_storm(100, 86400, 600)):
        cuts = np.sort(np.concatenate([[-50.0, storm.duration_s + 50.0],
                                       rng.uniform(0, storm.duration_s, 37)]))
        pieces = storm.depth_between(cuts[:-1], cuts[1:])
        assert np.all(pieces >= 0)
        assert pieces.sum() == pytest.approx(storm.depth_mm, abs=1e-9)
        # each piece is the integral of the piecewise-constant intensity (fine midpoint sum)
        for a, b in zip(cuts[:-1][:5], cuts[1:][:5]):
            t = np.linspace(a, b, 20001)
            mid = (t[1:] + t[:-1]) / 2
            assert storm.depth_between(a, b) == pytest.approx(
                np.sum(storm.intensity_at(mid)) * (t[1] - t[0]) / 3600.0, abs=2e-3)


def test_max_depth_in_window_matches_brute_force():
    storm = Hyetograph(times_s=np.arange(6) * 300.0, intensity_mm_h=np.array([5.0, 0, 40, 10, 45, 2]), end_s=1800)
    for d in (100.0, 300.0, 450.0, 700.0, 1000.0):
        starts = np.linspace(-d, storm.end_s, 40001)
        brute = storm.depth_between(starts, starts + d).max()
        assert storm.max_depth_in_window(d) == pytest.approx(brute, abs=1e-3)
        assert storm.max_depth_in_window(d) >= brute - 1e-12


def test_hyetograph_refuses_bad_arrays():
    with pytest.raises(ValueError):
        Hyetograph(times_s=np.array([60.0, 120.0]), intensity_mm_h=np.array([1.0, 1.0]), end_s=180)
    with pytest.raises(ValueError):
        Hyetograph(times_s=np.array([0.0, 60.0]), intensity_mm_h=np.array([1.0, -1.0]), end_s=120)
    with pytest.raises(ValueError):
        Hyetograph(times_s=np.array([0.0, 60.0]), intensity_mm_h=np.array([1.0, 1.0]), end_s=60)


# ---------------------------------------------------------------- CSV files

def test_rain_csv_round_trip(tmp_path):
    for storm in (composite_storm(20), preset_storm("juli-2021")):
        path = write_rain_csv(storm, tmp_path / f"{storm.name}.csv")
        back = read_rain_csv(path)
        np.testing.assert_array_equal(back.times_s, storm.times_s)
        np.testing.assert_array_equal(back.intensity_mm_h, storm.intensity_mm_h)
        assert back.end_s == storm.end_s and back.depth_mm == pytest.approx(storm.depth_mm, abs=1e-12)
        assert back.name == storm.name and back.source == str(path)


def test_rain_csv_as_documented(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("# a small storm\n\ntime,rain_mm_h\n0,12\n# a comment between rows\n5,36\n10,12\n")
    storm = read_rain_csv(path)
    assert storm.duration_s == 900 and storm.depth_mm == pytest.approx(5.0)
    path.write_text("rain_mm_h , time\n 0 ,0\n 2.5,10\n")  # any column order, spaces
    storm = read_rain_csv(path)
    assert storm.duration_s == 1200 and storm.depth_mm == pytest.approx(2.5 / 6)


GOOD = "time,rain_mm_h\n0,10\n5,20\n10,10\n"

BAD_RAIN = {
    "empty": ("", None, "empty"),
    "only comments": ("# nothing here\n\n", None, "empty"),
    "header only": ("time,rain_mm_h\n", "time", "0 data row(s)"),
    "one row": ("time,rain_mm_h\n0,10\n", "time", "1 data row(s)"),
    "missing column": ("time\n0\n5\n", "rain_mm_h", "missing column"),
    "misspelt column": ("time,rain_mm_hr\n0,1\n5,1\n", "rain_mm_hr", "unknown column"),
    "extra column": ("time,rain_mm_h,depth_mm\n0,1,1\n5,1,1\n", "depth_mm", "unknown column"),
    "column twice": ("time,rain_mm_h,time\n0,1,0\n5,1,5\n", "time", "twice"),
    "short row": ("time,rain_mm_h\n0,1\n5\n", "line 3", "1 values"),
    "non-numeric rain": ("time,rain_mm_h\n0,1\n5,heavy\n", "rain_mm_h, line 3", "'heavy' is not a number"),
    "NaN rain": ("time,rain_mm_h\n0,1\n5,NaN\n", "rain_mm_h, line 3", "missing value"),
    "empty rain": ("time,rain_mm_h\n0,1\n5,\n", "rain_mm_h, line 3", "missing value"),
    "infinite rain": ("time,rain_mm_h\n0,1\n5,inf\n", "rain_mm_h, line 3", "not a finite number"),
    "negative rain": ("time,rain_mm_h\n0,1\n5,-2\n10,0\n", "rain_mm_h, line 3", "negative"),
    "absurd rain": ("time,rain_mm_h\n0,1\n5,720\n", "rain_mm_h, line 3", "at most 500 mm/h"),
    "non-numeric time": ("time,rain_mm_h\n0,1\nfive,1\n", "time, line 3", "not a number"),
    "date as time": ("time,rain_mm_h\n2021-07-14T10:00,1\n2021-07-14T10:05,1\n", "time, line 2",
                     "looks like a date"),
    "missing time": ("time,rain_mm_h\n0,1\n,1\n", "time, line 3", "missing value"),
    "first row not 0": ("time,rain_mm_h\n5,1\n10,1\n", "time, line 2", "expected 0"),
    "times going back": ("time,rain_mm_h\n0,1\n10,1\n5,1\n", "time, line 4", "not after the previous row"),
    "repeated time": ("time,rain_mm_h\n0,1\n5,1\n5,1\n", "time, line 4", "strictly increasing"),
    "gap": ("time,rain_mm_h\n0,1\n5,1\n10,1\n20,1\n25,1\n", "time, line 5", "gap: 10 min"),
    "irregular step": ("time,rain_mm_h\n0,1\n10,1\n20,1\n25,1\n35,1\n", "time, line 5", "irregular step"),
    "fractional step": ("time,rain_mm_h\n0,1\n0.5,1\n1,1\n", "time", "whole number of minutes"),
    "step of 2 h": ("time,rain_mm_h\n0,1\n120,1\n240,1\n", "time", "whole number of minutes, 1 to 60"),
}


@pytest.mark.parametrize("case", sorted(BAD_RAIN))
def test_bad_rain_files(tmp_path, case):
    text, field, problem = BAD_RAIN[case]
    path = tmp_path / "storm.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_rain_csv(path)
    err = info.value
    assert err.source == str(path) and str(path) in err.one_line()
    assert err.field == field
    assert problem in err.problem
    assert "\n" not in err.one_line()


def test_missing_and_unreadable_rain_files(tmp_path):
    with pytest.raises(InputError, match="no such rain file") as info:
        read_rain_csv(tmp_path / "nope.csv")
    assert str(tmp_path / "nope.csv") in info.value.one_line()
    with pytest.raises(InputError, match="not a file"):
        read_rain_csv(tmp_path)
    path = tmp_path / "latin1.csv"
    path.write_bytes("# pluie très forte\ntime,rain_mm_h\n0,1\n5,1\n".encode("latin-1"))
    with pytest.raises(InputError, match="not a UTF-8 text file") as info:
        read_rain_csv(path)
    assert str(path) in info.value.one_line()


def test_limits_are_inclusive(tmp_path):
    path = tmp_path / "edge.csv"
    path.write_text(f"time,rain_mm_h\n0,{MAX_RAIN_MM_H:g}\n60,0\n")
    assert read_rain_csv(path).peak_mm_h == MAX_RAIN_MM_H


# ---------------------------------------------------------------- hydrographs

def test_hydrograph(tmp_path):
    path = tmp_path / "gaverbeek.csv"
    path.write_text("# upstream inflow\ntime,discharge_m3_s\n0,0.5\n15,2.5\n30,1.5\n45,0.5\n")
    hydro = read_hydrograph_csv(path)
    assert hydro.name == "gaverbeek" and hydro.duration_s == 2700 and hydro.peak_m3_s == 2.5
    assert hydro.at(0) == 0.5 and hydro.at(900) == 2.5
    assert hydro.at(450) == pytest.approx(1.5)
    np.testing.assert_allclose(hydro.at([1350, 2700, 9999, -5]), [2.0, 0.5, 0.5, 0.5])
    # exact volume of the piecewise-linear series: trapezoids of 15 min
    assert hydro.volume_between(0, 2700) == pytest.approx(900 * (1.5 + 2.0 + 1.0))
    assert hydro.volume_between(0, 450) == pytest.approx(450 * 1.0)
    cuts = np.array([-100.0, 13.0, 900.0, 1234.5, 2700.0, 3000.0])
    total = sum(hydro.volume_between(a, b) for a, b in itertools.pairwise(cuts))
    assert total == pytest.approx(hydro.volume_between(-100, 3000))


BAD_HYDROGRAPH = {
    "negative discharge": ("time,discharge_m3_s\n0,1\n10,-0.2\n", "discharge_m3_s, line 3", "negative"),
    "absurd discharge": ("time,discharge_m3_s\n0,1\n10,2500\n", "discharge_m3_s, line 3", "at most 1000"),
    "missing column": ("time,rain_mm_h\n0,1\n10,1\n", "rain_mm_h", "unknown column"),
    "NaN": ("time,discharge_m3_s\n0,1\n10,nan\n", "discharge_m3_s, line 3", "missing value"),
    "gap": ("time,discharge_m3_s\n0,1\n10,1\n20,1\n40,1\n50,1\n", "time, line 5", "gap"),
    "empty": ("", None, "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_HYDROGRAPH))
def test_bad_hydrograph_files(tmp_path, case):
    text, field, problem = BAD_HYDROGRAPH[case]
    path = tmp_path / "inflow.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_hydrograph_csv(path)
    assert info.value.source == str(path) and info.value.field == field and problem in info.value.problem


def test_hydrograph_refuses_bad_arrays():
    with pytest.raises(ValueError):
        Hydrograph(times_s=np.array([0.0]), discharge_m3_s=np.array([1.0]))
    with pytest.raises(ValueError):
        Hydrograph(times_s=np.array([0.0, 60.0]), discharge_m3_s=np.array([1.0, -1.0]))
    with pytest.raises(ValueError):
        Hydrograph(times_s=np.array([0.0, 0.0]), discharge_m3_s=np.array([1.0, 1.0]))


def test_missing_hydrograph_file(tmp_path):
    with pytest.raises(InputError, match="no such hydrograph file"):
        read_hydrograph_csv(tmp_path / "nope.csv")


# ---------------------------------------------------------------- the scenario's storm

RAIN_CSV = "# 20 minutes\ntime,rain_mm_h\n0,30\n10,60\n"


def test_scenario_storm_from_a_file(scenario_dir):
    from heatsim.scenario import load_scenario

    (scenario_dir.folder / "rain").mkdir()
    (scenario_dir.folder / "rain" / "bui.csv").write_text(RAIN_CSV)
    path = scenario_dir("s", """\
        name: s
        title: storm from a file
        site: SITE
        weather: {storm: {file: rain/bui.csv}}
    """)
    scenario = load_scenario(path)
    spec = scenario.weather.storm
    assert spec.preset is None and spec.file == str((scenario_dir.folder / "rain" / "bui.csv").resolve())
    storm = load_storm(spec, scenario.path)
    assert storm.depth_mm == pytest.approx(15.0) and storm.duration_s == 1200 and storm.name == "bui"
    # a scenario inheriting it gets the same (absolute) file
    child = scenario_dir("child", "name: child\ntitle: t\nbase: s\n")
    assert load_scenario(child).weather.storm.file == spec.file


def test_scenario_storm_preset(scenario_dir):
    from heatsim.scenario import load_scenario

    path = scenario_dir("s", "name: s\ntitle: t\nsite: SITE\nweather: {storm: {preset: composite-t20}}\n")
    storm = load_storm(load_scenario(path).weather.storm, path)
    assert storm.name == "composite-t20" and storm.depth_mm == pytest.approx(36.3)


@pytest.mark.parametrize("storm, field, problem", [
    ("{file: nope.csv}", "weather.storm.file", "rain file not found"),
    ("{file: ../../elsewhere.csv}", "weather.storm.file", "leaves the scenarios folder"),
    ("{preset: composite-t20, file: rain.csv}", "weather.storm", "give either preset"),
    ("{}", "weather.storm", "give either preset"),
    ("{preset: composite-t50}", "weather.storm.preset", "unknown storm preset 'composite-t50'"),
    ("{file: rain.csv, days: 2}", "weather.storm.days", "unknown key"),
])
def test_scenario_storm_errors(scenario_dir, storm, field, problem):
    from heatsim.scenario import load_scenario

    path = scenario_dir("s", f"name: s\ntitle: t\nsite: SITE\nweather: {{storm: {storm}}}\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.source == str(path.resolve()) or info.value.source == str(path)
    assert info.value.field == field and problem in info.value.problem


def test_scenario_storm_bad_file_names_the_file(scenario_dir):
    from heatsim.scenario import load_scenario

    bad = scenario_dir.folder / "bad.csv"
    bad.write_text("time,rain_mm_h\n0,1\n5,-3\n")
    path = scenario_dir("s", "name: s\ntitle: t\nsite: SITE\nweather: {storm: {file: bad.csv}}\n")
    with pytest.raises(InputError) as info:
        load_storm(load_scenario(path).weather.storm, path)
    assert info.value.source == str(bad.resolve()) and info.value.field == "rain_mm_h, line 3"


def test_load_storm_direct(tmp_path):
    from heatsim.scenario.schema import StormWeather

    (tmp_path / "r.csv").write_text(RAIN_CSV)
    scenario = tmp_path / "s.yaml"
    assert load_storm(StormWeather(file="r.csv"), scenario).depth_mm == pytest.approx(15.0)
    assert load_storm("juli-2021").name == "juli-2021"
    assert load_storm(tmp_path / "r.csv").depth_mm == pytest.approx(15.0)
    with pytest.raises(InputError, match="rain file not found") as info:
        load_storm(StormWeather(file="nope.csv"), scenario)
    assert info.value.source == str(scenario) and info.value.field == "weather.storm.file"
    with pytest.raises(InputError, match="not a storm preset"):
        load_storm("composite-t7")
    assert math.isclose(load_storm(StormWeather(preset="composite-t2")).depth_mm, 19.5)

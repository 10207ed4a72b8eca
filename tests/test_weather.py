"""Weather for the heat model: presets, sun and clear sky, humidity, wind, interpolation, bad CSV files."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from heatsim.errors import InputError
from heatsim.presets import HEAT_PRESETS
from heatsim.weather import (
    DATA_COLUMNS,
    LATITUDE,
    LONGITUDE,
    TIMEZONE,
    load_heat_weather,
    preset_file,
    read_weather_csv,
    saturation_vapour_pressure_pa,
    vapour_pressure_pa,
    wind_components,
)

LOCAL = TIMEZONE
# pvlib 0.16 still calls DatetimeIndex.dayofyear, which pandas 3 deprecates (not heatsim's to fix)
pytestmark = pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated")


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=LOCAL)


@pytest.fixture(scope="module")
def hot():
    return load_heat_weather("hittegolf-2019", days=1, spinup_days=1)


# ---------------------------------------------------------------- an independent sun: NOAA's solar calculator

def noaa_sun(t: pd.Timestamp, lat: float = LATITUDE, lon: float = LONGITUDE) -> dict[str, float]:
    """Apparent elevation, azimuth [deg] and solar noon [UTC minutes of the day] after the NOAA
    Solar Calculator spreadsheet (Meeus, Astronomical Algorithms), written out independently of pvlib."""
    t = t.tz_convert("UTC")
    jd = t.to_julian_date()
    jc = (jd - 2451545.0) / 36525.0
    l0 = (280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360
    m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    rm = math.radians(m)
    c = (math.sin(rm) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) + math.sin(2 * rm) * (0.019993 - 0.000101 * jc)
         + math.sin(3 * rm) * 0.000289)
    omega = math.radians(125.04 - 1934.136 * jc)
    app_long = math.radians(l0 + c - 0.00569 - 0.00478 * math.sin(omega))
    eps0 = 23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60
    eps = math.radians(eps0 + 0.00256 * math.cos(omega))
    decl = math.asin(math.sin(eps) * math.sin(app_long))
    y = math.tan(eps / 2) ** 2
    rl0 = math.radians(l0)
    eot = 4 * math.degrees(y * math.sin(2 * rl0) - 2 * e * math.sin(rm) + 4 * e * y * math.sin(rm) * math.cos(2 * rl0)
                           - 0.5 * y * y * math.sin(4 * rl0) - 1.25 * e * e * math.sin(2 * rm))
    minutes = t.hour * 60 + t.minute + t.second / 60
    tst = (minutes + eot + 4 * lon) % 1440
    ha = tst / 4 - 180
    la = math.radians(lat)
    cos_z = math.sin(la) * math.sin(decl) + math.cos(la) * math.cos(decl) * math.cos(math.radians(ha))
    zen = math.acos(max(-1.0, min(1.0, cos_z)))
    elev = 90 - math.degrees(zen)
    te = math.tan(math.radians(elev))
    if elev > 85:
        refr = 0.0
    elif elev > 5:
        refr = 58.1 / te - 0.07 / te**3 + 0.000086 / te**5
    elif elev > -0.575:
        refr = 1735 + elev * (-518.2 + elev * (103.4 + elev * (-12.79 + elev * 0.711)))
    else:
        refr = -20.772 / te
    acos_az = math.degrees(math.acos((math.sin(la) * math.cos(zen) - math.sin(decl)) / (math.cos(la) * math.sin(zen))))
    azimuth = (acos_az + 180) % 360 if ha > 0 else (540 - acos_az) % 360
    return {"elevation": elev + refr / 3600, "azimuth": azimuth, "noon_utc_min": 720 - 4 * lon - eot}


# ---------------------------------------------------------------- presets

@pytest.mark.parametrize("name", list(HEAT_PRESETS))
def test_every_heat_preset_has_a_data_file_that_loads(name):
    assert preset_file(name).is_file()
    w = load_heat_weather(name, days=1, spinup_days=0)
    assert w.name == name and w.description == HEAT_PRESETS[name] and name in w.source
    assert list(w.data.columns) == list(DATA_COLUMNS)
    assert str(w.data.index.tz) == "UTC"
    assert not w.data.isna().any().any()
    assert not w.measured_radiation
    # the day is periodic: the closing midnight repeats the opening one
    assert w.data.iloc[-1]["air_temperature_c"] == w.data.iloc[0]["air_temperature_c"]


@pytest.mark.parametrize("days,spinup", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_preset_length_and_start_at_local_midnight(days, spinup):
    w = load_heat_weather("hittegolf-2019", days=days, spinup_days=spinup)
    n = days + spinup
    assert len(w.data) == 24 * n + 1  # hourly, both midnights included
    first = w.start.tz_convert(LOCAL)
    assert (first.hour, first.minute) == (0, 0)
    # the representative day (25 July) is the first simulated day; the spin-up precedes it
    assert w.simulation_start == local("2019-07-25 00:00")
    assert first == local("2019-07-25 00:00") - pd.Timedelta(days=spinup)
    assert w.end == w.start + pd.Timedelta(days=n)
    assert (np.diff(w.data.index.asi8) == np.diff(w.data.index.asi8)[0]).all()
    # every day repeats the meteorology of the representative day, hour by hour
    t = w.data["air_temperature_c"].to_numpy()[:-1].reshape(n, 24)
    assert (t == t[0]).all()


def test_spinup_day_differs_only_by_the_sun(hot):
    spin = hot.data.iloc[:24]
    day = hot.data.iloc[24:48]
    assert np.array_equal(spin["relative_humidity_pct"].to_numpy(), day["relative_humidity_pct"].to_numpy())
    # one day earlier the sun is slightly higher at noon (declination falls in late July)
    assert spin["sun_elevation_deg"].max() > day["sun_elevation_deg"].max()


def test_hittegolf_reaches_the_uccle_record_at_16h(hot):
    day = hot.data.tz_convert(LOCAL).loc["2019-07-25"]
    tmax = day["air_temperature_c"].max()
    assert tmax == pytest.approx(39.7)
    assert day["air_temperature_c"].idxmax().hour == 16
    # a tropical night: minimum at dawn, above 20 C (KMI: 23.5 C at Uccle on 25 July 2019)
    assert 23.5 <= day["air_temperature_c"].min() <= 24.5
    assert day["air_temperature_c"].idxmin().hour in (5, 6)
    rh = day["relative_humidity_pct"]
    assert 25 <= rh.min() <= 30 and 60 <= rh.max() <= 70
    assert ((day["wind_speed_m_s"] >= 1.5) & (day["wind_speed_m_s"] <= 3.0)).all()
    assert ((day["wind_direction_deg"] >= 90) & (day["wind_direction_deg"] <= 135)).all()


def test_warme_zomerdag_is_warm_not_extreme():
    w = load_heat_weather("warme-zomerdag", days=1, spinup_days=1)
    day = w.data.tz_convert(LOCAL).loc["2023-07-15"]
    assert day["air_temperature_c"].max() == pytest.approx(30.0)
    assert day["air_temperature_c"].idxmax().hour == 16
    assert 16.0 <= day["air_temperature_c"].min() < 17.0
    assert 40 <= day["relative_humidity_pct"].min() and day["relative_humidity_pct"].max() <= 80
    assert (day["wind_direction_deg"] == 225).all()


def test_preset_files_are_what_make_presets_writes():
    script = Path(preset_file("hittegolf-2019")).parent / "make_presets.py"
    spec = importlib.util.spec_from_file_location("make_presets", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.PRESETS) == set(HEAT_PRESETS)
    for name in module.PRESETS:
        assert preset_file(name).read_text(encoding="utf-8") == module.render(name), name


# ---------------------------------------------------------------- sun and clear sky

def test_sun_position_matches_noaa(hot):
    # solar noon at Harelbeke on 25 July 2019: 720 - 4 * 3.31 - EoT(-6.5 min) = 11:53 UTC = 13:53 CEST
    noon = noaa_sun(local("2019-07-25 12:00"))["noon_utc_min"]
    assert noon == pytest.approx(11 * 60 + 53, abs=1.5)
    times = pd.date_range(local("2019-07-25 13:00"), local("2019-07-25 14:45"), freq="1min")
    sun = hot.at(times)
    assert abs((sun["sun_elevation_deg"].idxmax() - times[0].tz_convert("UTC").normalize())
               / pd.Timedelta(minutes=1) - noon) <= 2
    expected_noon = noaa_sun(sun["sun_elevation_deg"].idxmax())
    assert sun["sun_elevation_deg"].max() == pytest.approx(expected_noon["elevation"], abs=0.5)
    assert sun["sun_elevation_deg"].max() == pytest.approx(58.8, abs=0.3)
    for text in ("2019-07-25 07:30", "2019-07-25 10:00", "2019-07-25 16:00", "2019-07-25 20:30"):
        got = hot.at(local(text))
        want = noaa_sun(local(text))
        assert got["sun_elevation_deg"] == pytest.approx(want["elevation"], abs=0.5), text
        assert got["sun_azimuth_deg"] == pytest.approx(want["azimuth"], abs=0.5), text


def test_clear_sky_irradiance_at_noon_and_night(hot):
    noon = hot.at(local("2019-07-25 13:53"))
    # Ineichen with pvlib's July Linke turbidity (~3.9): ~823 W/m2; a plain independent check is
    # Haurwitz (1945): GHI = 1098 cos z exp(-0.057 / cos z), ~880 W/m2 here
    assert 780 <= noon["ghi_w_m2"] <= 950
    cos_z = math.sin(math.radians(noaa_sun(local("2019-07-25 13:53"))["elevation"]))
    haurwitz = 1098 * cos_z * math.exp(-0.057 / cos_z)
    assert noon["ghi_w_m2"] == pytest.approx(haurwitz, rel=0.12)
    # the components close: GHI = DNI cos z + DHI
    sin_elev = math.sin(math.radians(noon["sun_elevation_deg"]))
    assert noon["ghi_w_m2"] == pytest.approx(noon["dni_w_m2"] * sin_elev + noon["dhi_w_m2"], rel=0.01)
    night = hot.data.tz_convert(LOCAL).loc["2019-07-25 00:00":"2019-07-25 04:00"]
    assert (night[["ghi_w_m2", "dni_w_m2", "dhi_w_m2"]] == 0).all().all()
    assert (night["sun_elevation_deg"] < 0).all()


def test_clear_sky_is_recomputed_between_rows(hot):
    # halfway between 06:00 and 07:00 local the sun rises: clear-sky GHI is not the mean of the hours
    half = hot.at(local("2019-07-25 06:30"))
    h6, h7 = hot.at(local("2019-07-25 06:00")), hot.at(local("2019-07-25 07:00"))
    assert half["ghi_w_m2"] != pytest.approx((h6["ghi_w_m2"] + h7["ghi_w_m2"]) / 2, rel=0.05)
    assert half["air_temperature_c"] == pytest.approx((h6["air_temperature_c"] + h7["air_temperature_c"]) / 2)


def test_fixed_linke_turbidity_makes_hazier_sky():
    clear = load_heat_weather("hittegolf-2019", spinup_days=0)
    hazy = load_heat_weather("hittegolf-2019", spinup_days=0, linke_turbidity=5.0)
    t = local("2019-07-25 13:53")
    assert hazy.at(t)["dni_w_m2"] < clear.at(t)["dni_w_m2"] - 50
    assert hazy.at(t)["dhi_w_m2"] > clear.at(t)["dhi_w_m2"]


# ---------------------------------------------------------------- humidity and wind

@pytest.mark.parametrize("t_c,es_kpa", [(24.5, 3.075), (15.0, 1.705), (25.0, 3.168), (18.0, 2.064), (30.0, 4.243)])
def test_saturation_vapour_pressure_matches_fao56(t_c, es_kpa):
    # FAO-56 Example 3 (24.5 and 15 C), Example 5 (25 and 18 C), Annex 2 Table 2.3 (30 C)
    assert saturation_vapour_pressure_pa(t_c) == pytest.approx(es_kpa * 1000, rel=0.01)


def test_vapour_pressure_from_rh_matches_fao56_example_5():
    # Tmin 18 C with RHmax 82 %, Tmax 25 C with RHmin 54 %: ea = 1.702 kPa (FAO-56 Example 5)
    ea = (vapour_pressure_pa(18.0, 82.0) + vapour_pressure_pa(25.0, 54.0)) / 2
    assert ea == pytest.approx(1702, rel=0.01)


def test_weather_vapour_pressure_column(hot):
    row = hot.data.iloc[40]
    assert row["vapour_pressure_pa"] == pytest.approx(
        saturation_vapour_pressure_pa(row["air_temperature_c"]) * row["relative_humidity_pct"] / 100)
    assert row["air_temperature_k"] == pytest.approx(row["air_temperature_c"] + 273.15)


@pytest.mark.parametrize("direction,u_sign,v_sign", [(90, -1, 0), (270, 1, 0), (0, 0, -1), (180, 0, 1)])
def test_wind_components_point_where_the_wind_blows(direction, u_sign, v_sign):
    u, v = wind_components(2.0, direction)
    assert np.sign(np.round(u, 9)) == u_sign and np.sign(np.round(v, 9)) == v_sign
    assert math.hypot(u, v) == pytest.approx(2.0)


def test_hittegolf_wind_blows_towards_the_north_west(hot):
    # from the ESE (120 deg): towards the WNW, so u < 0 (westward) and v > 0 (northward)
    assert (hot.data["wind_u_m_s"] < 0).all() and (hot.data["wind_v_m_s"] > 0).all()


# ---------------------------------------------------------------- reading CSV files

def good_rows(hours: int = 24, start: str = "2019-07-25T00:00+02:00", step_min: int = 60,
              radiation: bool = False) -> list[dict[str, str]]:
    t0 = pd.Timestamp(start)
    rows = []
    for k in range(hours * 60 // step_min):
        t = t0 + pd.Timedelta(minutes=k * step_min)
        h = t.hour + t.minute / 60
        row = {
            "time": t.isoformat(timespec="minutes"),
            "air_temperature_c": f"{25 + 8 * math.sin(math.pi * (h - 9) / 12):.1f}",
            "relative_humidity_pct": f"{60 - 25 * math.sin(math.pi * (h - 9) / 12):.0f}",
            "wind_speed_m_s": "2.5",
            "wind_direction_deg": "90",
        }
        if radiation:
            sun = max(0.0, math.sin(math.pi * (h - 6) / 16))
            row.update(ghi_w_m2=f"{800 * sun:.0f}", dni_w_m2=f"{750 * sun:.0f}", dhi_w_m2=f"{120 * sun:.0f}")
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, comment: str = "") -> Path:
    header = header or list(rows[0])
    lines = [comment] if comment else []
    lines.append(",".join(header))
    lines += [",".join(row.get(c, "") for c in header) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_good_csv_with_comments_and_measured_radiation(tmp_path):
    path = write_csv(tmp_path / "day.csv", good_rows(radiation=True), comment="# measured at a roof station\n#")
    w = read_weather_csv(path)
    assert w.measured_radiation and w.source == str(path) and len(w.data) == 24
    assert w.data.index[0] == pd.Timestamp("2019-07-24T22:00Z")
    # measured irradiance is kept at the rows and interpolated between them, not replaced by clear sky
    r12, r13 = w.data.iloc[12], w.data.iloc[13]
    half = w.at(w.data.index[12] + pd.Timedelta(minutes=30))
    assert half["ghi_w_m2"] == pytest.approx((r12["ghi_w_m2"] + r13["ghi_w_m2"]) / 2)
    assert w.data["ghi_w_m2"].tolist() == [float(r["ghi_w_m2"]) for r in good_rows(radiation=True)]
    # the default pressure is the standard atmosphere at 15 m
    assert w.data["pressure_pa"].iloc[0] == pytest.approx(101145, abs=5)


def test_interpolated_wind_direction_turns_through_north(tmp_path):
    rows = good_rows()
    for k, row in enumerate(rows):
        row["wind_direction_deg"] = "350" if k % 2 == 0 else "10"
    w = read_weather_csv(write_csv(tmp_path / "veer.csv", rows))
    mid = w.at(w.data.index[0] + pd.Timedelta(minutes=30))
    assert min(mid["wind_direction_deg"], 360 - mid["wind_direction_deg"]) == pytest.approx(0, abs=1e-6)
    assert mid["wind_speed_m_s"] == pytest.approx(2.5)
    with pytest.raises(ValueError):
        w.at(w.end + pd.Timedelta(minutes=1))


def test_times_with_z_and_30_minute_steps(tmp_path):
    rows = good_rows(hours=48, start="2019-07-24T22:00Z", step_min=30)
    for row in rows:
        row["time"] = pd.Timestamp(row["time"]).tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ")
    path = write_csv(tmp_path / "two-days.csv", rows)
    w = load_heat_weather(path, days=1, spinup_days=1)
    assert len(w.data) == 2 * 48 + 1  # the last value is held to the closing midnight
    assert w.start.tz_convert(LOCAL) == local("2019-07-25 00:00")
    assert w.end.tz_convert(LOCAL) == local("2019-07-27 00:00")
    with pytest.raises(InputError) as err:
        load_heat_weather(path, days=2, spinup_days=1)
    assert err.value.source == str(path) and err.value.field == "time" and "72 h" in err.value.problem


def test_missing_file_and_unknown_preset(tmp_path):
    for arg in (tmp_path / "nope.csv", "hittegolf-2003"):
        with pytest.raises(InputError) as err:
            load_heat_weather(arg)
        assert err.value.source == str(arg)
        assert "hittegolf-2019" in err.value.problem
    with pytest.raises(InputError) as err:
        read_weather_csv(tmp_path / "nope.csv")
    assert err.value.source == str(tmp_path / "nope.csv") and "no such" in err.value.problem


def _edit(column=None, row=None, value=None, *, drop_row=None, rename=None, scale=None, keep=None,
          radiation=False, swap=None):
    """A bad file: good rows with one change."""
    def make(path: Path) -> Path:
        rows = good_rows(radiation=radiation)
        header = list(rows[0])
        if column is not None and row is not None:
            rows[row][column] = value
        if scale is not None:
            col, fn = scale
            for r in rows:
                r[col] = f"{fn(float(r[col])):g}"
        if drop_row is not None:
            del rows[drop_row]
        if swap is not None:
            rows[swap], rows[swap + 1] = rows[swap + 1], rows[swap]
        if keep is not None:
            rows = rows[:keep]
        if rename is not None:
            header = [rename.get(c, c) for c in header if rename.get(c, c) is not None]
            rows = [{rename.get(c, c): v for c, v in r.items()} for r in rows]
        return write_csv(path, rows, header)
    return make


def _raw(text):
    def make(path: Path) -> Path:
        path.write_text(text)
        return path
    return make


# the header is line 1 in these files: row k (from 0) is on line k + 2
HEADER = "time,air_temperature_c,relative_humidity_pct,wind_speed_m_s,wind_direction_deg\n"

BAD = {
    "missing column": (_edit(rename={"wind_speed_m_s": None}), "wind_speed_m_s", "missing column"),
    "unknown column": (_edit(rename={"air_temperature_c": "temp_c"}), "temp_c", "unknown column"),
    "only ghi": (_edit(radiation=True, rename={"dni_w_m2": None, "dhi_w_m2": None}), "dni_w_m2", "all of"),
    "no offset": (_edit("time", 3, "2019-07-25T03:00"), "time, line 5", "no UTC offset"),
    "unparsable time": (_edit("time", 3, "25/07/2019 03:00+02:00"), "time, line 5", "cannot read"),
    "not increasing": (_edit(swap=6), "time, line 9", "strictly increasing"),
    "duplicate time": (_edit("time", 7, "2019-07-25T06:00+02:00"), "time, line 9", "strictly increasing"),
    "gap": (_edit(drop_row=10), "time, line 12", "gap: 2 h"),
    "3-hourly": (_raw(HEADER + "".join(f"2019-07-25T{h:02d}:00+02:00,20,50,2,90\n" for h in range(0, 24, 3))),
                 "time", "time step 3 h"),
    "fewer than 24 h": (_edit(keep=12), "time", "12 h of data"),
    "NaN": (_edit("relative_humidity_pct", 4, "NaN"), "relative_humidity_pct, line 6", "missing value"),
    "empty cell": (_edit("wind_speed_m_s", 4, ""), "wind_speed_m_s, line 6", "missing value"),
    "not a number": (_edit("air_temperature_c", 2, "warm"), "air_temperature_c, line 4", "not a number"),
    "too hot": (_edit("air_temperature_c", 15, "55"), "air_temperature_c, line 17", "-40..50"),
    "too cold": (_edit("air_temperature_c", 3, "-45"), "air_temperature_c, line 5", "-40..50"),
    "fahrenheit": (_edit(scale=("air_temperature_c", lambda c: c * 1.8 + 32)), "air_temperature_c, line 17",
                   "Fahrenheit"),
    "rh above 100": (_edit("relative_humidity_pct", 5, "104"), "relative_humidity_pct, line 7", "0..100"),
    "rh fraction": (_edit(scale=("relative_humidity_pct", lambda r: r / 100)), "relative_humidity_pct", "fraction"),
    "negative wind": (_edit("wind_speed_m_s", 8, "-1.2"), "wind_speed_m_s, line 10", "negative"),
    "wind direction 400": (_edit("wind_direction_deg", 9, "400"), "wind_direction_deg, line 11", "0..360"),
    "negative radiation": (_edit("dhi_w_m2", 2, "-3", radiation=True), "dhi_w_m2, line 4", "negative"),
    "pressure in Pa": (_raw(HEADER.rstrip() + ",pressure_hpa\n"
                            + "".join(f"2019-07-25T{h:02d}:00+02:00,20,50,2,90,101300\n" for h in range(24))),
                       "pressure_hpa, line 2", "look like Pa"),
    "wrong number of values": (_edit("wind_direction_deg", 3, "90,1"), "line 5", "6 values"),
    "header only": (_raw(HEADER), "time", "no data rows"),
    "empty file": (_raw("# only a comment\n"), None, "empty"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_csv_is_one_clear_input_error(tmp_path, case):
    make, field, problem = BAD[case]
    path = make(tmp_path / f"{case.replace(' ', '-')}.csv")
    with pytest.raises(InputError) as err:
        read_weather_csv(path)
    assert err.value.source == str(path)
    assert err.value.field == field
    assert problem in err.value.problem
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_good_rows_helper_is_itself_valid(tmp_path):
    # the bad cases above are one change away from a file that reads
    w = read_weather_csv(write_csv(tmp_path / "ok.csv", good_rows()))
    assert len(w.data) == 24 and w.data["air_temperature_c"].max() == pytest.approx(33.0)


def test_csv_period_starts_at_the_first_local_midnight(tmp_path):
    rows = good_rows(hours=36, start="2019-07-24T18:00+02:00")  # to 26 July 05:00
    path = write_csv(tmp_path / "evening-start.csv", rows)
    w = load_heat_weather(path, days=1, spinup_days=0)
    assert w.start.tz_convert(LOCAL) == local("2019-07-25 00:00")
    assert len(w.data) == 25
    # the closing midnight is in the file, so it is read, not held
    assert rows[30]["time"] == "2019-07-26T00:00+02:00"
    assert w.data["air_temperature_c"].iloc[-1] == float(rows[30]["air_temperature_c"])
    assert w.data["air_temperature_c"].iloc[-1] != float(rows[29]["air_temperature_c"])

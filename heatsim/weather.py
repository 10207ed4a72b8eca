"""Weather for the heat model: hot days read from a CSV file or a named preset.

The CSV format
--------------
One row per time step, comma-separated, a header row first. Lines starting with
``#`` (comments, e.g. a block describing where the data come from) and blank
lines are skipped anywhere in the file.

==========================  ========  =============================================
column                      unit      meaning
==========================  ========  =============================================
``time``                    --        ISO 8601 with a UTC offset, e.g.
                                      ``2019-07-25T15:00+02:00`` or
                                      ``2019-07-25T13:00Z``. Times without an
                                      offset are refused (ambiguous).
``air_temperature_c``       °C        air temperature (screen height, ~1.5-2 m),
                                      -40..50
``relative_humidity_pct``   %         relative humidity, 0..100 (not a 0-1 fraction)
``wind_speed_m_s``          m s-1     wind speed (10 m), >= 0
``wind_direction_deg``      deg       where the wind comes FROM, clockwise from
                                      north (90 = easterly wind), 0..360
``ghi_w_m2`` (optional)     W m-2     measured global horizontal irradiance, >= 0
``dni_w_m2`` (optional)     W m-2     measured direct normal irradiance, >= 0
``dhi_w_m2`` (optional)     W m-2     measured diffuse horizontal irradiance, >= 0
``pressure_hpa`` (optional) hPa       station-level air pressure, 850..1100
==========================  ========  =============================================

The three radiation columns come together or not at all; without them the
irradiance is the clear-sky irradiance (below). Without ``pressure_hpa`` the
pressure is that of the standard atmosphere at the site altitude (15 m:
1011.4 hPa, :func:`pvlib.atmosphere.alt2pres`). Other columns are refused, so
that a misspelt optional column is not silently replaced by a default.

The time step is regular: one step, a whole number of minutes that divides an
hour, between 10 min and 1 h (10, 12, 15, 20, 30 or 60 min); the rows are
strictly increasing without gaps, and together hold at least 24 h (each row
stands for one step). Values are taken as instantaneous at their time stamp.

What a :class:`Weather` holds
-----------------------------
``Weather.data`` is a :class:`pandas.DataFrame` indexed by tz-aware UTC time
stamps with, in SI units: ``air_temperature_c``, ``air_temperature_k``,
``relative_humidity_pct``, ``vapour_pressure_pa``, ``wind_speed_m_s``,
``wind_direction_deg`` (from), ``wind_u_m_s``, ``wind_v_m_s`` (eastward and
northward components of the air motion, i.e. towards where the wind blows),
``pressure_pa``, ``ghi_w_m2``, ``dni_w_m2``, ``dhi_w_m2``, ``sun_azimuth_deg``
(clockwise from north) and ``sun_elevation_deg`` (apparent, i.e. with
atmospheric refraction).

Sun and clear sky
-----------------
Sun positions come from pvlib's NREL SPA implementation
(:func:`pvlib.solarposition.get_solarposition`, Reda & Andreas 2004) for
Harelbeke (50.855 N, 3.310 E, 15 m), with the refraction correction using the
weather's own air temperature and pressure. Clear-sky irradiance is Ineichen &
Perez (2002) (:meth:`pvlib.location.Location.get_clearsky`, ``model="ineichen"``)
with, by default, the Linke turbidity from pvlib's monthly climatology
(:func:`pvlib.clearsky.lookup_linke_turbidity`, the SoDa maps of Remund et al.
2003, interpolated to the day of year): about 3.9 at Harelbeke in late July,
giving ~823 W m-2 at solar noon on 25 July. A heat-wave day is often hazier
(a Linke turbidity of 4-5 gives ~800-785 W m-2); pass ``linke_turbidity`` to
:func:`read_weather_csv` or :func:`load_heat_weather` to use a fixed value.

Humidity
--------
Saturation vapour pressure (Tetens form, FAO-56 eq. 11; Allen et al. 1998,
*Crop evapotranspiration*, FAO Irrigation and Drainage Paper 56)::

    e_s(T) = 0.6108 exp(17.27 T / (T + 237.3))   [kPa, T in °C]

and the actual vapour pressure from the relative humidity at the same time,
``e = e_s(T) RH / 100`` (FAO-56 eq. 54, hourly form).

Presets
-------
A heat preset (:data:`heatsim.presets.HEAT_PRESETS`) is one representative day,
00:00-23:00 local time, in ``heatsim/data/weather/<name>.csv`` (built by
``make_presets.py`` next to it; its header says how). :func:`load_heat_weather`
repeats that day for the spin-up days and the simulated days.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from heatsim.csvfiles import read_csv_table
from heatsim.errors import InputError
from heatsim.presets import HEAT_PRESETS

#: Harelbeke (centre), the site of every sun position and clear-sky computation.
LATITUDE = 50.855
LONGITUDE = 3.310
ALTITUDE_M = 15.0
TIMEZONE = "Europe/Brussels"
HARELBEKE = pvlib.location.Location(LATITUDE, LONGITUDE, altitude=ALTITUDE_M, tz=TIMEZONE, name="Harelbeke")

REQUIRED_COLUMNS = ("time", "air_temperature_c", "relative_humidity_pct", "wind_speed_m_s", "wind_direction_deg")
RADIATION_COLUMNS = ("ghi_w_m2", "dni_w_m2", "dhi_w_m2")
OPTIONAL_COLUMNS = RADIATION_COLUMNS + ("pressure_hpa",)
#: The columns of ``Weather.data``, in order.
DATA_COLUMNS = (
    "air_temperature_c", "air_temperature_k", "relative_humidity_pct", "vapour_pressure_pa",
    "wind_speed_m_s", "wind_direction_deg", "wind_u_m_s", "wind_v_m_s", "pressure_pa",
    "ghi_w_m2", "dni_w_m2", "dhi_w_m2", "sun_azimuth_deg", "sun_elevation_deg",
)

MIN_STEP = pd.Timedelta(minutes=10)
MAX_STEP = pd.Timedelta(hours=1)
MIN_DURATION = pd.Timedelta(hours=24)
STANDARD_PRESSURE_PA = float(pvlib.atmosphere.alt2pres(ALTITUDE_M))
PRESET_FOLDER = "data/weather"

_OFFSET = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$", re.IGNORECASE)
_T0 = 273.15


# ---------------------------------------------------------------------------- physics

def saturation_vapour_pressure_pa(temperature_c):
    """Saturation vapour pressure over water [Pa] at air temperature [°C].

    FAO-56 eq. 11 (Allen et al. 1998), the Tetens form:
    ``e_s = 0.6108 exp(17.27 T / (T + 237.3))`` kPa.
    """
    t = np.asarray(temperature_c, dtype=float)
    return 610.8 * np.exp(17.27 * t / (t + 237.3))


def vapour_pressure_pa(temperature_c, relative_humidity_pct):
    """Actual vapour pressure [Pa] from temperature [°C] and relative humidity [%] (FAO-56 eq. 54)."""
    return saturation_vapour_pressure_pa(temperature_c) * np.asarray(relative_humidity_pct, dtype=float) / 100.0


def wind_components(speed_m_s, direction_from_deg):
    """Eastward and northward components (u, v) [m s-1] of a wind blowing FROM ``direction_from_deg``.

    Meteorological convention: a wind from the east (90°) blows towards the west, u < 0.
    """
    rad = np.radians(np.asarray(direction_from_deg, dtype=float))
    speed = np.asarray(speed_m_s, dtype=float)
    return -speed * np.sin(rad), -speed * np.cos(rad)


def wind_direction_from(u, v):
    """Where a wind with components (u, v) comes from [deg clockwise from north, 0..360)."""
    return np.degrees(np.arctan2(-np.asarray(u, dtype=float), -np.asarray(v, dtype=float))) % 360.0


def _derive(base: pd.DataFrame, radiation: pd.DataFrame | None, linke_turbidity: float | None) -> pd.DataFrame:
    """The full weather table at ``base.index`` (UTC) from the base variables.

    ``radiation`` (measured GHI/DNI/DHI at the same times) or None for clear sky.
    """
    times = base.index
    out = pd.DataFrame(index=times)
    t_c = base["air_temperature_c"].to_numpy(float)
    out["air_temperature_c"] = t_c
    out["air_temperature_k"] = t_c + _T0
    out["relative_humidity_pct"] = base["relative_humidity_pct"].to_numpy(float)
    out["vapour_pressure_pa"] = vapour_pressure_pa(t_c, out["relative_humidity_pct"].to_numpy())
    speed = base["wind_speed_m_s"].to_numpy(float)
    direction = base["wind_direction_deg"].to_numpy(float) % 360.0
    out["wind_speed_m_s"] = speed
    out["wind_direction_deg"] = direction
    out["wind_u_m_s"], out["wind_v_m_s"] = wind_components(speed, direction)
    out["pressure_pa"] = base["pressure_pa"].to_numpy(float)

    with warnings.catch_warnings():  # pvlib 0.16 uses DatetimeIndex.dayofyear, deprecated in pandas 3
        warnings.filterwarnings("ignore", message=".*dayofyear is deprecated.*")
        sun = HARELBEKE.get_solarposition(times, pressure=out["pressure_pa"].to_numpy(), temperature=t_c)
        if radiation is None:
            kwargs = {} if linke_turbidity is None else {"linke_turbidity": linke_turbidity}
            sky = HARELBEKE.get_clearsky(times, model="ineichen", solar_position=sun, **kwargs)
    if radiation is None:
        for col in ("ghi", "dni", "dhi"):
            out[f"{col}_w_m2"] = sky[col].clip(lower=0.0).to_numpy(float)
    else:
        for col in RADIATION_COLUMNS:
            out[col] = radiation[col].to_numpy(float)
    out["sun_azimuth_deg"] = sun["azimuth"].to_numpy(float)
    out["sun_elevation_deg"] = sun["apparent_elevation"].to_numpy(float)
    return out[list(DATA_COLUMNS)]


# ---------------------------------------------------------------------------- Weather

@dataclass(eq=False)
class Weather:
    """A weather time series for the heat model.

    ``data`` is indexed by tz-aware UTC time stamps (columns: :data:`DATA_COLUMNS`).
    ``measured_radiation`` tells whether the irradiance came from the file (it is
    then interpolated in time) or is clear sky (then recomputed at any time asked).
    After :func:`load_heat_weather`, ``spinup_days`` days of spin-up come first and
    the table runs from local midnight to local midnight ``spinup_days + days`` days later,
    both ends included.
    """

    data: pd.DataFrame
    name: str
    source: str
    description: str = ""
    measured_radiation: bool = False
    linke_turbidity: float | None = None  # None: pvlib's climatology (clear sky only)
    spinup_days: int = 0
    days: int | None = None

    @property
    def times(self) -> pd.DatetimeIndex:
        return self.data.index

    @property
    def start(self) -> pd.Timestamp:
        return self.data.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.data.index[-1]

    @property
    def simulation_start(self) -> pd.Timestamp:
        """The first time after the spin-up (UTC)."""
        local = self.start.tz_convert(TIMEZONE) + pd.DateOffset(days=self.spinup_days)
        return local.tz_convert("UTC")

    @property
    def step(self) -> pd.Timedelta:
        return self.data.index[1] - self.data.index[0]

    def at(self, times):
        """Values at ``times`` (see :func:`interpolate`); a Series for one time stamp."""
        return interpolate(self, times)


def interpolate(weather: Weather, times):
    """The weather at ``times`` (tz-aware; a time stamp, a sequence or a DatetimeIndex).

    Temperature, relative humidity, wind speed and pressure are interpolated
    linearly; the wind direction comes from the linearly interpolated wind
    components (so that 350° and 10° give 0°, not 180°); vapour pressure and the
    components are recomputed from those. The sun position is recomputed exactly
    at ``times``; the irradiance too when it is clear sky, while measured
    irradiance is interpolated linearly. Times outside the series are an error.
    Returns a DataFrame indexed by UTC times, or a Series for a single time stamp.
    """
    single = isinstance(times, str) or not hasattr(times, "__len__")
    index = pd.DatetimeIndex([pd.Timestamp(times)] if single else times)
    if index.tz is None:
        raise ValueError("weather times must be tz-aware (e.g. UTC)")
    index = index.tz_convert("UTC")
    data = weather.data
    if len(index) and (index.min() < data.index[0] or index.max() > data.index[-1]):
        raise ValueError(f"weather {weather.name!r} covers {data.index[0]} to {data.index[-1]}; "
                         f"asked for {index.min()} to {index.max()}")
    x = ((data.index - data.index[0]) / pd.Timedelta(seconds=1)).to_numpy(float)
    xi = ((index - data.index[0]) / pd.Timedelta(seconds=1)).to_numpy(float)

    def lin(col):
        return np.interp(xi, x, data[col].to_numpy(float))

    base = pd.DataFrame(index=index)
    for col in ("air_temperature_c", "relative_humidity_pct", "wind_speed_m_s", "pressure_pa"):
        base[col] = lin(col)
    base["wind_direction_deg"] = wind_direction_from(lin("wind_u_m_s"), lin("wind_v_m_s"))
    radiation = None
    if weather.measured_radiation:
        radiation = pd.DataFrame({col: lin(col) for col in RADIATION_COLUMNS}, index=index)
    out = _derive(base, radiation, weather.linke_turbidity)
    return out.iloc[0] if single else out


# ---------------------------------------------------------------------------- reading

def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows (as strings) and each row's line number in the file."""
    return read_csv_table(path, "weather")


def _check_columns(path: Path, header: list[str]) -> None:
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    seen = set()
    for name in header:
        if name in seen:
            raise InputError(path, name, "column appears twice in the header")
        seen.add(name)
        if name not in known:
            raise InputError(path, name or "header", f"unknown column; expected {', '.join(REQUIRED_COLUMNS)} "
                                                     f"and optionally {', '.join(OPTIONAL_COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise InputError(path, missing[0], f"missing column (required: {', '.join(REQUIRED_COLUMNS)})")
    radiation = [c for c in RADIATION_COLUMNS if c in seen]
    if radiation and len(radiation) < len(RADIATION_COLUMNS):
        absent = [c for c in RADIATION_COLUMNS if c not in seen]
        raise InputError(path, absent[0], f"missing column: measured radiation needs all of "
                                          f"{', '.join(RADIATION_COLUMNS)} (or none, for clear sky)")


def _fmt_step(step: pd.Timedelta) -> str:
    minutes = step / pd.Timedelta(minutes=1)
    return f"{minutes:g} min" if minutes < 60 else f"{minutes / 60:g} h"


def _parse_times(path: Path, raw: list[str], lines: list[int]) -> pd.DatetimeIndex:
    for value, line in zip(raw, lines, strict=True):
        if not value:
            raise InputError(path, f"time, line {line}", "missing time")
        if not _OFFSET.search(value):
            raise InputError(path, f"time, line {line}",
                             f"{value!r} has no UTC offset; expected ISO 8601 with an offset, "
                             f"e.g. 2019-07-25T15:00+02:00 or 2019-07-25T13:00Z")
    times = pd.to_datetime(pd.Series(raw, dtype=object), utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        i = bad[0]
        raise InputError(path, f"time, line {lines[i]}",
                         f"cannot read {raw[i]!r} as a time; expected ISO 8601 with a UTC offset, "
                         f"e.g. 2019-07-25T15:00+02:00")
    index = pd.DatetimeIndex(times)
    if len(index) < 2:
        raise InputError(path, "time", f"{len(index)} row(s); expected at least 24 h of data")
    diffs = index[1:] - index[:-1]
    back = np.flatnonzero(diffs <= pd.Timedelta(0))
    if len(back):
        i = back[0] + 1
        raise InputError(path, f"time, line {lines[i]}",
                         f"{raw[i]} is not after the previous row ({raw[i - 1]}, line {lines[i - 1]}); "
                         f"times must be strictly increasing")
    step = pd.Series(diffs).mode().iloc[0]
    if step < MIN_STEP or step > MAX_STEP or pd.Timedelta(hours=1) % step != pd.Timedelta(0) \
            or step % pd.Timedelta(minutes=1) != pd.Timedelta(0):
        raise InputError(path, "time", f"time step {_fmt_step(step)}; expected a regular step between "
                                       f"10 min and 1 h that divides an hour (10, 12, 15, 20, 30 or 60 min)")
    odd = np.flatnonzero(diffs != step)
    if len(odd):
        i = odd[0] + 1
        what = "gap" if diffs[odd[0]] > step else "irregular step"
        raise InputError(path, f"time, line {lines[i]}",
                         f"{what}: {_fmt_step(diffs[odd[0]])} after the previous row ({raw[i - 1]}, line "
                         f"{lines[i - 1]}); expected a regular step of {_fmt_step(step)}")
    if index[-1] - index[0] + step < MIN_DURATION:
        hours = (index[-1] - index[0] + step) / pd.Timedelta(hours=1)
        raise InputError(path, "time", f"{hours:g} h of data; expected at least 24 h")
    return index


def _parse_numbers(path: Path, name: str, raw: list[str], lines: list[int]) -> np.ndarray:
    values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        i = bad[0]
        text = raw[i]
        if text == "" or text.lower() in ("nan", "na", "n/a", "null", "none", "-"):
            problem = f"missing value ({text!r}); every row needs a number"
        elif text.lower().lstrip("+-") in ("inf", "infinity"):
            problem = f"{text!r} is not a finite number"
        else:
            problem = f"{text!r} is not a number"
        raise InputError(path, f"{name}, line {lines[i]}", problem)
    return values


def _check_range(path: Path, name: str, values: np.ndarray, lines: list[int], lo: float | None,
                 hi: float | None, unit: str, expected: str) -> None:
    bad = np.flatnonzero(((values < lo) if lo is not None else False) | ((values > hi) if hi is not None else False))
    if len(bad):
        i = bad[0]
        raise InputError(path, f"{name}, line {lines[i]}", f"{values[i]:g} {unit} {expected}")


def _validate_values(path: Path, cols: dict[str, np.ndarray], lines: list[int]) -> None:
    t = cols["air_temperature_c"]
    if t.max() > 60.0:
        i = int(np.argmax(t))
        raise InputError(path, f"air_temperature_c, line {lines[i]}",
                         f"{t[i]:g} is outside -40..50 °C; values up to {t.max():g} look like degrees "
                         f"Fahrenheit: give °C ((F - 32) / 1.8)")
    _check_range(path, "air_temperature_c", t, lines, -40.0, 50.0, "°C", "is outside -40..50 °C")

    rh = cols["relative_humidity_pct"]
    if rh.max() <= 1.0:
        raise InputError(path, "relative_humidity_pct",
                         f"all values are between {rh.min():g} and {rh.max():g}: looks like a 0-1 fraction; "
                         f"give percent (0..100)")
    _check_range(path, "relative_humidity_pct", rh, lines, 0.0, 100.0, "%", "is outside 0..100 %")
    _check_range(path, "wind_speed_m_s", cols["wind_speed_m_s"], lines, 0.0, None, "m/s",
                 "is negative; expected a wind speed >= 0 m/s")
    _check_range(path, "wind_direction_deg", cols["wind_direction_deg"], lines, 0.0, 360.0, "deg",
                 "is outside 0..360 deg (where the wind comes from, clockwise from north)")
    for name in RADIATION_COLUMNS:
        if name in cols:
            _check_range(path, name, cols[name], lines, 0.0, None, "W/m2",
                         "is negative; expected irradiance >= 0 W/m2")
    if "pressure_hpa" in cols:
        p = cols["pressure_hpa"]
        hint = ""
        if p.max() > 10000.0:
            hint = "; values look like Pa: give hPa (Pa / 100)"
        elif p.max() < 150.0:
            hint = "; values look like kPa: give hPa (kPa * 10)"
        _check_range(path, "pressure_hpa", p, lines, 850.0, 1100.0, "hPa",
                     f"is outside 850..1100 hPa (station pressure){hint}")


def _read_base(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The validated file as base variables (UTC index) and measured radiation (or None)."""
    header, rows, lines = _read_rows(path)
    _check_columns(path, header)
    if not rows:
        raise InputError(path, "time", "no data rows; expected at least 24 h of data")
    raw = {name: [row[j] for row in rows] for j, name in enumerate(header)}
    index = _parse_times(path, raw["time"], lines)
    cols = {name: _parse_numbers(path, name, raw[name], lines) for name in header if name != "time"}
    _validate_values(path, cols, lines)
    base = pd.DataFrame(index=index)
    for name in ("air_temperature_c", "relative_humidity_pct", "wind_speed_m_s", "wind_direction_deg"):
        base[name] = cols[name]
    base["pressure_pa"] = cols["pressure_hpa"] * 100.0 if "pressure_hpa" in cols else STANDARD_PRESSURE_PA
    radiation = None
    if "ghi_w_m2" in cols:
        radiation = pd.DataFrame({name: cols[name] for name in RADIATION_COLUMNS}, index=index)
    return base, radiation


def read_weather_csv(path: str | Path, *, name: str | None = None, description: str = "",
                     linke_turbidity: float | None = None) -> Weather:
    """Read and check a weather CSV file (format: this module's docstring).

    Every problem is an :class:`~heatsim.errors.InputError` naming the file, the
    column and line, and what was expected.
    """
    path = Path(path)
    base, radiation = _read_base(path)
    return Weather(
        data=_derive(base, radiation, linke_turbidity),
        name=name or path.stem,
        source=str(path),
        description=description or f"weather read from {path.name}",
        measured_radiation=radiation is not None,
        linke_turbidity=linke_turbidity,
    )


# ---------------------------------------------------------------------------- heat weather

def preset_file(name: str) -> Path:
    """The data file of a heat preset (``heatsim/data/weather/<name>.csv``)."""
    if name not in HEAT_PRESETS:
        raise KeyError(f"unknown heat preset {name!r}; expected one of {', '.join(HEAT_PRESETS)}")
    return Path(str(resources.files("heatsim").joinpath(f"{PRESET_FOLDER}/{name}.csv")))


def _local_midnight(t: pd.Timestamp) -> bool:
    local = t.tz_convert(TIMEZONE)
    return local == local.normalize()


def load_heat_weather(preset_or_path: str | Path, days: int = 1, spinup_days: int = 1, *,
                      linke_turbidity: float | None = None) -> Weather:
    """Weather for ``spinup_days`` of spin-up followed by ``days`` simulated hot days.

    ``preset_or_path`` is a name from :data:`heatsim.presets.HEAT_PRESETS` or a CSV
    file. The result starts at local midnight (Europe/Brussels) of the first
    spin-up day and ends at local midnight after the last simulated day (both
    included: ``24 * (spinup_days + days) / step + 1`` rows).

    A preset holds one representative day; it is repeated every 24 h, on the
    calendar days before it for the spin-up (spinup_days=1 for hittegolf-2019:
    24 July is the spin-up, 25 July the simulated day) and after it for further
    simulated days. A spin-up day identical to the simulated day is the usual
    practice for urban-climate runs forced by one design day: the surface and
    soil temperatures then start the simulated day from a state consistent with
    the same forcing (a periodic, "quasi-steady" diurnal cycle) instead of from a
    guessed initial state. Sun position and clear-sky irradiance are computed for
    each actual date.

    A CSV file is used as given: from its first row at local midnight, it must
    hold ``spinup_days + days`` whole days, else InputError. The row at the final
    midnight is taken from the file when present; if the file ends one step
    before it, the last row's values are held for that last step.
    """
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number >= 1, got {days!r}")
    if not isinstance(spinup_days, int) or spinup_days < 0:
        raise ValueError(f"spinup_days must be a whole number >= 0, got {spinup_days!r}")
    n_days = spinup_days + days
    if isinstance(preset_or_path, str) and preset_or_path in HEAT_PRESETS:
        name = preset_or_path
        path = preset_file(name)
        source = f"preset {name} ({path})"
        base, radiation = _read_base(path)
        step = base.index[1] - base.index[0]
        if not _local_midnight(base.index[0]) or base.index[-1] - base.index[0] + step != pd.Timedelta(days=1):
            raise InputError(path, "time", "a preset holds exactly one day from local midnight (00:00 "
                                           f"{TIMEZONE}) to the last step before the next midnight")
        day = pd.Timedelta(days=1)
        shifts = range(-spinup_days, days)
        closing = base.iloc[:1].set_axis(base.index[:1] + days * day)  # the day is periodic
        full = pd.concat([base.set_axis(base.index + k * day) for k in shifts] + [closing])
        rad = None
        if radiation is not None:
            rad = pd.concat([radiation.set_axis(radiation.index + k * day) for k in shifts]
                            + [radiation.iloc[:1].set_axis(radiation.index[:1] + days * day)])
        return Weather(data=_derive(full, rad, linke_turbidity), name=name, source=source,
                       description=HEAT_PRESETS[name], measured_radiation=rad is not None,
                       linke_turbidity=linke_turbidity, spinup_days=spinup_days, days=days)

    path = Path(preset_or_path)
    if not path.exists():
        raise InputError(path, None, f"no such weather file, and not a heat preset "
                                     f"(expected a CSV file or one of {', '.join(HEAT_PRESETS)})")
    base, radiation = _read_base(path)
    index = base.index
    step = index[1] - index[0]
    midnights = [i for i, t in enumerate(index) if _local_midnight(t)]
    if not midnights:
        raise InputError(path, "time", f"no row at local midnight (00:00 {TIMEZONE}); the heat model's "
                                       f"period starts at local midnight")
    first = midnights[0]
    start = index[first]
    end = (start.tz_convert(TIMEZONE) + pd.DateOffset(days=n_days)).tz_convert("UTC")
    if index[-1] < end - step:
        held = (index[-1] - start + step) / pd.Timedelta(hours=1)
        raise InputError(path, "time",
                         f"{held:g} h of data from the first local midnight "
                         f"({start.tz_convert(TIMEZONE):%Y-%m-%d %H:%M %z}); spinup_days + days = {n_days} "
                         f"day(s) need {n_days * 24} h")
    keep = (index >= start) & (index <= end)
    base = base[keep]
    if radiation is not None:
        radiation = radiation[keep]
    if base.index[-1] < end:  # hold the last values for the last step
        base = pd.concat([base, base.iloc[-1:].set_axis(pd.DatetimeIndex([end]))])
        if radiation is not None:
            radiation = pd.concat([radiation, radiation.iloc[-1:].set_axis(pd.DatetimeIndex([end]))])
    return Weather(data=_derive(base, radiation, linke_turbidity), name=path.stem, source=str(path),
                   description=f"weather read from {path.name}", measured_radiation=radiation is not None,
                   linke_turbidity=linke_turbidity, spinup_days=spinup_days, days=days)


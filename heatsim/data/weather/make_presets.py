"""Build the heat presets' weather files (one representative day each), deterministically.

    python heatsim/data/weather/make_presets.py          # rewrites the CSV files next to this script
    python heatsim/data/weather/make_presets.py --check  # exit 1 if a file differs from what it would write

The profiles are synthetic: a standard diurnal shape fitted to a few reported or
chosen values (daily extremes, humidity at those times, wind), not measured
hourly series. Each file's header says which values were reported and which were
chosen. Method (shared by all presets):

Air temperature - Parton & Logan (1981), "A model for diurnal variation in soil
and air temperature", Agricultural Meteorology 23, 205-216:

* day (from the time of the minimum, t_n = sunrise + c, to sunset):
  T = T_n + (T_x - T_n) sin(pi m / (Y + 2a)), m = hours since t_n, Y = day length;
  the maximum falls at t_n + Y/2 + a.
* night (sunset to t_n of the next day): exponential decay from the sunset
  temperature T_s with b = 2.20 and c = -0.17 h (their fit for air at 150 cm).
  The original curve, T_n + (T_s - T_n) exp(-b n / Z), stops exp(-b) = 11 % of
  (T_s - T_n) short of T_n at sunrise and so jumps there; here it is rescaled,
  T_n + (T_s - T_n) (exp(-b n / N) - exp(-b)) / (1 - exp(-b)) with N the hours
  from sunset to t_n, so that it reaches T_n exactly and the day is continuous
  and periodic (it can be repeated, as the spin-up does).
* lag a: Parton & Logan's a = 1.86 h puts the maximum at solar noon + a + c =
  15:35 CEST at Harelbeke in July; a is set instead so that the maximum falls at
  16:00, the nearest whole hour, so that the hourly file holds T_x itself.
  (Sunrise, sunset and the solar noon (their midpoint) for Harelbeke from pvlib's SPA.)

Humidity - the vapour pressure e is interpolated linearly in temperature
between e(T_n) = RH_n e_s(T_n) and e(T_x) = RH_x e_s(T_x), and RH = e / e_s(T)
(e_s: FAO-56 eq. 11). The vapour pressure, a slowly varying quantity, thus stays
between its night and afternoon values and RH falls as the air warms.

Wind - constant direction; speed from a night value to an afternoon value in
proportion to (T - T_n) / (T_x - T_n) (more mixing, stronger wind by day).

No radiation columns: the heat model takes clear-sky irradiance from pvlib.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from heatsim.weather import HARELBEKE, TIMEZONE, saturation_vapour_pressure_pa

HERE = Path(__file__).resolve().parent
B_NIGHT = 2.20  # Parton & Logan (1981), air at 150 cm
C_TMIN = -0.17  # h, time of the minimum relative to sunrise, same source
PEAK_HOUR = 16.0  # local time of the maximum (see the module docstring)

PRESETS = {
    "hittegolf-2019": dict(
        date="2019-07-25", t_min=23.5, t_max=39.7, rh_at_t_min=65.0, rh_at_t_max=26.0,
        wind_night=1.5, wind_day=3.0, wind_from=120.0,
        about=[
            "Hot day of the late-July 2019 heat wave: 25 July 2019 at Uccle (Brussels).",
            "SYNTHETIC PROFILE fitted to the reported daily extremes; NOT the measured hourly series.",
            "",
            "Reported (KMI/IRM, climatological overview of July 2019):",
            "  Tmax 39.7 C at Uccle on 25 July 2019, the Uccle record (previous 36.6 C, 1947).",
            "  Tmin 23.5 C at Uccle on 25 July 2019, the highest minimum on record there",
            "  (previous 22.3 C, 18 June 2002): a tropical night.",
            "Chosen (approximate, not measured values):",
            "  time of the maximum 16:00 CEST (mid-afternoon, from the curve shape);",
            "  RH 26 % at Tmax and 65 % at Tmin (dry continental air: low by day, higher at night);",
            "  wind from 120 deg (ESE), 1.5 m/s at night to 3.0 m/s in the afternoon: light",
            "  easterly to south-easterly winds, as in the continental south-easterly flow",
            "  that brought the heat wave.",
            "The values are Uccle's; around Harelbeke that afternoon was as hot or hotter",
            "(40.7 C reported provisionally at the KMI station Beitem, ~15 km away).",
        ],
    ),
    "warme-zomerdag": dict(
        date="2023-07-15", t_min=16.0, t_max=30.0, rh_at_t_min=80.0, rh_at_t_max=40.0,
        wind_night=2.0, wind_day=3.0, wind_from=225.0,
        about=[
            "A warm but not extreme summer day in Flanders: a REPRESENTATIVE, SYNTHETIC day,",
            "not an observed one (the date only fixes the sun's course).",
            "Chosen values: Tmax 30 C (a 'tropical day' threshold in Belgium) at 16:00 CEST,",
            "Tmin 16 C, RH 40 % at Tmax and 80 % at Tmin, wind from 225 deg (SW, the",
            "prevailing direction) at 2.0 m/s at night to 3.0 m/s in the afternoon.",
        ],
    ),
}


def _hours(t: pd.Timestamp, day: pd.Timestamp) -> float:
    return (t.tz_convert(TIMEZONE) - day) / pd.Timedelta(hours=1)


def profile(date: str, t_min: float, t_max: float, rh_at_t_min: float, rh_at_t_max: float,
            wind_night: float, wind_day: float, wind_from: float, **_) -> tuple[pd.DataFrame, dict]:
    """The hourly day (00:00-23:00 local) and the numbers that shaped it."""
    day = pd.Timestamp(date, tz=TIMEZONE)
    sun = pvlib.solarposition.sun_rise_set_transit_spa(pd.DatetimeIndex([day]), HARELBEKE.latitude,
                                                       HARELBEKE.longitude)
    sunrise = _hours(sun["sunrise"].iloc[0], day)
    sunset = _hours(sun["sunset"].iloc[0], day)
    day_length = sunset - sunrise
    t_n_time = sunrise + C_TMIN
    lag = PEAK_HOUR - t_n_time - day_length / 2  # maximum at t_n + Y/2 + a = PEAK_HOUR
    period = day_length + 2 * lag
    night = 24.0 - sunset + t_n_time  # hours from sunset to the next minimum

    def day_curve(h):
        return t_min + (t_max - t_min) * math.sin(math.pi * (h - t_n_time) / period)

    t_sunset = day_curve(sunset)
    decay = math.exp(-B_NIGHT)

    def temperature(h: float) -> float:
        if t_n_time <= h <= sunset:
            return day_curve(h)
        n = h - sunset if h > sunset else h + 24.0 - sunset
        return t_min + (t_sunset - t_min) * (math.exp(-B_NIGHT * n / night) - decay) / (1.0 - decay)

    hours = np.arange(24)
    temp = np.array([temperature(float(h)) for h in hours])
    weight = (temp - t_min) / (t_max - t_min)
    e_n = rh_at_t_min / 100 * saturation_vapour_pressure_pa(t_min)
    e_x = rh_at_t_max / 100 * saturation_vapour_pressure_pa(t_max)
    vapour = e_n + (e_x - e_n) * weight
    rh = 100 * vapour / saturation_vapour_pressure_pa(temp)
    wind = wind_night + (wind_day - wind_night) * weight
    times = [day + pd.Timedelta(hours=int(h)) for h in hours]
    frame = pd.DataFrame({
        "time": [t.isoformat(timespec="minutes") for t in times],
        "air_temperature_c": np.round(temp, 1),
        "relative_humidity_pct": np.round(rh, 1),
        "wind_speed_m_s": np.round(wind, 1),
        "wind_direction_deg": np.full(24, round(wind_from)),
    })

    def clock(h):
        return f"{int(h):02d}:{round(h % 1 * 60):02d}"

    dew = [_dew_point(v) for v in (vapour.min(), vapour.max())]
    facts = {
        "sun": f"sunrise {clock(sunrise)}, sunset {clock(sunset)} local time (day length {day_length:.2f} h)",
        "shape": f"T_n at {clock(t_n_time)}, T_x at {clock(PEAK_HOUR)}; a = {lag:.2f} h, b = {B_NIGHT}, "
                 f"c = {C_TMIN} h; temperature at sunset {t_sunset:.1f} C",
        "hourly": f"hourly min {temp.min():.1f} C at {int(hours[temp.argmin()]):02d}:00, "
                  f"max {temp.max():.1f} C at {int(hours[temp.argmax()]):02d}:00",
        "humidity": f"vapour pressure {vapour.min():.0f}-{vapour.max():.0f} Pa (dew point "
                    f"{dew[0]:.1f}-{dew[1]:.1f} C), RH {rh.min():.0f}-{rh.max():.0f} %",
    }
    return frame, facts


def _dew_point(e_pa: float) -> float:
    """Inverse of FAO-56 eq. 11."""
    x = math.log(e_pa / 610.8)
    return 237.3 * x / (17.27 - x)


def render(name: str) -> str:
    spec = PRESETS[name]
    frame, facts = profile(**spec)
    lines = [f"# heatsim heat preset '{name}': one representative day, hourly, local time (CEST, +02:00).", "#"]
    lines += [f"# {text}".rstrip() for text in spec["about"]]
    lines += [
        "#",
        "# How the profile was built (details: make_presets.py, which writes this file):",
        "#   temperature: Parton & Logan (1981, Agric. Meteorol. 23:205-216) sine by day from Tmin",
        "#   (sunrise - 0.17 h) to Tmax, exponential decay at night, rescaled to reach Tmin at the",
        "#   next sunrise so the day can be repeated; lag a set so that Tmax falls at 16:00.",
        f"#   {facts['sun']} (pvlib SPA, Harelbeke).",
        f"#   {facts['shape']}.",
        f"#   {facts['hourly']}.",
        "#   humidity: vapour pressure linear in temperature between RH at Tmin and RH at Tmax",
        f"#   (FAO-56 eq. 11 for e_s): {facts['humidity']}.",
        "#   wind: constant direction; speed from the night to the afternoon value in step with",
        "#   (T - Tmin) / (Tmax - Tmin).",
        "#   no radiation columns: clear-sky irradiance from pvlib (Ineichen) at run time.",
        "#",
        "# Columns: heatsim.weather (time ISO 8601 with offset; C; %; m/s; deg the wind comes FROM).",
    ]
    return "\n".join(lines) + "\n" + frame.to_csv(index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files on disk")
    args = parser.parse_args(argv)
    status = 0
    for name in PRESETS:
        path = HERE / f"{name}.csv"
        text = render(name)
        if args.check:
            same = path.exists() and path.read_text(encoding="utf-8") == text
            print(f"{path.name}: {'up to date' if same else 'DIFFERS'}")
            status |= not same
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())

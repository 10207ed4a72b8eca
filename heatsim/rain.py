"""Rain for the water model: design storms, a hyetograph CSV format, inflow hydrographs.

A storm is a :class:`Hyetograph`: a piecewise-constant rain intensity over
consecutive intervals from the start of the storm. The water model asks it
for the exact depth that falls between any two times
(:meth:`Hyetograph.depth_between`), so that its rain ledger closes for any time
step. A stream entering the site from its upstream catchment is a
:class:`Hydrograph` (discharge in time, linear between samples).

Storms come from a named preset (:data:`heatsim.presets.STORM_PRESETS`) or a
CSV file; :func:`load_storm` takes the scenario's ``weather.storm``.

Composite design storms (``composite-t2``, ``composite-t20``, ``composite-t100``)
--------------------------------------------------------------------------------
Flemish sewer design uses *composite* storms ("composietbuien"; Willems 2000;
VMM Code van goede praktijk, IDF update Willems 2011): symmetric, nested storms
built so that every window of duration D centred on the peak holds the rain depth
of the intensity-duration-frequency (IDF) relation for (D, T). Here: the storm is
cut into blocks of ``step`` seconds, its centre lies on a block boundary, and the
two blocks at distance j from the centre (j = 1, 2, ...) each get half of
``P(2 j step) - P(2 (j - 1) step)``, with P the IDF depth for the return period.
Hence every centred window of an even number of blocks (D = 2 step, 4 step, ...:
10, 20, 30, 60, 90, 120 min ... for a 5-min step) holds exactly P(D), the storm is
exactly symmetric, its total is P(duration), and its peak intensity is the mean
intensity of P(2 step). Centred windows of an odd number of blocks hold the linear
interpolation between their neighbours, slightly less than P(D) (15 min at 5-min steps:
0.15 mm less for T = 2, 0.45 mm for T = 100).
The presets last 2 h at a 5-min step (:data:`COMPOSITE_DURATION_S`,
:data:`COMPOSITE_STEP_S`); :func:`composite_storm` builds any duration up to
24 h and any step.

The IDF table (:data:`IDF_DEPTH_MM`, depth in mm for each duration in
:data:`IDF_DURATIONS_MIN` and return period T = 2, 20, 100 years) and how each
number was obtained -- **only two of them are published values; all others are
derived** and can be replaced by the published Uccle numbers (Willems 2011 or
KMI/IRM tables) by editing the table; see also ``heatsim/data/storms/README.md``:

=========  ======  ======  =======
D [min]     T = 2  T = 20  T = 100
=========  ======  ======  =======
5             4.9     9.1     12.0
10            7.3    13.5     17.9
15            8.9    16.6     21.9
20           10.2    18.9     25.0
30           12.1    22.5     29.7
45           14.2    26.5     35.0
60           15.9    29.5     39.0
90           17.9    33.3     44.0
120          19.5    36.3     48.0
180          22.0    40.9     54.1
360          27.0    50.2     66.4
720          33.2    61.7     81.6
1440         40.8    75.8    100.2
=========  ======  ======  =======

1. **Published** (from the issue, the Flemish T = 2 year composite storm):
   15.9 mm in 1 h and 40.8 mm in 24 h.
2. **T = 2, D < 1 h, derived**: Bell's (1969) generalized depth-duration ratio,
   ``P(D) / P(60 min) = (0.54 D^0.25 - 0.50) / (0.54 * 60^0.25 - 0.50)`` (D in
   minutes, valid for 5-120 min; Bell, F.C. 1969, Generalized rainfall-duration-
   frequency relationships, J. Hydraulics Div. ASCE 95(HY1), 311-327; also in
   Chow, Maidment & Mays 1988, Applied Hydrology, ch. 14), times 15.9 mm.
3. **T = 2, 1 h < D < 24 h, derived**: a power law through the two published
   depths, ``P(D) = 15.9 (D / 60 min)^n`` with ``n = ln(40.8 / 15.9) / ln 24 =
   0.2965`` (log-log interpolation).
4. **T = 20 and T = 100, derived**: a ratio to T = 2 from an exponential tail of
   the peak-over-threshold extremes (the form of Willems' Uccle IDF relations),
   ``P_T(D) = P_2(D) [1 + c ln(T / 2)]``, the same ratio at every duration, with
   ``c = (34.19 / 15.9 - 1) / ln(44 / 2) = 0.3721`` from one published Flemish
   statement: VMM rated the 34.19 mm in one hour at its Sint-Pieters-Leeuw gauge
   (27 May - 8 June 2016) as occurring once in 44 years (VMM report "Wateroverlast 27 mei -
   8 juni 2016", quoted in Randkrant, 1 Sept. 2016). Ratios: 1.857 (T = 20), 2.456
   (T = 100).

Depths are rounded to 0.1 mm (:func:`derived_idf_depth_mm` recomputes them).
Between the tabulated durations the depth is interpolated log-log (a power law
per interval); below 5 min it is proportional to duration (the 5-min mean
intensity, no finer peak); beyond 24 h there is no value. Return periods are
meant as in Flemish design practice (mean time between exceedances,
peak-over-threshold); at T >= 20 years this equals the annual-maximum sense.

Doubts, for whoever replaces the numbers: the constant ratio in (4) rests on one
hourly value; for long durations it is probably too high (24 h, T = 100: 100 mm,
while Uccle's wettest day, 16 August 2010, had 78.8 mm as reported by the IRM);
the Bell ratios in (2) are a generalisation from mostly US data.

``juli-2021``
-------------
A schematic long event in the spirit of 13-15 July 2021, when Flanders received
"a little over 50 mm in 24 hours" (P. Willems, De Standaard, 16 July 2021),
against well over 100 mm in parts of Wallonia. It is not a measured series:
51.0 mm in 24 h with a smooth rise and fall, ``i(t) = i_max sin^2(pi t / 24 h)``,
``i_max = 2 * 51 / 24 = 4.25 mm/h``, averaged exactly over 10-min blocks.

The rain CSV format
-------------------
One row per time step, comma-separated, a header row first; lines starting with
``#`` and blank lines are skipped anywhere in the file.

=================  ======  ======================================================
column             unit    meaning
=================  ======  ======================================================
``time``           min     minutes from the start of the storm: the first row is
                           0, then one regular step (a whole number of minutes,
                           1-60) per row, without gaps
``rain_mm_h``      mm h-1  mean rain intensity over the interval that starts at
                           this row's time and lasts one step; 0..500
=================  ======  ======================================================

The storm ends one step after the last row (each row stands for one step), so N
rows hold N steps; end a storm with rows of 0 to add a dry tail. Other columns
are refused. Example (a 15-min storm of 5 mm at a 5-min step)::

    # a small storm
    time,rain_mm_h
    0,12
    5,36
    10,12

The hydrograph CSV format
-------------------------
The same layout with columns ``time`` (minutes from the start, as above) and
``discharge_m3_s`` (m3 s-1, >= 0, at most 1000): the discharge at that instant,
linear between rows; the series ends at its last row. Before the first and after
the last row the end values are held (the base flow). Where the inflow enters
the site is the scenario's business, not this file's.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heatsim.csvfiles import read_csv_table
from heatsim.errors import InputError
from heatsim.presets import STORM_PRESETS

# ---------------------------------------------------------------------------- the IDF table

#: Durations of the IDF table [min].
IDF_DURATIONS_MIN: tuple[int, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 360, 720, 1440)
#: Rain depth [mm] for each duration of :data:`IDF_DURATIONS_MIN`, per return period [years].
#: Only T=2 at 60 and 1440 min are published values; the rest are derived (module docstring).
IDF_DEPTH_MM: dict[int, tuple[float, ...]] = {
    2: (4.9, 7.3, 8.9, 10.2, 12.1, 14.2, 15.9, 17.9, 19.5, 22.0, 27.0, 33.2, 40.8),
    20: (9.1, 13.5, 16.6, 18.9, 22.5, 26.5, 29.5, 33.3, 36.3, 40.9, 50.2, 61.7, 75.8),
    100: (12.0, 17.9, 21.9, 25.0, 29.7, 35.0, 39.0, 44.0, 48.0, 54.1, 66.4, 81.6, 100.2),
}
RETURN_PERIODS: tuple[int, ...] = tuple(IDF_DEPTH_MM)

#: The published anchors: the Flemish T=2 composite storm holds 15.9 mm in 1 h and 40.8 mm in 24 h.
T2_DEPTH_1H_MM = 15.9
T2_DEPTH_24H_MM = 40.8
#: VMM: 34.19 mm in one hour (Sint-Pieters-Leeuw, 27 May - 8 June 2016) occurs once in 44 years.
VMM_2016_DEPTH_1H_MM = 34.19
VMM_2016_RETURN_PERIOD = 44.0
#: Relative slope of depth against ln(T) of the exponential tail, fitted to the two 1-h points above.
GROWTH_SLOPE = (VMM_2016_DEPTH_1H_MM / T2_DEPTH_1H_MM - 1.0) / math.log(VMM_2016_RETURN_PERIOD / 2.0)

COMPOSITE_DURATION_S = 7200
COMPOSITE_STEP_S = 300
MAX_STORM_DURATION_S = 24 * 3600
JULI_2021_DEPTH_MM = 51.0
JULI_2021_DURATION_S = 24 * 3600
JULI_2021_STEP_S = 600

MAX_RAIN_MM_H = 500.0
MAX_DISCHARGE_M3_S = 1000.0
MIN_STEP_MIN = 1
MAX_STEP_MIN = 60

_COMPOSITE = {"composite-t2": 2, "composite-t20": 20, "composite-t100": 100}


def _bell_ratio(duration_min: float) -> float:
    """Bell (1969): depth for ``duration_min`` over the 60-min depth, same return period (5-120 min)."""
    return (0.54 * duration_min ** 0.25 - 0.50) / (0.54 * 60.0 ** 0.25 - 0.50)


def growth_factor(return_period: float) -> float:
    """Depth for return period T over the T=2 depth (same duration): ``1 + c ln(T/2)`` (derived)."""
    return 1.0 + GROWTH_SLOPE * math.log(return_period / 2.0)


def derived_idf_depth_mm(duration_min: float, return_period: float) -> float:
    """The IDF depth [mm] as derived in the module docstring (unrounded; the table is the authority)."""
    if duration_min <= 60.0:
        base = T2_DEPTH_1H_MM * _bell_ratio(duration_min)
    else:
        n = math.log(T2_DEPTH_24H_MM / T2_DEPTH_1H_MM) / math.log(24.0)
        base = T2_DEPTH_1H_MM * (duration_min / 60.0) ** n
    return base * growth_factor(return_period)


def idf_depth_mm(duration_s, return_period: int):
    """Rain depth [mm] in ``duration_s`` seconds for return period 2, 20 or 100 years (table, log-log).

    Below the shortest tabulated duration (5 min) the depth is proportional to the
    duration; beyond 24 h there is no value (ValueError). Accepts arrays.
    """
    if return_period not in IDF_DEPTH_MM:
        raise ValueError(f"no IDF values for T = {return_period!r} years; expected one of "
                         f"{', '.join(map(str, RETURN_PERIODS))}")
    d_min = np.asarray(duration_s, dtype=float) / 60.0
    if np.any(d_min < 0) or np.any(~np.isfinite(d_min)):
        raise ValueError("durations must be finite and >= 0")
    if np.any(d_min > IDF_DURATIONS_MIN[-1] + 1e-9):
        raise ValueError(f"the IDF table ends at {IDF_DURATIONS_MIN[-1] / 60:g} h")
    x = np.log(np.asarray(IDF_DURATIONS_MIN, dtype=float))
    y = np.log(np.asarray(IDF_DEPTH_MM[return_period], dtype=float))
    first = IDF_DURATIONS_MIN[0]
    with np.errstate(divide="ignore"):
        inside = np.exp(np.interp(np.log(np.maximum(d_min, first)), x, y))
    depth = np.where(d_min < first, IDF_DEPTH_MM[return_period][0] * d_min / first, inside)
    return float(depth) if depth.ndim == 0 else depth


# ---------------------------------------------------------------------------- Hyetograph

@dataclass(frozen=True, eq=False)
class Hyetograph:
    """A storm: rain intensity, constant over consecutive intervals.

    ``times_s[k]`` is the start of interval k (seconds from the start of the storm,
    ``times_s[0] = 0``), ``intensity_mm_h[k]`` its mean intensity; the last interval
    ends at ``end_s``. Before 0 and after ``end_s`` it does not rain.
    """

    times_s: np.ndarray
    intensity_mm_h: np.ndarray
    end_s: float
    name: str = "storm"
    source: str = ""
    description: str = ""
    _cumulative_mm: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        times = np.asarray(self.times_s, dtype=float)
        rain = np.asarray(self.intensity_mm_h, dtype=float)
        end = float(self.end_s)
        if times.ndim != 1 or rain.shape != times.shape or len(times) == 0:
            raise ValueError("times_s and intensity_mm_h must be 1-d arrays of the same, non-zero length")
        if times[0] != 0.0:
            raise ValueError(f"a hyetograph starts at 0 s, got {times[0]!r}")
        edges = np.append(times, end)
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise ValueError("interval start times must be finite and strictly increasing, and end_s after the last")
        if not np.all(np.isfinite(rain)) or np.any(rain < 0):
            raise ValueError("intensities must be finite and >= 0 mm/h")
        times.flags.writeable = False
        rain.flags.writeable = False
        cumulative = np.concatenate([[0.0], np.cumsum(rain * np.diff(edges) / 3600.0)])
        cumulative.flags.writeable = False
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "intensity_mm_h", rain)
        object.__setattr__(self, "end_s", end)
        object.__setattr__(self, "_cumulative_mm", cumulative)

    @property
    def edges_s(self) -> np.ndarray:
        """Interval boundaries [s]: the start times and the end."""
        return np.append(self.times_s, self.end_s)

    @property
    def duration_s(self) -> float:
        return self.end_s

    @property
    def depth_mm(self) -> float:
        """Total rain depth [mm]."""
        return float(self._cumulative_mm[-1])

    @property
    def peak_mm_h(self) -> float:
        return float(self.intensity_mm_h.max())

    @property
    def step_s(self) -> float | None:
        """The interval length [s] when all intervals are equal, else None."""
        widths = np.diff(self.edges_s)
        return float(widths[0]) if np.allclose(widths, widths[0], rtol=0, atol=1e-9) else None

    def cumulative_mm(self, t_s):
        """Rain fallen from the start up to ``t_s`` [mm] (piecewise linear in time; 0 before, total after)."""
        value = np.interp(np.asarray(t_s, dtype=float), self.edges_s, self._cumulative_mm)
        return float(value) if np.ndim(value) == 0 else value

    def intensity_at(self, t_s):
        """Intensity [mm/h] at ``t_s``: that of the interval [start, next start) holding it; 0 outside the storm."""
        t = np.asarray(t_s, dtype=float)
        k = np.searchsorted(self.times_s, t, side="right") - 1
        inside = (t >= 0.0) & (t < self.end_s)
        value = np.where(inside, self.intensity_mm_h[np.clip(k, 0, len(self.times_s) - 1)], 0.0)
        return float(value) if value.ndim == 0 else value

    def depth_between(self, t0_s, t1_s):
        """Rain depth [mm] that falls between ``t0_s`` and ``t1_s`` (t0 <= t1): the exact integral of
        the piecewise-constant intensity, so consecutive intervals add up to the total."""
        t0 = np.asarray(t0_s, dtype=float)
        t1 = np.asarray(t1_s, dtype=float)
        if np.any(t1 < t0):
            raise ValueError("depth_between needs t0_s <= t1_s")
        value = np.interp(t1, self.edges_s, self._cumulative_mm) - np.interp(t0, self.edges_s, self._cumulative_mm)
        return float(value) if np.ndim(value) == 0 else value

    def max_depth_in_window(self, d_s: float) -> float:
        """The largest depth [mm] in any window of ``d_s`` seconds (anywhere, also partly outside the storm)."""
        d = float(d_s)
        if not d >= 0.0:
            raise ValueError(f"window length must be >= 0 s, got {d_s!r}")
        if d >= self.end_s:
            return self.depth_mm
        # depth(t) = C(t + d) - C(t) is piecewise linear; its maximum is at a breakpoint
        edges = self.edges_s
        starts = np.concatenate([edges, edges - d])
        return float(np.max(self.depth_between(starts, starts + d)))


# ---------------------------------------------------------------------------- design storms

def composite_storm(return_period: int, duration_s: float = COMPOSITE_DURATION_S,
                    step_s: float = COMPOSITE_STEP_S) -> Hyetograph:
    """A symmetric composite design storm (module docstring) for T = 2, 20 or 100 years.

    ``duration_s`` must be an even number of ``step_s`` steps (the peak is on the
    boundary between the two central steps) and at most 24 h.
    """
    if return_period not in IDF_DEPTH_MM:
        raise ValueError(f"no composite storm for T = {return_period!r}; expected one of "
                         f"{', '.join(map(str, RETURN_PERIODS))} years")
    if not (step_s > 0 and math.isfinite(step_s)):
        raise ValueError(f"step_s must be > 0, got {step_s!r}")
    blocks = duration_s / step_s
    n = round(blocks)
    if abs(blocks - n) > 1e-9 or n < 2 or n % 2:
        raise ValueError(f"duration_s ({duration_s:g} s) must be an even number (>= 2) of steps of {step_s:g} s")
    if duration_s > MAX_STORM_DURATION_S + 1e-9:
        raise ValueError(f"composite storms last at most 24 h (the IDF table), got {duration_s / 3600:g} h")
    half = n // 2
    nested = idf_depth_mm(2.0 * step_s * np.arange(half + 1), return_period)  # P(0), P(2 step), ...
    pair_depth = np.diff(nested) / 2.0  # each of the two blocks at distance j
    block_depth = np.concatenate([pair_depth[::-1], pair_depth])
    hours = f"{duration_s / 3600:g} h"
    return Hyetograph(
        times_s=step_s * np.arange(n), intensity_mm_h=block_depth * 3600.0 / step_s, end_s=n * step_s,
        name=f"composite-t{return_period}", source="heatsim.rain (Uccle IDF table)",
        description=f"composite design storm, T = {return_period} years, {hours} at {step_s / 60:g}-min steps "
                    f"({float(nested[-1]):.1f} mm)",
    )


def juli_2021_storm(step_s: float = JULI_2021_STEP_S) -> Hyetograph:
    """The schematic ``juli-2021`` event: 51 mm in 24 h, ``sin^2`` shaped (module docstring)."""
    length = float(JULI_2021_DURATION_S)
    blocks = length / step_s
    n = round(blocks)
    if abs(blocks - n) > 1e-9 or n < 1:
        raise ValueError(f"step_s ({step_s:g} s) must divide 24 h")
    peak = 2.0 * JULI_2021_DEPTH_MM / 24.0  # mm/h
    edges = step_s * np.arange(n + 1)

    def integral_h(t):  # integral of sin^2(pi t / L) dt, in hours
        return (t / 2.0 - length / (4.0 * math.pi) * np.sin(2.0 * math.pi * t / length)) / 3600.0

    depth = peak * np.diff(integral_h(edges))
    depth *= JULI_2021_DEPTH_MM / depth.sum()  # exact total despite rounding of the sine
    return Hyetograph(
        times_s=edges[:-1], intensity_mm_h=depth * 3600.0 / step_s, end_s=edges[-1], name="juli-2021",
        source="heatsim.rain (schematic)",
        description=f"schematic long event in the spirit of 13-15 July 2021: {JULI_2021_DEPTH_MM:g} mm in 24 h",
    )


def preset_storm(name: str) -> Hyetograph:
    """The storm of a preset name (:data:`heatsim.presets.STORM_PRESETS`)."""
    if name in _COMPOSITE:
        return composite_storm(_COMPOSITE[name])
    if name == "juli-2021":
        return juli_2021_storm()
    raise KeyError(f"unknown storm preset {name!r}; expected one of {', '.join(STORM_PRESETS)}")


# ---------------------------------------------------------------------------- reading CSV files

def _read_rows(path: Path, kind: str, columns: tuple[str, ...]) -> tuple[list[list[str]], list[int]]:
    """Data rows (as strings, in the order of ``columns``) and each row's line number."""
    header, rows, lines = read_csv_table(path, kind, empty_hint=f"a header row ({','.join(columns)}) and data rows (CSV)",
                                         check_header=lambda p, h: _check_columns(p, h, columns))
    rows = [[row[header.index(c)] for c in columns] for row in rows]
    if len(rows) < 2:
        raise InputError(path, "time", f"{len(rows)} data row(s); expected at least 2 (the time step is the "
                                       f"spacing of the rows)")
    return rows, lines


def _check_columns(path: Path, header: list[str], columns: tuple[str, ...]) -> None:
    seen = set()
    for name in header:
        if name in seen:
            raise InputError(path, name, "column appears twice in the header")
        seen.add(name)
        if name not in columns:
            raise InputError(path, name or "header", f"unknown column; expected exactly {', '.join(columns)}")
    missing = [c for c in columns if c not in seen]
    if missing:
        raise InputError(path, missing[0], f"missing column (required: {', '.join(columns)})")


def _parse_numbers(path: Path, name: str, raw: list[str], lines: list[int], what: str) -> np.ndarray:
    values = np.empty(len(raw))
    for i, text in enumerate(raw):
        try:
            values[i] = float(text)
        except ValueError:
            values[i] = np.nan
            if text == "" or text.lower() in ("na", "n/a", "null", "none", "-"):
                problem = f"missing value ({text!r}); every row needs {what}"
            else:
                problem = f"{text!r} is not a number; expected {what}"
            raise InputError(path, f"{name}, line {lines[i]}", problem) from None
        if math.isnan(values[i]):
            raise InputError(path, f"{name}, line {lines[i]}", f"missing value ({text!r}); every row needs {what}")
        if math.isinf(values[i]):
            raise InputError(path, f"{name}, line {lines[i]}", f"{text!r} is not a finite number; expected {what}")
    return values


def _fmt_minutes(minutes: float) -> str:
    return f"{minutes:g} min"


def _parse_times(path: Path, raw: list[str], lines: list[int]) -> tuple[np.ndarray, float]:
    """Row times [s] and the regular step [s]."""
    for text, line in zip(raw, lines, strict=True):
        if "-" in text[1:] or ":" in text or "T" in text:
            try:
                float(text)
            except ValueError:
                raise InputError(path, f"time, line {line}",
                                 f"{text!r} looks like a date or clock time; expected minutes from the start "
                                 f"(0, 5, 10, ...)") from None
    minutes = _parse_numbers(path, "time", raw, lines, "a time in minutes from the start")
    if minutes[0] != 0.0:
        raise InputError(path, f"time, line {lines[0]}",
                         f"first row at {minutes[0]:g} min; expected 0 (times are minutes from the start)")
    diffs = np.diff(minutes)
    back = np.flatnonzero(diffs <= 0)
    if len(back):
        i = back[0] + 1
        raise InputError(path, f"time, line {lines[i]}",
                         f"{raw[i]} is not after the previous row ({raw[i - 1]}, line {lines[i - 1]}); "
                         f"times must be strictly increasing")
    values, counts = np.unique(np.round(diffs, 9), return_counts=True)
    step = float(values[np.argmax(counts)])
    if abs(step - round(step)) > 1e-9 or not MIN_STEP_MIN <= round(step) <= MAX_STEP_MIN:
        raise InputError(path, "time", f"time step {_fmt_minutes(step)}; expected a regular step of a whole "
                                       f"number of minutes, {MIN_STEP_MIN} to {MAX_STEP_MIN}")
    step = float(round(step))
    odd = np.flatnonzero(np.abs(diffs - step) > 1e-9)
    if len(odd):
        i = odd[0] + 1
        what = "gap" if diffs[odd[0]] > step else "irregular step"
        raise InputError(path, f"time, line {lines[i]}",
                         f"{what}: {_fmt_minutes(diffs[odd[0]])} after the previous row ({raw[i - 1]}, line "
                         f"{lines[i - 1]}); expected a regular step of {_fmt_minutes(step)}")
    return minutes * 60.0, step * 60.0


def _check_range(path: Path, name: str, values: np.ndarray, lines: list[int], hi: float, unit: str,
                 negative: str, too_large: str) -> None:
    bad = np.flatnonzero(values < 0)
    if len(bad):
        i = bad[0]
        raise InputError(path, f"{name}, line {lines[i]}", f"{values[i]:g} {unit} is negative; {negative}")
    bad = np.flatnonzero(values > hi)
    if len(bad):
        i = bad[0]
        raise InputError(path, f"{name}, line {lines[i]}", f"{values[i]:g} {unit} {too_large}")


def read_rain_csv(path: str | Path, *, name: str | None = None, description: str = "") -> Hyetograph:
    """Read and check a rain CSV file (format: this module's docstring).

    Every problem is an :class:`~heatsim.errors.InputError` naming the file, the
    column and line, and what was expected.
    """
    path = Path(path)
    rows, lines = _read_rows(path, "rain", ("time", "rain_mm_h"))
    times_s, step_s = _parse_times(path, [r[0] for r in rows], lines)
    rain = _parse_numbers(path, "rain_mm_h", [r[1] for r in rows], lines, "a rain intensity in mm/h")
    _check_range(path, "rain_mm_h", rain, lines, MAX_RAIN_MM_H, "mm/h", "expected a rain intensity >= 0 mm/h",
                 f"is not plausible; expected at most {MAX_RAIN_MM_H:g} mm/h (check the unit: an intensity "
                 f"in mm/h, not mm per step or per day)")
    return Hyetograph(times_s=times_s, intensity_mm_h=rain, end_s=times_s[-1] + step_s, name=name or path.stem,
                      source=str(path), description=description or f"storm read from {path.name}")


def write_rain_csv(storm: Hyetograph, path: str | Path, comment: str | None = None) -> Path:
    """Write ``storm`` in the rain CSV format (regular steps of whole minutes only); round-trips exactly."""
    path = Path(path)
    step = storm.step_s
    minutes = None if step is None else step / 60.0
    if minutes is None or abs(minutes - round(minutes)) > 1e-9 or not MIN_STEP_MIN <= round(minutes) <= MAX_STEP_MIN:
        raise ValueError("only storms with a regular step of 1-60 whole minutes can be written as a rain CSV")
    out = io.StringIO()
    for line in (comment or storm.description or "").splitlines():
        out.write(f"# {line}\n")
    out.write("time,rain_mm_h\n")
    for t, i in zip(storm.times_s, storm.intensity_mm_h, strict=True):
        out.write(f"{round(t / 60.0)},{float(i)!r}\n")
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- hydrographs

@dataclass(frozen=True, eq=False)
class Hydrograph:
    """Discharge [m3 s-1] of a stream entering the site, at ``times_s`` (s from the start), linear between."""

    times_s: np.ndarray
    discharge_m3_s: np.ndarray
    name: str = "inflow"
    source: str = ""

    def __post_init__(self):
        times = np.asarray(self.times_s, dtype=float)
        q = np.asarray(self.discharge_m3_s, dtype=float)
        if times.ndim != 1 or q.shape != times.shape or len(times) < 2:
            raise ValueError("times_s and discharge_m3_s must be 1-d arrays of the same length (>= 2)")
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("times must be finite and strictly increasing")
        if not np.all(np.isfinite(q)) or np.any(q < 0):
            raise ValueError("discharges must be finite and >= 0 m3/s")
        times.flags.writeable = False
        q.flags.writeable = False
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "discharge_m3_s", q)

    @property
    def duration_s(self) -> float:
        return float(self.times_s[-1] - self.times_s[0])

    @property
    def peak_m3_s(self) -> float:
        return float(self.discharge_m3_s.max())

    def at(self, t_s):
        """Discharge [m3/s] at ``t_s``: linear between samples, the end values held outside."""
        value = np.interp(np.asarray(t_s, dtype=float), self.times_s, self.discharge_m3_s)
        return float(value) if np.ndim(value) == 0 else value

    def volume_between(self, t0_s, t1_s) -> float:
        """Water volume [m3] that enters between ``t0_s`` and ``t1_s`` (exact integral of :meth:`at`)."""
        t0, t1 = float(t0_s), float(t1_s)
        if t1 < t0:
            raise ValueError("volume_between needs t0_s <= t1_s")
        inner = self.times_s[(self.times_s > t0) & (self.times_s < t1)]
        t = np.concatenate([[t0], inner, [t1]])
        q = self.at(t)
        return float(np.sum((q[1:] + q[:-1]) / 2.0 * np.diff(t)))


def read_hydrograph_csv(path: str | Path, *, name: str | None = None) -> Hydrograph:
    """Read and check an inflow hydrograph CSV (``time``, ``discharge_m3_s``; module docstring)."""
    path = Path(path)
    rows, lines = _read_rows(path, "hydrograph", ("time", "discharge_m3_s"))
    times_s, _ = _parse_times(path, [r[0] for r in rows], lines)
    q = _parse_numbers(path, "discharge_m3_s", [r[1] for r in rows], lines, "a discharge in m3/s")
    _check_range(path, "discharge_m3_s", q, lines, MAX_DISCHARGE_M3_S, "m3/s", "expected a discharge >= 0 m3/s",
                 f"is not plausible for a stream entering the site; expected at most {MAX_DISCHARGE_M3_S:g} m3/s "
                 f"(check the unit: m3/s, not l/s)")
    return Hydrograph(times_s=times_s, discharge_m3_s=q, name=name or path.stem, source=str(path))


# ---------------------------------------------------------------------------- the scenario's storm

def load_storm(spec, source: str | Path | None = None) -> Hyetograph:
    """The storm of a scenario's ``weather.storm`` (:class:`heatsim.scenario.schema.StormWeather`).

    ``spec`` has a ``preset`` or a ``file``; a relative file is taken relative to
    ``source``'s folder (the scenario file; :func:`heatsim.scenario.load_scenario`
    already makes it absolute). A preset name or a path may also be given as a string.
    """
    if isinstance(spec, (str, Path)):
        if isinstance(spec, str) and spec in STORM_PRESETS:
            return preset_storm(spec)
        preset, file = None, str(spec)
    else:
        preset, file = spec.preset, spec.file
    if preset is not None:
        return preset_storm(preset)
    path = Path(file)
    if not path.is_absolute() and source is not None:
        path = Path(source).parent / path
    if not path.exists():
        raise InputError(source if source is not None else path, "weather.storm.file",
                         f"rain file not found: {path}" + ("" if source is not None else
                                                           f" (and not a storm preset: {', '.join(STORM_PRESETS)})"))
    return read_rain_csv(path)

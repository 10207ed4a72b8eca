"""Per-cell hydrology of a rain step: interception, depression storage, Green-Ampt
infiltration, sewer inlets, and culverts that pipe water from one cell to another.

Water is followed through the stores of a cell, all depths in mm of water over the
**whole cell area** (a mixed cell's pervious share is a parameter, never a unit)::

    rain --> canopy store --throughfall--> depression store --> free surface water h
              (intercept)                 (depression_storage)        |
                                                                      +--> ground or
                                                                      |    green-roof substrate
                                                                      |    (infiltrate_green_ampt)
                                                                      +--> sewer (sewer_inlets)
                                                                      +--> neighbours (the flow
                                                                           kernel), culverts

The order within a step is the order of the kernels in this module:

1. :func:`intercept` catches rain on the canopy; the rest falls through.
2. :func:`depression_storage` puts the throughfall on the ground: it first fills the
   cell's depression store (dips, puddles, joints) up to its capacity, also from free
   water that ran on from neighbours since the last step; only the excess is free
   surface water ``h``, the water the overland-flow kernel moves. After this kernel,
   ``h > 0`` only where the depression store is full.
3. :func:`infiltrate_green_ampt` takes water into the ground **from the free water
   first, then from the depression store**. The depression store is the bottom of the
   ponded water column (SWMM's view: a single ponded depth, runoff only from what
   exceeds the depression storage, infiltration from the whole depth; Rossman & Huber
   2016, sec. 3.3). Taking from the top keeps the invariant of step 2: infiltration
   never leaves free water standing next to an unfilled depression.
4. :func:`sewer_inlets` removes water from the **free water only**: depression storage
   is by definition the water that does not reach a drain (in SWMM an impervious
   depression store is emptied only by evaporation). Call it after infiltration, so
   that on a mixed cell the ground gets its share before the gully.
5. The flow kernel moves ``h``; :func:`culvert_transfer` moves water through pipes.

The model keeps ``h`` in metres for the flow kernel; the vertical kernels take it as
``free_water_mm`` (= 1000 h) and the model converts around them. Evaporation from the
stores between storms is the heat model's (see :mod:`heatsim.kernels.water_stores`).

**Mass ledger.** Every kernel moves water between stores and outflows only; each adds
what enters a store or leaves the cell to a per-cell cumulative total (float64, never
reset by the kernels) so that the model can close ``rain = interception + depression
storage + infiltration + sewer + outflow + free water`` to round-off. Nothing is
clipped: a limit (capacity, water present) decides how much moves, and what does not
move stays where it was.

Each Numba kernel ``name`` has a plain-NumPy twin ``name_numpy`` with the same
signature, used by the tests to prove the kernel right.

References
----------
Rutter, A.J., Kershaw, K.A., Robins, P.C., Morton, A.J. (1971). A predictive model of
rainfall interception in forests, 1. Agricultural Meteorology 9, 367-384.
doi:10.1016/0002-1571(71)90034-3
Gash, J.H.C. (1979). An analytical model of rainfall interception by forests. Quarterly
Journal of the Royal Meteorological Society 105, 43-55. doi:10.1002/qj.49710544304
Dickinson, R.E. (1984). Modeling evapotranspiration for three-dimensional global climate
models. Geophysical Monograph 29, AGU, 58-72. doi:10.1029/GM029p0058
Green, W.H., Ampt, G.A. (1911). Studies on soil physics, 1. The flow of air and water
through soils. Journal of Agricultural Science 4, 1-24. doi:10.1017/S0021859600001441
Mein, R.G., Larson, C.L. (1973). Modeling infiltration during a steady rain. Water
Resources Research 9, 384-394. doi:10.1029/WR009i002p00384
Rawls, W.J., Brakensiek, D.L., Miller, N. (1983). Green-Ampt infiltration parameters
from soils data. Journal of Hydraulic Engineering 109, 62-70.
doi:10.1061/(ASCE)0733-9429(1983)109:1(62)
Chow, V.T., Maidment, D.R., Mays, L.W. (1988). Applied Hydrology. McGraw-Hill.
Sec. 4.3 (Green-Ampt method), sec. 4.4 (ponding time).
Chow, V.T. (1959). Open-Channel Hydraulics. McGraw-Hill. Ch. 5 (Manning formula).
Rossman, L.A., Huber, W.C. (2016). Storm Water Management Model Reference Manual,
Vol. I - Hydrology (revised). US EPA, EPA/600/R-15/162A. Ch. 3 (surface runoff and
depression storage), ch. 4 (Green-Ampt infiltration).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numba
import numpy as np

__all__ = [
    "INF_SITE_SOIL",
    "INF_NONE",
    "INF_CAPPED",
    "INF_SUBSTRATE",
    "INF_OPEN_WATER",
    "INFILTRATION_KIND_CODES",
    "SEWER_CAPACITY_MM_H",
    "infiltration_kind_code",
    "infiltration_kind_lut",
    "relative_saturation",
    "moisture_deficit",
    "culvert_capacity_m3_s",
    "intercept",
    "intercept_numpy",
    "depression_storage",
    "depression_storage_numpy",
    "infiltrate_green_ampt",
    "infiltrate_green_ampt_numpy",
    "sewer_inlets",
    "sewer_inlets_numpy",
    "culvert_transfer",
    "culvert_transfer_numpy",
]

#: infiltration kind codes used by the kernels (the land-cover table's strings map
#: onto these with :func:`infiltration_kind_code`; same order as
#: ``heatsim.landcover.INFILTRATION_KINDS``)
INF_SITE_SOIL, INF_NONE, INF_CAPPED, INF_SUBSTRATE, INF_OPEN_WATER = 0, 1, 2, 3, 4
INFILTRATION_KIND_CODES: dict[str, int] = {
    "site-soil": INF_SITE_SOIL,
    "none": INF_NONE,
    "capped": INF_CAPPED,
    "substrate": INF_SUBSTRATE,
    "open_water": INF_OPEN_WATER,
}

#: Default sewer capacity per connected area [mm h-1]: 90 l s-1 ha-1 (1 l s-1 ha-1 =
#: 0.36 mm h-1). A heatsim assumption, not a figure of the Flemish code: the VMM/CIW
#: (2012) Code van goede praktijk voor rioleringssystemen sizes sewers with composite
#: storms (Uccle statistics) in a hydrodynamic model - since 2012 no water on the street
#: for T = 20 years (T = 5 before), a freeboard of 0.5 m for T = 2 (CIW, technical note
#: to part 6) - and so gives no single rate per area. Dutch practice, whose design
#: rainfall is the same (Uccle and De Bilt extremes are statistically identical,
#: Willems, KU Leuven), designed with a stationary 60 l s-1 ha-1 (flat) to
#: 90 l s-1 ha-1 (sloping) rain, and networks of 60 l s-1 ha-1 checked against the
#: dynamic T = 2 storm (bui 08) show only brief, limited water on the street
#: (Stichting RIONED, riool.net, "Ontwerpneerslagintensiteit"). Flemish networks,
#: designed for a rarer return period of water on the street (T = 5, now 20), are
#: taken at the upper Dutch value. The kernel has no pipe storage or backwater, which
#: in a real network add capacity for short storms and take it away in long ones.
#: Replace with the capacities of the sewer model (Aquafin / the municipality) when
#: available; 21.6 mm h-1 (60 l s-1 ha-1) is a sensible lower bound for sensitivity runs.
SEWER_CAPACITY_MM_H = 32.4

_SECONDS_PER_HOUR = 3600.0
#: Newton iterations of the implicit Green-Ampt step stop when the correction just made is
#: below this fraction of the step's infiltration. The iteration descends from above with
#: error ratio e' = g'' e**2 / (2 g') and here g''/g' = S / ((a + dF)(F0 + dF)) <= 1/dF
#: (a = F0 + S), so after a correction of at most 1e-7 dF the iterate is within
#: 0.5e-14 dF of the root: the confirming iteration a 1e-13 test would need is not made
#: (typically 2-5 iterations, about a dozen at most when K dt is much larger than psi dtheta).
_NEWTON_RTOL = 1e-7
_NEWTON_MAX_ITER = 60


# --------------------------------------------------------------------------- helpers


def infiltration_kind_code(kind: str) -> int:
    """The kernel code (``INF_*``) of an infiltration kind string of the land-cover table."""
    try:
        return INFILTRATION_KIND_CODES[kind]
    except KeyError:
        raise ValueError(f"unknown infiltration kind {kind!r}; expected one of "
                         f"{', '.join(INFILTRATION_KIND_CODES)}") from None


def infiltration_kind_lut(kinds_by_code: Mapping[int, str], fill: int = INF_NONE) -> np.ndarray:
    """An int8 lookup array ``lut[code]`` = infiltration kind code of that land-cover class.

    ``kinds_by_code`` maps a class code to its infiltration kind string, e.g.
    ``{c.code: c.infiltration for c in table.classes.values()}``. Codes without a class
    hold ``fill`` (by default ``INF_NONE``: a nodata cell takes no water). The array has
    the length of :meth:`heatsim.landcover.LandCoverTable.lookup`'s, so that
    ``lut[landcover]`` works alike.
    """
    lut = np.full(max(kinds_by_code) + 1, fill, dtype=np.int8)
    for code, kind in kinds_by_code.items():
        lut[code] = infiltration_kind_code(kind)
    return lut


def relative_saturation(porosity, effective_porosity, water_content):
    """Effective saturation ``s_e = (theta - theta_r) / theta_e`` in [0, 1]. [-]

    ``theta_r = porosity - effective_porosity`` is the residual water content (Rawls et
    al. 1983; Chow et al. 1988, sec. 4.3). Use the field capacity for a soil at rest
    before a storm.
    """
    residual = np.asarray(porosity) - np.asarray(effective_porosity)
    return np.clip((np.asarray(water_content) - residual) / effective_porosity, 0.0, 1.0)


def moisture_deficit(effective_porosity, initial_relative_saturation):
    """Green-Ampt moisture deficit ``dtheta = (1 - s_e) theta_e`` across the wetting front. [-]

    (Chow et al. 1988, sec. 4.3.) Multiplied by the wetting-front suction head it gives
    the storage-suction factor ``psi dtheta`` of the Green-Ampt equation.
    """
    return (1.0 - np.asarray(initial_relative_saturation)) * np.asarray(effective_porosity)


def culvert_capacity_m3_s(diameter_m, slope, manning_n):
    """Full-pipe discharge of a circular culvert by Manning's formula. [m3 s-1]

    ``Q = (1/n) A R^(2/3) S^(1/2)`` with ``A = pi D^2 / 4`` and the hydraulic radius of a
    full pipe ``R = D / 4`` (Chow 1959, ch. 5; SI units, n in s m-1/3). The friction
    slope is taken as the pipe slope (uniform flow), so entrance losses and inlet
    control are neglected; the ~8% more a pipe carries just below full is not counted.
    Works on scalars and arrays.
    """
    diameter_m = np.asarray(diameter_m, dtype=np.float64)
    area = 0.25 * np.pi * diameter_m**2
    radius = 0.25 * diameter_m
    return area * radius ** (2.0 / 3.0) * np.sqrt(slope) / manning_n


# --------------------------------------------------------------------------- interception


@numba.njit(parallel=True, cache=True, fastmath=False)
def intercept(rain_mm, canopy_fraction, interception_capacity_mm, canopy_store_mm, intercepted_total_mm,
              out_throughfall_mm):
    """Rain caught by the canopy in one step, and the throughfall that reaches the ground.

    Parameters
    ----------
    rain_mm : ndarray, float64, (n,)
        Rain of the step over the cell, >= 0. [mm]
    canopy_fraction : ndarray, float64, (n,)
        Share of the cell covered by intercepting vegetation, in [0, 1]: the tree cover,
        or 1 where the class's own vegetation (grass, crops) covers the cell; the model
        decides. [-]
    interception_capacity_mm : ndarray, float64, (n,)
        Water the vegetation holds per unit of *covered* area (the table's
        ``interception_capacity_mm``, 0.2 mm per unit LAI after Dickinson 1984). [mm]
    canopy_store_mm : ndarray, float64, (n,)
        Water on the canopy per unit of *cell* area; updated in place. [mm]
    intercepted_total_mm : ndarray, float64, (n,)
        Cumulative water that entered the canopy store; updated in place. [mm]
    out_throughfall_mm : ndarray, float64, (n,)
        Receives the water that reaches the ground this step (free throughfall on the
        open share plus drip from a full canopy). [mm]

    Returns
    -------
    out_throughfall_mm : ndarray

    Notes
    -----
    A Rutter / Gash bucket (Rutter et al. 1971; Gash 1979): the canopy share ``c``
    receives ``c P``; the store, per cell area, holds at most ``c S`` (``S`` the
    capacity); ``caught = min(c P, max(c S - C, 0))``, ``C += caught``,
    ``throughfall = P - caught``. So ``P = caught + throughfall`` exactly, the store
    never passes its capacity through this kernel, and a store already above a
    capacity lowered between steps takes nothing but keeps its water (evaporation, not
    this kernel, empties it). Evaporation during the storm (Gash's wet-canopy
    evaporation) is neglected: under design-storm intensities it is a fraction of a
    millimetre per hour, and the heat model evaporates the store afterwards. Stem flow
    is counted as drip.
    """
    for i in numba.prange(rain_mm.shape[0]):
        share = canopy_fraction[i]
        room = max(share * interception_capacity_mm[i] - canopy_store_mm[i], 0.0)
        caught = min(share * rain_mm[i], room)
        canopy_store_mm[i] += caught
        intercepted_total_mm[i] += caught
        out_throughfall_mm[i] = rain_mm[i] - caught
    return out_throughfall_mm


def intercept_numpy(rain_mm, canopy_fraction, interception_capacity_mm, canopy_store_mm, intercepted_total_mm,
                    out_throughfall_mm):
    """Plain-NumPy twin of :func:`intercept`."""
    room = np.maximum(canopy_fraction * interception_capacity_mm - canopy_store_mm, 0.0)
    caught = np.minimum(canopy_fraction * rain_mm, room)
    canopy_store_mm += caught
    intercepted_total_mm += caught
    out_throughfall_mm[:] = rain_mm - caught
    return out_throughfall_mm


# --------------------------------------------------------------------------- depression storage


@numba.njit(parallel=True, cache=True, fastmath=False)
def depression_storage(water_in_mm, depression_capacity_mm, depression_store_mm, free_water_mm,
                       depression_total_mm):
    """Put the step's throughfall on the ground: fill the depression store, the rest flows.

    Parameters
    ----------
    water_in_mm : ndarray, float64, (n,)
        Water reaching the ground this step (the throughfall of :func:`intercept`). [mm]
    depression_capacity_mm : ndarray, float64, (n,)
        Depression storage of the cell per cell area: the class's
        ``depression_storage_mm`` applied to the **whole cell** (the table gives one
        value per class, SWMM's value for the class's surface; a mixed cell keeps its
        class's value). [mm]
    depression_store_mm : ndarray, float64, (n,)
        Water held in depressions; updated in place. [mm]
    free_water_mm : ndarray, float64, (n,)
        Free surface water ``1000 h``; updated in place. It may hold water that ran on
        from neighbours since the last step: that too fills an unfilled depression. [mm]
    depression_total_mm : ndarray, float64, (n,)
        Cumulative water that entered the depression store; updated in place. [mm]

    Notes
    -----
    ``fill = min(W + h, max(D - d, 0))``, ``d += fill``, ``h = h + W - fill``; so
    ``W = fill + dh`` exactly and ``h > 0`` afterwards only where ``d >= D``. Water
    leaves the depression store only by infiltration (:func:`infiltrate_green_ampt`)
    and evaporation (the heat model), never to a sewer or a neighbour.
    """
    for i in numba.prange(water_in_mm.shape[0]):
        free = free_water_mm[i] + water_in_mm[i]
        room = max(depression_capacity_mm[i] - depression_store_mm[i], 0.0)
        fill = min(max(free, 0.0), room)
        depression_store_mm[i] += fill
        depression_total_mm[i] += fill
        free_water_mm[i] = free - fill


def depression_storage_numpy(water_in_mm, depression_capacity_mm, depression_store_mm, free_water_mm,
                             depression_total_mm):
    """Plain-NumPy twin of :func:`depression_storage`."""
    free = free_water_mm + water_in_mm
    room = np.maximum(depression_capacity_mm - depression_store_mm, 0.0)
    fill = np.minimum(np.maximum(free, 0.0), room)
    depression_store_mm += fill
    depression_total_mm += fill
    free_water_mm[:] = free - fill


# --------------------------------------------------------------------------- infiltration


@numba.njit(cache=True, fastmath=False)
def _green_ampt_increment_mm(cumulative_mm, k_dt_mm, storage_suction_mm):
    """Ponded Green-Ampt infiltration over one step, from cumulative depth ``F0``. [mm]

    Solves ``dF - S ln(1 + dF / (F0 + S)) = K dt`` (``S = psi dtheta``) for ``dF`` by
    Newton's method from an upper bound; see :func:`infiltrate_green_ampt`.
    """
    if k_dt_mm <= 0.0:
        return 0.0
    if storage_suction_mm <= 0.0:
        return k_dt_mm  # saturated soil or no suction: f = K
    f0 = cumulative_mm
    s = storage_suction_mm
    a = f0 + s
    # Upper bound: y - ln(1+y) >= y^2 / (2 (1+y)) gives dF <= c + sqrt(c^2 + 2 S c);
    # the rate only falls during the step, so also dF <= K (1 + S/F0) dt.
    df = k_dt_mm + math.sqrt(k_dt_mm * k_dt_mm + 2.0 * s * k_dt_mm)
    if f0 > 0.0:
        df = min(df, k_dt_mm * (1.0 + s / f0))
    # g(dF) is increasing and convex, so Newton from above falls monotonically onto the root
    for _ in range(_NEWTON_MAX_ITER):
        g = df - s * math.log1p(df / a) - k_dt_mm
        slope = (f0 + df) / (a + df)
        step = g / slope
        df -= step
        if step <= _NEWTON_RTOL * df:
            break
    return df


@numba.njit(cache=True, fastmath=False)
def _green_ampt_lower_bound_mm(cumulative_mm, k_dt_mm, storage_suction_mm):
    """A lower bound of :func:`_green_ampt_increment_mm` [mm], without the Newton solve: the
    capacity ``K (1 + S / F)`` falls as ``F`` grows and ``F`` stays below ``F0`` plus the
    solve's upper bound ``U`` during the step, so ``dF >= K (1 + S / (F0 + U)) dt``. When the
    cell's water is below it, the supply limits and the exact ``dF`` is not needed."""
    if k_dt_mm <= 0.0:
        return 0.0
    if storage_suction_mm <= 0.0:
        return k_dt_mm
    upper = k_dt_mm + math.sqrt(k_dt_mm * k_dt_mm + 2.0 * storage_suction_mm * k_dt_mm)
    if cumulative_mm > 0.0:
        upper = min(upper, k_dt_mm * (1.0 + storage_suction_mm / cumulative_mm))
    return k_dt_mm * (1.0 + storage_suction_mm / (cumulative_mm + upper))


def _green_ampt_increment_mm_numpy(cumulative_mm, k_dt_mm, storage_suction_mm):
    """Plain-NumPy twin of :func:`_green_ampt_increment_mm` on arrays (same iteration)."""
    f0 = cumulative_mm
    s = storage_suction_mm
    c = k_dt_mm
    a = f0 + s
    newton = (c > 0.0) & (s > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = c + np.sqrt(c * c + 2.0 * s * c)
        df = np.where(f0 > 0.0, np.minimum(df, c * (1.0 + s / f0)), df)
        active = newton.copy()
        for _ in range(_NEWTON_MAX_ITER):
            if not active.any():
                break
            g = df - s * np.log1p(df / a) - c
            slope = (f0 + df) / (a + df)
            step = g / slope
            df = np.where(active, df - step, df)
            active &= ~(step <= _NEWTON_RTOL * df)
    df = np.where(s > 0.0, df, c)
    return np.where(c > 0.0, df, 0.0)


@numba.njit(parallel=True, cache=True, fastmath=False)
def infiltrate_green_ampt(infiltration_kind, impervious_fraction, saturated_conductivity_mm_h, suction_head_mm,
                          moisture_deficit, infiltration_cap_mm_h, substrate_capacity_mm, free_water_mm,
                          depression_store_mm, infiltrated_mm, infiltrated_total_mm, *, dt_s):
    """Water taken into the ground (or a green-roof substrate) in one step.

    Parameters
    ----------
    infiltration_kind : ndarray, int8 or uint8, (n,)
        ``INF_*`` code of each cell (:func:`infiltration_kind_lut`).
    impervious_fraction : ndarray, float64, (n,)
        Sealed share of the cell; the pervious share ``p = 1 - impervious_fraction``
        is where site soil infiltrates. [-]
    saturated_conductivity_mm_h : ndarray, float64, (n,)
        Green-Ampt ``K`` of the cell's soil texture (Rawls et al. 1983). [mm h-1]
    suction_head_mm : ndarray, float64, (n,)
        Wetting-front suction head ``psi``. [mm]
    moisture_deficit : ndarray, float64, (n,)
        ``dtheta = (1 - s_e) theta_e`` at the start of the storm (:func:`moisture_deficit`). [-]
    infiltration_cap_mm_h : ndarray, float64, (n,)
        Cap on the rate of ``capped`` cells (permeable paving), per pervious area; read
        only there (may be NaN elsewhere). [mm h-1]
    substrate_capacity_mm : ndarray, float64, (n,)
        Water a ``substrate`` cell's green-roof substrate holds, per cell area; read
        only there. [mm]
    free_water_mm : ndarray, float64, (n,)
        Free surface water ``1000 h``; infiltration draws from it first; in place. [mm]
    depression_store_mm : ndarray, float64, (n,)
        Depression store; drawn from once the free water is gone; in place. [mm]
    infiltrated_mm : ndarray, float64, (n,)
        The water the cell's ground has taken in, per cell area; in place. For
        ``site-soil`` and ``capped`` cells the Green-Ampt cumulative infiltration
        (``p F`` with ``F`` per pervious area), for ``substrate`` cells the water held by
        the substrate. The heat model reads it as soil (substrate) water. If it lowers
        it between storms (evaporation), the Green-Ampt capacity recovers accordingly. [mm]
    infiltrated_total_mm : ndarray, float64, (n,)
        Cumulative infiltration for the mass ledger, never lowered; in place. [mm]
    dt_s : float
        Step length. [s]

    Notes
    -----
    Per pervious area, with ``F`` the cumulative infiltrated depth and
    ``S = psi dtheta``, the Green-Ampt capacity is ``f_p = K (1 + S / F)``
    (Green & Ampt 1911). Under ponding its time integral from ``F0`` over ``dt`` is the
    implicit cumulative form (Chow et al. 1988, sec. 4.3), written between two times

    .. math:: F_1 - F_0 - S \\ln\\frac{F_1 + S}{F_0 + S} = K \\, dt,

    solved for ``F1`` by Newton's method. The left side is increasing and convex in
    ``F1``, and the iteration starts from the upper bound
    ``min(K dt + sqrt((K dt)^2 + 2 S K dt), K (1 + S/F0) dt)``, so it descends
    monotonically onto the root (typically 3-6 iterations to a relative 1e-13). The
    step is exact for any ``dt`` while the surface stays ponded: many small steps
    reproduce the analytic ``F(t)`` to round-off.

    The cell takes ``min(W, p dF)`` with ``W`` the water on the cell (free water plus
    depression store, all of it reachable from the pervious share: one depth per cell,
    mixed instantly within it). When the supply limits, ``F`` grows by the supply only
    (rain below ``K``, or before ponding: all of it infiltrates, and ponding starts when
    ``f_p`` falls to the supply rate, Mein & Larson 1973). A step in which ponding
    starts takes the ponded capacity from its start, a small overestimate that vanishes
    with ``dt`` (the ponding-time correction of Chow et al. 1988, sec. 4.4, is not made).

    Kinds: ``site-soil``: as above. ``capped``: as above, at most ``cap dt`` per
    pervious area. ``substrate``: the green-roof substrate takes, without a rate limit
    (extensive substrates drain far faster than design rain), what it has room for,
    ``min(W, max(capacity - stored, 0))``, over the whole cell; nothing reaches the
    ground, the excess stays on the surface (and goes to the roof's downpipe, the sewer).
    ``none`` and ``open_water``: nothing.
    """
    dt_h = dt_s / _SECONDS_PER_HOUR
    for i in numba.prange(infiltration_kind.shape[0]):
        kind = infiltration_kind[i]
        free = free_water_mm[i]
        held = depression_store_mm[i]
        available = max(free, 0.0) + max(held, 0.0)
        if available <= 0.0:
            continue  # nothing to take: skip the Newton solve (most cells once the rain stops)
        potential = 0.0
        if kind == INF_SITE_SOIL or kind == INF_CAPPED:
            pervious = 1.0 - impervious_fraction[i]
            if pervious > 0.0:
                f0 = infiltrated_mm[i] / pervious
                k_dt = saturated_conductivity_mm_h[i] * dt_h
                suction = suction_head_mm[i] * moisture_deficit[i]
                cap = infiltration_cap_mm_h[i] * dt_h if kind == INF_CAPPED else math.inf
                if pervious * min(_green_ampt_lower_bound_mm(f0, k_dt, suction), cap) >= available:
                    potential = available  # the ground takes all of it: the Newton solve cannot change that
                else:
                    potential = pervious * min(_green_ampt_increment_mm(f0, k_dt, suction), cap)
        elif kind == INF_SUBSTRATE:
            potential = max(substrate_capacity_mm[i] - infiltrated_mm[i], 0.0)
        if potential <= 0.0:
            continue
        if potential >= available:
            taken = available
            free_water_mm[i] = min(free, 0.0)
            depression_store_mm[i] = min(held, 0.0)
        else:
            taken = potential
            if taken <= free:
                free_water_mm[i] = free - taken
            else:
                free_water_mm[i] = 0.0
                depression_store_mm[i] = max(held - (taken - free), 0.0)
        infiltrated_mm[i] += taken
        infiltrated_total_mm[i] += taken


def infiltrate_green_ampt_numpy(infiltration_kind, impervious_fraction, saturated_conductivity_mm_h, suction_head_mm,
                                moisture_deficit, infiltration_cap_mm_h, substrate_capacity_mm, free_water_mm,
                                depression_store_mm, infiltrated_mm, infiltrated_total_mm, *, dt_s):
    """Plain-NumPy twin of :func:`infiltrate_green_ampt`."""
    dt_h = dt_s / _SECONDS_PER_HOUR
    kind = infiltration_kind
    free = free_water_mm.copy()
    held = depression_store_mm.copy()
    available = np.maximum(free, 0.0) + np.maximum(held, 0.0)
    pervious = 1.0 - impervious_fraction
    soil = ((kind == INF_SITE_SOIL) | (kind == INF_CAPPED)) & (pervious > 0.0)
    potential = np.zeros_like(free)
    if soil.any():
        df = _green_ampt_increment_mm_numpy(infiltrated_mm[soil] / pervious[soil],
                                            saturated_conductivity_mm_h[soil] * dt_h,
                                            suction_head_mm[soil] * moisture_deficit[soil])
        capped = kind[soil] == INF_CAPPED
        df[capped] = np.minimum(df[capped], infiltration_cap_mm_h[soil][capped] * dt_h)
        potential[soil] = pervious[soil] * df
    substrate = kind == INF_SUBSTRATE
    potential[substrate] = np.maximum(substrate_capacity_mm[substrate] - infiltrated_mm[substrate], 0.0)

    moves = (available > 0.0) & (potential > 0.0)
    all_of_it = moves & (potential >= available)
    part = moves & ~all_of_it
    taken = np.where(all_of_it, available, np.where(part, potential, 0.0))
    free_water_mm[all_of_it] = np.minimum(free[all_of_it], 0.0)
    depression_store_mm[all_of_it] = np.minimum(held[all_of_it], 0.0)
    from_free = part & (taken <= free)
    free_water_mm[from_free] = free[from_free] - taken[from_free]
    both = part & ~from_free
    free_water_mm[both] = 0.0
    depression_store_mm[both] = np.maximum(held[both] - (taken[both] - free[both]), 0.0)
    infiltrated_mm += taken
    infiltrated_total_mm += taken


# --------------------------------------------------------------------------- sewer inlets


@numba.njit(parallel=True, cache=True, fastmath=False)
def sewer_inlets(surface_depth_mm, connected_fraction, capacity_mm_h, dt_s, sewer_total_mm):
    """Water the sewer inlets (gullies, downpipes) take from the cell in one step.

    Parameters
    ----------
    surface_depth_mm : ndarray, float64, (n,)
        The free surface water ``1000 h`` (not the depression store: water in
        depressions does not reach a drain); updated in place. [mm]
    connected_fraction : ndarray, float64, (n,)
        Share of the cell that drains to the sewer (the table's
        ``sewer_connected_fraction``), in [0, 1]. [-]
    capacity_mm_h : ndarray, float64, (n,)
        Sewer capacity per connected area; ``np.full(n, SEWER_CAPACITY_MM_H)`` for a
        uniform network, higher where a separate system or a larger pipe serves. [mm h-1]
    dt_s : float
        Step length. [s]
    sewer_total_mm : ndarray, float64, (n,)
        Cumulative water removed by the sewer; updated in place. [mm]

    Notes
    -----
    ``removed = min(h, capacity * connected * dt)`` (never below 0): the capacity
    acts on the connected share of the cell area, all the cell's free water can reach
    it (one depth per cell). The sewer is a sink with a fixed capacity: no pipe
    storage, no surcharge or backflow onto the street, no overflow to streams; the
    removed water leaves the model (it is the ledger's "sewer" term). See
    :data:`SEWER_CAPACITY_MM_H` for the default capacity and its reasoning.
    """
    dt_h = dt_s / _SECONDS_PER_HOUR
    for i in numba.prange(surface_depth_mm.shape[0]):
        limit = capacity_mm_h[i] * connected_fraction[i] * dt_h
        removed = max(min(surface_depth_mm[i], limit), 0.0)
        surface_depth_mm[i] -= removed
        sewer_total_mm[i] += removed


def sewer_inlets_numpy(surface_depth_mm, connected_fraction, capacity_mm_h, dt_s, sewer_total_mm):
    """Plain-NumPy twin of :func:`sewer_inlets`."""
    dt_h = dt_s / _SECONDS_PER_HOUR
    limit = capacity_mm_h * connected_fraction * dt_h
    removed = np.maximum(np.minimum(surface_depth_mm, limit), 0.0)
    surface_depth_mm -= removed
    sewer_total_mm += removed


# --------------------------------------------------------------------------- culverts


@numba.njit(cache=True, fastmath=False)
def culvert_transfer(depth_m, bed_m, inlet_index, outlet_index, capacity_m3_s, dt_s, cell_area_m2):
    """Move water through culverts (pipes) from their inlet cell to their outlet cell.

    Parameters
    ----------
    depth_m : ndarray, float64, (n,)
        Free water depth ``h`` of every cell (raveled grid); updated in place. [m]
    bed_m : ndarray, float64, (n,)
        Bed (terrain) elevation of every cell; the water level is ``bed + h``. [m]
    inlet_index, outlet_index : ndarray, integer, (m,)
        Flat cell index of each culvert's inlet and outlet.
    capacity_m3_s : ndarray, float64, (m,)
        Discharge capacity of each culvert (e.g. :func:`culvert_capacity_m3_s`). [m3 s-1]
    dt_s : float
        Step length. [s]
    cell_area_m2 : float
        Area of one cell. [m2]

    Returns
    -------
    float
        Total volume moved by all culverts this step. [m3]

    Notes
    -----
    Culvert ``k`` moves ``V = min(Q_k dt, h_in A, (z_in - z_out) A / 2)`` with
    ``z = bed + h``: at most its capacity, at most the water in the inlet cell, and
    only downhill in water level, never more than levels the two cells (then the
    pipe would push water uphill). Flow is one-way, inlet to outlet. The culverts are
    taken in order, each seeing the depths the previous ones left, so a chain (one's
    outlet the next one's inlet) passes water on within a step only in upstream-first
    order. Volume is conserved to round-off: ``sum(h) A`` is unchanged. Serial (few
    culverts).
    """
    total = 0.0
    for k in range(inlet_index.shape[0]):
        i = inlet_index[k]
        o = outlet_index[k]
        if i == o:
            continue
        held = depth_m[i] * cell_area_m2
        head = (bed_m[i] + depth_m[i]) - (bed_m[o] + depth_m[o])
        volume = min(capacity_m3_s[k] * dt_s, held, 0.5 * head * cell_area_m2)
        if volume <= 0.0:
            continue
        if volume >= held:
            moved_m = depth_m[i]
            depth_m[i] = 0.0
        else:
            moved_m = volume / cell_area_m2
            depth_m[i] = max(depth_m[i] - moved_m, 0.0)
        depth_m[o] += moved_m
        total += moved_m * cell_area_m2
    return total


def culvert_transfer_numpy(depth_m, bed_m, inlet_index, outlet_index, capacity_m3_s, dt_s, cell_area_m2):
    """Plain-Python/NumPy twin of :func:`culvert_transfer` (culverts in order, one by one)."""
    total = 0.0
    for i, o, capacity in zip(inlet_index.tolist(), outlet_index.tolist(), capacity_m3_s.tolist()):
        if i == o:
            continue
        held = depth_m[i] * cell_area_m2
        level_in, level_out = bed_m[i] + depth_m[i], bed_m[o] + depth_m[o]
        volume = min(capacity * dt_s, held, 0.5 * (level_in - level_out) * cell_area_m2)
        if volume <= 0.0:
            continue
        moved_m = depth_m[i] if volume >= held else volume / cell_area_m2
        depth_m[i] = max(depth_m[i] - moved_m, 0.0)
        depth_m[o] += moved_m
        total += moved_m * cell_area_m2
    return float(total)


@numba.njit(cache=True, fastmath=False)
def hold_levels(depth_m, index, held_depth_m, cell_area_m2, volumes_m3):
    """Held-level outlets (a river, a canal): set the cells ``index`` (flat indices into the
    raveled grid ``depth_m`` [m], updated in place) to their held depths ``held_depth_m`` [m].
    ``volumes_m3`` (2,) gains the water they gave up (outflow) and the water they were given
    (supply) [m3]. Serial (few cells)."""
    for k in range(index.shape[0]):
        excess = depth_m[index[k]] - held_depth_m[k]
        if excess > 0.0:
            volumes_m3[0] += excess * cell_area_m2
        else:
            volumes_m3[1] -= excess * cell_area_m2
        depth_m[index[k]] = held_depth_m[k]


def hold_levels_numpy(depth_m, index, held_depth_m, cell_area_m2, volumes_m3):
    """Plain-NumPy twin of :func:`hold_levels` (the same sums, in the same order)."""
    excess = depth_m[index] - held_depth_m
    for e in excess.tolist():
        if e > 0.0:
            volumes_m3[0] += e * cell_area_m2
        else:
            volumes_m3[1] -= e * cell_area_m2
    depth_m[index] = held_depth_m

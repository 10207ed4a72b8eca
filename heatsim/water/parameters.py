"""Constants and choices of the water model, each with its source or reason."""

from __future__ import annotations

from dataclasses import dataclass

from heatsim.kernels.overland_flow import (DEFAULT_ALPHA, DEFAULT_FROUDE_MAX, DEFAULT_H_MIN_FLOW_M,
                                           DEFAULT_IMPLICIT_FRICTION, DEFAULT_THETA)


@dataclass(frozen=True)
class WaterParameters:
    alpha: float = DEFAULT_ALPHA
    """CFL coefficient of the adaptive step dt = alpha dx / sqrt(g h_max) (Bates et al. 2010
    eq. 12 recommend 0.7; the theta-scheme's checkerboard mode is undamped above
    sqrt(theta / 2) = 0.59 in 2-D, see heatsim/kernels/overland_flow.py)."""
    theta: float = DEFAULT_THETA
    """de Almeida et al. (2012) weighting: 0.7 damps the spurious oscillations of the
    original scheme (theta = 1) while keeping its diffusion small."""
    h_min_flow_m: float = DEFAULT_H_MIN_FLOW_M
    """Faces with less flow depth carry nothing [m] (the thin-film guard of the
    local-inertial family, LISFLOOD-FP and itzi use 1e-3 - 1e-2 m)."""
    froude_max: float = DEFAULT_FROUDE_MAX
    """Face fluxes are capped at this Froude number (thin films on steep smooth paving)."""
    implicit_friction: bool = DEFAULT_IMPLICIT_FRICTION
    dt_max_s: float = 10.0
    """Longest flow step [s], when everything is dry or shallow: a fiftieth of the 5-min
    rain interval of the design storms, so that rain arrives smoothly."""
    losses_interval_s: float = 30.0
    """Rain, interception, depression storage, infiltration and sewer inlets are computed every
    this many seconds over the time since their last call, not every flow step (itzi does the
    same for its losses with 'dtinf', 60 s by default, Courty et al. 2017, Geosci. Model Dev.
    10, 1835-1847): the flow steps are ~0.5-1.5 s on 5-10 m cells, while rain rates change
    every 5 min and losses over minutes. The rain of a span arrives at its end (at the T=20
    peak, 81 mm/h, that is 0.7 mm at once); the ledger stays exact."""
    max_steps: int = 3_000_000
    """A run needing more steps is refused (a coarser grid or a shorter event is asked for)."""
    initial_relative_saturation_at_field_capacity: bool = True
    """The soil starts the storm at field capacity (drained after earlier rain): the usual
    'average antecedent moisture' of design-storm studies (Chow et al. 1988, sec. 5.5).
    The Green-Ampt moisture deficit is then effective_porosity x (1 - s_e(field capacity))."""
    roof_drain_unlimited: bool = True
    """Roofs drain by downpipes without a rate limit (a roof cannot pond; the surcharging of
    the sewer network itself is not modelled): their water counts as sewer load."""
    speed_min_depth_m: float = 0.01
    """Speeds are reported where the water is deeper than this [m]."""
    flood_thresholds_m: tuple[float, ...] = (0.05, 0.20)
    """Depths for the flooded-area indicators [m]: 0.05 m wets feet and marks water on the
    street; 0.20 m reaches thresholds and doorsteps (the Flemish check of water on the
    street at T=20 in VMM 2012 concerns any water on the street; 0.2 m is a common damage
    threshold for buildings)."""
    hydrograph_interval_s: float = 60.0
    """Bucket of the reported hydrographs [s]."""
    local_time_step_ratio: int = 16
    """Two-level local time stepping of the overland flow (heatsim/kernels/local_steps.py),
    when the scenario's ``water.time_stepping`` is ``local`` (the default): 1 = off (one
    global CFL step for the whole grid, the published scheme); m > 1 = the cells deeper than
    h_max / m**2 (dilated by 2 cells) take up to m sub-steps per step of the rest of the
    grid, whose step is set by the depths outside that region. The fast region is chosen
    again every losses interval. 16: with the adaptive choice below, the 5 m site used
    ratios 6-15 through the T=20 storm; a larger bound is never chosen there."""
    local_time_step_adaptive: bool = True
    """With local time stepping: True = at each choice of the fast region, take the ratio
    from 1 to ``local_time_step_ratio`` that costs least (heatsim.kernels.local_steps.
    choose_ratio); False = always ``local_time_step_ratio``."""

    def __post_init__(self):
        ratio = self.local_time_step_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int) or not 1 <= ratio <= 64:
            raise ValueError(f"local_time_step_ratio must be an integer from 1 to 64, not {ratio!r}")

"""Mean radiant temperature of a standing person and UTCI.

Tmrt follows the two-hemisphere form of the radiation budget of a standing person
(VDI 3787-2:2008; Thorsson et al. 2007, Int. J. Climatol. 27, 1983-1993): the body
absorbs a share ``a_k`` of the direct beam on its projected area ``f_p``, half of the
diffuse sky and of the shortwave reflected by the ground, and half of the longwave
from the upper and from the lower hemisphere:

``S = a_k (f_p I sunlit + 0.5 D svf + 0.5 albedo_g K_g) + eps_p (0.5 L_down + 0.5 L_up)``,
``Tmrt = (S / (eps_p sigma))^0.25``,

with ``f_p = 0.308 cos(h (1 - h^2 / 48402))`` for a standing person at sun elevation
``h`` in degrees (Fanger 1970, as used in RayMan and SOLWEIG). Walls are taken at air
temperature. UTCI comes from pythermalcomfort (Broede et al. 2012, Int. J.
Biometeorol. 56, 481-494, the operational polynomial).
"""

from __future__ import annotations

import numpy as np

from heatsim.kernels.surface_energy import STEFAN_BOLTZMANN_W_M2_K4 as SIGMA


def projected_area_factor(sun_elevation_deg: float) -> float:
    """f_p of a standing person (Fanger 1970). [-]"""
    h = max(sun_elevation_deg, 0.0)
    return 0.308 * np.cos(np.radians(h * (1.0 - h * h / 48402.0)))


def mean_radiant_temperature_c(*, surface_k, air_k, ground_albedo, ground_emissivity, sunlit, sky_view,
                               direct_normal_w_m2, direct_horizontal_w_m2, diffuse_w_m2, sky_emissivity,
                               sun_elevation_deg, absorptivity=0.70, person_emissivity=0.97) -> np.ndarray:
    """Tmrt at pedestrian level for every cell. [degC] (arrays [K], [-]; irradiances [W m-2])"""
    k_ground = direct_horizontal_w_m2 * sunlit + diffuse_w_m2 * sky_view
    l_down = (sky_view * sky_emissivity + (1.0 - sky_view)) * SIGMA * air_k**4
    l_up = ground_emissivity * SIGMA * surface_k**4 + (1.0 - ground_emissivity) * l_down
    fp = projected_area_factor(sun_elevation_deg)
    absorbed = absorptivity * (fp * direct_normal_w_m2 * sunlit + 0.5 * diffuse_w_m2 * sky_view
                               + 0.5 * ground_albedo * k_ground) + person_emissivity * 0.5 * (l_down + l_up)
    return (absorbed / (person_emissivity * SIGMA)) ** 0.25 - 273.15


def utci_c(air_c, mrt_c, wind_m_s, relative_humidity_pct) -> np.ndarray:
    """UTCI [degC] from air and mean radiant temperature [degC], 10 m wind [m s-1], RH [%].

    Wind is held within the polynomial's range (0.5-17 m s-1); where Tmrt - Ta leaves its
    range (-30..70 K) the value is an extrapolation and is clipped to that range first.
    """
    from pythermalcomfort.models import utci

    air_c = np.asarray(air_c, dtype=np.float64)
    mrt_c = np.clip(np.asarray(mrt_c, dtype=np.float64), air_c - 30.0, air_c + 70.0)
    wind = np.clip(np.broadcast_to(wind_m_s, air_c.shape), 0.5, 17.0)
    rh = np.broadcast_to(relative_humidity_pct, air_c.shape)
    result = utci(tdb=air_c, tr=mrt_c, v=wind, rh=rh, limit_inputs=False, round_output=False)
    return np.asarray(result.utci, dtype=np.float64)

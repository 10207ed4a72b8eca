"""Surface energy balance of each cell: net radiation, sensible and latent heat,
with their derivatives with respect to the surface temperature.

The model step linearises the balance around the previous surface temperature
``Ts``: the flux into the ground ``F = Rn - H - LE`` and its slope
``dF/dTs = dRn - dH - dLE`` go to the implicit conduction solve, which returns the
new ``Ts``; each term is then reported at the new state with its own linearisation,
so that ``Rn = H + LE + G`` closes to round-off.

Equations (per cell; all fluxes in W m-2, positive Rn towards the surface, positive
H and LE away from it):

- ``K_down = S_dir,h * sunlit + S_dif * svf`` (direct on a horizontal surface, shaded
  by ``sunlit``; diffuse sky scaled by the sky view factor)
- ``L_down = svf * eps_sky * sigma * Ta^4 + (1 - svf) * sigma * Ta^4`` (sky, and walls
  and crowns at air temperature, emissivity 1 for the canyon's cavity)
- ``Rn = (1 - albedo) K_down + eps (L_down - sigma Ts^4)``
- ``H = rho cp (Ts - Ta) / r_a``
- ``LE = beta * rho cp / gamma * (e*(Ts) - e_a) / (r_a + r_s)``, not below 0 (no dew)

with the saturation vapour pressure ``e*`` of FAO-56 eq. 11 (Tetens form) and the
aerodynamic resistance ``r_a`` of :func:`aerodynamic_resistance`.

References: Oke (1987) Boundary Layer Climates, ch. 1 and 2; Allen et al. (1998)
FAO-56, eqs. 4, 5, 11, 13; Brutsaert (1975) Water Resour. Res. 11, 742-744,
doi:10.1029/WR011i005p00742 (clear-sky emissivity, applied by the caller);
Choudhury et al. (1986) Agric. For. Meteorol. 37, 75-88 (stability correction).
"""

from __future__ import annotations

import math

import numba
import numpy as np

STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8  # CODATA 2018
VON_KARMAN = 0.41  # Hogstrom (1996), Boundary-Layer Meteorol. 78, 215-246
GRAVITY_M_S2 = 9.80665

#: et_kind codes used by the kernel (the land-cover table's strings map onto these)
ET_NONE, ET_PONDED, ET_SOIL, ET_VEGETATION, ET_OPEN_WATER = 0, 1, 2, 3, 4


@numba.njit(cache=True, fastmath=False)
def saturation_vapour_pressure_pa(temperature_k):
    """FAO-56 eq. 11: e* = 610.8 exp(17.27 T / (T + 237.3)), T in degC. [Pa]"""
    t = temperature_k - 273.15
    return 610.8 * math.exp(17.27 * t / (t + 237.3))


@numba.njit(cache=True, fastmath=False)
def saturation_slope_pa_k(temperature_k):
    """FAO-56 eq. 13: de*/dT. [Pa K-1]"""
    t = temperature_k - 273.15
    return 4098.0 * saturation_vapour_pressure_pa(temperature_k) / (t + 237.3) ** 2


@numba.njit(cache=True, fastmath=False)
def aerodynamic_resistance(surface_k, air_k, roughness_m, wind_speed_m_s, reference_height_m):
    """Aerodynamic resistance to heat transfer r_a [s m-1].

    Neutral log law with z0h = z0m / 10, ``ln(z/z0m) ln(z/z0h) / (k^2 u)``, corrected
    for instability as in Choudhury et al. (1986): ``r_a = r_aN / (1 + eta)^0.75``
    with ``eta = 5 g z (Ts - Ta) / (Ta u^2)`` when the surface is warmer than the air,
    and for stability with Louis (1979, Boundary-Layer Meteorol. 17, 187-202):
    ``r_a = r_aN (1 + 3 b Ri sqrt(1 + d Ri))`` with the bulk Richardson number
    ``Ri = g z (Ta - Ts) / (Ta u^2)`` and b = d = 5. ``u`` is at least 0.5 m/s.
    """
    u = max(wind_speed_m_s, 0.5)
    z0m = roughness_m
    z = max(reference_height_m, 10.0 * z0m + 1.0)
    ran = math.log(z / z0m) * math.log(z / (0.1 * z0m)) / (VON_KARMAN * VON_KARMAN * u)
    if surface_k > air_k:
        eta = 5.0 * GRAVITY_M_S2 * z * (surface_k - air_k) / (air_k * u * u)
        return ran / (1.0 + eta) ** 0.75
    ri = GRAVITY_M_S2 * z * (air_k - surface_k) / (air_k * u * u)
    return ran * (1.0 + 15.0 * ri * math.sqrt(1.0 + 5.0 * ri))


@numba.njit(parallel=True, cache=True, fastmath=False)
def surface_fluxes(surface_k, air_k, albedo, emissivity, sunlit, sky_view, roughness_m, et_kind,
                   surface_resistance_s_m, water_availability, *, direct_horizontal_w_m2, diffuse_w_m2,
                   sky_emissivity, vapour_pressure_pa, wind_speed_m_s, reference_height_m, air_density_kg_m3,
                   air_heat_capacity_j_kg_k, psychrometric_pa_k, out):
    """Fluxes and their slopes for every cell (see module docstring).

    Parameters
    ----------
    surface_k, air_k
        Surface and near-surface air temperature. [K], shape (n,)
    albedo, emissivity, sunlit, sky_view
        Shortwave albedo, longwave emissivity, sunlit fraction of the direct beam and
        sky view factor. [-], shape (n,)
    roughness_m
        Momentum roughness length. [m], shape (n,)
    et_kind
        Evaporation kind code (``ET_*``). [-], int8 shape (n,)
    surface_resistance_s_m
        Surface (stomatal / soil) resistance to vapour transfer. [s m-1], shape (n,)
    water_availability
        Share of the potential latent flux that water supply allows (beta). [-], shape (n,)
    direct_horizontal_w_m2, diffuse_w_m2
        Direct beam on a horizontal plane and diffuse sky irradiance. [W m-2]
    sky_emissivity
        Clear-sky emissivity for longwave from the sky. [-]
    vapour_pressure_pa
        Vapour pressure of the air. [Pa]
    wind_speed_m_s, reference_height_m
        Wind speed at the reference height above the surface. [m s-1], [m]
    air_density_kg_m3, air_heat_capacity_j_kg_k, psychrometric_pa_k
        rho, cp and the psychrometric constant gamma.
    out
        (6, n) float64: Rn, H, LE, dRn/dTs, dH/dTs, dLE/dTs. [W m-2], [W m-2 K-1]
    """
    n = surface_k.shape[0]
    sigma = STEFAN_BOLTZMANN_W_M2_K4
    rho_cp = air_density_kg_m3 * air_heat_capacity_j_kg_k
    for i in numba.prange(n):
        ts = surface_k[i]
        ta = air_k[i]
        eps = emissivity[i]
        svf = sky_view[i]
        k_down = direct_horizontal_w_m2 * sunlit[i] + diffuse_w_m2 * svf
        l_down = (svf * sky_emissivity + (1.0 - svf)) * sigma * ta ** 4
        rn = (1.0 - albedo[i]) * k_down + eps * (l_down - sigma * ts ** 4)
        drn = -4.0 * eps * sigma * ts ** 3
        ra = aerodynamic_resistance(ts, ta, roughness_m[i], wind_speed_m_s, reference_height_m)
        h = rho_cp * (ts - ta) / ra
        dh = rho_cp / ra
        le = 0.0
        dle = 0.0
        kind = et_kind[i]
        if kind != ET_NONE:
            beta = water_availability[i]
            if beta > 0.0:
                rs = surface_resistance_s_m[i]
                conductance = beta * rho_cp / psychrometric_pa_k / (ra + rs)
                deficit = saturation_vapour_pressure_pa(ts) - vapour_pressure_pa
                if deficit > 0.0:
                    le = conductance * deficit
                    dle = conductance * saturation_slope_pa_k(ts)
        out[0, i] = rn
        out[1, i] = h
        out[2, i] = le
        out[3, i] = drn
        out[4, i] = dh
        out[5, i] = dle
    return out


def surface_fluxes_numpy(surface_k, air_k, albedo, emissivity, sunlit, sky_view, roughness_m, et_kind,
                         surface_resistance_s_m, water_availability, *, direct_horizontal_w_m2, diffuse_w_m2,
                         sky_emissivity, vapour_pressure_pa, wind_speed_m_s, reference_height_m, air_density_kg_m3,
                         air_heat_capacity_j_kg_k, psychrometric_pa_k, out):
    """Plain-NumPy twin of :func:`surface_fluxes` (tests and benchmarks only)."""
    sigma = STEFAN_BOLTZMANN_W_M2_K4
    rho_cp = air_density_kg_m3 * air_heat_capacity_j_kg_k
    ts, ta = surface_k.astype(np.float64), air_k.astype(np.float64)
    k_down = direct_horizontal_w_m2 * sunlit + diffuse_w_m2 * sky_view
    l_down = (sky_view * sky_emissivity + (1.0 - sky_view)) * sigma * ta**4
    rn = (1.0 - albedo) * k_down + emissivity * (l_down - sigma * ts**4)
    drn = -4.0 * emissivity * sigma * ts**3
    u = max(wind_speed_m_s, 0.5)
    z = np.maximum(reference_height_m, 10.0 * roughness_m + 1.0)
    ran = np.log(z / roughness_m) * np.log(z / (0.1 * roughness_m)) / (VON_KARMAN**2 * u)
    eta = 5.0 * GRAVITY_M_S2 * z * (ts - ta) / (ta * u * u)
    ri = np.maximum(-eta / 5.0, 0.0)
    ra = np.where(ts > ta, ran / (1.0 + np.maximum(eta, 0.0)) ** 0.75, ran * (1.0 + 15.0 * ri * np.sqrt(1.0 + 5.0 * ri)))
    h = rho_cp * (ts - ta) / ra
    dh = rho_cp / ra
    t_c = ts - 273.15
    es = 610.8 * np.exp(17.27 * t_c / (t_c + 237.3))
    slope = 4098.0 * es / (t_c + 237.3) ** 2
    conductance = water_availability * rho_cp / psychrometric_pa_k / (ra + surface_resistance_s_m)
    deficit = es - vapour_pressure_pa
    active = (et_kind != ET_NONE) & (water_availability > 0) & (deficit > 0)
    le = np.where(active, conductance * deficit, 0.0)
    dle = np.where(active, conductance * slope, 0.0)
    out[:] = np.stack([rn, h, le, drn, dh, dle])
    return out

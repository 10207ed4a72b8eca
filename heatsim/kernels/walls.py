"""Building walls (facades): their area, sun and sky, and their surface energy balance.

Walls store heat by day and give it to the street air at night, a main cause of the
nocturnal urban heat island (Oke 1982; Oke et al. 2017, ch. 6). Roof cells of the
raster carry the roofs; this module adds their walls.

Geometry (one combined wall per building cell, a stated simplification)
-----------------------------------------------------------------------
Each building cell (``building_height_m > 0``) has up to four facades, facing north,
east, south and west (index ``k = 0..3``; row 0 is north, column 0 west; outward
normals at azimuth ``phi_k = 0, 90, 180, 270`` deg). The facade facing direction
``k`` is the part of the cell's side that rises above the neighbour in that
direction, so its area per unit plan area of the cell is

- ``A_k = max(H - H_k, 0) * dx / dx^2 = max(H - H_k, 0) / dx``  (:func:`facade_area_ratios`)

with ``H_k`` the neighbour's building height (0 outside the grid: exposed), and
``A = sum_k A_k``. The four facades of a cell share one wall column and one wall
temperature ``Tw`` (as the single wall of a canyon in TEB, Masson 2000); their sun
and sky are area-weighted over the facades:

- direct beam on the facades per unit plan area per unit direct-normal irradiance
  (:func:`wall_solar_weights`)::

      w = sum_k A_k * max(cos(e) cos(a - phi_k), 0) * sunlit_k     (0 when e <= 0)

  with the sun's elevation ``e`` and azimuth ``a`` and ``sunlit_k`` the sunlit
  fraction of the ground (or lower roof) cell in front of facade ``k``. This is an
  approximation: the street cell in front is taken to be as sunlit as the wall's
  lower part, while the real facade is lit more at its top (it sees over obstacles
  that shade the street);
- sky view factor of the facades::

      psi_w = sum_k A_k * 0.5 * svf_k / A

  with ``svf_k`` the sky view factor of the cell in front. A vertical wall sees at
  most half the sky (Johnson & Watson 1984; Oke 1987, ch. 8), and the ground in
  front sees about as much of the obstruction opposite. In an infinite canyon the
  exact wall view factor is ``psi_w = (1 + h - sqrt(1 + h^2)) / (2 h)``,
  ``h = H / W``; with the sky view factors of this package's raster
  (:mod:`heatsim.kernels.skyview`, 5 m cells, the street cell next to the wall)
  ``0.5 svf`` is 15-30 % below it for ``h = 0.5-2`` and about 30 % below the exact
  0.5 of an isolated building's facade (too little sky: nights slightly too warm).

Outside the grid, cells in front count as sunlit (1) and open to the sky (svf 1),
as the shadow and sky view kernels see no obstacle beyond the edge.

Energy balance per unit WALL area (:func:`wall_fluxes`; positive Rn into the wall,
positive H from the wall to the air)
-------------------------------------------------------------------------------
- ``K = dni * w / A + S_dif * psi_w`` (direct on the facades; isotropic diffuse sky).
  Shortwave reflected from the ground and the opposite walls is neglected.
- ``L_in = psi_w * eps_sky * sigma * Ta^4 + (1 - psi_w) * sigma * Ta^4`` (sky, and the
  street and opposite walls at air temperature with emissivity 1, as
  :mod:`heatsim.kernels.surface_energy` takes the walls for the ground)
- ``Rn = (1 - albedo) K + eps (L_in - sigma Tw^4)``, ``dRn/dTw = -4 eps sigma Tw^3``
- ``H = h_c (Tw - Ta)``, ``dH/dTw = h_c``, ``h_c = 5.7 + 3.8 u`` (McAdams 1954; see
  :data:`CONVECTION_STILL_W_M2_K`), ``u`` the wind in the canopy layer
- no latent heat (dry walls).

The caller steps the wall columns (layers :data:`WALL_LAYERS_M`, outer face first,
the indoor air temperature as the fixed temperature at the inner face) with
:func:`heatsim.kernels.conduction.conduct_columns`, flux ``Rn - H`` and slope
``dRn - dH`` per unit wall area, reports ``Rn`` and ``H`` at the new state with their
linearisation (so ``Rn - H = dS/dt + inner-face flux`` closes to round-off), and
multiplies every per-wall-area term by ``A`` for the per-plan-area ledger and the
air.

References
----------
Oke, T.R. (1982). The energetic basis of the urban heat island. Q. J. R. Meteorol.
Soc. 108, 1-24.
Oke, T.R. (1987). Boundary Layer Climates, 2nd ed. Methuen, London.
Oke, T.R., Mills, G., Christen, A., Voogt, J.A. (2017). Urban Climates. Cambridge
University Press.
Johnson, G.T., Watson, I.D. (1984). The determination of view-factors in urban
canyons. J. Climate Appl. Meteorol. 23, 329-335.
Masson, V. (2000). A physically-based scheme for the urban energy budget in
atmospheric models. Boundary-Layer Meteorol. 94, 357-397.
McAdams, W.H. (1954). Heat Transmission, 3rd ed. McGraw-Hill, New York.
Palyvos, J.A. (2008). A survey of wind convection coefficient correlations for
building envelope energy systems' modeling. Appl. Therm. Eng. 28, 801-808.
Watmuff, J.H., Charters, W.W.S., Proctor, D. (1977). Solar and wind induced external
coefficients for solar collectors. COMPLES 2, 56.
EN ISO 6946:2017. Building components and building elements - Thermal resistance
and thermal transmittance - Calculation methods.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from heatsim.kernels.surface_energy import STEFAN_BOLTZMANN_W_M2_K4

__all__ = [
    "facade_area_ratios",
    "facade_area_ratios_numpy",
    "wall_solar_weights",
    "wall_solar_weights_numpy",
    "wall_fluxes",
    "wall_fluxes_numpy",
]

# --- wall material: solid brick, the common wall of older Flemish houses --------------
WALL_HEAT_CAPACITY_J_M3_K = 1.37e6
"""Brick, rho 1970 kg m-3 x c 750 J kg-1 K-1 (Oke 1987, appendix table of the
thermal properties of materials, 'brick'; the table number, A3.1, is as cited in the
brief and not checked here)."""
WALL_CONDUCTIVITY_W_M_K = 0.83
"""Brick (Oke 1987, same table). Daily damping depth sqrt(2 k / (C omega)) = 0.13 m."""
WALL_ALBEDO = 0.30
"""Middle of the 0.20-0.40 given for brick (Oke 1987, table of radiative properties
of urban materials; Oke et al. 2017, ch. 5). Red-brown Flemish brick may lie in the
lower half; a calibration candidate."""
WALL_EMISSIVITY = 0.90
"""Brick 0.90-0.92 (same tables); the lower end."""
WALL_LAYERS_M = (0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.08)
"""Layer thicknesses of the wall column from the outer face inwards, 0.30 m in all
[m]: a solid (one-and-a-half brick) wall, 2.3 daily damping depths of brick. Newer
cavity walls (a ~0.09 m outer leaf in front of insulation) store less heat that the
street sees; not represented. The first layer resolves the surface temperature."""
INDOOR_SURFACE_RESISTANCE_M2_K_W = 0.13
"""Inner surface (film) resistance for horizontal heat flow, EN ISO 6946:2017
Table 7. ``conduct_columns`` holds the fixed temperature at the inner face itself,
so putting the indoor air temperature there neglects it (the wall's own resistance
is 0.30 / 0.83 = 0.36 m2 K W-1). To include it, append a light layer of thickness
``dz`` with conductivity ``dz / 0.13`` (a modelling choice left to the caller)."""

# --- convection from the facade to the canopy air -------------------------------------
CONVECTION_STILL_W_M2_K = 5.7
"""``h_c = 5.7 + 3.8 u`` [W m-2 K-1], u [m s-1] (McAdams 1954, from Juerges' 1924
plate measurements; reviewed by Palyvos 2008). Uncertain by about a factor of 2:
the Juerges data probably include radiative exchange, which is modelled here
explicitly, and without it Watmuff et al. (1977) give ``2.8 + 3.0 u``; TEB (Masson
2000) uses the larger ``11.8 + 4.2 u`` (Rowley et al. 1930) for walls and roads.
A calibration candidate."""
CONVECTION_WIND_J_M3_K = 3.8
"""Wind term of ``h_c`` [W m-2 K-1 per m s-1] (see :data:`CONVECTION_STILL_W_M2_K`)."""

#: facade outward-normal azimuths, clockwise from north [deg]; index k of the (4, ...) arrays
FACADE_AZIMUTHS_DEG = (0.0, 90.0, 180.0, 270.0)
#: (row, column) step to the neighbour in front of facade k (row 0 north, column 0 west)
FACADE_NEIGHBOUR_OFFSETS = ((-1, 0), (0, 1), (1, 0), (0, -1))


@numba.njit(cache=True, fastmath=False)
def _facade_incidence(sun_azimuth_deg, sun_elevation_deg):
    """``max(cos(e) cos(a - phi_k), 0)`` for the facades k = N, E, S, W (``phi_k`` = 0, 90, 180,
    270 deg: cos a, sin a, -cos a, -sin a); all 0 when the sun is at or below the horizon. [-]"""
    if sun_elevation_deg > 0.0:
        a = math.radians(sun_azimuth_deg)
        cos_e = math.cos(math.radians(sun_elevation_deg))
        return (max(cos_e * math.cos(a), 0.0), max(cos_e * math.sin(a), 0.0), max(-cos_e * math.cos(a), 0.0),
                max(-cos_e * math.sin(a), 0.0))
    return (0.0, 0.0, 0.0, 0.0)


@numba.njit(parallel=True, cache=True, fastmath=False)
def facade_area_ratios(building_height_m, *, cell_size_m, out):
    """Facade area facing N, E, S, W per unit plan area of each building cell.

    Parameters
    ----------
    building_height_m : (ny, nx) float array
        Building height above the ground [m]; ``> 0`` marks a building cell. Row 0
        is north, column 0 west.
    cell_size_m : float
        Grid spacing, the same along x and y [m].
    out : (4, ny, nx) float64 array
        Filled and returned: ``out[k, i, j] = max(H[i, j] - H_k, 0) / cell_size_m``
        for building cells, ``k`` = 0 north, 1 east, 2 south, 3 west, ``H_k`` the
        neighbour's height in that direction (0 outside the grid); 0 elsewhere. [-]

    Notes
    -----
    Building heights, not terrain-plus-building surfaces: on sloping ground the
    step of the terrain between neighbours is ignored (a few cm per cell in the
    town). ``sum_k out[k] * cell_size_m**2`` summed over a building is its exposed
    wall area (an isolated box: perimeter x height).
    """
    ny, nx = building_height_m.shape
    inv = 1.0 / cell_size_m
    for i in numba.prange(ny):
        for j in range(nx):
            h = building_height_m[i, j]
            if h > 0.0:
                hn = building_height_m[i - 1, j] if i > 0 else 0.0
                he = building_height_m[i, j + 1] if j < nx - 1 else 0.0
                hs = building_height_m[i + 1, j] if i < ny - 1 else 0.0
                hw = building_height_m[i, j - 1] if j > 0 else 0.0
                out[0, i, j] = max(h - hn, 0.0) * inv
                out[1, i, j] = max(h - he, 0.0) * inv
                out[2, i, j] = max(h - hs, 0.0) * inv
                out[3, i, j] = max(h - hw, 0.0) * inv
            else:
                out[0, i, j] = 0.0
                out[1, i, j] = 0.0
                out[2, i, j] = 0.0
                out[3, i, j] = 0.0
    return out


def facade_area_ratios_numpy(building_height_m, *, cell_size_m, out):
    """Plain-NumPy twin of :func:`facade_area_ratios` (tests and benchmarks only)."""
    h = np.asarray(building_height_m, dtype=np.float64)
    padded = np.pad(h, 1, mode="constant", constant_values=0.0)
    ny, nx = h.shape
    inv = 1.0 / cell_size_m
    for k, (dr, dc) in enumerate(FACADE_NEIGHBOUR_OFFSETS):
        neighbour = padded[1 + dr: 1 + dr + ny, 1 + dc: 1 + dc + nx]
        out[k] = np.where(h > 0.0, np.maximum(h - neighbour, 0.0) * inv, 0.0)
    return out


@numba.njit(parallel=True, cache=True, fastmath=False)
def wall_solar_weights(facade_ratios, sunlit, sky_view, *, sun_azimuth_deg, sun_elevation_deg, out):
    """Direct beam on each cell's facades, their total area and their sky view.

    Parameters
    ----------
    facade_ratios : (4, ny, nx) float array
        Facade area per plan area facing N, E, S, W (:func:`facade_area_ratios`). [-]
    sunlit : (ny, nx) float array
        Sunlit fraction of the direct beam of every cell
        (:func:`heatsim.kernels.shadows.sunlit_fraction`). [0-1]
    sky_view : (ny, nx) float array
        Sky view factor of every cell's horizontal surface
        (:func:`heatsim.kernels.skyview.sky_view_factor`). [0-1]
    sun_azimuth_deg : float
        Solar azimuth, clockwise from north [deg].
    sun_elevation_deg : float
        Solar elevation [deg]; at or below 0 the direct weight is 0.
    out : (3, ny, nx) float64 array
        Filled and returned:

        - ``out[0]``: ``w = sum_k A_k max(cos(e) cos(a - phi_k), 0) sunlit_k``, the
          direct beam received by the facades per unit plan area per unit
          direct-normal irradiance [-];
        - ``out[1]``: ``A = sum_k A_k``, the facade area per plan area [-];
        - ``out[2]``: ``psi_w = sum_k A_k 0.5 svf_k / A``, the facades' sky view
          factor (0 where ``A = 0``) [-];

        with ``sunlit_k``, ``svf_k`` those of the cell in front of facade ``k``
        (1 outside the grid). See the module docstring for the approximations.

    Notes
    -----
    ``out[1]`` and ``out[2]`` do not depend on the sun; a caller may compute them
    once (any sun position) and ``out[0]`` every step.
    """
    ny, nx = sunlit.shape
    c0, c1, c2, c3 = _facade_incidence(sun_azimuth_deg, sun_elevation_deg)
    for i in numba.prange(ny):
        for j in range(nx):
            an = facade_ratios[0, i, j]
            ae = facade_ratios[1, i, j]
            as_ = facade_ratios[2, i, j]
            aw = facade_ratios[3, i, j]
            lit_n = sunlit[i - 1, j] if i > 0 else 1.0
            lit_e = sunlit[i, j + 1] if j < nx - 1 else 1.0
            lit_s = sunlit[i + 1, j] if i < ny - 1 else 1.0
            lit_w = sunlit[i, j - 1] if j > 0 else 1.0
            svf_n = sky_view[i - 1, j] if i > 0 else 1.0
            svf_e = sky_view[i, j + 1] if j < nx - 1 else 1.0
            svf_s = sky_view[i + 1, j] if i < ny - 1 else 1.0
            svf_w = sky_view[i, j - 1] if j > 0 else 1.0
            total = an + ae + as_ + aw
            out[0, i, j] = an * c0 * lit_n + ae * c1 * lit_e + as_ * c2 * lit_s + aw * c3 * lit_w
            out[1, i, j] = total
            if total > 0.0:
                out[2, i, j] = 0.5 * (an * svf_n + ae * svf_e + as_ * svf_s + aw * svf_w) / total
            else:
                out[2, i, j] = 0.0
    return out


def wall_solar_weights_numpy(facade_ratios, sunlit, sky_view, *, sun_azimuth_deg, sun_elevation_deg, out):
    """Plain-NumPy twin of :func:`wall_solar_weights` (tests and benchmarks only)."""
    ratios = np.asarray(facade_ratios, dtype=np.float64)
    ny, nx = ratios.shape[1:]
    lit = np.pad(np.asarray(sunlit, dtype=np.float64), 1, mode="constant", constant_values=1.0)
    svf = np.pad(np.asarray(sky_view, dtype=np.float64), 1, mode="constant", constant_values=1.0)
    incidence = _facade_incidence.py_func(sun_azimuth_deg, sun_elevation_deg)
    front_lit = [lit[1 + dr: 1 + dr + ny, 1 + dc: 1 + dc + nx] for dr, dc in FACADE_NEIGHBOUR_OFFSETS]
    front_svf = [svf[1 + dr: 1 + dr + ny, 1 + dc: 1 + dc + nx] for dr, dc in FACADE_NEIGHBOUR_OFFSETS]
    direct = sum(ratios[k] * incidence[k] * front_lit[k] for k in range(4))
    total = ratios[0] + ratios[1] + ratios[2] + ratios[3]
    seen = ratios[0] * front_svf[0] + ratios[1] * front_svf[1] + ratios[2] * front_svf[2] + ratios[3] * front_svf[3]
    out[0] = direct
    out[1] = total
    out[2] = np.where(total > 0.0, 0.5 * seen / np.where(total > 0.0, total, 1.0), 0.0)
    return out



def facade_front_cells(cells, shape) -> np.ndarray:
    """Flat index of the cell in front of each facade of ``cells`` (flat indices into a
    grid of ``shape``), -1 where that is outside the grid. (4, n) int64, rows k = N, E, S, W."""
    ny, nx = shape
    rows, cols = np.divmod(np.asarray(cells, dtype=np.int64), nx)
    out = np.empty((4, rows.size), dtype=np.int64)
    for k, (dr, dc) in enumerate(FACADE_NEIGHBOUR_OFFSETS):
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
        out[k] = np.where(inside, r * nx + c, -1)
    return out


@numba.njit(parallel=True, cache=True, fastmath=False)
def wall_direct_weight_cells(facade_ratios, front_cells, sunlit_flat, *, sun_azimuth_deg, sun_elevation_deg, out):
    """Row 0 of :func:`wall_solar_weights` for a list of cells only (the walls of a large grid,
    without the grid-sized arrays): the direct beam on each cell's facades per unit plan area
    per unit direct-normal irradiance. [-]

    ``facade_ratios`` (4, n): ``A_k`` of the cells; ``front_cells`` (4, n): flat index of the
    cell in front of each facade, -1 outside the grid (sunlit 1 there), from
    :func:`facade_front_cells`; ``sunlit_flat`` the grid's sunlit fractions, raveled. Same
    arithmetic in the same order as :func:`wall_solar_weights` (checked against it in the tests;
    twin: :func:`wall_direct_weight_cells_numpy`).
    """
    n = facade_ratios.shape[1]
    c0, c1, c2, c3 = _facade_incidence(sun_azimuth_deg, sun_elevation_deg)
    for i in numba.prange(n):
        lit_n = sunlit_flat[front_cells[0, i]] if front_cells[0, i] >= 0 else 1.0
        lit_e = sunlit_flat[front_cells[1, i]] if front_cells[1, i] >= 0 else 1.0
        lit_s = sunlit_flat[front_cells[2, i]] if front_cells[2, i] >= 0 else 1.0
        lit_w = sunlit_flat[front_cells[3, i]] if front_cells[3, i] >= 0 else 1.0
        out[i] = (facade_ratios[0, i] * c0 * lit_n + facade_ratios[1, i] * c1 * lit_e
                  + facade_ratios[2, i] * c2 * lit_s + facade_ratios[3, i] * c3 * lit_w)
    return out


def wall_direct_weight_cells_numpy(facade_ratios, front_cells, sunlit_flat, *, sun_azimuth_deg, sun_elevation_deg,
                                   out):
    """Plain-NumPy twin of :func:`wall_direct_weight_cells` (tests and benchmarks only)."""
    incidence = _facade_incidence.py_func(sun_azimuth_deg, sun_elevation_deg)
    lit = np.where(front_cells >= 0, np.asarray(sunlit_flat, dtype=np.float64)[np.maximum(front_cells, 0)], 1.0)
    out[:] = sum(facade_ratios[k] * incidence[k] * lit[k] for k in range(4))
    return out

@numba.njit(parallel=True, cache=True, fastmath=False)
def wall_fluxes(wall_k, air_k, facade_ratio, direct_weight, wall_sky_view, *, albedo, emissivity, dni_w_m2,
                diffuse_w_m2, sky_emissivity, wind_speed_m_s, out):
    """Net radiation and sensible heat of the wall of each cell, per unit WALL area,
    with their slopes (see module docstring).

    Parameters
    ----------
    wall_k, air_k
        Wall surface (outer layer) and canopy air temperature. [K], shape (n,)
    facade_ratio, direct_weight, wall_sky_view
        ``A``, ``w`` and ``psi_w`` of each cell (rows 1, 0, 2 of
        :func:`wall_solar_weights`, flattened). [-], shape (n,)
    albedo, emissivity
        Shortwave albedo and longwave emissivity of the walls (e.g.
        :data:`WALL_ALBEDO`, :data:`WALL_EMISSIVITY`). [-]
    dni_w_m2, diffuse_w_m2
        Direct-normal irradiance and diffuse sky irradiance on a horizontal plane.
        [W m-2]
    sky_emissivity
        Clear-sky emissivity for longwave from the sky. [-]
    wind_speed_m_s
        Wind speed in the canopy layer (the caller's choice). [m s-1]
    out
        (4, n) float64: Rn, H, dRn/dTw, dH/dTw per unit wall area. [W m-2],
        [W m-2 K-1]. All 0 where ``facade_ratio <= 0`` (no wall).
    """
    n = wall_k.shape[0]
    sigma = STEFAN_BOLTZMANN_W_M2_K4
    h_c = CONVECTION_STILL_W_M2_K + CONVECTION_WIND_J_M3_K * wind_speed_m_s
    for i in numba.prange(n):
        area = facade_ratio[i]
        if area > 0.0:
            tw = wall_k[i]
            ta = air_k[i]
            psi = wall_sky_view[i]
            k_in = dni_w_m2 * direct_weight[i] / area + diffuse_w_m2 * psi
            l_in = (psi * sky_emissivity + (1.0 - psi)) * sigma * ta ** 4
            out[0, i] = (1.0 - albedo) * k_in + emissivity * (l_in - sigma * tw ** 4)
            out[1, i] = h_c * (tw - ta)
            out[2, i] = -4.0 * emissivity * sigma * tw ** 3
            out[3, i] = h_c
        else:
            out[0, i] = 0.0
            out[1, i] = 0.0
            out[2, i] = 0.0
            out[3, i] = 0.0
    return out


def wall_fluxes_numpy(wall_k, air_k, facade_ratio, direct_weight, wall_sky_view, *, albedo, emissivity, dni_w_m2,
                      diffuse_w_m2, sky_emissivity, wind_speed_m_s, out):
    """Plain-NumPy twin of :func:`wall_fluxes` (tests and benchmarks only)."""
    sigma = STEFAN_BOLTZMANN_W_M2_K4
    tw, ta = np.asarray(wall_k, dtype=np.float64), np.asarray(air_k, dtype=np.float64)
    wall = facade_ratio > 0.0
    h_c = CONVECTION_STILL_W_M2_K + CONVECTION_WIND_J_M3_K * wind_speed_m_s
    k_in = dni_w_m2 * direct_weight / np.where(wall, facade_ratio, 1.0) + diffuse_w_m2 * wall_sky_view
    l_in = (wall_sky_view * sky_emissivity + (1.0 - wall_sky_view)) * sigma * ta**4
    rn = (1.0 - albedo) * k_in + emissivity * (l_in - sigma * tw**4)
    out[0] = np.where(wall, rn, 0.0)
    out[1] = np.where(wall, h_c * (tw - ta), 0.0)
    out[2] = np.where(wall, -4.0 * emissivity * sigma * tw**3, 0.0)
    out[3] = np.where(wall, h_c, 0.0)
    return out

"""Explicit step of near-surface air temperature on the 2-D grid.

A single well-mixed air layer of height ``h`` over each cell, warmed by the
sensible heat flux from the surface, carried by a uniform wind (first-order
upwind), mixed horizontally by an eddy diffusivity and relaxed towards the
rural reference temperature:

.. math::

    \\partial T_a / \\partial t = -u \\, \\partial T_a / \\partial x
        - v \\, \\partial T_a / \\partial y + K \\nabla^2 T_a
        + H / (\\rho c_p h) - (T_a - T_{ref}) / \\tau

Kernel :func:`air_temperature_step` with its NumPy twin
:func:`air_temperature_step_numpy`; :func:`air_temperature_max_dt_s` gives the
explicit stability limit the caller sub-steps by.
"""

from __future__ import annotations

import math
import types

import numba
import numpy as np

__all__ = ["air_temperature_step", "air_temperature_step_serial", "air_temperature_step_numpy",
           "air_temperature_max_dt_s"]


def air_temperature_max_dt_s(*, wind_u_m_s, wind_v_m_s, cell_size_m, diffusivity_m2_s, relaxation_time_s):
    """Largest stable (and monotone) time step [s] of :func:`air_temperature_step`:

    ``1 / (|u|/dx + |v|/dx + 4 K/dx**2 + 1/tau)``

    At this step the coefficient of the cell's own old temperature in the update
    is zero and all others are non-negative, so the new value is a convex
    combination of old values, the reference and the source (discrete maximum
    principle); any smaller step keeps this. ``math.inf`` when nothing limits
    the step (no wind, no diffusion, ``tau = inf``).
    """
    dx = cell_size_m
    rate = (abs(wind_u_m_s) + abs(wind_v_m_s)) / dx + 4.0 * diffusivity_m2_s / dx**2 + 1.0 / relaxation_time_s
    return math.inf if rate == 0.0 else 1.0 / rate


@numba.njit(parallel=True, fastmath=False, cache=True)
def air_temperature_step(
    air_k,
    sensible_flux_w_m2,
    reference_k,
    *,
    wind_u_m_s,
    wind_v_m_s,
    cell_size_m,
    mixing_height_m,
    diffusivity_m2_s,
    relaxation_time_s,
    air_density_kg_m3,
    air_heat_capacity_j_kg_k,
    dt_s,
    out,
):
    """One explicit (forward Euler) step of near-surface air temperature.

    Parameters
    ----------
    air_k : ndarray, float64, (ny, nx)
        Air temperature ``T_a`` [K]; row 0 is the northern edge, column 0 the
        western edge.
    sensible_flux_w_m2 : ndarray, float64, (ny, nx)
        Sensible heat flux ``H`` from the surface into the air [W m-2].
    reference_k : float
        Rural reference temperature ``T_ref`` [K]: the relaxation target and the
        temperature of air entering through inflow boundaries.
    wind_u_m_s, wind_v_m_s : float
        Uniform wind [m s-1]: ``u`` towards the east (+column), ``v`` towards the
        north (-row).
    cell_size_m : float
        Grid spacing ``dx = dy`` [m].
    mixing_height_m : float
        Height ``h`` of the mixed air layer [m].
    diffusivity_m2_s : float
        Horizontal eddy diffusivity ``K`` [m2 s-1].
    relaxation_time_s : float
        Relaxation time ``tau`` towards ``T_ref`` [s]; ``math.inf`` switches it off.
    air_density_kg_m3, air_heat_capacity_j_kg_k : float
        ``rho`` [kg m-3] and ``c_p`` [J kg-1 K-1] of air.
    dt_s : float
        Time step [s]. Not checked: it must not exceed
        :func:`air_temperature_max_dt_s`; the caller sub-steps.
    out : ndarray, float64, (ny, nx)
        Receives the new air temperature [K]; must not share memory with
        ``air_k`` (neighbours are read while writing). Returned.

    Returns
    -------
    out : ndarray
        The array passed as ``out``.

    Notes
    -----
    With ``T = T_a`` at the cell centres and the compass neighbours
    ``T_W, T_E, T_N, T_S``, the update is

    ``T^new = T + dt [ -u D_x T - v D_y T + K (T_W + T_E + T_N + T_S - 4 T) / dx**2
    + H / (rho c_p h) - (T - T_ref) / tau ]``

    with first-order upwind differences (LeVeque 2002, ch. 4):
    ``D_x T = (T - T_W)/dx`` if ``u > 0`` else ``(T_E - T)/dx``, and, ``y``
    pointing north, ``D_y T = (T - T_S)/dx`` if ``v > 0`` else ``(T_N - T)/dx``.
    It is implemented in the equivalent form
    ``T^new = T + dt [ a_W (T_W - T) + a_E (T_E - T) + a_N (T_N - T) + a_S (T_S - T) ] + ...``
    with ``a_W = K/dx**2 + max(u, 0)/dx``, ``a_E = K/dx**2 + max(-u, 0)/dx``,
    ``a_S = K/dx**2 + max(v, 0)/dx``, ``a_N = K/dx**2 + max(-v, 0)/dx``.

    Boundaries, through ghost cells outside the grid: an inflow boundary (the
    western edge if ``u > 0``, the eastern if ``u < 0``, the southern if
    ``v > 0``, the northern if ``v < 0``) has ghost cells at ``T_ref``; every
    other edge (outflow, or no normal wind) is zero-gradient (ghost = edge
    cell), i.e. no diffusive flux crosses it. Without wind the domain is thus
    closed and the step conserves ``sum rho c_p h T dx**2`` apart from the source
    and the relaxation.

    Stability: the scheme is monotone, hence stable in the maximum norm, for
    ``dt (|u|/dx + |v|/dx + 4 K/dx**2 + 1/tau) <= 1`` (the CFL condition of upwind
    advection, the explicit diffusion limit and the relaxation limit together;
    LeVeque 2002, ch. 4 and 8); see :func:`air_temperature_max_dt_s`.

    References
    ----------
    LeVeque, R. J. (2002). *Finite Volume Methods for Hyperbolic Problems*.
    Cambridge University Press.
    Oke, T. R., Mills, G., Christen, A., & Voogt, J. A. (2017). *Urban Climates*.
    Cambridge University Press. (The mixed-layer heat budget.)
    """
    ny, nx = air_k.shape
    dx = cell_size_m
    k_dx2 = diffusivity_m2_s / (dx * dx)
    a_w = dt_s * (k_dx2 + max(wind_u_m_s, 0.0) / dx)
    a_e = dt_s * (k_dx2 + max(-wind_u_m_s, 0.0) / dx)
    a_s = dt_s * (k_dx2 + max(wind_v_m_s, 0.0) / dx)
    a_n = dt_s * (k_dx2 + max(-wind_v_m_s, 0.0) / dx)
    west_in = wind_u_m_s > 0.0
    east_in = wind_u_m_s < 0.0
    south_in = wind_v_m_s > 0.0
    north_in = wind_v_m_s < 0.0
    heating = dt_s / (air_density_kg_m3 * air_heat_capacity_j_kg_k * mixing_height_m)
    relax = dt_s / relaxation_time_s
    last_row = ny - 1
    last_col = nx - 1
    for i in numba.prange(ny):
        for j in range(nx):
            t = air_k[i, j]
            if i > 0:
                t_n = air_k[i - 1, j]
            elif north_in:
                t_n = reference_k
            else:
                t_n = t
            if i < last_row:
                t_s = air_k[i + 1, j]
            elif south_in:
                t_s = reference_k
            else:
                t_s = t
            if j > 0:
                t_w = air_k[i, j - 1]
            elif west_in:
                t_w = reference_k
            else:
                t_w = t
            if j < last_col:
                t_e = air_k[i, j + 1]
            elif east_in:
                t_e = reference_k
            else:
                t_e = t
            out[i, j] = (
                t
                + a_w * (t_w - t)
                + a_e * (t_e - t)
                + a_n * (t_n - t)
                + a_s * (t_s - t)
                + heating * sensible_flux_w_m2[i, j]
                - relax * (t - reference_k)
            )
    return out


def _renamed(func, name: str):
    """A copy of a Python function under another name. numba's on-disk cache keys compiled
    code by the function's qualified name and source position, not by the ``parallel``
    option: compiled from the same function, the serial twin would load the parallel one."""
    clone = types.FunctionType(func.__code__, func.__globals__, name, func.__defaults__, func.__closure__)
    clone.__kwdefaults__ = func.__kwdefaults__
    clone.__qualname__ = name
    clone.__doc__ = func.__doc__
    return clone


air_temperature_step_serial = numba.njit(parallel=False, fastmath=False, cache=True)(
    _renamed(air_temperature_step.py_func, "air_temperature_step_serial"))
"""The same step on one thread, for the small air grid (tens of thousands of cells) that
is stepped tens of times per model step: there, waking the thread pool costs more than
the work, and much more on a loaded machine."""


def air_temperature_step_numpy(
    air_k,
    sensible_flux_w_m2,
    reference_k,
    *,
    wind_u_m_s,
    wind_v_m_s,
    cell_size_m,
    mixing_height_m,
    diffusivity_m2_s,
    relaxation_time_s,
    air_density_kg_m3,
    air_heat_capacity_j_kg_k,
    dt_s,
    out,
):
    """Plain-NumPy twin of :func:`air_temperature_step`: ghost cells by ``np.pad``,
    upwind differences and the 5-point Laplacian written out."""
    dx = cell_size_m
    g = np.pad(np.asarray(air_k, dtype=float), 1, mode="edge")  # zero-gradient ghosts
    if wind_u_m_s > 0:
        g[:, 0] = reference_k  # western inflow
    if wind_u_m_s < 0:
        g[:, -1] = reference_k  # eastern inflow
    if wind_v_m_s > 0:
        g[-1, :] = reference_k  # southern inflow (last row is south)
    if wind_v_m_s < 0:
        g[0, :] = reference_k  # northern inflow
    t = g[1:-1, 1:-1]
    t_n, t_s = g[:-2, 1:-1], g[2:, 1:-1]
    t_w, t_e = g[1:-1, :-2], g[1:-1, 2:]
    dtdx = (t - t_w) / dx if wind_u_m_s > 0 else (t_e - t) / dx
    dtdy = (t - t_s) / dx if wind_v_m_s > 0 else (t_n - t) / dx  # y points north
    laplacian = (t_n + t_s + t_w + t_e - 4.0 * t) / dx**2
    tendency = (
        -wind_u_m_s * dtdx
        - wind_v_m_s * dtdy
        + diffusivity_m2_s * laplacian
        + sensible_flux_w_m2 / (air_density_kg_m3 * air_heat_capacity_j_kg_k * mixing_height_m)
        - (t - reference_k) / relaxation_time_s
    )
    out[...] = t + dt_s * tendency
    return out

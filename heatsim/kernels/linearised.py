"""Glue between the linearised surface fluxes and the implicit column step, fused so that a
model step passes over the per-cell arrays once instead of once per NumPy operation.

:func:`net_surface_flux` forms the flux into the column ``F = Rn - H - LE`` and its slope
``dF/dTs`` from the six rows of :func:`heatsim.kernels.surface_energy.surface_fluxes`;
:func:`fluxes_at_new_state` evaluates Rn, H and LE at the new surface temperature with
their linearisation (so that ``Rn - H - LE`` equals the flux the column received, and the
energy ledger closes to round-off). Each has a plain-NumPy twin.
"""

from __future__ import annotations

import numba


@numba.njit(parallel=True, cache=True, fastmath=False)
def net_surface_flux(fluxes, flux_w_m2, slope_w_m2_k):
    """``F = Rn - H - LE`` [W m-2] and ``dF/dTs = dRn - dH - dLE`` [W m-2 K-1] per cell.

    fluxes: (6, n) rows Rn, H, LE, dRn, dH, dLE; flux_w_m2, slope_w_m2_k: (n,) outputs.
    """
    for i in numba.prange(fluxes.shape[1]):
        flux_w_m2[i] = fluxes[0, i] - fluxes[1, i] - fluxes[2, i]
        slope_w_m2_k[i] = fluxes[3, i] - fluxes[4, i] - fluxes[5, i]


def net_surface_flux_numpy(fluxes, flux_w_m2, slope_w_m2_k):
    """Plain-NumPy twin of :func:`net_surface_flux`."""
    flux_w_m2[:] = fluxes[0] - fluxes[1] - fluxes[2]
    slope_w_m2_k[:] = fluxes[3] - fluxes[4] - fluxes[5]


@numba.njit(parallel=True, cache=True, fastmath=False)
def fluxes_at_new_state(fluxes, old_surface_k, temperature_k, out):
    """Rn, H, LE [W m-2] at the new surface temperature ``temperature_k[:, 0]``, linearised
    around ``old_surface_k`` [K]: ``X + dX/dTs (Ts_new - Ts_old)``. out: (>=3, n), rows 0-2."""
    for i in numba.prange(fluxes.shape[1]):
        d = temperature_k[i, 0] - old_surface_k[i]
        out[0, i] = fluxes[0, i] + fluxes[3, i] * d
        out[1, i] = fluxes[1, i] + fluxes[4, i] * d
        out[2, i] = fluxes[2, i] + fluxes[5, i] * d


def fluxes_at_new_state_numpy(fluxes, old_surface_k, temperature_k, out):
    """Plain-NumPy twin of :func:`fluxes_at_new_state`."""
    d = temperature_k[:, 0] - old_surface_k
    out[:3] = fluxes[:3] + fluxes[3:6] * d[None, :]

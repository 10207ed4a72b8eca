"""Water available for evaporation and its draw-down, per cell.

Root-zone (or substrate, or top-soil) water ``W`` limits transpiration and soil
evaporation through the FAO-56 water-stress coefficient ``Ks = W / ((1 - p) TAW)``,
capped at 1 (Allen et al. 1998, FAO-56 eq. 84, with the depletion fraction ``p``);
sealed surfaces evaporate only ponded water; open water is never limited. The
latent heat flux of a step removes ``LE dt / lambda`` kg m-2 (= mm) of water.
"""

from __future__ import annotations

import numba
import numpy as np

from heatsim.kernels.surface_energy import ET_OPEN_WATER, ET_PONDED, ET_SOIL, ET_VEGETATION


@numba.njit(parallel=True, cache=True, fastmath=False)
def water_availability(et_kind, root_water_mm, total_available_water_mm, ponded_mm, *, depletion_fraction, out):
    """Share beta of the potential latent flux the water supply allows. [-], shape (n,)"""
    for i in numba.prange(et_kind.shape[0]):
        kind = et_kind[i]
        beta = 0.0
        if kind == ET_VEGETATION or kind == ET_SOIL:
            taw = total_available_water_mm[i]
            if taw > 0.0:
                beta = min(1.0, max(0.0, root_water_mm[i] / ((1.0 - depletion_fraction) * taw)))
        elif kind == ET_OPEN_WATER:
            beta = 1.0
        elif kind == ET_PONDED:
            beta = 1.0 if ponded_mm[i] > 0.0 else 0.0
        out[i] = beta
    return out


@numba.njit(parallel=True, cache=True, fastmath=False)
def draw_water(et_kind, latent_w_m2, root_water_mm, ponded_mm, *, dt_s, latent_heat_j_kg):
    """Remove the evaporated water from the stores, in place (never below 0). [mm]"""
    for i in numba.prange(et_kind.shape[0]):
        evaporated = max(latent_w_m2[i], 0.0) * dt_s / latent_heat_j_kg
        kind = et_kind[i]
        if kind == ET_VEGETATION or kind == ET_SOIL:
            root_water_mm[i] = max(root_water_mm[i] - evaporated, 0.0)
        elif kind == ET_PONDED:
            ponded_mm[i] = max(ponded_mm[i] - evaporated, 0.0)


def water_availability_numpy(et_kind, root_water_mm, total_available_water_mm, ponded_mm, *, depletion_fraction, out):
    """Plain-NumPy twin of :func:`water_availability`."""
    soil_like = (et_kind == ET_VEGETATION) | (et_kind == ET_SOIL)
    with np.errstate(divide="ignore", invalid="ignore"):
        ks = np.clip(root_water_mm / ((1.0 - depletion_fraction) * total_available_water_mm), 0.0, 1.0)
    out[:] = np.where(soil_like & (total_available_water_mm > 0), ks, 0.0)
    out[et_kind == ET_OPEN_WATER] = 1.0
    out[et_kind == ET_PONDED] = (ponded_mm[et_kind == ET_PONDED] > 0).astype(float)
    return out


def draw_water_numpy(et_kind, latent_w_m2, root_water_mm, ponded_mm, *, dt_s, latent_heat_j_kg):
    """Plain-NumPy twin of :func:`draw_water`."""
    evaporated = np.maximum(latent_w_m2, 0.0) * dt_s / latent_heat_j_kg
    soil_like = (et_kind == ET_VEGETATION) | (et_kind == ET_SOIL)
    root_water_mm[soil_like] = np.maximum(root_water_mm[soil_like] - evaporated[soil_like], 0.0)
    ponded = et_kind == ET_PONDED
    ponded_mm[ponded] = np.maximum(ponded_mm[ponded] - evaporated[ponded], 0.0)

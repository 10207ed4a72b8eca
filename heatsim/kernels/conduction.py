"""Implicit 1-D heat conduction in a column of layers per cell (roofs, walls, pavement, soil).

One backward-Euler time step of

.. math:: C \\, \\partial T / \\partial t = \\partial / \\partial z \\, (k \\, \\partial T / \\partial z)

in a column of ``n_layers`` finite volumes per cell (layer 0 at the surface), with a
linearised net heat flux into the top of layer 0 and a fixed temperature below the
last layer. The system is tridiagonal per cell and solved by the Thomas algorithm.

Kernels: :func:`conduct_columns` (the step), :func:`column_energy_j_m2` and
:func:`bottom_flux_w_m2` (for energy bookkeeping), and :func:`conduct_column_types`,
the same step for columns built from a few column types (one per land-cover class)
with the bookkeeping fused in, which moves a third of the bytes; each has a
plain-NumPy twin ``*_numpy`` used by the tests and benchmarks.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.linalg

__all__ = [
    "conduct_columns",
    "conduct_columns_numpy",
    "column_energy_j_m2",
    "column_energy_j_m2_numpy",
    "bottom_flux_w_m2",
    "bottom_flux_w_m2_numpy",
    "conduct_column_types",
    "conduct_column_types_numpy",
]


@numba.njit(parallel=True, fastmath=False, cache=True)
def conduct_columns(
    temperature_k,
    heat_capacity_j_m3_k,
    conductivity_w_m_k,
    thickness_m,
    surface_flux_w_m2,
    surface_flux_slope_w_m2_k,
    bottom_temperature_k,
    *,
    dt_s,
    scratch,
    out,
):
    """One backward-Euler step of layered 1-D heat conduction, every cell a column.

    Parameters
    ----------
    temperature_k : ndarray, float64, (n_cells, n_layers), C-contiguous
        Old node temperatures [K] at the layer centres; layer 0 is at the surface and
        may be very thin (0.5-1 cm), its temperature being "the surface temperature".
    heat_capacity_j_m3_k : ndarray, float64, (n_cells, n_layers)
        Volumetric heat capacity ``C_i`` of each layer [J m-3 K-1], > 0.
    conductivity_w_m_k : ndarray, float64, (n_cells, n_layers)
        Thermal conductivity ``k_i`` of each layer [W m-1 K-1], > 0.
    thickness_m : ndarray, float64, (n_cells, n_layers)
        Layer thickness ``dz_i`` [m], > 0.
    surface_flux_w_m2 : ndarray, float64, (n_cells,)
        Net heat flux into the top of layer 0 at the old state, ``F0`` [W m-2]
        (positive downward, into the column).
    surface_flux_slope_w_m2_k : ndarray, float64, (n_cells,)
        ``S = dF/dT0`` [W m-2 K-1], usually negative (emission, convection). The flux
        used in the step is ``F(T0_new) = F0 + S (T0_new - T0_old)``. ``S <= 0``
        keeps the matrix diagonally dominant (the Thomas algorithm then needs no
        pivoting); a positive ``S`` is accepted only while ``S < C_0 dz_0 / dt_s``.
    bottom_temperature_k : ndarray, float64, (n_cells,)
        Fixed temperature ``T_b`` [K] at the bottom face of the last layer.
    dt_s : float
        Time step [s], > 0. Any size is stable (see Notes).
    scratch : ndarray, float64, (n_cells, 2 * n_layers)
        Work space for the Thomas sweeps: ``[:, :n_layers]`` holds ``c'``,
        ``[:, n_layers:]`` holds ``d'``. Contents on return are meaningless.
    out : ndarray, float64, (n_cells, n_layers)
        Receives the new temperatures [K]. ``out`` may be the very same array as
        ``temperature_k`` (an in-place update: per cell, every old temperature is
        read in the forward sweep before the back substitution writes any new one);
        it must not be a different, overlapping view of it. It must not share
        memory with ``scratch``. After an in-place step keep ``T0_old`` yourself if
        you need ``F(T0_new)``.

    Returns
    -------
    out : ndarray
        The array passed as ``out``.

    Notes
    -----
    Finite volumes (Patankar 1980, ch. 3-4) with nodes at the layer centres. With
    ``m_i = C_i dz_i / dt`` [W m-2 K-1], the half-layer resistances
    ``r_i = dz_i / (2 k_i)`` [m2 K W-1], the interface conductances
    ``G_{i+1/2} = 1 / (r_i + r_{i+1})`` for ``i < n-1`` and the bottom conductance
    ``G_b = 1 / r_{n-1}`` [W m-2 K-1], the new temperatures ``T_i`` solve

    * layer 0:
      ``m_0 (T_0 - T_0^old) = F0 + S (T_0 - T_0^old) - G_{1/2} (T_0 - T_1)``
    * layers ``0 < i < n-1``:
      ``m_i (T_i - T_i^old) = G_{i-1/2} (T_{i-1} - T_i) - G_{i+1/2} (T_i - T_{i+1})``
    * last layer ``n-1``:
      ``m_{n-1} (T_{n-1} - T_{n-1}^old) = G_{n-3/2} (T_{n-2} - T_{n-1}) - G_b (T_{n-1} - T_b)``

    (with one layer, the surface and bottom terms both act on layer 0). Interior
    fluxes cancel in pairs, so the step conserves energy exactly in exact
    arithmetic: ``sum_i m_i (T_i - T_i^old) = F(T_0) - G_b (T_{n-1} - T_b)``,
    i.e. ``(E_new - E_old) / dt = F(T0_new) - bottom flux`` with
    :func:`column_energy_j_m2` and :func:`bottom_flux_w_m2`; in floating point
    this holds to round-off.

    The matrix is symmetric, tridiagonal and strictly diagonally dominant for
    ``S <= 0`` (an M-matrix), so backward Euler is unconditionally stable and
    obeys a discrete maximum principle for any ``dt_s``: large steps damp fast
    modes instead of amplifying them (first-order accurate in time, second-order
    in space on uniform layers). The Thomas algorithm (Press et al. 2007,
    sect. 2.4) is stable without pivoting for such matrices.

    References
    ----------
    Patankar, S. V. (1980). *Numerical Heat Transfer and Fluid Flow*. Hemisphere.
    Carslaw, H. S., & Jaeger, J. C. (1959). *Conduction of Heat in Solids*
    (2nd ed.). Oxford University Press. (Ch. 2: the semi-infinite solid with a
    periodic or a suddenly changed surface temperature, the analytic solutions
    used in the tests.)
    Press, W. H., Teukolsky, S. A., Vetterling, W. T., & Flannery, B. P. (2007).
    *Numerical Recipes* (3rd ed.), sect. 2.4. Cambridge University Press.
    """
    n_cells, n_layers = temperature_k.shape
    last = n_layers - 1
    for c in numba.prange(n_cells):
        # forward sweep: c'_i in scratch[c, i], d'_i in scratch[c, n_layers + i]
        g_up = 0.0  # conductance to the layer above (none above layer 0)
        cp_prev = 0.0
        dp_prev = 0.0
        r_here = thickness_m[c, 0] / (2.0 * conductivity_w_m_k[c, 0])
        for i in range(n_layers):
            m = heat_capacity_j_m3_k[c, i] * thickness_m[c, i] / dt_s
            t_old = temperature_k[c, i]
            if i < last:
                r_next = thickness_m[c, i + 1] / (2.0 * conductivity_w_m_k[c, i + 1])
                g_dn = 1.0 / (r_here + r_next)
                sup = -g_dn
                diag = m + g_up + g_dn
                rhs = m * t_old
            else:
                r_next = 0.0
                g_dn = 1.0 / r_here  # to the fixed bottom temperature
                sup = 0.0
                diag = m + g_up + g_dn
                rhs = m * t_old + g_dn * bottom_temperature_k[c]
            if i == 0:
                slope = surface_flux_slope_w_m2_k[c]
                diag -= slope
                rhs += surface_flux_w_m2[c] - slope * t_old
            # sub-diagonal a_i = -g_up
            denom = diag + g_up * cp_prev
            cp_prev = sup / denom
            dp_prev = (rhs + g_up * dp_prev) / denom
            scratch[c, i] = cp_prev
            scratch[c, n_layers + i] = dp_prev
            g_up = g_dn
            r_here = r_next
        # back substitution
        x = scratch[c, n_layers + last]
        out[c, last] = x
        for i in range(last - 1, -1, -1):
            x = scratch[c, n_layers + i] - scratch[c, i] * x
            out[c, i] = x
    return out


def conduct_columns_numpy(
    temperature_k,
    heat_capacity_j_m3_k,
    conductivity_w_m_k,
    thickness_m,
    surface_flux_w_m2,
    surface_flux_slope_w_m2_k,
    bottom_temperature_k,
    *,
    dt_s,
    scratch=None,
    out,
):
    """Plain-NumPy twin of :func:`conduct_columns`: builds each cell's tridiagonal
    matrix in banded form and solves it with :func:`scipy.linalg.solve_banded`.
    ``scratch`` is accepted for signature compatibility and ignored."""
    temperature_k = np.asarray(temperature_k, dtype=float)
    n_cells, n = temperature_k.shape
    new = np.empty((n_cells, n))
    for c in range(n_cells):
        t_old = temperature_k[c]
        m = heat_capacity_j_m3_k[c] * thickness_m[c] / dt_s
        r = thickness_m[c] / (2.0 * conductivity_w_m_k[c])
        g = 1.0 / (r[:-1] + r[1:])  # g[i] between layers i and i+1
        g_bottom = 1.0 / r[-1]
        diag = m.copy()
        diag[:-1] += g
        diag[1:] += g
        diag[-1] += g_bottom
        diag[0] -= surface_flux_slope_w_m2_k[c]
        rhs = m * t_old
        rhs[0] += surface_flux_w_m2[c] - surface_flux_slope_w_m2_k[c] * t_old[0]
        rhs[-1] += g_bottom * bottom_temperature_k[c]
        bands = np.zeros((3, n))
        bands[0, 1:] = -g  # super-diagonal
        bands[1] = diag
        bands[2, :-1] = -g  # sub-diagonal
        new[c] = scipy.linalg.solve_banded((1, 1), bands, rhs)
    out[...] = new
    return out


@numba.njit(parallel=True, fastmath=False, cache=True)
def column_energy_j_m2(temperature_k, heat_capacity_j_m3_k, thickness_m, out):
    """Heat content of each column, ``E = sum_i C_i dz_i T_i`` [J m-2], relative to
    0 K (only differences are meaningful).

    Parameters
    ----------
    temperature_k, heat_capacity_j_m3_k, thickness_m : ndarray, float64, (n_cells, n_layers)
        As in :func:`conduct_columns`.
    out : ndarray, float64, (n_cells,)
        Receives the energies [J m-2]; returned.
    """
    n_cells, n_layers = temperature_k.shape
    for c in numba.prange(n_cells):
        e = 0.0
        for i in range(n_layers):
            e += heat_capacity_j_m3_k[c, i] * thickness_m[c, i] * temperature_k[c, i]
        out[c] = e
    return out


def column_energy_j_m2_numpy(temperature_k, heat_capacity_j_m3_k, thickness_m, out):
    """Plain-NumPy twin of :func:`column_energy_j_m2`."""
    out[...] = np.sum(heat_capacity_j_m3_k * thickness_m * temperature_k, axis=1)
    return out


@numba.njit(parallel=True, fastmath=False, cache=True)
def bottom_flux_w_m2(temperature_k, conductivity_w_m_k, thickness_m, bottom_temperature_k, out):
    """Heat flux from the last layer into the bottom boundary [W m-2], positive
    downward (out of the column): ``G_b (T_{n-1} - T_b)`` with
    ``G_b = 2 k_{n-1} / dz_{n-1}``, exactly the bottom term of
    :func:`conduct_columns`.

    Evaluate it on the new temperatures of a step to close the energy budget:
    ``(E_new - E_old) / dt_s = F0 + S (T0_new - T0_old) - bottom_flux``.

    Parameters
    ----------
    temperature_k, conductivity_w_m_k, thickness_m : ndarray, float64, (n_cells, n_layers)
        As in :func:`conduct_columns`.
    bottom_temperature_k : ndarray, float64, (n_cells,)
        Fixed bottom temperature [K].
    out : ndarray, float64, (n_cells,)
        Receives the fluxes [W m-2]; returned.
    """
    n_cells, n_layers = temperature_k.shape
    last = n_layers - 1
    for c in numba.prange(n_cells):
        g_bottom = 1.0 / (thickness_m[c, last] / (2.0 * conductivity_w_m_k[c, last]))
        out[c] = g_bottom * (temperature_k[c, last] - bottom_temperature_k[c])
    return out


def bottom_flux_w_m2_numpy(temperature_k, conductivity_w_m_k, thickness_m, bottom_temperature_k, out):
    """Plain-NumPy twin of :func:`bottom_flux_w_m2`."""
    g_bottom = 2.0 * conductivity_w_m_k[:, -1] / thickness_m[:, -1]
    out[...] = g_bottom * (temperature_k[:, -1] - bottom_temperature_k)
    return out


COLUMN_CHUNK = 2048  # columns per work item of conduct_column_types (its scratch is per item)


@numba.njit(parallel=True, fastmath=False, cache=True)
def conduct_column_types(
    temperature_k,
    column_type,
    heat_capacity_j_m3_k,
    conductivity_w_m_k,
    thickness_m,
    bottom_temperature_k,
    surface_flux_w_m2,
    surface_flux_slope_w_m2_k,
    *,
    dt_s,
    out,
    energy_j_m2,
    bottom_flux_w_m2,
):
    """:func:`conduct_columns` for cells whose columns come from a table of column types,
    returning the column energy and the bottom flux of the new state as well.

    Parameters
    ----------
    temperature_k : ndarray, float64, (n_cells, n_layers)
        Old node temperatures [K], layer 0 at the surface.
    column_type : ndarray, integer, (n_cells,)
        Row of the type tables that describes each cell's column.
    heat_capacity_j_m3_k, conductivity_w_m_k, thickness_m : ndarray, float64, (n_types, n_layers)
        ``C_i`` [J m-3 K-1], ``k_i`` [W m-1 K-1], ``dz_i`` [m] of each type's layers.
    bottom_temperature_k : ndarray, float64, (n_types,)
        Fixed temperature below each type's last layer [K].
    surface_flux_w_m2, surface_flux_slope_w_m2_k : ndarray, float64, (n_cells,)
        ``F0`` [W m-2] and ``S = dF/dT0`` [W m-2 K-1] as in :func:`conduct_columns`.
    dt_s : float
        Time step [s].
    out : ndarray, float64, (n_cells, n_layers)
        New temperatures [K]; may be ``temperature_k`` itself (in place).
    energy_j_m2 : ndarray, float64, (n_cells,)
        Receives the new column energy ``sum_i C_i dz_i T_i`` [J m-2]
        (as :func:`column_energy_j_m2`).
    bottom_flux_w_m2 : ndarray, float64, (n_cells,)
        Receives the flux out of the bottom at the new state [W m-2] (as
        :func:`bottom_flux_w_m2`).

    Returns ``out``. The equations, their conservation and stability are those of
    :func:`conduct_columns`; only the storage differs: the property tables are a few
    kilobytes that stay in cache, so a step reads and writes little more than the
    temperatures (the per-cell form reads four arrays of that size and a scratch of two).
    """
    n_cells, n_layers = temperature_k.shape
    last = n_layers - 1
    # per type, once: storage m_i = C_i dz_i / dt and the conductance below each layer g_i
    # (to the next layer, or to the fixed bottom temperature under the last one)
    n_types = heat_capacity_j_m3_k.shape[0]
    m_table = np.empty((n_types, n_layers))
    g_table = np.empty((n_types, n_layers))
    for k in range(n_types):
        for i in range(n_layers):
            m_table[k, i] = heat_capacity_j_m3_k[k, i] * thickness_m[k, i] / dt_s
            r_here = thickness_m[k, i] / (2.0 * conductivity_w_m_k[k, i])
            r_next = thickness_m[k, i + 1] / (2.0 * conductivity_w_m_k[k, i + 1]) if i < last else 0.0
            g_table[k, i] = 1.0 / (r_here + r_next)
    n_chunks = (n_cells + COLUMN_CHUNK - 1) // COLUMN_CHUNK
    for chunk in numba.prange(n_chunks):
        cprime = np.empty(n_layers)
        dprime = np.empty(n_layers)
        for c in range(chunk * COLUMN_CHUNK, min(n_cells, (chunk + 1) * COLUMN_CHUNK)):
            k = column_type[c]
            g_up = 0.0
            cp_prev = 0.0
            dp_prev = 0.0
            for i in range(n_layers):
                m = m_table[k, i]
                g_dn = g_table[k, i]
                t_old = temperature_k[c, i]
                diag = m + g_up + g_dn
                rhs = m * t_old
                sup = -g_dn
                if i == last:
                    sup = 0.0
                    rhs += g_dn * bottom_temperature_k[k]
                if i == 0:
                    slope = surface_flux_slope_w_m2_k[c]
                    diag -= slope
                    rhs += surface_flux_w_m2[c] - slope * t_old
                inv = 1.0 / (diag + g_up * cp_prev)
                cp_prev = sup * inv
                dp_prev = (rhs + g_up * dp_prev) * inv
                cprime[i] = cp_prev
                dprime[i] = dp_prev
                g_up = g_dn
            x = dprime[last]
            out[c, last] = x
            energy = m_table[k, last] * x
            bottom_flux_w_m2[c] = (x - bottom_temperature_k[k]) * g_table[k, last]
            for i in range(last - 1, -1, -1):
                x = dprime[i] - cprime[i] * x
                out[c, i] = x
                energy += m_table[k, i] * x
            energy_j_m2[c] = energy * dt_s
    return out


def conduct_column_types_numpy(temperature_k, column_type, heat_capacity_j_m3_k, conductivity_w_m_k, thickness_m,
                               bottom_temperature_k, surface_flux_w_m2, surface_flux_slope_w_m2_k, *, dt_s, out,
                               energy_j_m2, bottom_flux_w_m2):
    """Plain-NumPy twin of :func:`conduct_column_types`: expands the tables to every cell
    and calls the per-cell twins."""
    cap, cond, dz = heat_capacity_j_m3_k[column_type], conductivity_w_m_k[column_type], thickness_m[column_type]
    bottom = bottom_temperature_k[column_type]
    conduct_columns_numpy(temperature_k, cap, cond, dz, surface_flux_w_m2, surface_flux_slope_w_m2_k, bottom,
                          dt_s=dt_s, out=out)
    column_energy_j_m2_numpy(out, cap, dz, energy_j_m2)
    bottom_flux_w_m2_numpy(out, cond, dz, bottom, bottom_flux_w_m2)
    return out

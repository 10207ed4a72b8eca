"""2-D overland flow: the local-inertial shallow-water scheme on a staggered grid.

Water depth lives at the cell centres, unit discharges on the cell faces. Per time
step, the momentum equation without the advection term (the "local inertial"
approximation of Bates et al. 2010), with the theta-weighting of de Almeida et al.
(2012), gives the face discharges from the water-surface slope and Manning friction;
continuity then moves the water:

.. math::

    \\partial q / \\partial t + g h \\, \\partial \\eta / \\partial x
        + g n^2 |q| q / h^{7/3} = 0, \\qquad
    \\partial h / \\partial t + \\nabla \\cdot \\mathbf{q} = 0

with ``eta = z + h`` the water-surface elevation.

Grid and sign conventions (the same for every function here):

* Cell arrays have shape ``(ny, nx)``, float64, row 0 the northern (top) edge and
  column 0 the western edge, as in a raster: ``bed_m`` (bed elevation ``z`` [m]),
  ``depth_m`` (water depth ``h`` [m]), ``manning_n`` (Manning's ``n`` [s m-1/3]),
  ``blocked`` (uint8 or bool, 1 = building: no water crosses any of its faces and
  it never holds water; its depth must be 0).
* ``qx_m2_s`` has shape ``(ny, nx + 1)``: ``qx[i, j]`` is the unit discharge
  [m2 s-1] through the *west* face of cell ``(i, j)`` (= the east face of cell
  ``(i, j - 1)``), positive towards increasing column (east). ``qx[:, 0]`` and
  ``qx[:, nx]`` are the western and eastern domain edges.
* ``qy_m2_s`` has shape ``(ny + 1, nx)``: ``qy[i, j]`` is the unit discharge
  through the *north* face of cell ``(i, j)`` (= the south face of cell
  ``(i - 1, j)``), positive towards increasing row (south, "down" the raster).
  ``qy[0, :]`` and ``qy[ny, :]`` are the northern and southern domain edges.
* The grid is square: ``dx = dy = cell_size_m``. A face is ``dx`` long, so a unit
  discharge ``q`` moves ``q dx dt`` m3 of water in a step ``dt``.

Kernels, each with a plain-NumPy twin ``*_numpy`` of the same signature:
:func:`face_fluxes` (momentum, in place on ``qx``/``qy``), :func:`limit_outflow`
(positivity), :func:`update_depth` (continuity; returns the volume that left
through the domain edges), :func:`stable_time_step_s` (adaptive CFL step) and
:func:`cell_speed_m_s` (cell-centred speed for a maximum-velocity map);
:func:`flow_step` calls the first three in order. All work arrays are passed in:
nothing allocates in the time loop.

References
----------
Bates, P. D., Horritt, M. S., & Fewtrell, T. J. (2010). A simple inertial
formulation of the shallow water equations for efficient two-dimensional flood
inundation modelling. *Journal of Hydrology*, 387(1-2), 33-45.
doi:10.1016/j.jhydrol.2010.03.027
de Almeida, G. A. M., Bates, P., Freer, J. E., & Souvignet, M. (2012). Improving the
stability of a simple formulation of the shallow water equations for 2-D flood
modeling. *Water Resources Research*, 48, W05528. doi:10.1029/2011WR011570
de Almeida, G. A. M., & Bates, P. (2013). Applicability of the local inertial
approximation of the shallow water equations to flood modeling. *Water Resources
Research*, 49, 4833-4844. doi:10.1002/wrcr.20366
Henderson, F. M. (1966). *Open Channel Flow*. Macmillan. (Critical flow at a free
overfall, the outflow boundary.)
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "GRAVITY_M_S2",
    "DEFAULT_THETA",
    "DEFAULT_H_MIN_FLOW_M",
    "DEFAULT_FROUDE_MAX",
    "DEFAULT_ALPHA",
    "DEFAULT_IMPLICIT_FRICTION",
    "face_fluxes",
    "face_fluxes_numpy",
    "limit_outflow",
    "limit_outflow_numpy",
    "update_depth",
    "update_depth_numpy",
    "flow_step",
    "flow_step_numpy",
    "stable_time_step_s",
    "stable_time_step_s_numpy",
    "cell_speed_m_s",
    "cell_speed_m_s_numpy",
]

GRAVITY_M_S2 = 9.80665  # standard gravity [m s-2]

#: Weight of a face's own old discharge in the momentum update (de Almeida et al.
#: 2012). ``theta = 1`` is the original scheme of Bates et al. (2010); ``theta < 1``
#: mixes in the two neighbouring faces, a small diffusion that damps the
#: checkerboard oscillations the original scheme develops at low friction.
DEFAULT_THETA = 0.7
#: Flow-depth threshold [m] below which a face carries no water. LISFLOOD-FP's
#: depth threshold defaults to 1 mm; itzi uses a threshold of the same order. It
#: keeps films of round-off thickness from moving and from driving the CFL step.
DEFAULT_H_MIN_FLOW_M = 1e-3
#: Largest Froude number a face may carry (the thin-film guard of :func:`face_fluxes`).
DEFAULT_FROUDE_MAX = 1.0
#: CFL coefficient of :func:`stable_time_step_s`. Bates et al. (2010) use 0.2-0.7,
#: but on a 2-D grid with ``theta = 0.7`` the linear stability limit is
#: ``sqrt(theta / 2) = 0.59`` (see :func:`stable_time_step_s`), hence 0.5.
DEFAULT_ALPHA = 0.5
#: Friction at the new time level (True) instead of the old one (False, the
#: published scheme); see :func:`face_fluxes`. With False, keep ``alpha`` <= ~0.4
#: for shallow flow over sloping ground.
DEFAULT_IMPLICIT_FRICTION = True

# Factor on the positivity scaling of limit_outflow: 1 - 1e-14 (about 45 ulps)
# exceeds the rounding of the scaled outflow sum (about 10 ulps), so the depth
# update can never round to below zero. It leaves ~1e-14 of the cell's water
# behind, which is not a mass error: every scaled flux still leaves one cell and
# enters another.
_POSITIVITY_SAFETY = 1.0 - 1e-14


@numba.njit(cache=True, fastmath=False)
def _momentum(
    q, q_back, q_fwd, z_a, z_b, h_a, h_b, n_a, n_b, gdt, dx, theta, side_weight, h_min, froude_max, implicit_friction
):
    """New unit discharge [m2 s-1] through the face between cell ``a`` (lower index)
    and cell ``b`` (higher index), positive from ``a`` to ``b``."""
    eta_a = z_a + h_a
    eta_b = z_b + h_b
    h_f = max(eta_a, eta_b) - max(z_a, z_b)
    if h_f <= h_min:
        return 0.0
    n_f = 0.5 * (n_a + n_b)
    num = theta * q + side_weight * (q_back + q_fwd) - gdt * h_f * (eta_b - eta_a) / dx
    if implicit_friction:
        # friction at the new time level: q' (1 + b |q'|) = num, the root written
        # without cancellation
        b = gdt * n_f * n_f / h_f ** (7.0 / 3.0)
        q_new = 2.0 * num / (1.0 + math.sqrt(1.0 + 4.0 * b * abs(num)))
    else:
        # friction linearised with the old |q|, as published (Bates et al. 2010)
        q_new = num / (1.0 + gdt * n_f * n_f * abs(q) / h_f ** (7.0 / 3.0))
    q_max = froude_max * h_f * math.sqrt(GRAVITY_M_S2 * h_f)
    if q_new > q_max:
        return q_max
    if q_new < -q_max:
        return -q_max
    return q_new


@numba.njit(cache=True, fastmath=False)
def _edge_outflow(h, is_blocked, open_edges, h_min, froude_max):
    """Magnitude [m2 s-1] of the critical-depth outflow through a domain-edge face."""
    if not open_edges or is_blocked or h <= h_min:
        return 0.0
    return min(froude_max, 1.0) * h * math.sqrt(GRAVITY_M_S2 * h)


@numba.njit(parallel=True, fastmath=False, cache=True)
def face_fluxes(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    theta,
    h_min_flow_m,
    froude_max,
    implicit_friction,
    open_edges,
    qy_work,
):
    """Local-inertial momentum step: new unit discharges on every face, in place.

    Parameters
    ----------
    bed_m : ndarray, float64, (ny, nx)
        Bed elevation ``z`` [m].
    depth_m : ndarray, float64, (ny, nx)
        Water depth ``h`` [m], >= 0; 0 in blocked cells.
    manning_n : ndarray, float64, (ny, nx)
        Manning's roughness ``n`` [s m-1/3], >= 0.
    blocked : ndarray, uint8 or bool, (ny, nx)
        1 (True) for building cells: every face of such a cell carries 0.
    qx_m2_s : ndarray, float64, (ny, nx + 1)
        Unit discharge on the x-faces [m2 s-1], positive eastward (module
        docstring). Old values on entry, new values on return.
    qy_m2_s : ndarray, float64, (ny + 1, nx)
        Unit discharge on the y-faces [m2 s-1], positive southward (increasing
        row). Old values on entry, new values on return.
    cell_size_m : float
        Grid spacing ``dx = dy`` [m].
    dt_s : float
        Time step [s]; at most :func:`stable_time_step_s`.
    theta : float
        Weight of the face's own old discharge, ``0.5 <= theta <= 1``
        (:data:`DEFAULT_THETA`); 1 recovers Bates et al. (2010).
    h_min_flow_m : float
        Flow-depth threshold [m], > 0 (:data:`DEFAULT_H_MIN_FLOW_M`): a face
        whose flow depth is at most this carries 0.
    froude_max : float
        Largest Froude number a face may carry (:data:`DEFAULT_FROUDE_MAX`).
    implicit_friction : bool
        False: Manning friction linearised with the old ``|q|`` as published
        (Bates et al. 2010; de Almeida et al. 2012). True: friction at the new time level, solved
        exactly (Notes). :data:`DEFAULT_IMPLICIT_FRICTION`.
    open_edges : bool
        False: no water crosses the domain edges. True: every domain edge is a
        free (critical-depth) outflow boundary, never an inflow (Notes).
    qy_work : ndarray, float64, (ny + 1, nx)
        Work space (a copy of the old ``qy``); contents on return are meaningless.

    Notes
    -----
    For the face between cells ``a`` (lower index) and ``b`` (higher index), with
    ``eta = z + h``, the flow depth (Bates et al. 2010)

    ``h_f = max(eta_a, eta_b) - max(z_a, z_b)``

    and ``n_f = (n_a + n_b) / 2``, the new discharge is (de Almeida et al. 2012:
    the theta-weighted scheme with the semi-implicit friction of Bates et al. 2010)

    ``q' = [theta q + (1 - theta)/2 (q_back + q_fwd) - g h_f dt (eta_b - eta_a)/dx]
    / [1 + g dt n_f**2 |q| / h_f**(7/3)]``

    where ``q``, ``q_back`` and ``q_fwd`` are the old discharges on this face and on
    the same-direction faces either side of it (the far faces of ``a`` and ``b``).
    Where such a neighbour face is a domain edge or touches a blocked cell, ``q``
    itself stands in for it, so a wall neither drags nor pushes the flow along it.
    ``h_f <= h_min_flow_m`` gives ``q' = 0``, and so does a blocked cell on either
    side; ``h_min_flow_m`` must be > 0 (it also keeps ``h_f**(7/3)`` from
    underflowing).

    Friction time level. Write the update as ``q' (1 + b |q_*|) = N`` with
    ``b = g dt n_f**2 / h_f**(7/3)`` and ``N`` the numerator above. The published
    scheme takes ``|q_*| = |q|`` (old). Freezing the water surface, its
    relaxation towards the friction-slope equilibrium then has the amplification
    factor ``(1 - beta) / (1 + beta)``, ``beta = dt / tau``, with the friction
    time ``tau = h_f**(7/3) / (g n_f**2 |q|)``: for ``dt > tau`` (shallow water
    with roughness, exactly rain runoff on streets) it overshoots and rings with
    period ``2 dt``, and coupled to continuity this grows into a cell-by-cell
    checkerboard in depth and discharge even below the CFL limit. In trials with
    rain on a 1 % plane (``n = 0.05``, a 2 cm sheet at the outlet) the published
    form was unstable at ``alpha >= 0.6`` with 2 m cells and ``alpha >= 0.5`` with
    5 m cells, stable at 0.4.
    ``implicit_friction=True`` takes ``|q_*| = |q'|`` and solves the quadratic
    exactly, ``q' = 2 N / (1 + sqrt(1 + 4 b |N|))`` (the root written without
    cancellation): its amplification factor ``1 / (1 + 2 beta)`` lies in (0, 1]
    for any step, the steady states are the same (both solve
    ``q (1 + b |q|) = N``), and without friction (``n = 0``) both are identical.
    The plane above ran stably with it at ``alpha = 0.9`` (a 1-D case; in 2-D the
    limit of :func:`stable_time_step_s` still applies).

    A lake at rest stays at rest exactly: equal ``eta`` gives no slope, and a dry
    cell above the lake gives ``h_f = 0``.

    Thin-film guard: the result is clipped to
    ``|q'| <= froude_max h_f sqrt(g h_f)``. The local-inertial equations drop the
    advection term and are meant for subcritical flow (de Almeida & Bates 2013);
    on smooth steep surfaces the friction term alone lets very thin films reach
    unphysical speeds and the explicit step oscillate. The cap is a guard in the
    spirit of the Froude limits of LISFLOOD-FP-type codes, not physics; with
    ``froude_max = 1`` it never binds in the subcritical flows the scheme is for.

    Open edges: the edge face of a non-blocked cell with ``h > h_min_flow_m`` carries
    the critical-flow discharge ``min(froude_max, 1) h sqrt(g h)`` outward. A free
    overfall passes through critical depth near the brink, and critical flow is
    the largest discharge the specific energy available allows (Henderson 1966),
    so the edge acts like a cliff. It needs no slope estimate (it works on flat and
    adverse ground, where a normal-depth outflow with the local bed slope, as in
    LISFLOOD-FP's "free" boundary, would stall or reverse) and never draws water
    in. The price is a draw-down of the last one or two cells towards critical
    depth where the flow arriving is subcritical, so keep the domain edge away
    from the area of interest.

    Stable for ``dt <= alpha dx / sqrt(g h_max)`` with ``alpha`` below
    ``sqrt(theta / 2)`` (Bates et al. 2010, eq. 12, and :func:`stable_time_step_s`).
    Positivity of the depth is not this function's business: :func:`limit_outflow`
    ensures it, at any step.
    """
    ny, nx = depth_m.shape
    dx = cell_size_m
    gdt = GRAVITY_M_S2 * dt_s
    side_weight = 0.5 * (1.0 - theta)

    # x-faces: a row's faces depend only on that row, so each row is updated left to
    # right keeping the one old value that has been overwritten (face j - 1).
    for i in numba.prange(ny):
        q_prev_old = qx_m2_s[i, 0]
        qx_m2_s[i, 0] = -_edge_outflow(depth_m[i, 0], blocked[i, 0] != 0, open_edges, h_min_flow_m, froude_max)
        for j in range(1, nx):
            q = qx_m2_s[i, j]
            if blocked[i, j - 1] or blocked[i, j]:
                q_new = 0.0
            else:
                # old discharge of face j - 1 (the far face of cell a) unless it is a wall
                q_back = q_prev_old if (j >= 2 and not blocked[i, j - 2]) else q
                # face j + 1 is still old
                q_fwd = qx_m2_s[i, j + 1] if (j + 1 < nx and not blocked[i, j + 1]) else q
                q_new = _momentum(
                    q, q_back, q_fwd,
                    bed_m[i, j - 1], bed_m[i, j], depth_m[i, j - 1], depth_m[i, j],
                    manning_n[i, j - 1], manning_n[i, j],
                    gdt, dx, theta, side_weight, h_min_flow_m, froude_max, implicit_friction,
                )
            q_prev_old = q
            qx_m2_s[i, j] = q_new
        qx_m2_s[i, nx] = _edge_outflow(depth_m[i, nx - 1], blocked[i, nx - 1] != 0, open_edges, h_min_flow_m, froude_max)

    # y-faces: neighbours lie in other rows, which other threads overwrite, so read
    # the old values from a copy.
    for i in numba.prange(ny + 1):
        for j in range(nx):
            qy_work[i, j] = qy_m2_s[i, j]
    for i in numba.prange(ny + 1):
        if i == 0:
            for j in range(nx):
                qy_m2_s[0, j] = -_edge_outflow(depth_m[0, j], blocked[0, j] != 0, open_edges, h_min_flow_m, froude_max)
        elif i == ny:
            for j in range(nx):
                qy_m2_s[ny, j] = _edge_outflow(
                    depth_m[ny - 1, j], blocked[ny - 1, j] != 0, open_edges, h_min_flow_m, froude_max
                )
        else:
            for j in range(nx):
                q = qy_work[i, j]
                if blocked[i - 1, j] or blocked[i, j]:
                    q_new = 0.0
                else:
                    q_back = qy_work[i - 1, j] if (i >= 2 and not blocked[i - 2, j]) else q
                    q_fwd = qy_work[i + 1, j] if (i + 1 < ny and not blocked[i + 1, j]) else q
                    q_new = _momentum(
                        q, q_back, q_fwd,
                        bed_m[i - 1, j], bed_m[i, j], depth_m[i - 1, j], depth_m[i, j],
                        manning_n[i - 1, j], manning_n[i, j],
                        gdt, dx, theta, side_weight, h_min_flow_m, froude_max, implicit_friction,
                    )
                qy_m2_s[i, j] = q_new


def _faces_along_rows_numpy(bed, depth, n, wall, q, *, dx, dt_s, theta, h_min, froude_max, implicit_friction,
                            open_edges):
    """New discharges on the faces between row neighbours (axis 1) for
    :func:`face_fluxes_numpy`; ``q`` has shape ``(rows, cols + 1)``, positive
    towards increasing column. The y-faces are the x-faces of the transposed grid."""
    g = GRAVITY_M_S2
    rows, cols = depth.shape
    face_wall = np.ones((rows, cols + 1), bool)  # domain edges are walls for the neighbour rule
    face_wall[:, 1:-1] = wall[:, :-1] | wall[:, 1:]
    q_mid = q[:, 1:-1]
    q_back = np.where(face_wall[:, :-2], q_mid, q[:, :-2])
    q_fwd = np.where(face_wall[:, 2:], q_mid, q[:, 2:])
    z_a, z_b = bed[:, :-1], bed[:, 1:]
    eta_a, eta_b = z_a + depth[:, :-1], z_b + depth[:, 1:]
    h_f = np.maximum(eta_a, eta_b) - np.maximum(z_a, z_b)
    n_f = 0.5 * (n[:, :-1] + n[:, 1:])
    gdt = g * dt_s
    with np.errstate(divide="ignore", invalid="ignore"):
        num = theta * q_mid + 0.5 * (1.0 - theta) * (q_back + q_fwd) - gdt * h_f * (eta_b - eta_a) / dx
        if implicit_friction:
            b = gdt * n_f * n_f / h_f ** (7.0 / 3.0)
            q_new = 2.0 * num / (1.0 + np.sqrt(1.0 + 4.0 * b * np.abs(num)))
        else:
            q_new = num / (1.0 + gdt * n_f * n_f * np.abs(q_mid) / h_f ** (7.0 / 3.0))
        q_max = froude_max * h_f * np.sqrt(g * h_f)
        q_new = np.clip(q_new, -q_max, q_max)
    new = np.zeros((rows, cols + 1))
    new[:, 1:-1] = np.where((h_f > h_min) & ~face_wall[:, 1:-1], q_new, 0.0)
    if open_edges:
        edge = np.where(~wall & (depth > h_min), min(froude_max, 1.0) * depth * np.sqrt(g * depth), 0.0)
        new[:, 0] = -edge[:, 0]
        new[:, -1] = edge[:, -1]
    return new


def face_fluxes_numpy(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    theta,
    h_min_flow_m,
    froude_max,
    implicit_friction,
    open_edges,
    qy_work=None,
):
    """Plain-NumPy twin of :func:`face_fluxes`: all faces of one direction at once
    from shifted views; the y-faces as the x-faces of the transposed grid.
    ``qy_work`` is accepted for signature compatibility and ignored."""
    wall = np.asarray(blocked).astype(bool)
    kw = dict(dx=cell_size_m, dt_s=dt_s, theta=theta, h_min=h_min_flow_m, froude_max=froude_max,
              implicit_friction=implicit_friction, open_edges=open_edges)
    new_x = _faces_along_rows_numpy(bed_m, depth_m, manning_n, wall, qx_m2_s, **kw)
    new_y = _faces_along_rows_numpy(bed_m.T, depth_m.T, manning_n.T, wall.T, qy_m2_s.T, **kw).T
    qx_m2_s[...] = new_x
    qy_m2_s[...] = new_y


@numba.njit(cache=True, fastmath=False)
def _out_sum(qx, qy, i, j):
    """Sum of the outgoing unit discharges [m2 s-1] of cell (i, j): west, east,
    north, south, in that order (the order matters for bit-identical sums)."""
    return max(-qx[i, j], 0.0) + max(qx[i, j + 1], 0.0) + max(-qy[i, j], 0.0) + max(qy[i + 1, j], 0.0)


@numba.njit(cache=True, fastmath=False)
def _in_sum(qx, qy, i, j):
    """Sum of the incoming unit discharges [m2 s-1] of cell (i, j)."""
    return max(qx[i, j], 0.0) + max(-qx[i, j + 1], 0.0) + max(qy[i, j], 0.0) + max(-qy[i + 1, j], 0.0)


@numba.njit(parallel=True, fastmath=False, cache=True)
def limit_outflow(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, scale_work):
    """Scale down the outflow of cells that would lose more water than they hold.

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m] at the start of the step, >= 0.
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1] from :func:`face_fluxes`; scaled in place.
    cell_size_m : float
        Grid spacing [m].
    dt_s : float
        Time step [s].
    scale_work : ndarray, float64, (ny, nx)
        Receives each cell's outflow scale factor (1 where nothing was limited).

    Returns
    -------
    n_limited : int
        Number of cells whose outflow was scaled (a diagnostic: at a stable step,
        a few cells on wet/dry fronts).

    Notes
    -----
    Pass 1: each cell's outgoing depth ``D = dt/dx sum_out |q|``; where ``D > h``
    the cell's scale is ``s = h/D (1 - 1e-14)``, else 1. Pass 2: every face
    discharge is multiplied by the scale of its upstream cell (a face is outgoing
    for exactly one of its two cells, so this is unambiguous and independent of
    the order of the faces). Each flux still leaves one cell and enters the other,
    so no water is created or lost; and since a cell's outflow now sums to at most
    its water, :func:`update_depth` cannot produce a negative depth: the factor
    ``1 - 1e-14`` exceeds the rounding error of the scaled sum, and
    ``update_depth`` subtracts the outflow before adding the (non-negative) inflow.
    An inflow scaled down by its own upstream cell only leaves more water behind.
    """
    ny, nx = depth_m.shape
    c = dt_s / cell_size_m
    n_limited = 0
    for i in numba.prange(ny):
        for j in range(nx):
            out_depth = c * _out_sum(qx_m2_s, qy_m2_s, i, j)
            h = depth_m[i, j]
            if out_depth > h:
                scale_work[i, j] = h / out_depth * _POSITIVITY_SAFETY
                n_limited += 1
            else:
                scale_work[i, j] = 1.0
    for i in numba.prange(ny):
        for j in range(nx + 1):
            q = qx_m2_s[i, j]
            if q > 0.0 and j > 0:
                qx_m2_s[i, j] = q * scale_work[i, j - 1]
            elif q < 0.0 and j < nx:
                qx_m2_s[i, j] = q * scale_work[i, j]
    for i in numba.prange(ny + 1):
        for j in range(nx):
            q = qy_m2_s[i, j]
            if q > 0.0 and i > 0:
                qy_m2_s[i, j] = q * scale_work[i - 1, j]
            elif q < 0.0 and i < ny:
                qy_m2_s[i, j] = q * scale_work[i, j]
    return n_limited


def limit_outflow_numpy(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, scale_work):
    """Plain-NumPy twin of :func:`limit_outflow`: outgoing sums from shifted views,
    each face scaled by its upstream cell's factor (1 outside the grid)."""
    c = dt_s / cell_size_m
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out_depth = c * (np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0))
    limited = out_depth > depth_m
    scale = np.ones_like(depth_m)
    scale[limited] = depth_m[limited] / out_depth[limited] * _POSITIVITY_SAFETY
    sx = np.pad(scale, ((0, 0), (1, 1)), constant_values=1.0)  # sx[:, j] belongs to cell j - 1
    qx_m2_s *= np.where(qx_m2_s > 0.0, sx[:, :-1], sx[:, 1:])
    sy = np.pad(scale, ((1, 1), (0, 0)), constant_values=1.0)
    qy_m2_s *= np.where(qy_m2_s > 0.0, sy[:-1, :], sy[1:, :])
    scale_work[...] = scale
    return int(limited.sum())


@numba.njit(parallel=True, fastmath=False, cache=True)
def update_depth(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, row_outflow_m3):
    """Continuity: move the water along the face discharges, in place.

    ``h' = (h - dt/dx sum_out |q|) + dt/dx sum_in |q|``

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m]; old on entry, new on return.
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1] after :func:`limit_outflow`.
    cell_size_m : float
        Grid spacing [m].
    dt_s : float
        Time step [s].
    row_outflow_m3 : ndarray, float64, (ny,)
        Receives the volume [m3] that left through the domain edges this step per
        row (the western and eastern edge faces of row ``i``, plus the whole
        northern edge in row 0 and the southern edge in row ``ny - 1``).

    Returns
    -------
    outflow_m3 : float
        Volume [m3] that left through the domain edges this step (net, outward
        positive; the edges never let water in), summed row by row in a fixed
        order so that the result does not depend on the number of threads. The
        mass ledger of a step is
        ``sum(h') dx**2 = sum(h) dx**2 - outflow_m3`` to round-off.

    Notes
    -----
    Subtracting the outflow before adding the inflow makes the new depth >= 0
    exactly (not just to round-off) after :func:`limit_outflow`: the first bracket
    is the difference of two non-negative numbers of which the first is the larger,
    and the sum of non-negative numbers rounds to a non-negative number.
    """
    ny, nx = depth_m.shape
    c = dt_s / cell_size_m
    to_m3 = dt_s * cell_size_m
    for i in numba.prange(ny):
        for j in range(nx):
            depth_m[i, j] = (depth_m[i, j] - c * _out_sum(qx_m2_s, qy_m2_s, i, j)) + c * _in_sum(qx_m2_s, qy_m2_s, i, j)
        edge = qx_m2_s[i, nx] - qx_m2_s[i, 0]
        if i == 0:
            for j in range(nx):
                edge -= qy_m2_s[0, j]
        if i == ny - 1:
            for j in range(nx):
                edge += qy_m2_s[ny, j]
        row_outflow_m3[i] = edge * to_m3
    total = 0.0
    for i in range(ny):
        total += row_outflow_m3[i]
    return total


def update_depth_numpy(depth_m, qx_m2_s, qy_m2_s, *, cell_size_m, dt_s, row_outflow_m3):
    """Plain-NumPy twin of :func:`update_depth`."""
    c = dt_s / cell_size_m
    west, east = qx_m2_s[:, :-1], qx_m2_s[:, 1:]
    north, south = qy_m2_s[:-1, :], qy_m2_s[1:, :]
    out = np.maximum(-west, 0.0) + np.maximum(east, 0.0) + np.maximum(-north, 0.0) + np.maximum(south, 0.0)
    inflow = np.maximum(west, 0.0) + np.maximum(-east, 0.0) + np.maximum(north, 0.0) + np.maximum(-south, 0.0)
    depth_m[...] = (depth_m - c * out) + c * inflow
    edge = qx_m2_s[:, -1] - qx_m2_s[:, 0]
    edge[0] -= qy_m2_s[0, :].sum()
    edge[-1] += qy_m2_s[-1, :].sum()
    row_outflow_m3[...] = edge * (dt_s * cell_size_m)
    return float(row_outflow_m3.sum())


def flow_step(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    open_edges,
    qy_work,
    scale_work,
    row_outflow_m3,
    theta=DEFAULT_THETA,
    h_min_flow_m=DEFAULT_H_MIN_FLOW_M,
    froude_max=DEFAULT_FROUDE_MAX,
    implicit_friction=DEFAULT_IMPLICIT_FRICTION,
):
    """One overland-flow step: :func:`face_fluxes`, :func:`limit_outflow`,
    :func:`update_depth`, updating ``qx_m2_s``, ``qy_m2_s`` and ``depth_m`` in place.

    Arguments as in those functions (``qy_work`` (ny + 1, nx), ``scale_work``
    (ny, nx) and ``row_outflow_m3`` (ny,) are preallocated float64 work arrays);
    ``theta``, ``h_min_flow_m``, ``froude_max`` and ``implicit_friction`` default
    to the module's ``DEFAULT_*`` values.
    Sources and sinks (rain, infiltration, sewer inlets) are the caller's, between
    steps. Returns the volume [m3] that left through the domain edges.
    """
    face_fluxes(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                theta=theta, h_min_flow_m=h_min_flow_m, froude_max=froude_max,
                implicit_friction=implicit_friction, open_edges=open_edges, qy_work=qy_work)
    limit_outflow(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s, scale_work=scale_work)
    return update_depth(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                        row_outflow_m3=row_outflow_m3)


def flow_step_numpy(
    bed_m,
    depth_m,
    manning_n,
    blocked,
    qx_m2_s,
    qy_m2_s,
    *,
    cell_size_m,
    dt_s,
    open_edges,
    qy_work,
    scale_work,
    row_outflow_m3,
    theta=DEFAULT_THETA,
    h_min_flow_m=DEFAULT_H_MIN_FLOW_M,
    froude_max=DEFAULT_FROUDE_MAX,
    implicit_friction=DEFAULT_IMPLICIT_FRICTION,
):
    """Plain-NumPy twin of :func:`flow_step` (calls the ``*_numpy`` twins)."""
    face_fluxes_numpy(bed_m, depth_m, manning_n, blocked, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                      theta=theta, h_min_flow_m=h_min_flow_m, froude_max=froude_max,
                      implicit_friction=implicit_friction, open_edges=open_edges, qy_work=qy_work)
    limit_outflow_numpy(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s, scale_work=scale_work)
    return update_depth_numpy(depth_m, qx_m2_s, qy_m2_s, cell_size_m=cell_size_m, dt_s=dt_s,
                              row_outflow_m3=row_outflow_m3)


@numba.njit(parallel=True, fastmath=False, cache=True)
def stable_time_step_s(depth_m, *, cell_size_m, alpha, dt_max_s):
    """Adaptive time step [s]: ``min(alpha dx / sqrt(g h_max), dt_max_s)``.

    The CFL condition of the local-inertial scheme (Bates et al. 2010, eq. 12):
    gravity waves, the fastest signal the scheme carries without advection, cross
    at most ``alpha`` of a cell per step. ``dt_max_s`` where the grid is dry.

    Choosing ``alpha``: for the frictionless linearised scheme of
    :func:`face_fluxes` on a flat bed, the 2-D checkerboard mode
    ``eta ~ (-1)**(i + j)`` (the least stable) has the amplification matrix
    ``[[2 theta - 1, -2 mu], [4 mu (2 theta - 1), 1 - 8 mu**2]]`` acting on
    ``(q / c, eta)``, with ``mu = c dt / dx`` and ``c = sqrt(g h)``. Its determinant
    is ``2 theta - 1`` and its trace ``2 theta - 8 mu**2``, so it is stable for
    ``mu <= sqrt(theta / 2)``: 0.59 for ``theta = 0.7``, 0.71 for ``theta = 1``
    (``sqrt(theta)`` in 1-D). With ``theta = 1`` the mode is undamped at any
    ``mu`` (determinant 1), the low-friction checkerboard that de Almeida et al.
    (2012) introduced ``theta`` against. A water ball dropped into a 2-D bowl
    came to rest with ``theta = 0.7, alpha <= 0.6`` and rang indefinitely with
    ``alpha = 0.65`` or ``theta = 1`` (any alpha tried, 0.5-0.65). ``h_max`` is
    taken before the step, so keep a margin: :data:`DEFAULT_ALPHA` = 0.5.

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m].
    cell_size_m : float
        Grid spacing [m].
    alpha : float
        CFL coefficient [-], ``0 < alpha < sqrt(theta / 2)`` (:data:`DEFAULT_ALPHA`).
    dt_max_s : float
        Upper bound of the step [s].
    """
    ny, nx = depth_m.shape
    h_max = 0.0
    for i in numba.prange(ny):
        for j in range(nx):
            h_max = max(h_max, depth_m[i, j])
    if h_max <= 0.0:
        return dt_max_s
    return min(alpha * cell_size_m / math.sqrt(GRAVITY_M_S2 * h_max), dt_max_s)


def stable_time_step_s_numpy(depth_m, *, cell_size_m, alpha, dt_max_s):
    """Plain-NumPy twin of :func:`stable_time_step_s`."""
    h_max = float(np.max(depth_m))
    if h_max <= 0.0:
        return dt_max_s
    return min(alpha * cell_size_m / math.sqrt(GRAVITY_M_S2 * h_max), dt_max_s)


@numba.njit(parallel=True, fastmath=False, cache=True)
def cell_speed_m_s(depth_m, qx_m2_s, qy_m2_s, *, min_depth_m, out):
    """Flow speed at the cell centres [m s-1], for a maximum-velocity map.

    ``|v| = sqrt(qx_c**2 + qy_c**2) / h`` with ``qx_c`` the mean of the cell's west
    and east face discharges and ``qy_c`` of its north and south ones; 0 where
    ``h <= min_depth_m`` (a speed from a film is meaningless and divides by ~0;
    use the flow-depth threshold of the run).

    Parameters
    ----------
    depth_m : ndarray, float64, (ny, nx)
        Water depth [m].
    qx_m2_s, qy_m2_s : ndarray, float64, (ny, nx + 1) and (ny + 1, nx)
        Face discharges [m2 s-1].
    min_depth_m : float
        Depth [m] at or below which the speed is reported as 0.
    out : ndarray, float64, (ny, nx)
        Receives the speeds [m s-1]; returned.
    """
    ny, nx = depth_m.shape
    for i in numba.prange(ny):
        for j in range(nx):
            h = depth_m[i, j]
            if h > min_depth_m:
                qx_c = 0.5 * (qx_m2_s[i, j] + qx_m2_s[i, j + 1])
                qy_c = 0.5 * (qy_m2_s[i, j] + qy_m2_s[i + 1, j])
                out[i, j] = math.sqrt(qx_c * qx_c + qy_c * qy_c) / h
            else:
                out[i, j] = 0.0
    return out


def cell_speed_m_s_numpy(depth_m, qx_m2_s, qy_m2_s, *, min_depth_m, out):
    """Plain-NumPy twin of :func:`cell_speed_m_s`."""
    qx_c = 0.5 * (qx_m2_s[:, :-1] + qx_m2_s[:, 1:])
    qy_c = 0.5 * (qy_m2_s[:-1, :] + qy_m2_s[1:, :])
    wet = depth_m > min_depth_m
    with np.errstate(divide="ignore", invalid="ignore"):
        out[...] = np.where(wet, np.sqrt(qx_c * qx_c + qy_c * qy_c) / depth_m, 0.0)
    return out

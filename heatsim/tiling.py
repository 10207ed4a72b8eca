"""Tiled computation with dask: the grid cut into chunks with halos as wide as a kernel's
stencil, on the threaded scheduler, a ``dask.distributed`` cluster, or in one piece.

:func:`map_tiled` runs a kernel on every chunk of a grid through
``dask.array.map_overlap``: each chunk is extended by ``depth`` cells on every side where
it has a neighbour (``boundary="none"``: at the grid's own edges nothing is added, so the
kernel sees the same edge as it does on the whole grid), the kernel runs on the extended
chunk, and the halo is cut away again. If the kernel's value in a cell depends only on
inputs within ``depth`` cells, the tiled result is the single-array result bit for bit.

Schedulers (:func:`scheduler_for`): ``None`` or ``"threads"`` (dask's threaded scheduler:
the numba kernels release the GIL), ``"synchronous"`` (one thread, for debugging), or the
address of a running ``dask.distributed`` scheduler (``tcp://host:8786``) or a
``distributed.Client``.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from heatsim.errors import InputError


@dataclass(frozen=True)
class Tiling:
    """How a run tiles its grid: chunks of ``chunk_cells`` x ``chunk_cells`` cells, computed
    by ``scheduler`` (:func:`scheduler_for`). What is tiled so far: the heat model's sky view
    (chunks of ``chunk_cells`` squared) and the water model's flow step (bands of
    ``chunk_cells`` rows)."""

    chunk_cells: int
    scheduler: object = None
    #: how the scheduler was given (e.g. its address), for the run's manifest
    described_as: str | None = None

    def __post_init__(self):
        if int(self.chunk_cells) < 1:
            raise InputError("--tile-size", "tile_size", f"{self.chunk_cells} cells; expected a positive number")


def scheduler_for(spec):
    """What ``dask.compute(..., scheduler=...)`` takes for ``spec`` (see the module docstring)."""
    if spec is None or spec == "threads":
        return "threads"
    if spec == "synchronous":
        return "synchronous"
    if isinstance(spec, str) and "://" in spec:
        from distributed import Client

        _check_address(spec)
        try:
            return Client(spec, timeout="10s", set_as_default=False)
        except (OSError, ValueError, TypeError, AssertionError) as exc:
            # OSError: nobody answers; the others: distributed's parsers on a malformed address
            raise InputError("--scheduler", "scheduler", f"no dask scheduler answers at {spec} ({exc}); start "
                             "one with `dask scheduler` and workers with `dask worker ADDRESS`, and give its "
                             "address as tcp://host:port") from None
    if hasattr(spec, "get") and hasattr(spec, "submit"):  # a distributed.Client
        return spec
    raise InputError("--scheduler", "scheduler", f"{spec!r} is not a scheduler; expected threads, synchronous or "
                     "the address of a dask scheduler such as tcp://127.0.0.1:8786")


def _check_address(address: str) -> None:
    """Refuse a malformed scheduler address before a client is built on it (a client that
    fails half-way hangs for 20 s when it is collected)."""
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "ws", "wss", "ucx", "inproc") or not host or not port.isdigit():
        raise InputError("--scheduler", "scheduler", f"{address!r} is not a dask scheduler address; expected "
                         "e.g. tcp://127.0.0.1:8786")


def map_tiled(kernel: Callable[..., np.ndarray], *arrays: np.ndarray, depth: int, chunks: int | tuple[int, int],
              scheduler=None, dtype=np.float64) -> np.ndarray:
    """``kernel(*blocks)`` on each chunk of the 2-D ``arrays`` with a halo of ``depth`` cells.

    Parameters
    ----------
    kernel
        Takes the chunk of each array (extended by its halo), returns one array of that shape.
    arrays
        Input grids, all of one shape (ny, nx).
    depth
        Halo width [cells]: at least the distance over which the kernel reads its neighbours.
    chunks
        Chunk size [cells] along both axes, or (rows, cols). Chunks smaller than ``depth``
        are allowed: dask then takes the halo from more than one neighbour.
    scheduler
        See :func:`scheduler_for`.

    Returns
    -------
    numpy.ndarray of shape (ny, nx), the kernel's result assembled.
    """
    import dask
    import dask.array as da

    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError("map_tiled: arrays of different shapes " + ", ".join(str(a.shape) for a in arrays))
    rows, cols = (chunks, chunks) if isinstance(chunks, int) else chunks
    # dask takes a halo from one neighbour only: chunks at least `depth` wide, then (the last
    # chunk of an axis may be smaller) rechunked so that every chunk is
    rows, cols = max(rows, depth), max(cols, depth)
    chunking = _chunks_at_least(shape, (rows, cols), depth)
    lazy = [da.from_array(np.asarray(a), chunks=chunking) for a in arrays]
    # no halo along an axis that is one chunk (a halo wider than the grid is not needed there)
    depths = {axis: (depth if len(sizes) > 1 else 0) for axis, sizes in enumerate(chunking)}
    result = da.map_overlap(lambda *blocks: kernel(*blocks), *lazy, depth=depths, boundary="none", trim=True,
                            dtype=dtype, align_arrays=False)
    chosen = scheduler_for(scheduler)
    try:
        (out,) = dask.compute(result, scheduler=chosen)
    finally:
        if chosen is not scheduler and hasattr(chosen, "close"):
            chosen.close()  # a client this call opened for an address
    return np.asarray(out)


def _chunks_at_least(shape: tuple[int, int], size: tuple[int, int], depth: int) -> tuple[tuple[int, ...], ...]:
    """Chunk sizes along each axis: ``size`` each, the remainder merged into the last chunk
    when it would be narrower than ``depth`` (map_overlap needs every chunk >= depth)."""
    out = []
    for n, step in zip(shape, size):
        step = min(step, n)
        sizes = [step] * (n // step)
        rest = n - step * len(sizes)
        if rest:
            if sizes and rest < depth:
                sizes[-1] += rest
            else:
                sizes.append(rest)
        out.append(tuple(sizes) if sizes else (n,))
    return tuple(out)


def sky_view_factor_tiled(surface_m: np.ndarray, vegetation_top_m: np.ndarray, canopy: np.ndarray, *,
                          cell_size_m: float, n_directions: int, max_distance_m: float, leaf_transmissivity: float,
                          chunks: int | tuple[int, int], scheduler=None) -> np.ndarray:
    """:func:`heatsim.kernels.skyview.sky_view_factor` by tiles: the halo is the horizon
    search radius, so each cell sees the same obstacles as on the whole grid (tested equal)."""
    from heatsim.kernels.skyview import sky_view_factor

    depth = math.ceil(max_distance_m / cell_size_m) + 1

    def kernel(surface, vegetation, cover):
        out = np.empty(surface.shape, dtype=np.float64)
        return sky_view_factor(surface, vegetation, cover, cell_size_m=cell_size_m, n_directions=n_directions,
                               max_distance_m=max_distance_m, leaf_transmissivity=leaf_transmissivity, out=out)

    return map_tiled(kernel, surface_m, vegetation_top_m, canopy, depth=depth, chunks=chunks, scheduler=scheduler)


#: Rows of halo around each band of :class:`TiledFlowStepper`. One flow step reads
#: neighbours up to 3 rows away (a face's flux reads the faces beside it and the cells two
#: rows off for walls; the outflow limit of a face reads the upstream cell's four new
#: faces; the depth update reads its faces' limits), and the band's artificial top and
#: bottom edges disturb at most 3 rows; 4 rows leave a margin (tests check equality with 4
#: and that 2 is too few).
FLOW_HALO_ROWS = 4


class TiledFlowStepper:
    """One overland-flow step (:func:`heatsim.kernels.overland_flow.flow_step`) computed by
    bands of rows, each with :data:`FLOW_HALO_ROWS` rows of halo, as dask tasks.

    Each task runs the kernel on its band and halo (copies) and keeps the band's rows; the
    halo rows, which the band's artificial edges disturb, are thrown away. Every band uses
    the same time step: the caller agrees it across the whole grid (the water model's CFL
    step from the global maximum depth). Depths and discharges equal the single-array
    step bit for bit; the edge outflow is summed from the assembled edge faces (the same
    volume, summed in another order: equal to round-off).

    ``rows_per_band`` sets the tile height (the full width is one tile across: the x-faces
    of a row are computed left to right in one pass).
    """

    def __init__(self, bed_m: np.ndarray, manning_n: np.ndarray, blocked: np.ndarray, *, cell_size_m: float,
                 open_edges: bool, rows_per_band: int, scheduler=None, flow_options: dict | None = None):
        ny = bed_m.shape[0]
        if rows_per_band < 1:
            raise ValueError("rows_per_band must be >= 1")
        self.bed, self.manning, self.blocked = bed_m, manning_n, blocked
        self.dx, self.open_edges = cell_size_m, open_edges
        self.options = dict(flow_options or {})
        # connected once: an address would otherwise open a client per step (~1 s each); a
        # client opened here is closed when the stepper is closed or collected
        self.scheduler = scheduler_for(scheduler)
        self._closer = (weakref.finalize(self, self.scheduler.close)
                        if self.scheduler is not scheduler and hasattr(self.scheduler, "close") else None)
        self.bands = [(r0, min(r0 + rows_per_band, ny)) for r0 in range(0, ny, rows_per_band)]

    def step(self, depth_m: np.ndarray, qx_m2_s: np.ndarray, qy_m2_s: np.ndarray, dt_s: float) -> float:
        """Advance ``depth_m``, ``qx_m2_s`` and ``qy_m2_s`` in place by ``dt_s``; returns the
        volume [m3] that left through the grid's edges."""
        import dask

        ny = depth_m.shape[0]
        tasks = []
        for r0, r1 in self.bands:
            w0, w1 = max(r0 - FLOW_HALO_ROWS, 0), min(r1 + FLOW_HALO_ROWS, ny)
            window = (self.bed[w0:w1], depth_m[w0:w1], self.manning[w0:w1], self.blocked[w0:w1],
                      qx_m2_s[w0:w1], qy_m2_s[w0:w1 + 1])
            tasks.append(dask.delayed(_band_step)(*[np.array(a) for a in window], r0 - w0, r1 - w0,
                                                  r1 == ny, self.dx, dt_s, self.open_edges, self.options))
        results = dask.compute(*tasks, scheduler=self.scheduler)
        for (r0, r1), (band_depth, band_qx, band_qy) in zip(self.bands, results):
            depth_m[r0:r1] = band_depth
            qx_m2_s[r0:r1] = band_qx
            qy_m2_s[r0:r0 + band_qy.shape[0]] = band_qy
        east_west = float(qx_m2_s[:, -1].sum() - qx_m2_s[:, 0].sum())
        north_south = float(qy_m2_s[-1].sum() - qy_m2_s[0].sum())
        return (east_west + north_south) * dt_s * self.dx


    def close(self) -> None:
        """Close the dask client this stepper opened for a scheduler address (if any)."""
        if self._closer is not None:
            self._closer()


def _band_step(bed, depth, manning, blocked, qx, qy, keep0, keep1, last_band, dx, dt_s, open_edges, options):
    """The flow step on one band and its halo; returns the band's rows (depth, x-faces, and
    the y-faces above each row, plus the bottom edge faces for the last band)."""
    from heatsim.kernels.overland_flow import flow_step

    ny, nx = depth.shape
    flow_step(bed, depth, manning, blocked, qx, qy, cell_size_m=dx, dt_s=dt_s, open_edges=open_edges,
              qy_work=np.empty((ny + 1, nx)), scale_work=np.empty((ny, nx)), row_outflow_m3=np.empty(ny), **options)
    face_end = keep1 + 1 if last_band else keep1
    return depth[keep0:keep1], qx[keep0:keep1], qy[keep0:face_end]

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
from dataclasses import dataclass
from typing import Callable

import numpy as np

from heatsim.errors import InputError


@dataclass(frozen=True)
class Tiling:
    """How a run tiles its grid: chunks of ``chunk_cells`` x ``chunk_cells`` cells, computed
    by ``scheduler`` (:func:`scheduler_for`). What is tiled so far: the heat model's sky view."""

    chunk_cells: int
    scheduler: object = None

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

        try:
            return Client(spec, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise InputError("--scheduler", "scheduler", f"no dask scheduler answers at {spec} ({exc}); start "
                             "one with `dask scheduler` and workers with `dask worker ADDRESS`") from None
    if hasattr(spec, "get") and hasattr(spec, "submit"):  # a distributed.Client
        return spec
    raise InputError("--scheduler", "scheduler", f"{spec!r} is not a scheduler; expected threads, synchronous or "
                     "the address of a dask scheduler such as tcp://127.0.0.1:8786")


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

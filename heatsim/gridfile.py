"""Stacks of grids (time, y, x) that a model fills while it runs: in memory, or streamed to NetCDF.

A model hands each slab (one time index, a band of grid rows) to a store as soon as it is
computed:

- :class:`InMemoryStack` keeps the stack in float32 arrays (small grids, tests);
- :class:`NetCDFStack` writes each slab straight into a new NetCDF-4 file (HDF5 chunks of
  one time x ``chunk_rows`` rows, deflated) and holds nothing; the finished file is opened
  lazily (dask, one time index per chunk). A 1 m town has 65 M cells: the heat model's 24
  hours of four fields would be 25 GB in memory, the water model's 19 depth snapshots 5 GB.

Both finish as the same Dataset: the ``template``'s coordinates, CRS and attributes, with
one float32 variable (time, y, x) per entry of ``variables`` (name -> attributes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr


class InMemoryStack:
    """The stack in float32 arrays, NaN until written."""

    path = None

    def __init__(self, template: xr.Dataset, variables: dict[str, dict]):
        self.template, self.variables = template, variables
        shape = tuple(template.sizes[d] for d in ("time", "y", "x"))
        self.arrays = {name: np.full(shape, np.nan, np.float32) for name in variables}

    def write(self, name: str, index: int, row0: int, row1: int, values: np.ndarray) -> None:
        self.arrays[name][index, row0:row1] = values

    def close(self) -> None:
        pass

    def finish(self) -> xr.Dataset:
        ds = xr.Dataset({name: xr.DataArray(self.arrays[name], dims=("time", "y", "x"), attrs=dict(attrs))
                         for name, attrs in self.variables.items()}, coords=self.template.coords)
        ds.attrs.update(self.template.attrs)
        crs = self.template.rio.crs
        return ds.rio.write_crs(crs).rio.write_transform(self.template.rio.transform()) if crs else ds


class NetCDFStack:
    """The stack written slab by slab into a new NetCDF-4 file at ``path``.

    ``template`` (coordinates, CRS via rioxarray, attributes; no data variables) is written
    first by xarray, so the file reads back as the same Dataset xarray would write from the
    arrays in memory; the variables are then added and filled through h5netcdf.
    """

    def __init__(self, path: Path, template: xr.Dataset, variables: dict[str, dict], chunk_rows: int,
                 file_attrs: dict | None = None):
        import h5netcdf

        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        head = template.copy()
        head.attrs.update(file_attrs or {})
        head.to_netcdf(self.path, engine="h5netcdf")
        self.file = h5netcdf.File(self.path, "a")
        if "coordinates" in self.file.attrs:
            # written for the template's spatial_ref alone; the variables name it as their
            # grid_mapping instead, as xarray does when it writes them from memory
            del self.file.attrs["coordinates"]
        ny, nx = template.sizes["y"], template.sizes["x"]
        chunks = (1, max(1, min(int(chunk_rows), ny)), nx)
        grid_mapping = "spatial_ref" if "spatial_ref" in template.variables else None
        self.variables = {}
        for name, attrs in variables.items():
            var = self.file.create_variable(name, ("time", "y", "x"), np.float32, chunks=chunks,
                                            compression="gzip", compression_opts=4, fillvalue=np.float32(np.nan))
            var.attrs.update(attrs)
            if grid_mapping:
                var.attrs["grid_mapping"] = grid_mapping
            self.variables[name] = var

    def write(self, name: str, index: int, row0: int, row1: int, values: np.ndarray) -> None:
        self.variables[name][index, row0:row1, :] = np.asarray(values, dtype=np.float32)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def finish(self) -> xr.Dataset:
        self.close()
        return open_stack(self.path)


def open_stack(path: Path) -> xr.Dataset:
    """A stack file, lazily: dask arrays of one time index per chunk."""
    return xr.open_dataset(path, engine="h5netcdf", chunks={"time": 1})


def chunk_rows_for(nx: int, cells: int = 1 << 20) -> int:
    """Rows of a chunk of about ``cells`` grid cells (HDF5 chunks of a few MB)."""
    return max(1, cells // max(nx, 1))

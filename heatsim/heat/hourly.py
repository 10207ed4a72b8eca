"""Where the heat model puts its hourly fields: in memory, or streamed to NetCDF by row band.

The model computes the hourly fields of the reported days (surface, air and mean radiant
temperature, UTCI [degC]) one band of grid rows at a time and hands each band to a store.

- :class:`InMemoryHourly` keeps them in arrays (time, y, x): small grids, tests.
- :class:`NetCDFHourly` writes each band straight into ``hourly.nc`` (HDF5 chunks of one
  hour x one band, deflated) and holds nothing: the 1 m town has 65 M cells, and its 24
  hours of four fields would be 25 GB in memory. The finished file is opened lazily (dask,
  one hour per chunk), so the summaries read it one hour at a time.

Both give the same Dataset (same names, attributes, coordinates and CRS); the file is the
run's ``heat/hourly.nc``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from heatsim.grid import Grid

#: model key -> (variable, long name, CF standard name or None)
FIELDS = {"surface": ("surface_temperature", "surface (skin) temperature of roofs, roads and ground",
                      "surface_temperature"),
          "air": ("air_temperature", "near-surface air temperature", "air_temperature"),
          "mrt": ("mean_radiant_temperature", "mean radiant temperature of a standing person", None),
          "utci": ("utci", "Universal Thermal Climate Index", None)}
TIMEZONE = "Europe/Brussels"  # the local zone of the reports (heatsim.heat.model.LOCAL_TZ)
FILE_ATTRS = {"Conventions": "CF-1.8", "title": "heatsim heat model, hourly fields",
              "source": "heatsim heat model (heatsim.heat.model)"}


def _utc_naive(times) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(times)
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _template(grid: Grid, times, data_vars=None) -> xr.Dataset:
    """The Dataset's coordinates, CRS and attributes, with ``data_vars`` or none."""
    ds = xr.Dataset(data_vars or {}, coords={"time": _utc_naive(times), "y": grid.y, "x": grid.x})
    ds.rio.write_crs(grid.crs, inplace=True).rio.write_transform(grid.transform, inplace=True)
    ds.attrs.update(timezone=TIMEZONE)
    ds["time"].attrs.update(long_name="time (UTC)")
    return ds


def _field_attrs(key: str) -> dict:
    name, long_name, standard = FIELDS[key]
    attrs = {"units": "degC", "long_name": long_name}
    if standard is not None:
        attrs["standard_name"] = standard
    return attrs


class InMemoryHourly:
    """The hourly fields in float32 arrays (time, y, x)."""

    path = None

    def __init__(self, grid: Grid, times):
        self.grid, self.times = grid, list(times)
        self.arrays = {key: np.full((len(self.times),) + grid.shape, np.nan, np.float32) for key in FIELDS}

    def write(self, key: str, hour: int, row0: int, row1: int, values: np.ndarray) -> None:
        self.arrays[key][hour, row0:row1] = values

    def finish(self) -> xr.Dataset:
        return _template(self.grid, self.times, {
            name: xr.DataArray(self.arrays[key], dims=("time", "y", "x"), attrs=_field_attrs(key))
            for key, (name, _, _) in FIELDS.items()})


class NetCDFHourly:
    """The hourly fields written band by band into a new NetCDF-4 file at ``path``.

    ``band_rows`` is the HDF5 chunk height: the model writes whole chunks, each once.
    """

    def __init__(self, path: Path, grid: Grid, times, band_rows: int):
        import h5netcdf

        self.path, self.grid, self.times = Path(path), grid, list(times)
        if self.path.exists():
            raise FileExistsError(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        template = _template(grid, self.times)
        template.attrs.update(FILE_ATTRS)
        template.to_netcdf(self.path, engine="h5netcdf")
        self.file = h5netcdf.File(self.path, "a")
        if "coordinates" in self.file.attrs:
            # written for the template's spatial_ref; the fields name it as their grid_mapping instead,
            # as in the file xarray writes from the fields in memory
            del self.file.attrs["coordinates"]
        chunks = (1, max(1, min(int(band_rows), grid.ny)), grid.nx)
        self.variables = {}
        for key, (name, _, _) in FIELDS.items():
            var = self.file.create_variable(name, ("time", "y", "x"), np.float32, chunks=chunks,
                                            compression="gzip", compression_opts=4, fillvalue=np.float32(np.nan))
            var.attrs.update(_field_attrs(key))
            var.attrs["grid_mapping"] = "spatial_ref"
            self.variables[key] = var

    def write(self, key: str, hour: int, row0: int, row1: int, values: np.ndarray) -> None:
        self.variables[key][hour, row0:row1, :] = np.asarray(values, dtype=np.float32)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def finish(self) -> xr.Dataset:
        self.close()
        return open_hourly(self.path)


def open_hourly(path: Path) -> xr.Dataset:
    """A run's ``hourly.nc``, lazily: dask arrays of one hour per chunk."""
    ds = xr.open_dataset(path, engine="h5netcdf", chunks={"time": 1})
    return ds

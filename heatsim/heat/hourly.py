"""The heat model's hourly fields: their names, attributes and store.

The model computes the hourly fields of the reported days (surface, air and mean radiant
temperature, UTCI [degC]) one band of grid rows at a time and writes each band to a store
(:mod:`heatsim.gridfile`): in memory, or straight into the run's ``heat/hourly.nc``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from heatsim.grid import Grid
from heatsim.gridfile import InMemoryStack, NetCDFStack

#: variable -> attributes, all [degC]
FIELDS = {
    "surface_temperature": {"units": "degC", "long_name": "surface (skin) temperature of roofs, roads and ground",
                            "standard_name": "surface_temperature"},
    "air_temperature": {"units": "degC", "long_name": "near-surface air temperature",
                        "standard_name": "air_temperature"},
    "mean_radiant_temperature": {"units": "degC", "long_name": "mean radiant temperature of a standing person"},
    "utci": {"units": "degC", "long_name": "Universal Thermal Climate Index"},
}
TIMEZONE = "Europe/Brussels"  # the local zone of the reports
FILE_ATTRS = {"Conventions": "CF-1.8", "title": "heatsim heat model, hourly fields",
              "source": "heatsim heat model (heatsim.heat.model)"}


def hourly_template(grid: Grid, times) -> xr.Dataset:
    """Coordinates (time in UTC), CRS and attributes of the hourly fields."""
    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    ds = xr.Dataset(coords={"time": index, "y": grid.y, "x": grid.x})
    ds.rio.write_crs(grid.crs, inplace=True).rio.write_transform(grid.transform, inplace=True)
    ds.attrs.update(timezone=TIMEZONE)
    ds["time"].attrs.update(long_name="time (UTC)")
    return ds


def hourly_store(grid: Grid, times, path: Path | None, band_rows: int):
    """An in-memory store (``path`` None) or a new NetCDF file at ``path`` with chunks of ``band_rows`` rows."""
    template = hourly_template(grid, times)
    if path is None:
        return InMemoryStack(template, FIELDS)
    return NetCDFStack(path, template, FIELDS, chunk_rows=band_rows, file_attrs=FILE_ATTRS)

"""A regular grid in a projected CRS: bounds, resolution, transform, coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS

from heatsim.errors import InputError


@dataclass(frozen=True)
class Grid:
    """North-up grid of square cells.

    Parameters
    ----------
    x_min, y_max
        Coordinates of the north-west corner. [m]
    resolution_m
        Cell size. [m]
    nx, ny
        Number of columns and rows.
    crs
        A projected CRS (``"EPSG:31370"`` for Belgian Lambert 72).
    """

    x_min: float
    y_max: float
    resolution_m: float
    nx: int
    ny: int
    crs: str = "EPSG:31370"

    @classmethod
    def from_bounds(cls, bounds: tuple[float, float, float, float], resolution_m: float,
                    crs: str = "EPSG:31370", source: str = "site") -> "Grid":
        """The grid covering ``bounds`` (x_min, y_min, x_max, y_max) [m] with cells of ``resolution_m``.

        The extent must be a whole number of cells, so that every resolution
        that divides it gives grids with the same outer edge.
        """
        if not (math.isfinite(resolution_m) and resolution_m > 0):
            raise InputError(source, "resolution", f"expected a finite cell size > 0 m, got {resolution_m}")
        x_min, y_min, x_max, y_max = bounds
        if resolution_m > min(x_max - x_min, y_max - y_min):
            raise InputError(source, "resolution", f"{resolution_m:g} m is larger than the site "
                             f"({x_max - x_min:g} m x {y_max - y_min:g} m)")
        nx = (x_max - x_min) / resolution_m
        ny = (y_max - y_min) / resolution_m
        if abs(nx - round(nx)) > 1e-6 or abs(ny - round(ny)) > 1e-6:
            raise InputError(source, "resolution",
                             f"{resolution_m} m does not divide the site extent "
                             f"{x_max - x_min:g} m x {y_max - y_min:g} m; choose a divisor such as 1, 2, 5, 10, 25 or 50")
        check_projected(crs, source)
        return cls(float(x_min), float(y_max), float(resolution_m), int(round(nx)), int(round(ny)), crs)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x_min, self.y_max - self.ny * self.resolution_m,
                self.x_min + self.nx * self.resolution_m, self.y_max)

    @property
    def cell_area_m2(self) -> float:
        return self.resolution_m ** 2

    @property
    def transform(self) -> Affine:
        return Affine(self.resolution_m, 0.0, self.x_min, 0.0, -self.resolution_m, self.y_max)

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates. [m]"""
        return self.x_min + (np.arange(self.nx) + 0.5) * self.resolution_m

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates, north to south. [m]"""
        return self.y_max - (np.arange(self.ny) + 0.5) * self.resolution_m

    def dataarray(self, data: np.ndarray, name: str, units: str, nodata=None, description: str = "") -> xr.DataArray:
        """Wrap a (ny, nx) array as a CRS-aware DataArray on this grid."""
        da = xr.DataArray(data, dims=("y", "x"), coords={"y": self.y, "x": self.x}, name=name,
                          attrs={"units": units, "long_name": description})
        da = da.rio.write_crs(self.crs).rio.write_transform(self.transform)
        if nodata is not None:
            da = da.rio.write_nodata(nodata, encoded=False)
        return da

    @classmethod
    def of(cls, obj: xr.DataArray | xr.Dataset, source: str = "site") -> "Grid":
        """The grid of a CRS-aware DataArray or Dataset (refuses a geographic CRS)."""
        crs = obj.rio.crs
        if crs is None:
            raise InputError(source, "crs", "the raster has no CRS; expected a projected CRS such as EPSG:31370")
        check_projected(crs, source)
        res_x, res_y = obj.rio.resolution()
        if not math.isclose(abs(res_x), abs(res_y), rel_tol=1e-9):
            raise InputError(source, "resolution", f"expected square cells, got {abs(res_x)} x {abs(res_y)} m")
        left, bottom, right, top = obj.rio.bounds()
        return cls(float(left), float(top), float(abs(res_x)), obj.rio.width, obj.rio.height, CRS.from_user_input(crs).to_string())

    def same_as(self, other: "Grid") -> bool:
        return (self.shape == other.shape and CRS.from_user_input(self.crs) == CRS.from_user_input(other.crs)
                and all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(self.bounds, other.bounds)))


WEB_MERCATOR = (3857, 3785, 900913)


def check_projected(crs, source: str) -> None:
    """Refuse a geographic CRS: cell sizes in degrees are not metres."""
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError with a long message
        raise InputError(source, "crs", f"not a recognisable CRS: {crs!r}") from exc
    if not parsed.is_projected:
        raise InputError(source, "crs", f"{parsed.to_string()} is geographic; expected a projected CRS in metres such as EPSG:31370")
    if parsed.to_epsg() in WEB_MERCATOR:
        raise InputError(source, "crs", f"{parsed.to_string()} (Web Mercator) stretches lengths by 1/cos(latitude), "
                         "x1.6 in Flanders; expected a survey projection such as EPSG:31370 or EPSG:3812")

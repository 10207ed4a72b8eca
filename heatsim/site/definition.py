"""The ``site.toml`` of a site definition folder, validated with pydantic.

``kind = "schematic"``: the rasters are built from ``vectors/`` on the grid given by
``bounds`` and a resolution, with the terrain model of ``[terrain]``.
``kind = "rasters"``: the rasters are in ``rasters/`` (written by ``heatsim site import``).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from heatsim.landcover import default_table

Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _class(name: str) -> str:
    if name not in default_table().classes:
        raise ValueError(f"unknown land-cover class {name!r}; expected one of {', '.join(default_table().names)}")
    return name


def _soil(name: str) -> str:
    if name not in default_table().soils:
        raise ValueError(f"unknown soil texture {name!r}; expected one of {', '.join(default_table().soils)}")
    return name


class TerrainParameters(BaseModel):
    """Parameters of :mod:`heatsim.site.terrain` (heights in m TAW, distances in m)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    river: str = "Leie"
    river_level_m: Finite
    valley_floor_m: Finite
    south_rise_m: NonNegative
    south_distance_m: Positive
    south_exponent: Positive
    north_rise_m: NonNegative
    north_distance_m: Positive
    north_exponent: Positive
    stream_valley_depth_m: NonNegative
    stream_valley_width_m: Positive
    relief_amplitude_m: NonNegative
    relief_wavelength_m: Positive
    lake_level_below_rim_m: NonNegative = 0.5
    seed: int = 0


class SiteDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str = ""
    kind: Literal["schematic", "rasters"]
    crs: str
    resolution_m: Positive
    bounds: tuple[Finite, Finite, Finite, Finite] | None = None
    background_class: Annotated[str, AfterValidator(_class)] = "cropland"
    default_soil: Annotated[str, AfterValidator(_soil)] = "sandy_loam"
    terrain: TerrainParameters | None = None
    provenance: dict | None = None

    @model_validator(mode="after")
    def _schematic_needs_grid_and_terrain(self):
        if self.kind == "schematic":
            if self.bounds is None:
                raise ValueError("a schematic site needs bounds = [x_min, y_min, x_max, y_max]")
            if self.terrain is None:
                raise ValueError("a schematic site needs a [terrain] table")
        if self.bounds is not None:
            x0, y0, x1, y1 = self.bounds
            if not (x0 < x1 and y0 < y1) or not all(math.isfinite(v) for v in self.bounds):
                raise ValueError(f"bounds must be x_min < x_max and y_min < y_max, got {list(self.bounds)}")
        return self

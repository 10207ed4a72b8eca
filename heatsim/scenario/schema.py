"""The scenario file format, validated with pydantic.

A scenario is YAML:

.. code-block:: yaml

    name: vergroening-marktplein        # = the file name without .yaml
    title: Vergroening Marktplein
    description: ...
    base: baseline                      # inherit site, weather, parameters and interventions
    include: []                         # also take the interventions of these scenarios
    site: harelbeke                     # a bundled site name or a path (relative to this file)
    weather:
      storm: {preset: composite-t20}     # or {file: rain/my-storm.csv}
      heat: {preset: hittegolf-2019, days: 1, spinup_days: 1}
    parameters:                         # override land-cover table values per class
      asphalt: {albedo: 0.12}
    interventions:
      - kind: depave
        name: Marktplein
        geometry: geometries/marktplein.geojson
        to: grass
        fraction: 0.6

Unknown keys are refused everywhere.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from heatsim.landcover import default_table
from heatsim.presets import HEAT_PRESETS, STORM_PRESETS

SLUG = r"^[a-z0-9][a-z0-9-]*$"


def _check_class(name: str) -> str:
    names = default_table().names
    if name not in names:
        raise ValueError(f"unknown land-cover class {name!r}; expected one of {', '.join(names)}")
    return name


ClassName = Annotated[str, AfterValidator(_check_class)]
ClassList = Annotated[list[ClassName], Field(min_length=1)]


def _pervious(name: str) -> str:
    cls = default_table().classes[name]
    if cls["impervious_fraction"] >= 1.0 or cls.obstacle:
        raise ValueError(f"depave cannot turn paving into {name!r}, a sealed class; choose a pervious class "
                         "such as grass, shrub, trees, bare_soil, wetland or permeable_paving")
    return name


PerviousClass = Annotated[ClassName, AfterValidator(_pervious)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Fraction = Annotated[float, Field(ge=0.0, le=1.0, description="share of the eligible cells that change [-]")]


class InterventionBase(Strict):
    name: str | None = Field(None, description="a label for reports")
    geometry: str | dict = Field(description="a GeoJSON file next to the scenario, or an inline GeoJSON object")
    select: list[str] | None = Field(None, description="use only the features whose 'name' property is listed")


class Depave(InterventionBase):
    """Remove paving: sealed cells become ``to`` (grass by default)."""

    kind: Literal["depave"]
    to: PerviousClass = "grass"
    fraction: Fraction = 1.0
    from_classes: ClassList = ["asphalt", "paving"]



class PermeablePaving(InterventionBase):
    """Replace sealed paving by permeable paving."""

    kind: Literal["permeable-paving"]
    fraction: Fraction = 1.0
    from_classes: ClassList = ["asphalt", "paving"]



class GreenRoof(InterventionBase):
    """Turn building roofs into green roofs (``fraction``: the share of roofs that can take one)."""

    kind: Literal["green-roof"]
    fraction: Fraction = 1.0


class PlantTrees(InterventionBase):
    """Plant trees: canopy cover and tree height rise; the ground's class is unchanged."""

    kind: Literal["plant-trees"]
    canopy_fraction: float = Field(gt=0.0, le=1.0, description="canopy cover of a planted cell [-]")
    tree_height_m: float = Field(gt=0.0, le=40.0, description="tree height above ground [m]")
    fraction: Fraction = 1.0
    exclude_classes: ClassList = ["building", "green_roof", "water"]



class OpenStream(InterventionBase):
    """Open a culverted stream: a channel carved along a line (drawn or auto-oriented
    from upstream to downstream), with banks of ``bank_class`` either side."""

    kind: Literal["open-stream"]
    width_m: float = Field(gt=0.0, le=50.0, description="channel width [m]")
    depth_m: float = Field(gt=0.0, le=10.0, description="channel depth below the bank profile [m]")
    bank_class: ClassName = "grass"
    bank_width_m: float = Field(5.0, ge=0.0, le=100.0, description="width of each bank / floodplain strip [m]")
    bank_lowering_m: float = Field(0.3, ge=0.0, le=5.0, description="floodplain lowered below the old ground [m]")


class Water(InterventionBase):
    """A pond (open water) or a wadi (a dry, grassed infiltration basin) dug ``depth_m`` deep."""

    kind: Literal["water"]
    type: Literal["pond", "wadi"]
    depth_m: float = Field(gt=0.0, le=10.0, description="depth below the lowest ground in the geometry [m]")


class SetClass(InterventionBase):
    """Set the land-cover class of the cells in the geometry (optionally only from some classes)."""

    kind: Literal["set-class"]
    to: ClassName
    fraction: Fraction = 1.0
    from_classes: ClassList | None = None
    building_height_m: float | None = Field(None, gt=0.0, le=200.0, description="height when ``to`` is a roof class [m]")


    @model_validator(mode="after")
    def _height(self):
        if self.to in ("building", "green_roof") and self.building_height_m is None:
            raise ValueError("building_height_m is required when 'to' is building or green_roof")
        return self


Intervention = Annotated[Union[Depave, PermeablePaving, GreenRoof, PlantTrees, OpenStream, Water, SetClass],
                         Field(discriminator="kind")]
INTERVENTION_KINDS = ("depave", "permeable-paving", "green-roof", "plant-trees", "open-stream", "water", "set-class")


def _preset_in(registry: dict[str, str], kind: str):
    def check(name: str) -> str:
        if name not in registry:
            raise ValueError(f"unknown {kind} preset {name!r}; expected one of {', '.join(registry)}")
        return name
    return AfterValidator(check)


class StormWeather(Strict):
    """A storm: a named preset or a rain CSV (hyetograph) next to the scenario (heatsim/rain.py)."""

    preset: Annotated[str, _preset_in(STORM_PRESETS, "storm")] | None = None
    file: str | None = Field(None, description="a rain CSV (time, rain_mm_h), relative to the scenario file")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.preset is None) == (self.file is None):
            raise ValueError("give either preset (one of " + ", ".join(STORM_PRESETS) + ") or file (a rain CSV)")
        return self


class HeatWeather(Strict):
    """Hot days: a named preset or a weather CSV next to the scenario (heatsim/weather.py)."""

    preset: Annotated[str, _preset_in(HEAT_PRESETS, "heat")] | None = None
    file: str | None = Field(None, description="a weather CSV, relative to the scenario file")
    days: int = Field(1, ge=1, le=3, description="simulated hot days after the spin-up")
    spinup_days: int = Field(1, ge=0, le=2, description="days simulated first and discarded")
    time_step_s: int = Field(600, ge=60, le=3600, description="model time step [s], a divisor of one hour")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.preset is None) == (self.file is None):
            raise ValueError("give either preset (one of " + ", ".join(HEAT_PRESETS) + ") or file (a weather CSV)")
        if 3600 % self.time_step_s:
            raise ValueError(f"time_step_s must divide one hour (3600 s), got {self.time_step_s}; steps above an "
                             "hour would also miss the afternoon peak of the linearised surface balance")
        return self


class Weather(Strict):
    """What happens, in order: a storm (water model), then hot days (heat model)."""

    storm: StormWeather | None = None
    heat: HeatWeather | None = None


class Outlet(Strict):
    """Where water leaves the site at a held level (a river, a canal): cells under the geometry
    keep their water at ``level_m`` (or at their ground, the DTM's water surface, if no level
    is given); whatever arrives is counted as outflow."""

    name: str = ""
    geometry: str | dict = Field(description="a GeoJSON file next to the scenario, or an inline GeoJSON object")
    level_m: float | None = Field(None, description="held water level [m above datum]; default: the ground")


class Inflow(Strict):
    """A stream entering the site from its upstream catchment: a hydrograph (CSV with time in
    minutes and discharge_m3_s) spread over the cells of a point or line."""

    name: str = ""
    geometry: str | dict = Field(description="a point or a line (GeoJSON file or inline object)")
    hydrograph: str = Field(description="a hydrograph CSV next to the scenario (heatsim/rain.py format)")


class WaterSetup(Strict):
    """Boundary conditions and settings of the water model."""

    edge: Literal["open", "closed"] = Field(
        "open", description="open: water leaves the grid's edges at critical depth (counted); closed: walls")
    outlets: list[Outlet] = []
    inflows: list[Inflow] = []
    culvert_diameter_m: float = Field(1.0, gt=0.05, le=10.0,
                                      description="diameter of the pipes under the site's culverted cells [m]")
    culvert_manning_n: float = Field(0.013, gt=0.0, le=0.1,
                                     description="Manning n of the pipes [s m-1/3] (concrete pipe, Chow 1959)")
    sewer_capacity_mm_h: float = Field(32.4, ge=0.0, le=500.0,
                                       description="rain the sewer inlets take from connected surfaces [mm/h]")
    after_storm_h: float = Field(1.0, ge=0.0, le=48.0, description="time simulated after the rain stops [h]")
    snapshot_interval_min: int = Field(10, ge=1, le=360, description="interval of the depth snapshots [min]")
    time_stepping: Literal["local", "global"] = Field(
        "local", description="local: the deep cells (streams, ponds) take sub-steps of the rest of the grid's "
        "step (local time stepping, about 3x faster); global: one CFL step for the whole grid (the published "
        "scheme; also used when the flow step runs by tiles)")


class ScenarioFile(Strict):
    """One scenario file as written (before inheritance is resolved)."""

    name: str = Field(pattern=SLUG)
    title: str
    description: str = ""
    base: str | None = None
    include: list[str] = []
    site: str | None = None
    resolution_m: float | None = Field(None, gt=0.0)
    weather: Weather | None = None
    parameters: dict[str, dict[str, float]] = {}
    water: WaterSetup | None = None
    interventions: list[Intervention] = []

"""The land-cover table: heatsim's classes and their physical parameters.

The table lives in ``heatsim/data/landcover.toml``; every parameter value there
carries a reference. This module loads it, checks it, applies per-class
overrides from a scenario's ``parameters`` section and turns a parameter into a
lookup array indexed by class code, so that a model can map a ``landcover``
raster to a parameter raster with ``lut[landcover]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Mapping

import numpy as np

from heatsim.errors import InputError

TABLE_FILE = "heatsim/data/landcover.toml"

ET_KINDS = ("none", "ponded", "soil", "vegetation", "open_water")
INFILTRATION_KINDS = ("site-soil", "none", "capped", "substrate", "open_water")

#: Parameters every class must have, with their unit (for docs and checks).
CLASS_PARAMETERS: dict[str, str] = {
    "impervious_fraction": "1",
    "albedo": "1",
    "emissivity": "1",
    "heat_capacity_j_m3_k": "J m-3 K-1",
    "conductivity_w_m_k": "W m-1 K-1",
    "roughness_length_m": "m",
    "crop_coefficient": "1",
    "root_depth_m": "m",
    "leaf_area_index": "m2 m-2",
    "interception_capacity_mm": "mm",
    "manning_n_s_m13": "s m-1/3",
    "depression_storage_mm": "mm",
    "sewer_connected_fraction": "1",
}
#: Parameters only some classes have (tied to their infiltration kind).
OPTIONAL_CLASS_PARAMETERS: dict[str, str] = {
    "infiltration_cap_mm_h": "mm h-1",
    "substrate_water_capacity_mm": "mm",
}
SOIL_PARAMETERS: dict[str, str] = {
    "porosity": "1",
    "effective_porosity": "1",
    "suction_head_mm": "mm",
    "saturated_conductivity_mm_h": "mm h-1",
    "field_capacity": "1",
    "wilting_point": "1",
}
#: Physical bounds a value must respect (also for overrides).
BOUNDS: dict[str, tuple[float, float]] = {
    "impervious_fraction": (0.0, 1.0),
    "albedo": (0.0, 1.0),
    "emissivity": (0.0, 1.0),
    "sewer_connected_fraction": (0.0, 1.0),
    "porosity": (0.0, 1.0),
    "effective_porosity": (0.0, 1.0),
    "field_capacity": (0.0, 1.0),
    "wilting_point": (0.0, 1.0),
}
_POSITIVE = {"heat_capacity_j_m3_k", "conductivity_w_m_k", "roughness_length_m", "manning_n_s_m13"}


@dataclass(frozen=True)
class Value:
    """A parameter value with its source: a reference key and a note."""

    value: float
    ref: str
    note: str = ""


@dataclass(frozen=True)
class LandCoverClass:
    """One land-cover class. ``params`` maps a parameter name to its :class:`Value`."""

    name: str
    code: int
    label: str
    colour: str
    obstacle: bool
    et_kind: str
    infiltration: str
    params: Mapping[str, Value]

    def __getitem__(self, parameter: str) -> float:
        return self.params[parameter].value


@dataclass(frozen=True)
class SoilTexture:
    """A soil texture class with Green-Ampt and retention parameters."""

    name: str
    code: int
    params: Mapping[str, Value]

    def __getitem__(self, parameter: str) -> float:
        return self.params[parameter].value


@dataclass(frozen=True)
class LandCoverTable:
    """heatsim's land-cover classes, soil textures and the references behind them."""

    classes: Mapping[str, LandCoverClass]
    soils: Mapping[str, SoilTexture]
    references: Mapping[str, str] = field(repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.classes)

    def by_code(self, code: int) -> LandCoverClass:
        for cls in self.classes.values():
            if cls.code == code:
                return cls
        raise KeyError(code)

    def code(self, name: str) -> int:
        return self.classes[name].code

    def codes(self, names: list[str] | tuple[str, ...]) -> list[int]:
        return [self.classes[n].code for n in names]

    def lookup(self, parameter: str, fill: float = np.nan) -> np.ndarray:
        """A float64 array ``lut`` with ``lut[code]`` = the parameter of that class.

        Codes without a class hold ``fill``. Index it with a ``landcover`` array.
        """
        lut = np.full(max(c.code for c in self.classes.values()) + 1, fill, dtype=np.float64)
        for cls in self.classes.values():
            if parameter in cls.params:
                lut[cls.code] = cls[parameter]
        return lut

    def soil_lookup(self, parameter: str, fill: float = np.nan) -> np.ndarray:
        """Like :meth:`lookup`, for the soil-texture table (index with ``soil``)."""
        lut = np.full(max(s.code for s in self.soils.values()) + 1, fill, dtype=np.float64)
        for soil in self.soils.values():
            lut[soil.code] = soil[parameter]
        return lut

    def with_overrides(self, overrides: Mapping[str, Mapping[str, float]], source: str) -> "LandCoverTable":
        """A copy with per-class parameter values replaced (a scenario's ``parameters``).

        Unknown classes, unknown parameters and out-of-bounds values raise
        :class:`InputError` naming ``source`` and the field.
        """
        classes = dict(self.classes)
        for name, params in overrides.items():
            if name not in classes:
                raise InputError(source, f"parameters.{name}",
                                 f"unknown land-cover class; expected one of {', '.join(classes)}")
            cls = classes[name]
            new_params = dict(cls.params)
            for pname, value in params.items():
                field_path = f"parameters.{name}.{pname}"
                if pname not in cls.params:
                    known = ", ".join(cls.params)
                    raise InputError(source, field_path, f"unknown parameter for class {name}; expected one of {known}")
                _check_bounds(pname, value, source, field_path)
                new_params[pname] = Value(float(value), "scenario", f"overridden in {source}")
            classes[name] = replace(cls, params=MappingProxyType(new_params))
        return replace(self, classes=MappingProxyType(classes))


def _check_bounds(name: str, value: float, source: str, field_path: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
        raise InputError(source, field_path, f"expected a finite number, got {value!r}")
    lo, hi = BOUNDS.get(name, (0.0, np.inf))
    if name in _POSITIVE and value <= 0:
        raise InputError(source, field_path, f"expected a value > 0, got {value}")
    if not lo <= value <= hi:
        raise InputError(source, field_path, f"expected a value in [{lo}, {hi}], got {value}")


def _parse_value(raw, source: str, field_path: str, references: Mapping[str, str]) -> Value:
    if not isinstance(raw, dict) or "value" not in raw or "ref" not in raw:
        raise InputError(source, field_path, "expected an inline table {value = ..., ref = ...}")
    if raw["ref"] not in references:
        raise InputError(source, field_path, f"reference {raw['ref']!r} is not in [references]")
    name = field_path.rsplit(".", 1)[-1]
    _check_bounds(name, raw["value"], source, field_path)
    return Value(float(raw["value"]), raw["ref"], raw.get("note", ""))


def parse_table(data: dict, source: str) -> LandCoverTable:
    """Build and check a :class:`LandCoverTable` from the parsed TOML ``data``."""
    references = data.get("references", {})
    classes: dict[str, LandCoverClass] = {}
    seen_codes: set[int] = set()
    for name, raw in data.get("classes", {}).items():
        where = f"classes.{name}"
        code = raw.get("code")
        if not isinstance(code, int) or not 1 <= code <= 254 or code in seen_codes:
            raise InputError(source, f"{where}.code", "expected a unique integer code in 1..254 (0 and 255 are nodata)")
        seen_codes.add(code)
        if raw.get("et_kind") not in ET_KINDS:
            raise InputError(source, f"{where}.et_kind", f"expected one of {ET_KINDS}")
        if raw.get("infiltration") not in INFILTRATION_KINDS:
            raise InputError(source, f"{where}.infiltration", f"expected one of {INFILTRATION_KINDS}")
        params = {}
        for pname in list(CLASS_PARAMETERS) + list(OPTIONAL_CLASS_PARAMETERS):
            if pname in raw:
                params[pname] = _parse_value(raw[pname], source, f"{where}.{pname}", references)
            elif pname in CLASS_PARAMETERS:
                raise InputError(source, f"{where}.{pname}", "missing parameter")
        if raw["infiltration"] == "capped" and "infiltration_cap_mm_h" not in params:
            raise InputError(source, f"{where}.infiltration_cap_mm_h", "required when infiltration = 'capped'")
        if raw["infiltration"] == "substrate" and "substrate_water_capacity_mm" not in params:
            raise InputError(source, f"{where}.substrate_water_capacity_mm", "required when infiltration = 'substrate'")
        classes[name] = LandCoverClass(
            name=name, code=code, label=str(raw.get("label", name)), colour=str(raw.get("colour", "#888888")),
            obstacle=bool(raw.get("obstacle", False)), et_kind=raw["et_kind"], infiltration=raw["infiltration"],
            params=MappingProxyType(params),
        )
    soils: dict[str, SoilTexture] = {}
    for name, raw in data.get("soils", {}).items():
        where = f"soils.{name}"
        params = {p: _parse_value(raw.get(p), source, f"{where}.{p}", references) for p in SOIL_PARAMETERS}
        soils[name] = SoilTexture(name=name, code=int(raw["code"]), params=MappingProxyType(params))
    return LandCoverTable(MappingProxyType(classes), MappingProxyType(soils), MappingProxyType(dict(references)))


@lru_cache(maxsize=1)
def default_table() -> LandCoverTable:
    """heatsim's bundled land-cover table (read once)."""
    text = resources.files("heatsim").joinpath("data/landcover.toml").read_text(encoding="utf-8")
    return parse_table(tomllib.loads(text), TABLE_FILE)

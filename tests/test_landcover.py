"""The land-cover table: complete, sourced, physically bounded, overridable."""

import math

import numpy as np
import pytest

from heatsim.errors import InputError
from heatsim.landcover import CLASS_PARAMETERS, SOIL_PARAMETERS, default_table

REQUIRED_CLASSES = ["building", "asphalt", "paving", "permeable_paving", "railway", "bare_soil", "cropland", "grass",
                    "shrub", "trees", "water", "wetland", "green_roof"]


def test_required_classes_have_every_parameter_with_a_known_reference():
    table = default_table()
    assert set(REQUIRED_CLASSES) <= set(table.names)
    for cls in table.classes.values():
        for pname in CLASS_PARAMETERS:
            value = cls.params[pname]
            assert value.ref in table.references, (cls.name, pname)
            assert math.isfinite(value.value)
            # a value taken from a source says where in it (table, row or derivation)
            if value.ref != "definition":
                assert value.note.strip(), (cls.name, pname)
    for soil in table.soils.values():
        for pname in SOIL_PARAMETERS:
            assert soil.params[pname].ref in table.references


def test_codes_are_unique_and_lookup_maps_codes_to_values():
    table = default_table()
    codes = [c.code for c in table.classes.values()]
    assert len(codes) == len(set(codes))
    lut = table.lookup("albedo")
    for cls in table.classes.values():
        assert lut[cls.code] == cls["albedo"]
    assert np.isnan(lut[0])


def test_asphalt_daily_damping_depth_is_about_ten_centimetres():
    # d = sqrt(2 k / (C omega)); issue 3 and Oke (1987) give ~0.1 m for asphalt over a day.
    asphalt = default_table().classes["asphalt"]
    omega = 2 * math.pi / 86400.0
    d = math.sqrt(2 * asphalt["conductivity_w_m_k"] / (asphalt["heat_capacity_j_m3_k"] * omega))
    assert 0.09 < d < 0.11


def test_sealed_classes_are_impervious_and_natural_ones_are_not():
    table = default_table()
    for name in ("building", "asphalt", "paving", "green_roof"):
        assert table.classes[name]["impervious_fraction"] == 1.0
    for name in ("grass", "trees", "cropland", "permeable_paving", "bare_soil"):
        assert table.classes[name]["impervious_fraction"] == 0.0
    assert table.classes["permeable_paving"].infiltration == "capped"
    assert table.classes["permeable_paving"]["infiltration_cap_mm_h"] > 0


def test_green_ampt_soils_order_by_conductivity():
    soils = default_table().soils
    ks = [soils[n]["saturated_conductivity_mm_h"] for n in ("sand", "loamy_sand", "sandy_loam", "loam", "clay")]
    assert ks == sorted(ks, reverse=True)
    for soil in soils.values():
        assert soil["wilting_point"] < soil["field_capacity"] < soil["porosity"]


def test_overrides_replace_values_without_touching_the_default():
    table = default_table()
    new = table.with_overrides({"asphalt": {"albedo": 0.3}}, "s.yaml")
    assert new.classes["asphalt"]["albedo"] == 0.3
    assert new.classes["asphalt"].params["albedo"].ref == "scenario"
    assert table.classes["asphalt"]["albedo"] == 0.10


@pytest.mark.parametrize("overrides, field", [
    ({"asfalt": {"albedo": 0.3}}, "parameters.asfalt"),
    ({"asphalt": {"albedoo": 0.3}}, "parameters.asphalt.albedoo"),
    ({"asphalt": {"albedo": 1.3}}, "parameters.asphalt.albedo"),
    ({"grass": {"manning_n_s_m13": 0.0}}, "parameters.grass.manning_n_s_m13"),
])
def test_bad_overrides_name_the_field(overrides, field):
    with pytest.raises(InputError) as info:
        default_table().with_overrides(overrides, "s.yaml")
    assert info.value.source == "s.yaml"
    assert info.value.field == field

"""Scenario files: loading, inheritance, and what each intervention does to a site."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import TINY_RES, cell_box, polygon_geojson

from heatsim.landcover import default_table
from heatsim.paths import scenarios_dir
from heatsim.scenario import apply_scenario, load_scenario
from heatsim.site.store import load_site

T = default_table()
BUNDLED = sorted(scenarios_dir().glob("*.yaml"))
KEY_SCENARIOS = {"baseline", "vergroening-marktplein", "openleggen-gaverbeek", "ontharding", "combined"}


def test_the_key_scenarios_are_bundled():
    assert KEY_SCENARIOS <= {p.stem for p in BUNDLED}
    assert len(BUNDLED) >= 8


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_scenario_loads_and_applies(path, harelbeke_5m):
    scenario = load_scenario(path)
    assert scenario.weather.storm.preset == "composite-t20"
    assert scenario.weather.heat.preset == "hittegolf-2019"
    before = {name: harelbeke_5m[name].values.copy() for name in harelbeke_5m.data_vars}
    new, reports, changed = apply_scenario(harelbeke_5m, scenario)
    assert len(reports) == len(scenario.interventions)
    if scenario.name == "baseline":
        assert not changed.any()
    else:
        assert changed.any() and all(r.cells_changed > 0 for r in reports), [r.label for r in reports]
    # the input site is never mutated
    for name, values in before.items():
        assert np.array_equal(harelbeke_5m[name].values, values), name
    # and the new site differs exactly where the scenario says it changed something
    differs = np.zeros(changed.shape, dtype=bool)
    for name in before:
        differs |= new[name].values != before[name]
    assert np.array_equal(differs, changed)


def test_combined_holds_every_project(harelbeke_5m):
    combined = load_scenario(scenarios_dir() / "combined.yaml")
    singles = [p for p in BUNDLED if p.stem not in ("baseline", "combined")]
    assert set(combined.includes) == {p.stem for p in singles}
    assert len(combined.interventions) == sum(len(load_scenario(p).interventions) for p in singles)


def test_marktplein_becomes_greener(harelbeke_5m):
    scenario = load_scenario(scenarios_dir() / "vergroening-marktplein.yaml")
    new, reports, changed = apply_scenario(harelbeke_5m, scenario)
    before = harelbeke_5m["landcover"].values[changed]
    after = new["landcover"].values[changed]
    assert (after == T.code("grass")).sum() > 0 and (before == T.code("grass")).sum() == 0
    assert new["impervious"].values[changed].mean() < harelbeke_5m["impervious"].values[changed].mean()
    assert new["canopy"].values[changed].sum() > harelbeke_5m["canopy"].values[changed].sum()


def test_inheritance_merges_parameters_and_interventions(scenario_dir):
    scenario_dir.geometry("sq", polygon_geojson(cell_box(10, 20, 5, 15)))
    scenario_dir("parent", """\
        name: parent
        title: parent
        site: SITE
        weather: {storm: {preset: composite-t2}}
        parameters: {asphalt: {albedo: 0.2, emissivity: 0.9}}
        interventions:
          - {kind: depave, geometry: geometries/sq.geojson, to: grass}
    """)
    child = scenario_dir("child", """\
        name: child
        title: child
        base: parent
        weather: {heat: {preset: warme-zomerdag}}
        parameters: {asphalt: {albedo: 0.3}}
        interventions:
          - {kind: plant-trees, geometry: geometries/sq.geojson, canopy_fraction: 0.5, tree_height_m: 8}
    """)
    scenario = load_scenario(child)
    assert scenario.bases == ["parent"]
    assert scenario.weather.storm.preset == "composite-t2" and scenario.weather.heat.preset == "warme-zomerdag"
    assert scenario.parameters == {"asphalt": {"albedo": 0.3, "emissivity": 0.9}}
    assert scenario.table.classes["asphalt"]["albedo"] == 0.3
    assert [i.spec.kind for i in scenario.interventions] == ["depave", "plant-trees"]


def _apply(scenario_dir, tiny_site_folder, body: str, geometry=None, name="s"):
    if geometry is not None:
        scenario_dir.geometry("g", geometry)
    path = scenario_dir(name, f"""\
        name: {name}
        title: test
        site: SITE
        interventions:
{body}
    """)
    scenario = load_scenario(path)
    site = load_site(tiny_site_folder)
    return site, *apply_scenario(site, scenario)


@pytest.mark.parametrize("shrink", [0.0, 1.3, 2.4])
def test_area_changed_matches_the_geometry_area(scenario_dir, tiny_site_folder, shrink):
    """A polygon over the asphalt square changes its cells; the area changed equals the
    geometry's area to within the cells on its boundary."""
    from shapely.geometry import Polygon

    coords = cell_box(12, 27, 7, 22, shrink=shrink)
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: set-class, geometry: geometries/g.geojson, to: grass, from_classes: [asphalt]}
    """, polygon_geojson(coords))
    poly = Polygon(coords)
    boundary_cells = poly.length / TINY_RES + 4
    assert abs(reports[0].area_changed_m2 - poly.area) <= boundary_cells * TINY_RES**2
    assert reports[0].geometry_area_m2 == pytest.approx(poly.area)
    assert reports[0].transitions == {("asphalt", "grass"): int(changed.sum())}


def test_rotated_polygon_area_matches_within_half_a_cell_along_its_perimeter(scenario_dir, tiny_site_folder):
    from shapely import affinity
    from shapely.geometry import Polygon

    square = Polygon(cell_box(12, 28, 7, 23, shrink=1.7))
    poly = affinity.rotate(square, 31, origin="centroid")
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: set-class, geometry: geometries/g.geojson, to: wetland}
    """, polygon_geojson(list(poly.exterior.coords)))
    assert abs(reports[0].area_changed_m2 - poly.area) <= 0.5 * poly.length * TINY_RES
    assert abs(reports[0].area_changed_m2 - poly.area) / poly.area < 0.05


@settings(max_examples=40, deadline=None)
@given(fraction=st.floats(0.0, 1.0), rows=st.integers(1, 30), cols=st.integers(1, 50), seed=st.integers(0, 10**6))
def test_choose_takes_the_rounded_share_of_the_eligible_cells(fraction, rows, cols, seed):
    from pathlib import Path

    from heatsim.scenario.apply import _choose
    from heatsim.scenario.loader import ResolvedIntervention

    rng = np.random.default_rng(seed)
    eligible = rng.random((rows, cols)) < 0.6
    item = ResolvedIntervention(spec=None, geometry=None, source=Path(f"s{seed}.yaml"), index=0)
    chosen = _choose(eligible, fraction, item)
    assert chosen.sum() == round(fraction * eligible.sum())
    assert not (chosen & ~eligible).any()
    assert np.array_equal(chosen, _choose(eligible, fraction, item))


def test_fraction_is_exact_reproducible_and_spread(scenario_dir, tiny_site_folder):
    body = """\
          - {kind: depave, geometry: geometries/g.geojson, to: grass, fraction: 0.3}
    """
    geom = polygon_geojson(cell_box(10, 30, 5, 25))
    _, new1, rep1, ch1 = _apply(scenario_dir, tiny_site_folder, body, geom)
    _, new2, rep2, ch2 = _apply(scenario_dir, tiny_site_folder, body, geom)
    assert rep1[0].cells_changed == round(0.3 * 400)
    assert np.array_equal(ch1, ch2)
    rows = np.nonzero(ch1)[0]
    assert rows.min() <= 12 and rows.max() >= 27  # spread over the square, not its first rows


def test_depave_updates_imperviousness_and_never_touches_buildings(scenario_dir, tiny_site_folder):
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: depave, geometry: geometries/g.geojson, to: grass}
    """, polygon_geojson(cell_box(0, 40, 0, 60)))
    assert np.all(new["landcover"].values[10:30, 5:25] == T.code("grass"))
    assert np.all(new["impervious"].values[10:30, 5:25] == 0.0)
    assert np.all(new["landcover"].values[10:20, 35:45] == T.code("building"))
    assert np.array_equal(new["elevation"].values, site["elevation"].values)


def test_green_roof_keeps_building_height(scenario_dir, tiny_site_folder):
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: green-roof, geometry: geometries/g.geojson}
    """, polygon_geojson(cell_box(0, 40, 30, 60)))
    assert reports[0].transitions == {("building", "green_roof"): 100}
    assert np.all(new["building_height"].values[10:20, 35:45] == 9.0)


def test_plant_trees_adds_canopy_except_on_roofs(scenario_dir, tiny_site_folder):
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: plant-trees, geometry: geometries/g.geojson, canopy_fraction: 0.4, tree_height_m: 11}
    """, polygon_geojson(cell_box(0, 40, 0, 60)))
    canopy = new["canopy"].values
    assert np.all(canopy[10:20, 35:45] == 0.0)
    assert np.all(canopy[~np.isin(new["landcover"].values, T.codes(["building"]))] == pytest.approx(0.4))
    assert np.all(new["tree_height"].values[canopy > 0] == 11.0)
    assert reports[0].canopy_added_m2 == pytest.approx(0.4 * (2400 - 100) * TINY_RES**2, rel=1e-5)
    assert np.array_equal(new["landcover"].values, site["landcover"].values)


def test_pond_is_dug_and_its_volume_reported(scenario_dir, tiny_site_folder):
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, """\
          - {kind: water, type: pond, geometry: geometries/g.geojson, depth_m: 1.5}
    """, polygon_geojson(cell_box(32, 38, 30, 40)))
    old = site["elevation"].values[changed]
    bed = new["elevation"].values[changed]
    assert np.allclose(bed, old.min() - 1.5)
    assert reports[0].storage_created_m3 == pytest.approx(float((old - bed).sum()) * TINY_RES**2, rel=1e-6)
    assert np.all(new["landcover"].values[changed] == T.code("water"))


def test_open_stream_replaces_the_culvert_with_a_falling_channel(scenario_dir, tiny_site_folder):
    from conftest import TINY_ORIGIN

    y = TINY_ORIGIN[1] - 30.5 * TINY_RES  # along the culvert row
    # drawn east (downstream, lower) to west: heatsim must turn it round
    line = {"type": "LineString", "coordinates": [[TINY_ORIGIN[0] + 295, y], [TINY_ORIGIN[0] + 5, y]]}
    site, new, reports, changed = _apply(scenario_dir, tiny_site_folder, f"""\
          - {{kind: open-stream, geometry: {line}, width_m: 4, depth_m: 1.0, bank_class: wetland, bank_width_m: 5}}
    """.replace("'", '"'))
    assert new["culvert"].values[30, 2:58].sum() == 0
    row = new["elevation"].values[30]
    assert np.all(np.diff(row[1:59]) <= 1e-6)  # the bed falls towards the east, never rises
    assert np.allclose(row[1:59], site["elevation"].values[30, 1:59] - 1.0, atol=0.06)
    assert np.all(new["landcover"].values[30, 1:59] == T.code("water"))
    assert np.all(new["stream"].values[30, 1:59] == 1)
    assert (new["landcover"].values == T.code("wetland")).sum() > 0
    assert any("reversed" in n for n in reports[0].notes)

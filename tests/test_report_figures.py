"""The report's maps and plots: shared colour scales, neutral zero differences, zoom boxes,
every section drawn, in both languages."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import cell_box, polygon_geojson

from heatsim.cli import main
from heatsim.errors import InputError
from heatsim.report import figures as F

WEATHER = ("weather:\n  storm: {preset: composite-t2}\n"
           "  heat: {preset: warme-zomerdag, days: 1, spinup_days: 0, time_step_s: 900}\n"
           "water: {after_storm_h: 0.25}\n")


@pytest.fixture(scope="module")
def comparisons(tmp_path_factory, tiny_site_folder):
    """Two real comparisons on the tiny site: a de-paved square against the base, and the
    base against itself."""
    import os

    root = tmp_path_factory.mktemp("figures")
    scenarios = root / "scenarios"
    (scenarios / "geometries").mkdir(parents=True)
    base = scenarios / "base.yaml"
    base.write_text(f"name: base\ntitle: base\nsite: {tiny_site_folder}\n" + WEATHER)
    import json

    (scenarios / "geometries" / "square.geojson").write_text(json.dumps(polygon_geojson(cell_box(10, 30, 5, 25))))
    green = scenarios / "green.yaml"
    green.write_text("name: green\ntitle: green\nbase: base\ninterventions:\n"
                     "  - {kind: depave, geometry: geometries/square.geojson, to: grass}\n")
    old = os.getcwd()
    os.chdir(root)  # results/ goes here
    try:
        assert main(["compare", str(base), str(green), "--out", str(root / "cmp"), "--no-report"]) == 0
        assert main(["compare", str(base), str(base), "--out", str(root / "same"), "--no-report"]) == 0
    finally:
        os.chdir(old)
    return F.load_comparison(root / "cmp"), F.load_comparison(root / "same")


def _images(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_maps_shown_side_by_side_share_one_colour_scale(comparisons):
    cmp, _ = comparisons
    for key in ("surface_temperature_15h", "flood_depth"):
        fig, _ = F.small_multiples_figure(cmp, F.QUANTITIES[key], "nl")
        limits = {im.get_clim() for im in _images(fig)}
        plt.close(fig)
        assert len(_images(fig)) == 2 and len(limits) == 1, key
    fig, _ = F.difference_maps_figure(cmp, F.QUANTITIES["surface_temperature_15h"], "en")
    limits = {im.get_clim() for im in _images(fig)}
    plt.close(fig)
    assert len(limits) == 1
    (low, high), = limits
    assert high > 0 and low == -high  # centred on zero


def test_a_scenario_against_itself_differs_nowhere_and_is_drawn_neutral(comparisons):
    _, same = comparisons
    for key in ("surface_temperature_15h", "air_temperature_04h", "flood_depth", "infiltration"):
        fig, _ = F.difference_maps_figure(same, F.QUANTITIES[key], "nl")
        images = _images(fig)
        assert images, key
        for im in images:
            data = np.ma.masked_invalid(im.get_array())
            assert data.count() > 0 and np.all(data.compressed() == 0.0), key
            colours = im.to_rgba(data.compressed())
            # RdBu_r at its centre is a near-white grey: neither blue (cooler) nor red (warmer)
            assert np.all(colours[:, :3] > 0.95), key
            assert np.allclose(colours[:, 0], colours[:, 2], atol=0.01), key
        plt.close(fig)


def test_the_depaved_square_is_blue_and_the_zoom_box_holds_it(comparisons):
    cmp, _ = comparisons
    diff = cmp.differences(F.QUANTITIES["surface_temperature_15h"])["green"]
    assert np.nanmean(diff[10:30, 5:25]) < -5.0
    box = F.zoom_bounds(cmp, cmp.changed["green"])
    rows, cols = np.nonzero(cmp.changed["green"])
    assert rows.size > 0
    x, y = cmp.grid.x[cols], cmp.grid.y[rows]
    assert box[0] <= x.min() and x.max() <= box[2] and box[1] <= y.min() and y.max() <= box[3]
    assert F.zoom_bounds(cmp, np.zeros(cmp.grid.shape, bool)) is None


def test_difference_limits_follow_the_notable_change_and_default_to_one():
    assert F.difference_limit([np.zeros((3, 3))]) == 1.0
    change = np.zeros((10, 10))
    change[0, :] = -4.0  # a project's own cells
    change[1:, :] = 0.01  # the air around it, below 5 % of the largest change
    assert F.difference_limit([change]) == 4.0
    assert F.shared_limits([np.array([[20.0, 30.0], [np.nan, 25.0]])], from_zero=True)[0] == 0.0


def test_every_section_gets_its_figures_in_both_languages(comparisons, tmp_path):
    cmp, _ = comparisons
    captions = {}
    for lang in ("nl", "en"):
        figures = F.draw_report_figures(cmp.folder, tmp_path / lang, lang)
        assert {f.section for f in figures} >= {"overview", "heat", "water", "exposure", "walking", "districts"}
        for f in figures:
            assert f.path.stat().st_size > 10_000 and f.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        captions[lang] = [f.caption for f in figures]
    assert len(captions["nl"]) == len(captions["en"])
    assert all(a != b for a, b in zip(captions["nl"], captions["en"]))
    with pytest.raises(InputError, match="fr"):
        F.draw_report_figures(cmp.folder, tmp_path / "fr", "fr")


def test_layer_file_names_stay_inside_the_folder_and_apart():
    from heatsim.report.layers import file_names

    names = file_names(["baseline", "x#2", "x-2", "../../escaped", "a b/c"])
    assert names == {"baseline": "baseline", "x#2": "x-2", "x-2": "x-2-2", "../../escaped": "escaped",
                     "a b/c": "a-b-c"}

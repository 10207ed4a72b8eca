"""The HTML report of a comparison: escaping, languages, never overwriting; its words; QGIS styles."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from conftest import HOSTILE_DESCRIPTION, HOSTILE_NAME, HOSTILE_TITLE

from heatsim.errors import InputError
from heatsim.report.figures import Figure
from heatsim.report.html import write_report
from heatsim.report.i18n import HEADLINE, INDICATORS, TEXTS, number, text
from heatsim.report.qml import write_qml


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and its visible text."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def comparison(tiny_comparison, tmp_path) -> Path:
    """A private copy of the tiny comparison, to write reports into."""
    return Path(shutil.copytree(tiny_comparison, tmp_path / "cmp"))


def pngs(folder: Path, n: int) -> list[Path]:
    """``n`` small PNG pictures (figures of our own: these tests are about the page, not the drawing)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for k in range(n):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, k])
        paths.append(folder / f"figure-{k}.png")
        fig.savefig(paths[-1], dpi=50)
        plt.close(fig)
    return paths


def assert_no_markup_injected(page: str):
    elements = Elements(page)
    tags = [t for t, _ in elements.tags]
    assert "script" not in tags
    assert not any(k.startswith("on") for _, attrs in elements.tags for k in attrs)
    # every image is an embedded PNG: the injected <img src=x> never became an element
    assert all(attrs.get("src", "").startswith("data:image/png;base64,") for t, attrs in elements.tags if t == "img")
    assert not re.search(r"(?i)\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page)  # no external URL
    return "".join(elements.text)


def test_scenario_names_titles_and_descriptions_are_escaped(comparison):
    report = write_report(comparison, figures=[])
    page = report.read_text(encoding="utf-8")
    visible = assert_no_markup_injected(page)
    # the texts are there, as text, in the names/titles/descriptions of the overview and the table headers
    for hostile in (HOSTILE_NAME, HOSTILE_TITLE, " ".join(HOSTILE_DESCRIPTION.split())):
        assert hostile in visible
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE_NAME not in page and HOSTILE_TITLE not in page


def test_district_names_and_figure_captions_from_files_are_escaped(comparison, tmp_path):
    """District names come from a site's site.json and captions from a figure drawer: markup in
    them stays text. The comparison's indicators get a district named like markup."""
    table = json.loads((comparison / "indicators.json").read_text())
    district = "<b onmouseover=alert(3)>Wijk & co</b>"
    for row in list(table["rows"]):
        if ".by_district.Tiny." in row["indicator"]:
            table["rows"].append(dict(row, indicator=row["indicator"].replace(".Tiny.", f".{district}.")))
    (comparison / "indicators.json").write_text(json.dumps(table))
    figure = Figure(pngs(tmp_path, 1)[0], "heat", "Kaart <img src=y onerror=alert(4)>")
    page = write_report(comparison, figures=[figure]).read_text(encoding="utf-8")
    visible = assert_no_markup_injected(page)
    assert district in visible and "Kaart <img src=y onerror=alert(4)>" in visible
    assert page.count("<img ") == 1


def test_dutch_is_the_default_and_english_differs_in_its_headings(comparison):
    dutch = write_report(comparison, figures=[])
    english = write_report(comparison, lang="en", figures=[])
    assert dutch.name == "report.html" and english.name == "report-en.html"
    nl, en = dutch.read_text(encoding="utf-8"), english.read_text(encoding="utf-8")
    assert '<html lang="nl">' in nl and '<html lang="en">' in en

    def headings(page):
        return re.findall(r"<h2>(.*?)</h2>", page)

    assert "Wat werd vergeleken" in headings(nl) and "What was compared" in headings(en)
    assert "Wat het model is en wat niet" in headings(nl) and "What the model is and is not" in headings(en)
    assert len(headings(nl)) == len(headings(en)) and not set(headings(nl)) & set(headings(en))
    # the headline table has the scenarios, with Dutch labels and units, and signed differences
    headline = nl[nl.index('id="headline-table"'):]
    headline = headline[:headline.index("</table>")]
    for name in ("base", "groen", "&lt;img src=x onerror=alert(1)&gt;"):
        assert name in headline
    assert "Overstroomde oppervlakte" in headline and "in de bodem zakt" in headline
    # de-paving the square: cooler afternoon surface, more infiltration (a signed, coloured difference)
    row = re.search(r"Oppervlaktetemperatuur om 15 uur, gemiddeld</td>.*?</tr>", headline, re.S).group(0)
    assert re.search(r'class="num better"[^>]*>\u2212\d', row)


def test_the_model_section_states_balances_and_checks_with_numbers(comparison):
    page = write_report(comparison, lang="en", figures=[]).read_text(encoding="utf-8")
    section = page[page.index('id="model"'):page.index('id="provenance"')]
    summary_dir = Path(json.loads((comparison / "runs.json").read_text())["base"])
    summary = json.loads((summary_dir / "summary.json").read_text())
    assert f"{summary['water']['mass_balance_error_rel']:.1e}" in section
    assert f"{summary['heat']['energy_closure_rel']:.1e}" in section
    for phrase in ("Lake at rest", "Stoker", "Ritter", "kinematic-wave", "closed depression", "plain NumPy",
                   "published", "32.4 mm/h", "schematic"):
        assert phrase in section, phrase
    provenance = page[page.index('id="provenance"'):]
    manifest = json.loads((summary_dir / "manifest.json").read_text())
    assert manifest["run_key"] in provenance and str(summary_dir) in provenance
    assert next(iter(manifest["inputs_sha256"].values())) in provenance


def test_an_existing_report_is_never_replaced(comparison):
    first = write_report(comparison, figures=[])
    first.write_text("an earlier report")
    second = write_report(comparison, figures=[])
    third = write_report(comparison, figures=[])
    assert (first.name, second.name, third.name) == ("report.html", "report-2.html", "report-3.html")
    assert first.read_text() == "an earlier report"
    assert not [p for p in comparison.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_figures_are_embedded_in_their_sections_with_their_captions(comparison, tmp_path):
    first, second = pngs(tmp_path, 2)
    figures = [Figure(first, "water", "eerste kaart"), Figure(second, "walking", "tweede kaart")]
    page = write_report(comparison, figures=figures).read_text(encoding="utf-8")
    water = page[page.index('id="water"'):page.index('id="exposure"')]
    walking = page[page.index('id="walking"'):page.index('id="districts"')]
    assert water.count("<img ") == 1 and "eerste kaart" in water
    assert walking.count("<img ") == 1 and "tweede kaart" in walking
    assert "Figuur 1" in water and "Figuur 2" in walking


def test_unknown_language_is_an_input_error(comparison):
    with pytest.raises(InputError, match="unknown report language 'fr'"):
        text("title", "fr")
    with pytest.raises(InputError, match="nl .*en"):
        write_report(comparison, lang="fr", figures=[])
    assert not list(comparison.glob("report*"))


def test_every_text_and_headline_indicator_exists_in_both_languages():
    for key, phrases in TEXTS.items():
        assert set(phrases) == {"nl", "en"} and all(phrases.values()), key
    for key in HEADLINE:
        assert INDICATORS[key].nl and INDICATORS[key].en and INDICATORS[key].nl != INDICATORS[key].en


@pytest.mark.parametrize(("value", "digits", "lang", "sign", "expected"), [
    (1234.56, 1, "nl", False, "1.234,6"),
    (1234.56, 1, "en", False, "1,234.6"),
    (-0.25, 2, "nl", True, "\u22120,25"),
    (3.0, 0, "en", True, "+3"),
    (0.0, 2, "nl", True, "0"),
    (0.004, 1, "en", True, "+0.004"),  # a small change never reads as no change
    (3.9e-16, 1, "nl", False, "3,9e-16"),
    (None, 1, "nl", False, "\u2013"),
])
def test_numbers_are_written_the_way_the_language_writes_them(value, digits, lang, sign, expected):
    assert number(value, digits, lang, sign) == expected


def test_a_qgis_style_has_an_interpolated_ramp_with_the_stops_and_limits(tmp_path):
    tif = tmp_path / "groen-minus-base-surface_temperature_15h.tif"
    qml = write_qml(tif, "RdBu_r", -3.0, 3.0, "groen minus base [K]", diverging=True)
    assert qml == tif.with_suffix(".qml")
    root = ET.parse(qml).getroot()
    assert root.tag == "qgis"
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor" and renderer.get("band") == "1"
    assert float(renderer.get("classificationMin")) == -3.0 and float(renderer.get("classificationMax")) == 3.0
    shader = renderer.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "INTERPOLATED"
    assert float(shader.get("minimumValue")) == -3.0 and float(shader.get("maximumValue")) == 3.0
    items = shader.findall("item")
    assert len(items) == 11
    values = [float(i.get("value")) for i in items]
    assert values[0] == -3.0 and values[-1] == 3.0 and np.all(np.diff(values) > 0)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", i.get("color")) for i in items)
    # the colours are matplotlib's RdBu_r: blue for cooling, near-white at 0, red for warming
    import matplotlib
    from matplotlib.colors import to_hex
    cmap = matplotlib.colormaps["RdBu_r"]
    assert [i.get("color") for i in items] == [to_hex(cmap(f)) for f in np.linspace(0, 1, 11)]
    assert items[5].get("label") == "0.0 K"


def test_a_qgis_style_can_have_any_number_of_stops_and_an_off_centre_diverging_ramp(tmp_path):
    qml = write_qml(tmp_path / "x.tif", "viridis", 10.0, 60.0, "surface temperature [C]", stops=5)
    items = ET.parse(qml).getroot().findall(".//colorrampshader/item")
    assert [float(i.get("value")) for i in items] == [10.0, 22.5, 35.0, 47.5, 60.0]
    qml = write_qml(tmp_path / "y.tif", "RdBu_r", -1.0, 4.0, "d [mm]", diverging=True, stops=6)
    items = ET.parse(qml).getroot().findall(".//colorrampshader/item")
    zero = [i for i in items if float(i.get("value")) == 0.0][0]
    import matplotlib
    from matplotlib.colors import to_hex
    assert zero.get("color") == to_hex(matplotlib.colormaps["RdBu_r"](0.5))  # the centre colour sits at 0
    with pytest.raises(ValueError):
        write_qml(tmp_path / "z.tif", "RdBu_r", 1.0, 4.0, "d", diverging=True)

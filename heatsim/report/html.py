"""The self-contained HTML report of a comparison folder.

:func:`write_report` writes ``report.html`` (Dutch) or ``report-en.html`` (English) into
the comparison folder: what was compared, the headline table, the maps and plots per
section, people exposed, cool places within 15 minutes, tables per district, what the
model is and is not (assumptions, balances, checks with known answers) and provenance.

The page is one file: figures are embedded as base64 PNG data URIs, the CSS is inline,
there is no JavaScript, no web font and no external URL, and a Content-Security-Policy
forbids scripts and loading anything but embedded images, so the page opens offline and
a string from a scenario file can never run. Every text that comes from a file (scenario
names, titles, descriptions, districts, indicator names, paths) is escaped: the page is
built from :class:`Markup` (trusted HTML made here) and plain strings, which
:func:`render` always escapes.
"""

from __future__ import annotations

import base64
import html
import os
import struct
import tempfile
import urllib.parse
from datetime import datetime
from pathlib import Path

from heatsim import __version__
from heatsim.heat.published import ASPHALT_15H_C, ASPHALT_MINUS_GRASS_K, UHI_NIGHT_K
from heatsim.paths import current_umask, new_path
from heatsim.report.data import Comparison, load_comparison
from heatsim.report.i18n import (DISTRICT_INDICATORS, EXPOSURE, HEADLINE, Indicator, check_lang, indicator,
                                 number, preset_text, text)

MAX_INTERVENTIONS = 8  # per scenario in the overview; "combined" has 20 (all are in its manifest.json)
ANALYTIC_TESTS = ("test.lake", "test.dam_break", "test.kinematic", "test.depression", "test.mass", "test.twins",
                  "test.conduction", "test.green_ampt", "test.published")

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       line-height: 1.45; color: #1a1a1a; background: #fff; margin: 0 auto; padding: 1.5rem; max-width: 70rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; border-bottom: 2px solid #c33; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.sub, .note, figcaption, caption { color: #444; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
nav ol { columns: 2; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; vertical-align: top; }
th { background: #f1f1f1; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.better { background: #e3f2e1; color: #145214; }
td.worse { background: #fbe3e0; color: #8a1c0f; }
td.code, .code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .8rem; word-break: break-all; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
td ul { margin: 0; padding-left: 1.1rem; }
.scenario-title { display: block; font-weight: normal; font-size: .85rem; color: #333; }
ul.checks li { margin-bottom: .4rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, tr { break-inside: avoid; page-break-inside: avoid; }
  td.better, td.worse { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .wide { overflow: visible; }
}
@page { margin: 15mm; }
"""

# only the embedded images may load; no script at all, not even one smuggled in by a scenario text
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class Markup(str):
    """HTML made by this module, trusted as is; every other string is escaped by :func:`render`.

    Adding a plain string to Markup escapes the string (as markupsafe does), so ``+`` can
    never smuggle text in as HTML.
    """

    def __add__(self, other):
        return render(self, other)

    def __radd__(self, other):
        return render(other, self)


def render(*parts) -> Markup:
    """Concatenate parts: Markup stays as it is, anything else is escaped text."""
    return Markup("".join(p if isinstance(p, Markup) else html.escape(str(p), quote=True) for p in parts))


def tag(name: str, *content, **attrs) -> Markup:
    """``<name attrs>content</name>``; attribute values are always escaped. ``cls`` gives class."""
    if "cls" in attrs:
        attrs["class"] = attrs.pop("cls")
    # event handler attributes are never made here, whatever a caller passes
    if any(k.lower().startswith("on") for k in attrs):
        raise ValueError("no inline event handlers in the report")
    attributes = "".join(f' {k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items() if v is not None)
    return Markup(f"<{name}{attributes}>") + render(*content) + Markup(f"</{name}>")


def table(header: list, rows: list[list], caption=None, cls: str | None = None, id: str | None = None) -> Markup:
    """A table; a cell is text, Markup, or a ready ``<td>``/``<th>`` (Markup starting with ``<t``)."""
    def cell(c, name):
        return c if isinstance(c, Markup) and c.startswith(("<td", "<th")) else tag(name, c)

    head = tag("thead", tag("tr", *[cell(h, "th") for h in header]))
    body = tag("tbody", *[tag("tr", *[cell(c, "td") for c in row]) for row in rows])
    return tag("div", tag("table", tag("caption", caption) if caption else Markup(""), head, body, cls=cls, id=id),
               cls="wide")


# --------------------------------------------------------------------------- the report


def write_report(comparison_dir: Path, lang: str = "nl", figures=None) -> Path:
    """Write the HTML report of a comparison folder into it; returns the file written.

    Parameters
    ----------
    comparison_dir
        A folder written by ``heatsim compare`` (indicators.json, runs.json, maps/).
    lang
        ``"nl"`` (default, ``report.html``) or ``"en"`` (``report-en.html``).
    figures
        :class:`heatsim.report.figures.Figure` records to embed; None draws them with
        :func:`heatsim.report.figures.draw_report_figures` into a temporary folder.

    An existing report is never replaced: the next free name (``report-2.html``, ...) is
    used. The file appears whole (written to a temporary file in the folder, then linked
    into place).
    """
    check_lang(lang)
    comparison_dir = Path(comparison_dir)
    comparison = load_comparison(comparison_dir)
    if figures is None:
        from heatsim.report.figures import draw_report_figures

        with tempfile.TemporaryDirectory(prefix="heatsim-report-") as tmp:
            # the PNGs are embedded: they need not outlive the page
            document = render_report(comparison, draw_report_figures(comparison_dir, Path(tmp), lang), lang)
    else:
        document = render_report(comparison, list(figures), lang)
    name = "report.html" if lang == "nl" else f"report-{lang}.html"
    return _write_new(comparison_dir / name, document)


def render_report(comparison: Comparison, figures: list, lang: str = "nl") -> str:
    """The whole page as a string (see :func:`write_report`)."""
    from heatsim.report.figures import SECTIONS

    check_lang(lang)
    t = _texts(lang)
    by_section: dict[str, list] = {}
    for figure in figures:
        by_section.setdefault(figure.section if figure.section in SECTIONS else "other", []).append(figure)
    counter = iter(range(1, 10_000))
    site = comparison.summaries.get(comparison.base, {}).get("site", {})
    site_name = str(site.get("name") or "?")
    parts = [
        ("overview", t("sec.overview"),
         _overview(comparison, lang) + _figures(by_section.get("overview"), lang, counter)),
        ("headline", t("sec.headline"), _headline(comparison, lang)),
        ("heat", t("sec.heat"), tag("p", t("heat.intro")) + _figures(by_section.get("heat"), lang, counter, True)),
        ("water", t("sec.water"), tag("p", t("water.intro")) + _figures(by_section.get("water"), lang, counter, True)),
        ("exposure", t("sec.exposure"), _exposure(comparison, lang) + _figures(by_section.get("exposure"), lang,
                                                                              counter)),
        ("walking", t("sec.walking"), _walking(comparison, lang) + _figures(by_section.get("walking"), lang, counter)),
        ("districts", t("sec.districts"), _districts(comparison, lang) + _figures(by_section.get("districts"), lang,
                                                                                 counter)),
    ]
    if by_section.get("other"):
        parts.append(("other", t("sec.other"), _figures(by_section["other"], lang, counter)))
    parts += [
        ("gis", t("sec.gis"), _gis(comparison, lang)),
        ("model", t("sec.model"), _model(comparison, lang)),
        ("provenance", t("sec.provenance"), _provenance(comparison, lang)),
    ]
    title = t("title", site=site_name[:1].upper() + site_name[1:])
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    nav = tag("nav", tag("h2", t("contents")),
              tag("ol", *[tag("li", tag("a", heading, href=f"#{anchor}")) for anchor, heading, _ in parts]))
    body = render(
        tag("header", tag("h1", title), tag("p", t("subtitle", version=__version__, time=made), cls="sub"),
            tag("p", t("no_js"), cls="note")),
        nav,
        *[tag("section", tag("h2", heading), content, id=anchor) for anchor, heading, content in parts],
    )
    head = render(Markup('<meta charset="utf-8">'),
                  Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
                  Markup(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'),
                  Markup(f'<meta name="generator" content="heatsim {html.escape(__version__)}">'),
                  tag("title", title), tag("style", Markup(CSS)))
    return f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n'


def _texts(lang):
    return lambda key, **values: text(key, lang, **values)


# --------------------------------------------------------------------------- sections


def _scenario_header(comparison: Comparison, label: str, key: str, lang: str) -> Markup:
    """A column header naming the scenario (its label) with its title below."""
    info = comparison.info[label]
    title = info.title if info.title != info.name else ""
    return tag("th", text(key, lang, name=label), tag("span", title, cls="scenario-title") if title else "",
               scope="col")


def _overview(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    base_summary, base_manifest = c.summaries.get(c.base, {}), c.manifests.get(c.base, {})
    site = base_summary.get("site", {})
    weather = []
    storm = base_manifest.get("weather", {}).get("storm")
    if storm:
        weather.append(t("overview.storm", storm=preset_text(storm.get("preset") or storm.get("file"), lang)))
    hot = base_manifest.get("weather", {}).get("heat")
    if hot:
        day = base_summary.get("heat", {}).get("day") or ""
        what = preset_text(hot.get("preset") or hot.get("file"), lang)
        weather.append(t("overview.hot_day", day=f"{day}, {what}" if day else what))
    parts = [tag("p", t("overview.intro", n=len(c.scenarios), base=c.base, site=site.get("name", "?"),
                        scenarios=t("scenario.one" if len(c.scenarios) == 1 else "scenario.many"),
                        res=_plain(site.get("resolution_m"), lang)))]
    if weather:
        parts.append(tag("p", t("overview.weather", weather=", ".join(weather))))
    rows = []
    for label in c.labels:
        info = c.info[label]
        shown = info.interventions[:MAX_INTERVENTIONS]
        more = len(info.interventions) - len(shown)
        interventions = (tag("ul", *[tag("li", i) for i in shown],
                             tag("li", t("more_interventions", n=more)) if more else "")
                         if info.interventions else t("none"))
        role = t("role.base") if label == c.base else t("role.scenario")
        rows.append([role, tag("td", tag("strong", label)), info.title, info.description or t("missing"),
                     interventions])
    parts.append(table([t("col.role"), t("col.name"), t("col.title"), t("col.description"), t("col.interventions")],
                       rows))
    return render(*parts)


def _value_cell(value, ind: Indicator, lang: str) -> Markup:
    return tag("td", number(None if value is None else value * ind.scale, ind.digits, lang), cls="num")


def _difference(diff, ind: Indicator, lang: str) -> tuple[str, str, str | None]:
    """A difference as (text with its sign, CSS class, "better"/"worse" in words or None)."""
    shown = None if diff is None else diff * ind.scale
    cls, judgement = "num", None
    if shown and ind.better:
        good = (shown < 0) == (ind.better == "lower")
        cls += " better" if good else " worse"
        judgement = text("better" if good else "worse", lang)
    return number(shown, ind.digits, lang, sign=True), cls, judgement


def _difference_cell(diff, ind: Indicator, lang: str) -> Markup:
    shown, cls, judgement = _difference(diff, ind, lang)
    return tag("td", shown, cls=cls, title=judgement)


def _indicator_table(c: Comparison, keys, lang: str, caption: str | None = None, id: str | None = None) -> Markup:
    """Rows of indicators: label, unit, base value and per scenario the difference."""
    t = _texts(lang)
    header = [t("col.indicator"), t("col.unit"), _scenario_header(c, c.base, "col.base", lang)]
    header += [_scenario_header(c, label, "col.diff", lang) for label in c.scenarios]
    rows = []
    for key in keys:
        if key not in c.rows:
            continue
        ind = indicator(key)
        rows.append([ind.label(lang), ind.unit_in(lang), _value_cell(c.value(key, c.base), ind, lang)]
                    + [_difference_cell(c.difference(key, label), ind, lang) for label in c.scenarios])
    return table(header, rows, caption, id=id)


def _headline(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    return render(tag("p", t("headline.intro") + " " + t("overview.how_to_read")),
                  _indicator_table(c, HEADLINE, lang, t("headline.caption"), id="headline-table"))


def _figures(figures, lang: str, counter, empty_note: bool = False) -> Markup:
    if not figures:
        return tag("p", text("no_figures", lang), cls="note") if empty_note else Markup("")
    out = []
    for figure in figures:
        data = Path(figure.path).read_bytes()
        size = _png_size(data)
        n = next(counter)
        attrs = {"width": size[0], "height": size[1]} if size else {}
        out.append(tag("figure",
                       tag("img", src="data:image/png;base64," + base64.b64encode(data).decode("ascii"),
                           alt=figure.caption, **attrs),
                       tag("figcaption", tag("strong", text("figure", lang, n=n) + ". "), figure.caption),
                       id=f"figure-{n}"))
    return render(*out)


def _exposure(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    if not any(k in c.rows for k in EXPOSURE):
        return tag("p", t("no_districts"), cls="note")
    header = [t("col.indicator"), t("col.unit"), _scenario_header(c, c.base, "col.value", lang)]
    header += [_scenario_header(c, label, "col.value", lang) for label in c.scenarios]
    rows = []
    for key in EXPOSURE:
        if key not in c.rows:
            continue
        ind = indicator(key)
        row = [ind.label(lang), ind.unit_in(lang), _value_cell(c.value(key, c.base), ind, lang)]
        for label in c.scenarios:
            value = c.value(key, label)
            shown, cls, judgement = _difference(c.difference(key, label), ind, lang)
            row.append(tag("td", number(None if value is None else value * ind.scale, ind.digits, lang),
                           Markup("<br>"), tag("small", f"({shown})"), cls=cls, title=judgement))
        rows.append(row)
    return render(tag("p", t("exposure.intro")), table(header, rows, t("exposure.caption")))


def _district_table(c: Comparison, section: str, suffix: str, ind: Indicator, lang: str,
                    town_key: str | None = None, caption: str | None = None) -> Markup:
    """Rows of districts (and the whole town): base value, per scenario the difference."""
    t = _texts(lang)
    districts = c.districts(section, [suffix])
    if not districts:
        return Markup("")
    header = [t("col.district"), _scenario_header(c, c.base, "col.base", lang)]
    header += [_scenario_header(c, label, "col.diff", lang) for label in c.scenarios]
    rows = []
    for district, keys in districts.items():
        key = keys[suffix]
        rows.append([district, _value_cell(c.value(key, c.base), ind, lang)]
                    + [_difference_cell(c.difference(key, label), ind, lang) for label in c.scenarios])
    if town_key and town_key in c.rows:
        rows.append([tag("strong", t("col.town")), _value_cell(c.value(town_key, c.base), ind, lang)]
                    + [_difference_cell(c.difference(town_key, label), ind, lang) for label in c.scenarios])
    unit = ind.unit_in(lang)
    return table(header, rows, caption or (ind.label(lang) + (f" [{unit}]" if unit else "")))


def _walking(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    suffix = "residents_beyond_15_min_of_a_cool_place"
    ind = DISTRICT_INDICATORS[("exposure", suffix)]
    town = f"exposure.{suffix}"
    tables = _district_table(c, "exposure", suffix, ind, lang, town, t("walking.caption") + f" [{ind.unit_in(lang)}]")
    if not tables and town in c.rows:
        tables = _indicator_table(c, [town], lang)
    return render(tag("p", t("walking.intro")), tables)


def _districts(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    out = []
    for (section, suffix), ind in DISTRICT_INDICATORS.items():
        if suffix == "residents_beyond_15_min_of_a_cool_place":
            continue  # its own section
        out.append(_district_table(c, section, suffix, ind, lang))
    if not any(out):
        return tag("p", t("no_districts"), cls="note")
    return render(tag("p", t("districts.intro")), *out)


def _gis(c: Comparison, lang: str) -> Markup:
    """The GeoTIFFs next to the report (difference maps in maps/, the runs' maps in layers/)
    and their QGIS styles, as relative links."""
    t = _texts(lang)
    tifs = sorted((c.folder / "maps").glob("*.tif")) + sorted((c.folder / "layers").glob("*.tif"))
    if not tifs:
        return tag("p", t("gis.none"), cls="note")
    rows = []
    for tif in tifs:
        rel, qml = tif.relative_to(c.folder).as_posix(), tif.with_suffix(".qml")
        style = qml.relative_to(c.folder).as_posix()
        rows.append([tag("td", tag("a", rel, href=urllib.parse.quote(rel)), cls="code"),
                     tag("td", tag("a", style, href=urllib.parse.quote(style)) if qml.is_file() else t("gis.no_style"),
                         cls="code")])
    return render(tag("p", t("gis.intro")), table([t("col.layer"), t("col.style")], rows))


def _model(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    parts = [tag("p", t("model.is")), tag("p", tag("strong", t("model.is_not")))]
    parts += [tag("h3", t("model.assumptions")), tag("ul", *[tag("li", a) for a in _assumptions(c, lang)])]
    # balances of each run
    rows = []
    for label in c.labels:
        summary = c.summaries.get(label, {})
        mass = summary.get("water", {}).get("mass_balance_error_rel", c.value("water.mass_balance_error_rel", label))
        energy = summary.get("heat", {}).get("energy_closure_rel", c.value("heat.energy_closure_rel", label))
        rows.append([label, tag("td", _scientific(mass, lang), cls="num"), tag("td", _scientific(energy, lang),
                                                                              cls="num")])
    parts += [tag("h3", t("model.run_checks")), tag("p", t("model.run_checks_intro")),
              table([t("col.name"), t("col.mass_error"), t("col.energy_error")], rows)]
    published = _published_checks(c, lang)
    if published:
        site = c.summaries.get(c.base, {}).get("site", {})
        day = c.summaries.get(c.base, {}).get("heat", {}).get("day", "?")
        bundled_day = site.get("name") == "harelbeke" and day == "2019-07-25"
        parts += [tag("h3", t("model.published")),
                  tag("p", t("model.published_intro", res=_plain(site.get("resolution_m"), lang), day=day)
                      + ("" if bundled_day else " " + t("model.published_other_day"))),
                  published]
    parts += [tag("h3", t("model.tests")), tag("p", t("model.tests_intro")),
              tag("ul", *[tag("li", t(key)) for key in ANALYTIC_TESTS], cls="checks")]
    return render(*parts)


def _assumptions(c: Comparison, lang: str) -> list[str]:
    from heatsim.population import SHARE_OVER_65, SHARE_UNDER_5

    t = _texts(lang)
    summary, manifest = c.summaries.get(c.base, {}), c.manifests.get(c.base, {})
    site = summary.get("site", {})
    name = str(site.get("name") or "?")
    bundled = (Path(__file__).resolve().parents[2] / "inputs" / name / "README.md").is_file()
    out = [t("assume.site_bundled" if bundled else "assume.site_other", site=name)]
    if site.get("resolution_m") is not None:
        out.append(t("assume.resolution", res=_plain(site["resolution_m"], lang)))
    exposure = summary.get("exposure", {})
    source = str(exposure.get("source") or "")
    if source.startswith("schematic"):
        out.append(t("assume.residents_schematic", residents=number(exposure.get("residents"), 0, lang),
                     over_65=number(100 * SHARE_OVER_65, 0, lang), under_5=number(100 * SHARE_UNDER_5, 0, lang)))
    elif source:
        out.append(t("assume.residents_data", source=source))
    water = manifest.get("water_setup", {})
    if water.get("sewer_capacity_mm_h") is not None:
        rate = float(water["sewer_capacity_mm_h"])
        out.append(t("assume.sewer", rate=number(rate, 1, lang), lsha=number(rate * 10_000 / 3600, 0, lang)))
    storm = manifest.get("weather", {}).get("storm")
    if storm:
        out.append(t("assume.storm", what=preset_text(storm.get("preset") or storm.get("file"), lang),
                     depth=number(storm.get("depth_mm"), 1, lang),
                     hours=_plain((storm.get("duration_s") or 0) / 3600, lang),
                     after=_plain(water.get("after_storm_h"), lang)))
    hot = manifest.get("weather", {}).get("heat")
    if hot:
        out.append(t("assume.weather", day=summary.get("heat", {}).get("day", "?"),
                     what=preset_text(hot.get("preset") or hot.get("file"), lang),
                     spinup=hot.get("spinup_days", "?")))
    out.append(t("assume.heat_limits"))
    return out


def _published_checks(c: Comparison, lang: str) -> Markup:
    """The published ranges of the heat tests, applied to this comparison's base run."""
    t = _texts(lang)
    asphalt = c.value("heat.surface_temperature_15h_c.by_class.asphalt", c.base)
    grass = c.value("heat.surface_temperature_15h_c.by_class.grass", c.base)
    uhi = c.value("heat.uhi_night_k", c.base)
    checks = []
    if asphalt is not None:
        checks.append((t("check.asphalt"), ASPHALT_15H_C, asphalt, "Santamouris 2013"))
    if asphalt is not None and grass is not None:
        checks.append((t("check.grass_cooler"), ASPHALT_MINUS_GRASS_K, asphalt - grass, "Armson et al. 2012"))
    if uhi is not None:
        checks.append((t("check.uhi"), UHI_NIGHT_K, uhi, "CurieuzeNeuzen 2021; Oke 1973"))
    if not checks:
        return Markup("")
    rows = []
    for what, (low, high), value, source in checks:
        inside = low <= value <= high if low > 0 else low < value <= high
        rows.append([what, f"{number(low, 1, lang)} \u2013 {number(high, 1, lang)} \u00b0C",
                     tag("td", f"{number(value, 1, lang)} \u00b0C", cls="num " + ("better" if inside else "worse")),
                     t("in_range" if inside else "out_of_range"), source])
    return table([t("col.check"), t("col.range"), t("col.this_run"), "", t("col.source")], rows)


def _provenance(c: Comparison, lang: str) -> Markup:
    t = _texts(lang)
    parts = [tag("p", t("prov.intro", folder=str(c.folder.resolve()), time=c.made.strftime("%Y-%m-%d %H:%M:%S")))]
    rows = []
    inputs: dict[tuple[str, str], list[str]] = {}
    for label in c.labels:
        run, manifest = c.runs.get(label), c.manifests.get(label, {})
        if not manifest:
            rows.append([label, tag("td", str(run or ""), cls="code"), t("prov.missing_run"), "", ""])
            continue
        wall = manifest.get("wall_time_s")
        rows.append([label, tag("td", str(run), cls="code"), str(manifest.get("heatsim", "?")),
                     tag("td", str(manifest.get("run_key", "?")), cls="code"),
                     tag("td", t("seconds", s=number(wall, 1, lang)) if wall is not None else t("missing"),
                         cls="num")])
        for path, digest in (manifest.get("inputs_sha256") or {}).items():
            inputs.setdefault((str(path), str(digest)), []).append(label)
    parts.append(table([t("col.name"), t("col.run_folder"), t("col.version"), t("col.run_key"), t("col.wall_time")],
                       rows))
    if inputs:
        everyone = [label for label in c.labels if c.manifests.get(label)]
        input_rows = [[tag("td", path, cls="code"), tag("td", digest, cls="code"),
                       t("all_runs") if users == everyone else ", ".join(users)]
                      for (path, digest), users in sorted(inputs.items())]
        parts += [tag("h3", t("prov.inputs")), table([t("col.file"), t("col.sha256"), t("col.used_by")], input_rows)]
    return render(*parts)


# --------------------------------------------------------------------------- helpers


def _scientific(value, lang: str) -> str:
    """A relative error: 3.9e-16 (nl 3,9e-16); an exact zero is 0."""
    if value is None:
        return text("missing", lang)
    if value == 0:
        return "0"
    core = f"{float(value):.1e}"
    return core.replace(".", ",") if lang == "nl" else core


def _plain(value, lang: str) -> str:
    """A number with at most two decimals and no trailing zeros: 1 h, 0.25 h, 19.5 mm."""
    if value is None:
        return text("missing", lang)
    shown, decimal = number(float(value), 2, lang), "," if lang == "nl" else "."
    return shown.rstrip("0").rstrip(decimal) if decimal in shown else shown


def _png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG from its IHDR chunk (None when it is not a PNG)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _write_new(path: Path, document: str) -> Path:
    """Write ``document`` to ``path`` or, when that exists, to the next free name; never replace a file.

    The text goes to a temporary file in the same folder, which is then hard-linked under
    its final name: a link fails if the name was taken meanwhile (we then take the next
    name), where a rename would silently replace it.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(document)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a report is for others to read
        while True:
            target = new_path(path)
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links: rename, after checking the name is free
                if target.exists():
                    continue
                os.rename(tmp, target)
                return target
    finally:
        Path(tmp).unlink(missing_ok=True)

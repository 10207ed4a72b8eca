"""The figures of a comparison's report: maps and plots drawn in the report's language.

:func:`draw_report_figures` reads a comparison folder (``heatsim compare``) and the run
folders it names, and draws into ``out_dir``:

- an overview of the town with every scenario's changed cells outlined;
- small multiples (the scenarios side by side on one colour scale) of afternoon surface
  temperature, maximum flood depth and walking time to a cool place;
- difference maps (scenario minus base) on one symmetric scale per quantity, blue =
  cooler / drier / fewer hours, with a zoom on each scenario's intervention below;
- the diurnal course of surface and air temperature in the urban core, in green in
  town and in the country; the storm hydrographs at the culvert and the outlets;
- bar charts of indicators per district and scenario.

Every map names the scenario, the quantity, the time and the unit, and carries a colour
bar with units, a scale bar, a north arrow, Lambert 72 coordinates, district outlines
and names, the rivers and main roads, and the changed cells outlined.

Colour maps (all perceptually uniform or ColorBrewer colour-blind safe): ``inferno``
for temperatures and hours of heat stress, ``Blues`` for water depth, ``viridis`` for
infiltration and walking time, ``RdBu_r`` centred on zero for differences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import rioxarray  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from scipy import ndimage  # noqa: E402

from heatsim import __version__  # noqa: E402
from heatsim.errors import InputError  # noqa: E402
from heatsim.grid import Grid  # noqa: E402

#: report sections, in the order the report shows them
SECTIONS = ("overview", "heat", "water", "exposure", "walking", "districts")
DPI = 110

#: colours that tell the scenarios apart in outlines, lines and bars (Okabe & Ito 2008,
#: colour-blind safe), base first
SCENARIO_COLOURS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#F0E442")
CHANGED_COLOUR = "#FF00FF"  # magenta: on none of the colour maps used
DIFFERENCE_CMAP = "RdBu_r"  # ColorBrewer RdBu: diverging, colour-blind safe; negative = blue


@dataclass(frozen=True)
class Figure:
    """One picture of the report: ``path`` a PNG file, ``section`` one of :data:`SECTIONS`,
    ``caption`` plain text in the report's language (escaped by the renderer)."""

    path: Path
    section: str
    caption: str


@dataclass(frozen=True)
class Quantity:
    """A map quantity of a run folder: its GeoTIFF, colour map and how it is named."""

    key: str
    file: str  # relative to the run folder
    cmap: str
    unit: str
    name: dict  # lang -> name
    time: dict  # lang -> time description (may use {day} and {storm})
    #: values at or below this are not drawn (a film of rain on every street is not a flood)
    shown_above: float | None = None
    #: the colour scale starts at 0 (depths, hours, times) instead of the 1st percentile
    from_zero: bool = False
    #: a fixed colour scale (vmin, vmax) where a threshold gives it its meaning
    limits: tuple[float, float] | None = None


QUANTITIES = {q.key: q for q in [
    Quantity("surface_temperature_15h", "heat/surface_temperature_15h.tif", "inferno", "°C",
             {"nl": "Oppervlaktetemperatuur", "en": "Surface temperature"},
             {"nl": "om 15:00 op {day}", "en": "at 15:00 on {day}"}),
    Quantity("air_temperature_04h", "heat/air_temperature_04h.tif", "inferno", "°C",
             {"nl": "Luchttemperatuur", "en": "Air temperature"},
             {"nl": "om 04:00 op {day}", "en": "at 04:00 on {day}"}),
    Quantity("utci_hours_above_32", "heat/utci_hours_above_32.tif", "inferno", "h",
             {"nl": "Uren sterke hittestress (UTCI > 32 °C)", "en": "Hours of strong heat stress (UTCI > 32 °C)"},
             {"nl": "op {day}", "en": "on {day}"}, from_zero=True),
    Quantity("flood_depth", "water/flood_depth.tif", "Blues", "m",
             {"nl": "Maximale waterdiepte op land", "en": "Maximum flood depth on land"},
             {"nl": "tijdens {storm}", "en": "during {storm}"}, shown_above=0.02, from_zero=True),
    Quantity("infiltration", "water/infiltration.tif", "viridis", "mm",
             {"nl": "Geïnfiltreerd water", "en": "Water infiltrated"},
             {"nl": "tijdens {storm}", "en": "during {storm}"}),
    Quantity("walking_time", "exposure/walking_time_to_cool_place.tif", "viridis", "min",
             {"nl": "Wandeltijd naar de dichtste koele plek", "en": "Walking time to the nearest cool place"},
             {"nl": "op {day} (koel: UTCI om 15:00 < 32 °C)", "en": "on {day} (cool: UTCI at 15:00 < 32 °C)"},
             limits=(0.0, 30.0)),  # 15 minutes, the city's aim, in the middle of the scale
]}

TEXT = {
    "x_label": {"nl": "x, Belgische Lambert 72 (EPSG:31370) [km]", "en": "x, Belgian Lambert 72 (EPSG:31370) [km]"},
    "y_label": {"nl": "y [km]", "en": "y [km]"},
    "minus": {"nl": "{a} min {b}", "en": "{a} minus {b}"},
    "changed": {"nl": "gewijzigd door het scenario", "en": "changed by the scenario"},
    "river": {"nl": "rivier, kanaal", "en": "river, canal"},
    "road": {"nl": "hoofdweg", "en": "main road"},
    "zoom": {"nl": "ingezoomd op de ingreep", "en": "zoomed on the intervention"},
    "no_change": {"nl": "geen wijziging aan het terrein", "en": "no change to the site"},
    "change_unknown": {"nl": "gewijzigde cellen onbekend\n(run zonder changed.tif)",
                       "en": "changed cells unknown\n(run without changed.tif)"},
    "overview_title": {"nl": "Wat elk scenario verandert: {site}", "en": "What each scenario changes: {site}"},
    "overview_caption": {
        "nl": "Landgebruik vandaag met, per scenario, de gewijzigde cellen omlijnd in de kleur van het scenario.",
        "en": "Land cover today with, per scenario, the changed cells outlined in the scenario's colour."},
    "absolute_caption": {
        "nl": "{name} {time}, de scenario's naast elkaar op dezelfde kleurschaal ({unit}). Grijs: geen waarde "
              "(buiten het gesimuleerde gebied).",
        "en": "{name} {time}, the scenarios side by side on one colour scale ({unit}). Grey: no value (outside "
              "the simulated area)."},
    "difference_title": {"nl": "{name}: scenario min {base}, {time} [{unit}]",
                         "en": "{name}: scenario minus {base}, {time} [{unit}]"},
    "difference_caption": {
        "nl": "Verschil met {base} ({unit}); blauw = koeler of droger, rood = warmer of natter; "
              "alle kaarten op dezelfde schaal (afgekapt op ±{limit:g} {unit}), onderaan ingezoomd op de ingreep; "
              "grijs: geen waarde.",
        "en": "Difference to {base} ({unit}); blue = cooler or drier, red = warmer or wetter; "
              "all maps on one scale (clipped at ±{limit:g} {unit}), below them zoomed on the intervention; "
              "grey: no value."},
    "nothing": {"nl": "niets te tonen", "en": "nothing to show"},
    "nothing_walking_time": {"nl": "geen koele plek\nop deze dag", "en": "no cool place\non this day"},
    "nothing_flood_depth": {"nl": "nergens water\ndieper dan 2 cm", "en": "no water deeper\nthan 2 cm"},
    "shown_above": {"nl": "Waarden tot {v} {unit} zijn niet getekend (grijs, zoals cellen zonder waarde).",
                    "en": "Values up to {v} {unit} are not drawn (grey, like cells without a value)."},
    "largest": {"nl": "grootste verschil {v} {unit}", "en": "largest change {v} {unit}"},
    "diurnal_title": {"nl": "Dagverloop op {day}: stadskern, groen in de stad en platteland",
                      "en": "Diurnal course on {day}: urban core, green in town and countryside"},
    "diurnal_caption": {
        "nl": "Gemiddelde oppervlakte- en luchttemperatuur per uur (lokale tijd) in de stadskern, in groen tussen de "
              "bebouwing en op het platteland; volle lijn {base}, stippellijnen de scenario's.",
        "en": "Hourly mean surface and air temperature (local time) in the urban core, in green among the buildings "
              "and in the countryside; solid {base}, dashed the scenarios."},
    "surface": {"nl": "oppervlak", "en": "surface"},
    "air": {"nl": "lucht", "en": "air"},
    "urban_core": {"nl": "stadskern", "en": "urban core"},
    "green_in_town": {"nl": "groen in de stad", "en": "green in town"},
    "rural": {"nl": "platteland", "en": "countryside"},
    "local_time": {"nl": "lokale tijd [h]", "en": "local time [h]"},
    "temperature": {"nl": "temperatuur [°C]", "en": "temperature [°C]"},
    "hydrograph_title": {"nl": "Debiet tijdens {storm}", "en": "Discharge during {storm}"},
    "hydrograph_caption": {
        "nl": "Boven: de regenintensiteit. Midden: het debiet door de ingebuisde Gaverbeek (koker). Onder: het "
              "debiet naar de Leie en de kanalen (vaste peilen); per scenario een lijn.",
        "en": "Top: the rain intensity. Middle: the discharge through the culverted Gaverbeek. Bottom: the "
              "discharge into the Leie and the canals (held levels); one line per scenario."},
    "rain": {"nl": "regen [mm/u]", "en": "rain [mm/h]"},
    "culvert": {"nl": "koker [m³/s]", "en": "culvert [m³/s]"},
    "outlets": {"nl": "naar de Leie [m³/s]", "en": "to the Leie [m³/s]"},
    "minutes": {"nl": "tijd sinds het begin van de bui [min]", "en": "time since the start of the storm [min]"},
    "bars_caption": {
        "nl": "{what} per wijk: links vandaag, rechts wat elk scenario verandert.",
        "en": "{what} per district: today on the left, what each scenario changes on the right."},
    "no_difference": {"nl": "geen verschil", "en": "no difference"},
    "district": {"nl": "wijk", "en": "district"},
    "walk_15": {"nl": "15 minuten", "en": "15 minutes"},
}

#: bar charts: (section, key under by_district, unit, names, difference to base?)
BAR_CHARTS = [
    ("exposure", "exposure:person_hours_strong_heat_stress.all", "person-hours",
     {"nl": "Persoonsuren sterke hittestress (UTCI > 32 °C)", "en": "Person-hours of strong heat stress (UTCI > 32 °C)"}),
    ("exposure", "exposure:residents_flooded_above_0.20_m", "residents",
     {"nl": "Inwoners in cellen met meer dan 0,20 m water", "en": "Residents in cells flooded above 0.20 m"}),
    ("walking", "exposure:residents_beyond_15_min_of_a_cool_place", "residents",
     {"nl": "Inwoners op meer dan 15 minuten wandelen van een koele plek",
      "en": "Residents beyond a 15-minute walk of a cool place"}),
    ("districts", "heat:surface_temperature_15h_c", "°C",
     {"nl": "Gemiddelde oppervlaktetemperatuur om 15:00", "en": "Mean surface temperature at 15:00"}),
    ("districts", "heat:strong_heat_stress_mean_hours", "h",
     {"nl": "Gemiddeld aantal uren sterke hittestress", "en": "Mean hours of strong heat stress"}),
    ("districts", "water:flooded_area_m2.0.05", "m²",
     {"nl": "Overstroomde oppervlakte (> 0,05 m)", "en": "Flooded area (> 0.05 m)"}),
    ("districts", "water:infiltration_m3", "m³",
     {"nl": "Geïnfiltreerd volume", "en": "Volume infiltrated"}),
]
#: Dutch names of the bundled land-cover classes (heatsim/data/landcover.toml has English labels)
CLASS_NAMES_NL = {"building": "Dak van gebouw", "green_roof": "Groendak", "asphalt": "Asfaltweg",
                  "paving": "Andere verharding, beton", "permeable_paving": "Waterdoorlatende verharding",
                  "railway": "Spoorweg", "bare_soil": "Kale grond", "cropland": "Akker", "grass": "Gras", "shrub": "Struikgewas",
                  "trees": "Bomen", "wetland": "Natte natuur", "water": "Water"}
UNIT_NAMES = {"person-hours": {"nl": "persoonsuren", "en": "person-hours"},
              "residents": {"nl": "inwoners", "en": "residents"}}


def _t(key: str, lang: str, **values) -> str:
    text = TEXT[key][lang]
    return text.format(**values) if values else text


# ---------------------------------------------------------------------------------------
# the comparison and its runs


@dataclass
class Comparison:
    """What the figures need of a comparison folder and its runs."""

    folder: Path
    base: str
    labels: list[str]  # base first, then the scenarios
    runs: dict[str, Path]
    summaries: dict[str, dict]
    manifests: dict[str, dict]
    site: object  # xr.Dataset of the base site at the runs' resolution
    grid: Grid
    changed: dict[str, np.ndarray]
    rivers: list = field(default_factory=list)  # shapely geometries in the site CRS
    roads: list = field(default_factory=list)

    @property
    def scenarios(self) -> list[str]:
        return self.labels[1:]

    def colour(self, label: str) -> str:
        return SCENARIO_COLOURS[self.labels.index(label) % len(SCENARIO_COLOURS)]

    def day(self, lang: str) -> str:
        day = self.summaries[self.base].get("heat", {}).get("day")
        if not day:
            return "?"
        stamp = pd.Timestamp(day)
        months = {"nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                         "oktober", "november", "december"],
                  "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]}
        return f"{stamp.day} {months[lang][stamp.month - 1]} {stamp.year}"

    def storm(self, lang: str) -> str:
        storm = (self.manifests[self.base].get("weather") or {}).get("storm")
        if not storm:
            return "?"
        name = storm.get("preset") or Path(storm.get("file") or "?").name
        depth = f"{storm['depth_mm']:.1f}".replace(".", "," if lang == "nl" else ".")
        hours = f"{storm['duration_s'] / 3600:g}"
        return (f"de bui {name} ({depth} mm in {hours} u)" if lang == "nl"
                else f"the storm {name} ({depth} mm in {hours} h)")

    def absolute(self, quantity: Quantity) -> dict[str, np.ndarray]:
        """The quantity's map of every run that has it as drawn (:meth:`shown`), base first."""
        data = {label: self.shown(label, quantity) for label in self.labels}
        return {k: v for k, v in data.items() if v is not None}

    def differences(self, quantity: Quantity) -> dict[str, np.ndarray]:
        """Scenario minus base of the quantity, for every scenario that has it."""
        base = self.read(self.base, quantity)
        if base is None:
            return {}
        out = {}
        for label in self.scenarios:
            other = self.read(label, quantity)
            if other is not None:
                out[label] = other - base
        return out

    def read(self, label: str, quantity: Quantity) -> np.ndarray | None:
        path = self.runs[label] / quantity.file
        if not path.is_file():
            return None
        data = rioxarray.open_rasterio(path, masked=True).squeeze("band", drop=True)
        return np.asarray(data.values, dtype=np.float64)

    def shown(self, label: str, quantity: Quantity) -> np.ndarray | None:
        """The map as drawn: values at or below ``quantity.shown_above`` blanked."""
        values = self.read(label, quantity)
        if values is not None and quantity.shown_above is not None:
            values = np.where(values > quantity.shown_above, values, np.nan)
        return values


def load_comparison(folder: Path) -> Comparison:
    """Read a comparison folder, its runs, and the base site (for districts and outlines)."""
    from heatsim.site.store import load_site, resolve_site

    from heatsim.report.data import load_comparison as read_comparison

    folder = Path(folder)
    found = read_comparison(folder)  # the one reader of comparison folders (clear errors)
    labels = found.labels
    for label in labels:
        if not found.summaries[label] or not found.manifests[label]:
            raise InputError(folder / "runs.json", label, f"run folder {found.runs[label]} is missing or "
                             "incomplete; the maps need the finished run (summary.json, manifest.json, GeoTIFFs)")
    runs = {k: Path(v) for k, v in found.runs.items()}
    summaries, manifests = found.summaries, found.manifests
    base_site = summaries[labels[0]]["site"]
    site_ref = base_site.get("folder") or base_site["name"]
    site = load_site(site_ref, base_site["resolution_m"])
    grid = Grid.of(site)
    changed = {}
    for label in labels:
        path = runs[label] / "changed.tif"
        # None: unknown (a run written before runs kept changed.tif), which is not "no change"
        changed[label] = (np.asarray(rioxarray.open_rasterio(path).squeeze("band", drop=True).values) == 1
                          if path.is_file() else None)
    rivers, roads = _orientation(resolve_site(site_ref), grid.crs)
    return Comparison(folder, labels[0], labels, runs, summaries, manifests, site, grid, changed, rivers, roads)


def _orientation(site_folder: Path, crs: str) -> tuple[list, list]:
    """Rivers and canals (``vectors/streams.geojson``, kind river or canal) and main roads
    (``vectors/landcover.geojson``, kind "main road") of a site built from vectors; none
    for a site imported from rasters, whose maps then show the district outlines only."""
    from heatsim.vectors import read_geojson

    rivers, roads = [], []
    streams, cover = site_folder / "vectors" / "streams.geojson", site_folder / "vectors" / "landcover.geojson"
    if streams.is_file():
        rivers = [(f.geometry, f.properties.get("name", ""), float(f.properties.get("width_m", 10.0)))
                  for f in read_geojson(streams, crs) if f.properties.get("kind") in ("river", "canal")]
    if cover.is_file():
        roads = [(f.geometry, f.properties.get("name", "")) for f in read_geojson(cover, crs)
                 if f.properties.get("kind") == "main road"]
    return rivers, roads


# ---------------------------------------------------------------------------------------
# map furniture


#: cells without a value (not simulated, or below a quantity's ``shown_above``): an opaque
#: light grey. Transparent no-data let matplotlib's resampling blend the edge of the
#: simulated area with the page into a false lighter rim on the town maps.
NO_DATA_RGBA = (0.92, 0.92, 0.92, 1.0)


def _colour_map(name: str):
    return matplotlib.colormaps[name].with_extremes(bad=NO_DATA_RGBA)


def _extent(bounds) -> list[float]:
    return [bounds[0], bounds[2], bounds[1], bounds[3]]


def _nice(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= value (> 0)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-9):
            return float(step * power)
    return float(10 * power)


def scale_bar(ax, bounds, fontsize=7) -> None:
    """A two-part black and white scale bar in the lower left of a map in metres."""
    x0, y0, x1, y1 = bounds
    length = _nice((x1 - x0) / 4.5)
    if length > (x1 - x0) / 3:
        length = _nice((x1 - x0) / 8)
    bx, by, h = x0 + 0.05 * (x1 - x0), y0 + 0.035 * (y1 - y0), 0.008 * (y1 - y0)
    ax.add_patch(Rectangle((bx - 0.02 * (x1 - x0), by - 0.015 * (y1 - y0)), length + 0.04 * (x1 - x0),
                           0.06 * (y1 - y0), facecolor="white", alpha=0.75, edgecolor="none", zorder=6))
    ax.add_patch(Rectangle((bx, by), length / 2, h, facecolor="black", edgecolor="black", zorder=7))
    ax.add_patch(Rectangle((bx + length / 2, by), length / 2, h, facecolor="white", edgecolor="black", zorder=7))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 1.6 * h, label, ha="center", va="bottom", fontsize=fontsize, zorder=7)


def north_arrow(ax, fontsize=9) -> None:
    # Lambert 72 grid north is within 0.5 degree of true north in Flanders.
    ax.annotate("N", xy=(0.92, 0.97), xytext=(0.92, 0.88), xycoords="axes fraction", ha="center", va="center",
                fontsize=fontsize, fontweight="bold", zorder=8,
                arrowprops=dict(facecolor="black", edgecolor="black", width=2.5, headwidth=8, headlength=7))


def _lambert_axes(ax, lang: str, labels: bool = True, fontsize=7) -> None:
    fmt = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.tick_params(labelsize=fontsize)
    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(2000 if _span(ax) > 4000 else 500))
    ax.yaxis.set_major_locator(matplotlib.ticker.MultipleLocator(2000 if _span(ax) > 4000 else 500))
    if labels:
        ax.set_xlabel(_t("x_label", lang), fontsize=fontsize)
        ax.set_ylabel(_t("y_label", lang), fontsize=fontsize)


def _span(ax) -> float:
    x0, x1 = ax.get_xlim()
    return abs(x1 - x0)


def draw_context(ax, cmp: Comparison, bounds, lang: str, changed: np.ndarray | None = None,
                 district_names: bool = True, fontsize: int = 6) -> list:
    """Districts, rivers, main roads, the study-area outline and the changed cells on a map;
    then the scale bar, north arrow and Lambert axes. Returns legend handles."""
    import shapely

    grid, site = cmp.grid, cmp.site
    handles = []
    district = site["district"].values
    if district.max() > 0:
        ax.contour(grid.x, grid.y, district, levels=np.arange(0.5, district.max() + 1), colors="0.25",
                   linewidths=0.5, zorder=3)
    domain = site["domain"].values
    if domain.min() == 0:
        ax.contour(grid.x, grid.y, domain, levels=[0.5], colors="black", linewidths=1.0, zorder=3)
    box = shapely.box(*bounds)
    for geometry, name, width in cmp.rivers:
        part = geometry.intersection(box)
        for line in getattr(part, "geoms", [part]):
            if line.is_empty or not hasattr(line, "xy"):
                continue
            x, y = line.xy
            ax.plot(x, y, color="#1f78b4", linewidth=1.6 if width >= 20 else 1.0, alpha=0.9, zorder=4,
                    solid_capstyle="round")
    if cmp.rivers:
        handles.append(Line2D([], [], color="#1f78b4", linewidth=1.6, label=_t("river", lang)))
    for geometry, name in cmp.roads:
        part = geometry.intersection(box)
        for poly in getattr(part, "geoms", [part]):
            if poly.is_empty or not hasattr(poly, "exterior"):
                continue
            x, y = poly.exterior.xy
            ax.plot(x, y, color="0.35", linewidth=0.6, zorder=4)
    if cmp.roads:
        handles.append(Line2D([], [], color="0.35", linewidth=0.8, label=_t("road", lang)))
    if changed is not None and changed.any():
        ax.contour(grid.x, grid.y, changed.astype(float), levels=[0.5], colors=CHANGED_COLOUR, linewidths=0.9,
                   zorder=5)
        handles.append(Line2D([], [], color=CHANGED_COLOUR, linewidth=1.0, label=_t("changed", lang)))
    if district_names:
        names = json.loads(site.attrs.get("districts", "[]"))
        for k, name in enumerate(names, start=1):
            rows, cols = np.nonzero(district == k)
            if rows.size == 0:
                continue
            # the cell of the district furthest inside it, so that the name sits in the district
            inside = np.zeros(district.shape, dtype=bool)
            inside[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = (
                district[rows.min():rows.max() + 1, cols.min():cols.max() + 1] == k)
            depth = ndimage.distance_transform_edt(inside)
            r, c = np.unravel_index(int(np.argmax(depth)), depth.shape)
            x, y = grid.x[c], grid.y[r]
            if bounds[0] < x < bounds[2] and bounds[1] < y < bounds[3]:
                ax.text(x, y, name, fontsize=fontsize, ha="center", va="center", zorder=9,
                        bbox=dict(facecolor="white", alpha=0.65, edgecolor="none", pad=0.8))
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    scale_bar(ax, bounds, fontsize=fontsize)
    north_arrow(ax, fontsize=fontsize + 2)
    return handles


def _footer(fig, cmp: Comparison) -> None:
    site = cmp.summaries[cmp.base]["site"]
    kind = json.loads(cmp.site.attrs.get("provenance", "{}")).get("kind")
    note = {"schematic": "schematic site (not surveyed data)"}.get(kind, "imported site")
    fig.text(0.005, 0.003, f"heatsim {__version__}; {site['name']} at {site['resolution_m']:g} m; {note}; "
             f"comparison {cmp.folder.name}", fontsize=6, color="0.35", ha="left", va="bottom")


def zoom_bounds(cmp: Comparison, changed: np.ndarray, margin_m: float = 250.0,
                min_size_m: float = 800.0) -> tuple[float, float, float, float] | None:
    """A box around the largest group of changed cells (cells within 30 m joined), with a
    margin, at least ``min_size_m`` on a side and with the site's aspect; None without change."""
    if not changed.any():
        return None
    grid = cmp.grid
    join = max(int(round(30.0 / grid.resolution_m)), 1)
    labels, n = ndimage.label(ndimage.binary_dilation(changed, iterations=join))
    sizes = ndimage.sum(changed, labels, index=np.arange(1, n + 1))
    rows, cols = np.nonzero((labels == 1 + int(np.argmax(sizes))) & changed)
    x, y = grid.x[cols], grid.y[rows]
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    half_w = max((x.max() - x.min()) / 2 + margin_m, min_size_m / 2)
    half_h = max((y.max() - y.min()) / 2 + margin_m, min_size_m / 2)
    b = grid.bounds
    aspect = (b[3] - b[1]) / (b[2] - b[0])
    half_h, half_w = max(half_h, half_w * aspect), max(half_w, half_h / aspect)
    half_w, half_h = min(half_w, (b[2] - b[0]) / 2), min(half_h, (b[3] - b[1]) / 2)
    cx, cy = min(max(cx, b[0] + half_w), b[2] - half_w), min(max(cy, b[1] + half_h), b[3] - half_h)
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


# ---------------------------------------------------------------------------------------
# colour limits


def shared_limits(arrays: list[np.ndarray], from_zero: bool = False) -> tuple[float, float]:
    """One (vmin, vmax) for maps shown side by side: the 1st (or 0) and 99th percentile of
    all their finite values together, widened to a nice number."""
    values = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays if a is not None] or [np.zeros(1)])
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(values, [1, 99])
    if from_zero:
        lo = min(0.0, lo)
    if hi <= lo:
        hi = lo + 1.0
    step = _nice((hi - lo) / 8)
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def difference_limit(differences: list[np.ndarray]) -> float:
    """One symmetric limit for difference maps shown side by side: the 99th percentile of
    |difference| over the cells that change by at least 5 % of the largest change (a
    project changes a few cells a lot and, through the air, many cells a little), rounded
    up to a nice number; 1 when nothing changes, so that zero is drawn neutral."""
    values = np.concatenate([np.abs(d[np.isfinite(d)]).ravel() for d in differences] or [np.zeros(1)])
    largest = float(values.max()) if values.size else 0.0
    if largest <= 0.0:
        return 1.0
    notable = values[values >= 0.05 * largest]
    return _nice(float(np.percentile(notable, 99)))


# ---------------------------------------------------------------------------------------
# the figures


def _panel_grid(n: int, rows: int, grid: Grid, panel_width_in: float = 3.3):
    b = grid.bounds
    aspect = (b[3] - b[1]) / (b[2] - b[0])
    width = panel_width_in * n + 1.4
    height = rows * (panel_width_in * aspect + 0.5) + 1.0
    fig, axes = plt.subplots(rows, n, figsize=(width, height), squeeze=False, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.05, w_pad=0.05, hspace=0.02, wspace=0.02)
    return fig, axes


def small_multiples(cmp: Comparison, quantity: Quantity, lang: str, path: Path) -> Figure | None:
    """The base and every scenario side by side, one colour scale, one colour bar (a PNG)."""
    drawn = small_multiples_figure(cmp, quantity, lang)
    return None if drawn is None else _save(drawn[0], path, _section(quantity.key), drawn[1])


def _save(fig, path: Path, section: str, caption: str) -> Figure:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(path, section, caption)


def small_multiples_figure(cmp: Comparison, quantity: Quantity, lang: str):
    """(matplotlib figure, caption) of :func:`small_multiples`, or None without data."""
    data = cmp.absolute(quantity)
    if not data:
        return None
    vmin, vmax = quantity.limits or shared_limits(list(data.values()), from_zero=quantity.from_zero)
    labels = list(data)
    fig, axes = _panel_grid(len(labels), 1, cmp.grid)
    norm = Normalize(vmin=vmin, vmax=vmax)
    image = None
    for ax, label in zip(axes[0], labels):
        image = ax.imshow(data[label], cmap=_colour_map(quantity.cmap), norm=norm, extent=_extent(cmp.grid.bounds),
                          interpolation="nearest", interpolation_stage="rgba", zorder=1)
        if not np.isfinite(data[label]).any():
            ax.text(0.5, 0.5, _t("nothing_" + quantity.key if "nothing_" + quantity.key in TEXT else "nothing", lang),
                    transform=ax.transAxes, ha="center", va="center", fontsize=9, wrap=True, zorder=10,
                    bbox=dict(facecolor="white", edgecolor="0.5", pad=3))
        elif quantity.key == "walking_time":
            finite = np.where(np.isfinite(data[label]), data[label], 1e6)
            ax.contour(cmp.grid.x, cmp.grid.y, finite, levels=[15.0], colors="white", linewidths=1.0, zorder=2)
        draw_context(ax, cmp, cmp.grid.bounds, lang, changed=cmp.changed[label], district_names=label == labels[0])
        ax.set_title(label, fontsize=10, color=cmp.colour(label), fontweight="bold")
        _lambert_axes(ax, lang, labels=ax is axes[0][0])
    time = quantity.time[lang].format(day=cmp.day(lang), storm=cmp.storm(lang))
    fig.suptitle(f"{quantity.name[lang]} {time} [{quantity.unit}]", fontsize=12)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, extend="both", pad=0.01, aspect=30)
    bar.set_label(f"{quantity.name[lang]} [{quantity.unit}]")
    handles = draw_context_handles(cmp, lang)
    fig.legend(handles=handles, loc="lower right", fontsize=7, ncol=len(handles), frameon=False)
    _footer(fig, cmp)
    caption = _t("absolute_caption", lang, name=quantity.name[lang], time=time, unit=quantity.unit)
    if quantity.shown_above is not None:
        caption += " " + _t("shown_above", lang, v=f"{quantity.shown_above:g}", unit=quantity.unit)
    return fig, caption


def draw_context_handles(cmp: Comparison, lang: str) -> list:
    handles = []
    if cmp.rivers:
        handles.append(Line2D([], [], color="#1f78b4", linewidth=1.6, label=_t("river", lang)))
    if cmp.roads:
        handles.append(Line2D([], [], color="0.35", linewidth=0.8, label=_t("road", lang)))
    handles.append(Line2D([], [], color=CHANGED_COLOUR, linewidth=1.0, label=_t("changed", lang)))
    return handles


def _section(key: str) -> str:
    return {"flood_depth": "water", "infiltration": "water", "walking_time": "walking"}.get(key, "heat")


def difference_maps(cmp: Comparison, quantity: Quantity, lang: str, path: Path) -> Figure | None:
    """Scenario minus base for every scenario, one symmetric scale centred on zero; a second
    row zoomed on each scenario's intervention (a rectangle on the town map shows where)."""
    drawn = difference_maps_figure(cmp, quantity, lang)
    return None if drawn is None else _save(drawn[0], path, _section(quantity.key), drawn[1])


def difference_maps_figure(cmp: Comparison, quantity: Quantity, lang: str):
    """(matplotlib figure, caption) of :func:`difference_maps`, or None without data."""
    differences = cmp.differences(quantity)
    if not differences:
        return None
    unit = "K" if quantity.unit == "°C" else quantity.unit  # a difference of temperatures
    limit = difference_limit(list(differences.values()))
    labels = list(differences)
    fig, axes = _panel_grid(len(labels), 2, cmp.grid)
    norm = Normalize(vmin=-limit, vmax=limit)
    image = None
    for k, label in enumerate(labels):
        values = differences[label]
        top, bottom = axes[0][k], axes[1][k]
        image = top.imshow(values, cmap=_colour_map(DIFFERENCE_CMAP), norm=norm, extent=_extent(cmp.grid.bounds),
                           interpolation="nearest", interpolation_stage="rgba", zorder=1)
        draw_context(top, cmp, cmp.grid.bounds, lang, changed=cmp.changed[label], district_names=k == 0)
        finite = np.abs(values[np.isfinite(values)])
        largest = float(finite.max()) if finite.size else 0.0
        top.set_title(f"{_t('minus', lang, a=label, b=cmp.base)}\n"
                      f"{_t('largest', lang, v=f'{largest:.2g}', unit=unit)}", fontsize=9,
                      color=cmp.colour(label))
        _lambert_axes(top, lang, labels=k == 0)
        box = None if cmp.changed[label] is None else zoom_bounds(cmp, cmp.changed[label])
        if box is None:
            bottom.axis("off")
            bottom.text(0.5, 0.5, _t("no_change" if cmp.changed[label] is not None else "change_unknown", lang),
                        ha="center", va="center", transform=bottom.transAxes, fontsize=9, color="0.3")
            continue
        top.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False, edgecolor="black",
                                linewidth=1.0, linestyle="--", zorder=9))
        bottom.imshow(values, cmap=_colour_map(DIFFERENCE_CMAP), norm=norm, extent=_extent(cmp.grid.bounds),
                      interpolation="nearest", interpolation_stage="rgba", zorder=1)
        draw_context(bottom, cmp, box, lang, changed=cmp.changed[label], district_names=True)
        bottom.set_title(_t("zoom", lang), fontsize=8)
        _lambert_axes(bottom, lang, labels=k == 0)
    time = quantity.time[lang].format(day=cmp.day(lang), storm=cmp.storm(lang))
    fig.suptitle(_t("difference_title", lang, name=quantity.name[lang], base=cmp.base, time=time,
                    unit=unit), fontsize=12)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, extend="both", pad=0.01, aspect=30)
    bar.set_label(f"{_t('minus', lang, a='scenario', b=cmp.base)} [{unit}]")
    fig.legend(handles=draw_context_handles(cmp, lang), loc="lower right", fontsize=7, ncol=3, frameon=False)
    _footer(fig, cmp)
    caption = (f"{quantity.name[lang]} {time}. "
               + _t("difference_caption", lang, base=cmp.base, unit=unit, limit=limit))
    return fig, caption


def overview_map(cmp: Comparison, lang: str, path: Path) -> Figure:
    """The base land cover with each scenario's changed cells outlined in its colour."""
    from heatsim.landcover import default_table

    table = default_table()
    grid, site = cmp.grid, cmp.site
    b = grid.bounds
    aspect = (b[3] - b[1]) / (b[2] - b[0])
    fig, ax = plt.subplots(figsize=(8.0, 8.0 * aspect * 0.85 + 0.8))
    codes = [c.code for c in table.classes.values()]
    colours = ["#ffffff"] * (max(codes) + 1)
    for c in table.classes.values():
        colours[c.code] = c.colour
    cmap = ListedColormap(colours)
    lc = site["landcover"].values
    ax.imshow(lc, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, len(colours) + 0.5), cmap.N), extent=_extent(b),
              interpolation="nearest", interpolation_stage="rgba", alpha=0.75, zorder=1)
    draw_context(ax, cmp, b, lang)
    handles = [Patch(facecolor=c.colour, edgecolor="0.4", label=CLASS_NAMES_NL.get(c.name, c.label)
                     if lang == "nl" else c.label) for c in table.classes.values() if (lc == c.code).any()]
    outline = []
    # later scenarios (often a combination of the earlier ones) first and thicker, so that
    # an outline drawn on top of another still shows both
    for k, label in enumerate(reversed(cmp.scenarios)):
        mask = cmp.changed[label]
        width = 1.2 + 1.2 * (len(cmp.scenarios) - 1 - k) / max(len(cmp.scenarios) - 1, 1)
        if mask is not None and mask.any():
            # dilated a little so that the outlines of single cells can be seen at this scale
            shown = ndimage.binary_dilation(mask, iterations=max(int(round(15.0 / grid.resolution_m)), 1))
            ax.contour(grid.x, grid.y, shown.astype(float), levels=[0.5], colors=cmp.colour(label),
                       linewidths=width, zorder=6 + k)
        outline.insert(0, Line2D([], [], color=cmp.colour(label), linewidth=width, label=label))
    legend = ax.legend(handles=handles, loc="upper left", fontsize=6.5, framealpha=0.85, title="land cover"
                       if lang == "en" else "landgebruik", title_fontsize=7)
    ax.add_artist(legend)
    ax.legend(handles=outline + draw_context_handles(cmp, lang)[:-1], loc="lower right", fontsize=7,
              framealpha=0.85, title="scenario", title_fontsize=7)
    _lambert_axes(ax, lang)
    ax.set_title(_t("overview_title", lang, site=site.attrs.get("title") or site.attrs.get("name")), fontsize=11)
    _footer(fig, cmp)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(path, "overview", _t("overview_caption", lang))


def diurnal_plot(cmp: Comparison, lang: str, path: Path) -> Figure | None:
    """Surface and air temperature through the day in three kinds of place, per scenario."""
    tables = {}
    for label in cmp.labels:
        csv = cmp.runs[label] / "heat" / "diurnal.csv"
        if csv.is_file():
            tables[label] = pd.read_csv(csv)
    if cmp.base not in tables:
        return None
    places = [("urban_core", "#D55E00"), ("green_in_town", "#009E73"), ("rural", "#0072B2")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, what in zip(axes, ("surface", "air")):
        for label, table in tables.items():
            hours = pd.to_datetime(table["local_time"]).dt.hour + pd.to_datetime(table["local_time"]).dt.minute / 60
            for place, colour in places:
                column = f"{place}_{what}_c"
                if column not in table or table[column].isna().all():
                    continue
                ax.plot(hours, table[column], color=colour, linewidth=2.0 if label == cmp.base else 1.1,
                        linestyle="-" if label == cmp.base else (0, (3 + 2 * cmp.labels.index(label), 2)),
                        label=f"{_t(place, lang)}" if label == cmp.base else None)
        ax.set_title(_t(what, lang), fontsize=10)
        ax.set_xlabel(_t("local_time", lang))
        ax.set_xticks(range(0, 25, 3))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(_t("temperature", lang))
    style = [Line2D([], [], color="black", linewidth=2.0, label=cmp.base)]
    style += [Line2D([], [], color="black", linewidth=1.1, linestyle=(0, (3 + 2 * cmp.labels.index(lbl), 2)),
                     label=lbl) for lbl in tables if lbl != cmp.base]
    first = axes[0].legend(loc="upper left", fontsize=8)
    axes[0].add_artist(first)
    axes[1].legend(handles=style, loc="upper left", fontsize=7)
    fig.suptitle(_t("diurnal_title", lang, day=cmp.day(lang)), fontsize=11)
    _footer(fig, cmp)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(path, "heat", _t("diurnal_caption", lang, base=cmp.base))


def hydrograph_plot(cmp: Comparison, lang: str, path: Path) -> Figure | None:
    """Rain, culvert discharge and outflow to the held-level outlets per scenario."""
    tables = {}
    for label in cmp.labels:
        csv = cmp.runs[label] / "water" / "hydrographs.csv"
        if csv.is_file():
            tables[label] = pd.read_csv(csv)
    if not tables:
        return None
    fig, axes = plt.subplots(3, 1, figsize=(10, 7.5), sharex=True, gridspec_kw=dict(height_ratios=[1, 2, 2]))
    first = next(iter(tables.values()))
    site_area_m2 = cmp.grid.nx * cmp.grid.ny * cmp.grid.cell_area_m2
    axes[0].bar(first["minute"], first["rain_m3_s"] / site_area_m2 * 3.6e6, width=1.0, color="#56B4E9")
    axes[0].set_ylabel(_t("rain", lang), fontsize=8)
    for label, table in tables.items():
        kw = dict(color=cmp.colour(label), linewidth=2.0 if label == cmp.base else 1.3, label=label)
        if "culvert_m3_s" in table:
            axes[1].plot(table["minute"], table["culvert_m3_s"], **kw)
        axes[2].plot(table["minute"], table["outlet_outflow_m3_s"], **kw)
    axes[1].set_ylabel(_t("culvert", lang), fontsize=8)
    axes[2].set_ylabel(_t("outlets", lang), fontsize=8)
    axes[2].set_xlabel(_t("minutes", lang))
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper right")
    fig.suptitle(_t("hydrograph_title", lang, storm=cmp.storm(lang)), fontsize=11)
    _footer(fig, cmp)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(path, "water", _t("hydrograph_caption", lang))


def _district_value(summary: dict, spec: str, district: str) -> float | None:
    model, key = spec.split(":")
    node = summary.get(model, {}).get("by_district", {}).get(district)
    if node is None:
        return None
    # keys like "flooded_area_m2.0.05" hold a threshold with a dot: walk greedily
    parts = key.split(".")
    while parts:
        for n in range(len(parts), 0, -1):
            name = ".".join(parts[:n])
            if isinstance(node, dict) and name in node:
                node, parts = node[name], parts[n:]
                break
        else:
            return None
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def district_bars(cmp: Comparison, spec: str, unit: str, names: dict, section: str, lang: str,
                  path: Path) -> Figure | None:
    """One indicator per district: the base's value (left) and each scenario's difference to
    it (right, grouped bars; the differences are what a project does, and would vanish
    next to the base's bars on one axis)."""
    districts = json.loads(cmp.site.attrs.get("districts", "[]"))
    values = {label: [_district_value(cmp.summaries[label], spec, d) for d in districts] for label in cmp.labels}
    keep = [i for i, d in enumerate(districts) if values[cmp.base][i] is not None]
    if not keep:
        return None
    base = np.array([values[cmp.base][i] for i in keep])
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(11.0, 1.2 * len(keep) + 4), 4.4),
                                      gridspec_kw=dict(width_ratios=[1, 1.6]))
    x = np.arange(len(keep))
    names_shown = [districts[i] for i in keep]
    unit_name = UNIT_NAMES.get(unit, {}).get(lang, unit)
    left.bar(x, base, 0.7, color=cmp.colour(cmp.base))
    left.set_title(cmp.base, fontsize=10, pad=24)
    left.set_ylabel(f"[{unit_name}]", fontsize=8)
    if unit == "°C":
        left.set_ylim(np.floor(base.min()) - 1, np.ceil(base.max()) + 1)
    width = 0.8 / max(len(cmp.scenarios), 1)
    largest = 0.0
    for k, label in enumerate(cmp.scenarios):
        diff = np.array([np.nan if values[label][i] is None else values[label][i] - values[cmp.base][i]
                         for i in keep])
        largest = max(largest, float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 0.0)
        right.bar(x + (k - (len(cmp.scenarios) - 1) / 2) * width, diff, width, color=cmp.colour(label), label=label)
    right.axhline(0.0, color="black", linewidth=0.8)
    right.set_title(_t("minus", lang, a="scenario", b=cmp.base), fontsize=10, pad=24)
    right.set_ylabel(f"[{unit_name}]", fontsize=8)
    if largest == 0.0:
        right.set_ylim(-1, 1)
        right.text(0.5, 0.75, _t("no_difference", lang), transform=right.transAxes, ha="center", fontsize=9,
                   color="0.3")
    if cmp.scenarios:
        # above the axes: inside them it would hide bars
        right.legend(fontsize=7, ncol=min(len(cmp.scenarios), 4), loc="lower center", bbox_to_anchor=(0.5, 1.0),
                     frameon=False)
    for ax in (left, right):
        ax.set_xticks(x, names_shown, rotation=35, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{names[lang]} [{unit_name}]", fontsize=11)
    _footer(fig, cmp)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Figure(path, section, _t("bars_caption", lang, what=f"{names[lang]} ({unit_name})"))


def draw_report_figures(comparison_dir: Path, out_dir: Path, lang: str = "nl",
                        comparison: Comparison | None = None) -> list[Figure]:
    """Draw every figure of the report for the comparison in ``comparison_dir`` into ``out_dir``
    (``comparison``: that folder already loaded by :func:`load_comparison`)."""
    from heatsim.report.i18n import check_lang

    check_lang(lang)
    cmp = comparison if comparison is not None else load_comparison(Path(comparison_dir))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures: list[Figure | None] = [overview_map(cmp, lang, out / "overview.png")]
    figures.append(small_multiples(cmp, QUANTITIES["surface_temperature_15h"], lang, out / "heat-surface.png"))
    for key in ("surface_temperature_15h", "air_temperature_04h", "utci_hours_above_32"):
        figures.append(difference_maps(cmp, QUANTITIES[key], lang, out / f"heat-{key}-difference.png"))
    figures.append(diurnal_plot(cmp, lang, out / "heat-diurnal.png"))
    figures.append(small_multiples(cmp, QUANTITIES["flood_depth"], lang, out / "water-depth.png"))
    for key in ("flood_depth", "infiltration"):
        figures.append(difference_maps(cmp, QUANTITIES[key], lang, out / f"water-{key}-difference.png"))
    figures.append(hydrograph_plot(cmp, lang, out / "water-hydrographs.png"))
    figures.append(small_multiples(cmp, QUANTITIES["walking_time"], lang, out / "walking-time.png"))
    for k, (section, spec, unit, names) in enumerate(BAR_CHARTS):
        figures.append(district_bars(cmp, spec, unit, names, section, lang, out / f"bars-{k}.png"))
    return [f for f in figures if f is not None]

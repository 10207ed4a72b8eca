"""QGIS style files (.qml) for heatsim's single-band GeoTIFFs, in the colours of its figures.

:func:`write_qml` writes ``<stem>.qml`` next to ``<stem>.tif``; QGIS picks it up by name
when the layer is opened (Layer Properties > Symbology shows it as a "Singleband
pseudocolor" renderer). The colour ramp is sampled from the same matplotlib colour map
the PNG figure uses, between the same limits, so the map in QGIS and the figure in the
report read alike (:mod:`heatsim.report.layers` styles a comparison's layers with it).
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from heatsim.paths import write_atomically

QGIS_VERSION = "3.28.0-Firenze"  # a long-term release; QGIS 3.x reads the renderer below unchanged
DEFAULT_STOPS = 11


def ramp_stops(cmap_name: str, vmin: float, vmax: float, stops: int = DEFAULT_STOPS,
               diverging: bool = False) -> list[tuple[float, str]]:
    """``stops`` (value, "#rrggbb") pairs from vmin to vmax sampled from matplotlib's ``cmap_name``.

    With ``diverging`` the colour map's centre sits at value 0 (matplotlib's TwoSlopeNorm):
    the lower half of the stops samples its first half between vmin and 0, the upper half
    its second half between 0 and vmax; that needs vmin < 0 < vmax.
    """
    import matplotlib
    from matplotlib.colors import to_hex

    if not (np.isfinite(vmin) and np.isfinite(vmax) and vmin < vmax):
        raise ValueError(f"a colour ramp needs finite vmin < vmax, got {vmin!r}, {vmax!r}")
    if stops < 2:
        raise ValueError(f"a colour ramp needs at least 2 stops, got {stops}")
    cmap = matplotlib.colormaps[cmap_name]
    values = np.linspace(vmin, vmax, stops)
    if diverging:
        if not vmin < 0 < vmax:
            raise ValueError(f"a diverging ramp is centred on 0 and needs vmin < 0 < vmax, got {vmin!r}, {vmax!r}")
        fractions = np.where(values < 0, 0.5 * (values - vmin) / (0 - vmin), 0.5 + 0.5 * values / vmax)
    else:
        fractions = (values - vmin) / (vmax - vmin)
    return [(float(v), to_hex(cmap(float(f)))) for v, f in zip(values, fractions)]


def qml_text(cmap_name: str, vmin: float, vmax: float, label: str, diverging: bool = False,
             stops: int = DEFAULT_STOPS) -> str:
    """The .qml document (XML text) of a singleband pseudocolor renderer; see :func:`write_qml`."""
    items = ramp_stops(cmap_name, vmin, vmax, stops, diverging)
    unit = _unit_of(label)
    precision = _label_precision(vmin, vmax, stops)
    qgis = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    pipe = ET.SubElement(qgis, "pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity="1",
                             alphaBand="-1", nodataColor="", classificationMin=_num(vmin),
                             classificationMax=_num(vmax))
    ET.SubElement(renderer, "rasterTransparency")
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, value in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Exact"),
                       ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(origin, tag).text = value  # limits None: keep our min/max, do not recompute
    shader = ET.SubElement(renderer, "rastershader")
    # clip="0": values beyond the ends take the end colours, as in the PNG figures (colour bar
    # "extend both"); clip="1" would hide them, and the largest changes would vanish from the map
    ramp_shader = ET.SubElement(shader, "colorrampshader", colorRampType="INTERPOLATED", classificationMode="1",
                                clip="0", minimumValue=_num(vmin), maximumValue=_num(vmax),
                                labelPrecision=str(precision))
    ramp = ET.SubElement(ramp_shader, "colorramp", type="gradient", name="[source]")
    inner = [f"{(v - vmin) / (vmax - vmin):.6g};{_rgba(c)}" for v, c in items[1:-1]]
    for k, v in (("color1", _rgba(items[0][1])), ("color2", _rgba(items[-1][1])), ("discrete", "0"),
                 ("rampType", "gradient"), ("stops", ":".join(inner))):
        ET.SubElement(ramp, "prop", k=k, v=v)
    for value, colour in items:
        ET.SubElement(ramp_shader, "item", alpha="255", value=_num(value), color=colour,
                      label=f"{value:.{precision}f}" + (f" {unit}" if unit else ""))
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100", invertColors="0")
    # the figure's cells are drawn with "nearest": keep QGIS from smoothing them too
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(qgis, "blendMode").text = "0"
    props = ET.SubElement(qgis, "customproperties")
    options = ET.SubElement(props, "Option", type="Map")
    ET.SubElement(options, "Option", type="QString", name="heatsim/label", value=label)
    ET.SubElement(options, "Option", type="QString", name="heatsim/colormap", value=cmap_name)
    ET.indent(qgis)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(qgis, encoding="unicode") + "\n"


def write_qml(tif_path: Path, cmap_name: str, vmin: float, vmax: float, label: str, diverging: bool = False,
              stops: int = DEFAULT_STOPS) -> Path:
    """Write ``<stem>.qml`` next to the single-band GeoTIFF ``tif_path``; returns its path.

    Parameters
    ----------
    tif_path
        The GeoTIFF the style is for (it need not exist yet); the style gets its stem.
    cmap_name
        A matplotlib colour map name (``"RdBu_r"``, ``"viridis"``, ...), as the PNG uses.
    vmin, vmax
        The values at the two ends of the ramp, in the raster's unit. Values beyond them
        take the end colours.
    label
        What the layer shows, e.g. ``"green minus base [K]"``; a unit in brackets at its end
        is appended to the legend's numbers.
    diverging
        Centre the colour map on 0 (for differences; needs vmin < 0 < vmax).
    stops
        How many colours the interpolated ramp has (11 by default).

    The file is replaced if it exists: a style belongs to its GeoTIFF, written with it.
    """
    tif_path = Path(tif_path)
    document = qml_text(cmap_name, vmin, vmax, label, diverging, stops)
    return write_atomically(tif_path.with_suffix(".qml"), lambda tmp: tmp.write_text(document, encoding="utf-8"))


def _num(value: float) -> str:
    return repr(float(value))


def _rgba(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},255"


def _unit_of(label: str) -> str:
    match = re.search(r"\[([^\]]+)\]\s*$", label)
    return match.group(1) if match else ""


def _label_precision(vmin: float, vmax: float, stops: int) -> int:
    """Decimals that tell neighbouring stops apart and show them to 1 % of a step (-3, -2.4, ...: 1)."""
    values = np.linspace(vmin, vmax, stops)
    step = (vmax - vmin) / (stops - 1)
    least = int(max(0, -np.floor(np.log10(step))))
    for digits in range(least, least + 3):
        if np.abs(np.round(values, digits) - values).max() <= 0.01 * step:
            return digits
    return least + 2

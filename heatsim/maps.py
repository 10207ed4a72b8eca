"""Maps of a site (``heatsim site show``): land cover in the class colours with a
legend, or any other layer with a colour bar; district outlines, a scale bar, a
north arrow and Lambert 72 coordinates in km, and a provenance line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from heatsim import __version__  # noqa: E402
from heatsim.grid import Grid  # noqa: E402
from heatsim.landcover import LandCoverTable, default_table  # noqa: E402
from heatsim.site.layers import LAYERS  # noqa: E402

CONTINUOUS_STYLE = {  # layer: (colour map, label)
    "elevation": ("terrain", "elevation [m TAW]"),
    "building_height": ("magma_r", "building height [m]"),
    "tree_height": ("Greens", "tree height [m]"),
    "canopy": ("Greens", "tree canopy cover [-]"),
    "impervious": ("Greys", "impervious (sealed) fraction [-]"),
}
SHOWABLE = ["landcover", *CONTINUOUS_STYLE, "soil", "stream", "culvert", "district"]


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    for step in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if step >= target:
            return float(step)
    return 10000.0


def add_scale_bar(ax, grid: Grid) -> None:
    x0, y0, x1, y1 = grid.bounds
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.add_patch(plt.Rectangle((bx, by), length / 2, 0.006 * (y1 - y0), color="black", zorder=5))
    ax.add_patch(plt.Rectangle((bx + length / 2, by), length / 2, 0.006 * (y1 - y0), facecolor="white",
                               edgecolor="black", zorder=5))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), label, ha="center", va="bottom", fontsize=8, zorder=5,
            bbox=dict(facecolor="white", alpha=0.7, edgecolor="none", pad=1))


def add_north_arrow(ax, grid: Grid) -> None:
    # Lambert 72 grid north is within 0.5 degree of true north at Harelbeke.
    ax.annotate("N", xy=(0.93, 0.95), xytext=(0.93, 0.86), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold", arrowprops=dict(facecolor="black", width=4, headwidth=12), zorder=6)


def _outline_districts(ax, site: xr.Dataset, grid: Grid) -> None:
    district = site["district"].values
    names = json.loads(site.attrs.get("districts", "[]"))
    if district.max() == 0:
        return
    x, y = grid.x, grid.y
    ax.contour(x, y, district, levels=np.arange(0.5, district.max() + 1), colors="black", linewidths=0.6, alpha=0.7)
    for k, name in enumerate(names, start=1):
        rr, cc = np.nonzero(district == k)
        if rr.size:
            ax.text(x[int(np.median(cc))], y[int(np.median(rr))], name, fontsize=7, ha="center", va="center",
                    bbox=dict(facecolor="white", alpha=0.6, edgecolor="none", pad=1), zorder=4)


def draw_layer(ax, site: xr.Dataset, layer: str, table: LandCoverTable) -> None:
    grid = Grid.of(site)
    extent = [grid.bounds[0], grid.bounds[2], grid.bounds[1], grid.bounds[3]]
    data = site[layer].values
    if layer == "landcover":
        codes = [c.code for c in table.classes.values()]
        colours = ["#ffffff"] * (max(codes) + 1)
        for c in table.classes.values():
            colours[c.code] = c.colour
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(np.arange(-0.5, len(colours) + 0.5), cmap.N)
        ax.imshow(data, cmap=cmap, norm=norm, extent=extent, interpolation="nearest")
        present = set(np.unique(data).tolist())
        handles = [Patch(facecolor=c.colour, edgecolor="0.4", label=c.label) for c in table.classes.values()
                   if c.code in present]
        ax.legend(handles=handles, loc="upper left", fontsize=7, title="land cover", title_fontsize=8, framealpha=0.85)
    elif layer in CONTINUOUS_STYLE:
        cmap, label = CONTINUOUS_STYLE[layer]
        nodata = LAYERS[layer].nodata
        shown = np.where(data == nodata, np.nan, data).astype(float)
        if layer in ("building_height", "tree_height", "canopy"):
            shown = np.where(shown > 0, shown, np.nan)
        im = ax.imshow(shown, cmap=cmap, extent=extent, interpolation="nearest")
        plt.colorbar(im, ax=ax, shrink=0.6, label=label)
    else:
        if layer == "soil":
            names = {s.code: s.name.replace("_", " ") for s in table.soils.values()}
            label = "soil texture"
        elif layer == "district":
            names = dict(enumerate(json.loads(site.attrs.get("districts", "[]")), start=1))
            label = "district"
        else:
            names = {1: layer}
            label = layer
        values = [v for v in np.unique(data) if v in names]
        cmap = plt.get_cmap("tab20", max(len(values), 1))
        shown = np.full(data.shape, np.nan)
        for i, v in enumerate(values):
            shown[data == v] = i
        ax.imshow(shown, cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, extent=extent, interpolation="nearest")
        handles = [Patch(facecolor=cmap(i), label=names[v]) for i, v in enumerate(values)]
        ax.legend(handles=handles, loc="upper left", fontsize=7, title=label, title_fontsize=8, framealpha=0.85)


def crop(site: xr.Dataset, bounds: tuple[float, float, float, float], changed: np.ndarray | None = None):
    """The part of ``site`` (and of ``changed``) inside ``bounds`` (x_min, y_min, x_max, y_max) [m]."""
    x0, y0, x1, y1 = bounds
    xs = (site.x.values >= x0) & (site.x.values <= x1)
    ys = (site.y.values >= y0) & (site.y.values <= y1)
    part = site.isel(x=np.flatnonzero(xs), y=np.flatnonzero(ys))
    return part, (None if changed is None else changed[np.ix_(ys, xs)])


def changed_bounds(site: xr.Dataset, changed: np.ndarray, margin_m: float = 300.0,
                   min_size_m: float = 1000.0) -> tuple[float, float, float, float]:
    """A box around the changed cells, with a margin, at least ``min_size_m`` wide and high."""
    rows, cols = np.nonzero(changed)
    x, y = site.x.values, site.y.values
    cx, cy = (x[cols].min() + x[cols].max()) / 2, (y[rows].min() + y[rows].max()) / 2
    half_w = max((x[cols].max() - x[cols].min()) / 2 + margin_m, min_size_m / 2)
    half_h = max((y[rows].max() - y[rows].min()) / 2 + margin_m, min_size_m / 2)
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def site_map(site: xr.Dataset, path, layer: str = "landcover", title: str | None = None,
             changed: np.ndarray | None = None, table: LandCoverTable | None = None, dpi: int = 150) -> None:
    """Draw one layer of ``site`` to a PNG at ``path``.

    ``changed`` (a boolean array on the site grid) outlines the cells a scenario changed.
    """
    table = table or default_table()
    grid = Grid.of(site)
    aspect = (grid.bounds[3] - grid.bounds[1]) / (grid.bounds[2] - grid.bounds[0])
    fig, ax = plt.subplots(figsize=(8.5, min(8.5 * aspect + 0.8, 14)))
    draw_layer(ax, site, layer, table)
    domain = site["domain"].values
    if domain.min() == 0 and domain.max() == 1:
        ax.contour(grid.x, grid.y, domain, levels=[0.5], colors="black", linewidths=1.4)
        ax.imshow(np.where(domain == 0, 1.0, np.nan), cmap="Greys", vmin=0, vmax=4, alpha=0.35,
                  extent=[grid.bounds[0], grid.bounds[2], grid.bounds[1], grid.bounds[3]])
    if layer != "district":
        _outline_districts(ax, site, grid)
    if changed is not None and changed.any():
        ax.contour(grid.x, grid.y, changed.astype(float), levels=[0.5], colors="magenta", linewidths=1.2)
        outline = Line2D([], [], color="magenta", label="changed by the scenario")
        legend = ax.get_legend()
        if legend is not None:
            ax.legend(handles=[*legend.legend_handles, outline], loc="upper left", fontsize=7,
                      title=legend.get_title().get_text(), title_fontsize=8, framealpha=0.85)
        else:
            ax.legend(handles=[outline], loc="upper left", fontsize=7, framealpha=0.85)
    ax.set_xlabel("x, Belgian Lambert 72 (EPSG:31370) [km]")
    ax.set_ylabel("y [km]")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:g}"))
    ax.set_xlim(grid.bounds[0], grid.bounds[2])
    ax.set_ylim(grid.bounds[1], grid.bounds[3])
    add_scale_bar(ax, grid)
    add_north_arrow(ax, grid)
    provenance = json.loads(site.attrs.get("provenance", "{}"))
    if provenance.get("kind") == "schematic":
        kind = ("schematic site: not surveyed data; boundary: AGIV reference file via Datafable (generalised)"
                if site.attrs.get("name") == "harelbeke" else "schematic site: not surveyed data")
    else:
        files = [Path(v["path"]).name for v in provenance.get("inputs", {}).values() if isinstance(v, dict) and "path" in v]
        kind = "imported rasters" + (f": {', '.join(files)}" if files else "")
    title = title or f"{site.attrs.get('title') or site.attrs.get('name', 'site')}: {layer}"
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=10)
    fig.text(0.01, 0.005, f"{site.attrs.get('name', '')}, {grid.resolution_m:g} m cells, {kind}; "
             f"heatsim {__version__}", fontsize=6.5, color="0.3")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, format="png")
    plt.close(fig)

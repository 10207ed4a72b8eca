"""The GeoTIFF layers of a comparison for GIS users, each with a QGIS style (.qml) that uses
the colour map and limits of the report's maps.

``<cmp>/layers/<scenario>-<quantity>.tif`` (copies of the runs' maps) and the difference
maps ``<cmp>/maps/<scenario>-minus-<base>-<quantity>.tif`` get a ``.qml`` beside them.
Existing files are kept: a layer already there is the same run's map, and a style already
there may have been edited by its user.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from heatsim.paths import write_atomically
from heatsim.report.figures import DIFFERENCE_CMAP, QUANTITIES, Comparison, difference_limit, shared_limits

#: the difference maps ``heatsim compare`` writes, by quantity key
DIFFERENCE_KEYS = ("surface_temperature_15h", "air_temperature_04h", "utci_hours_above_32", "flood_depth",
                   "infiltration")


def file_names(labels: list[str]) -> dict[str, str]:
    """A file-name stem per column label: letters, digits, ``_`` and ``-`` only (``#`` and
    anything else become ``-``), so that a label from a hand-edited comparison can never
    reach outside the folder; a stem already taken gets ``-2``, ``-3``, ...."""
    out: dict[str, str] = {}
    for label in labels:
        stem = re.sub(r"[^A-Za-z0-9_-]", "-", label).lstrip("-") or "scenario"
        candidate, k = stem, 2
        while candidate in out.values():
            candidate, k = f"{stem}-{k}", k + 1
        out[label] = candidate
    return out


def write_gis_layers(cmp: Comparison, lang: str = "nl") -> list[Path]:
    """Copy each run's key maps into ``layers/`` and style them and the difference maps.
    Returns the files written (GeoTIFFs and .qml)."""
    from heatsim.report.qml import write_qml

    written: list[Path] = []
    layers = cmp.folder / "layers"
    layers.mkdir(exist_ok=True)
    names = file_names(cmp.labels)
    for quantity in QUANTITIES.values():
        data = cmp.absolute(quantity)
        if not data:
            continue
        vmin, vmax = quantity.limits or shared_limits(list(data.values()), from_zero=quantity.from_zero)
        label = f"{quantity.name[lang]} [{quantity.unit}]"
        for run_label in data:
            target = layers / f"{names[run_label]}-{quantity.key}.tif"
            if not target.exists():
                source = cmp.runs[run_label] / quantity.file
                write_atomically(target, lambda tmp, source=source: shutil.copyfile(source, tmp))
                written.append(target)
            if not target.with_suffix(".qml").exists():
                write_qml(target, quantity.cmap, vmin, vmax, label)
                written.append(target.with_suffix(".qml"))
        differences = cmp.differences(quantity)
        if quantity.key in DIFFERENCE_KEYS and differences:
            limit = difference_limit(list(differences.values()))
            for run_label in differences:
                tif = cmp.folder / "maps" / f"{names[run_label]}-minus-{names[cmp.base]}-{quantity.key}.tif"
                if tif.is_file() and not tif.with_suffix(".qml").exists():
                    unit = "K" if quantity.unit == "°C" else quantity.unit
                    write_qml(tif, DIFFERENCE_CMAP, -limit, limit, f"{run_label} - {cmp.base} [{unit}]",
                              diverging=True)
                    written.append(tif.with_suffix(".qml"))
    return written

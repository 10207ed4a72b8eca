"""The GeoTIFF layers of a comparison for GIS users, each with a QGIS style (.qml) that uses
the colour map and limits of the report's maps.

``<cmp>/layers/<scenario>-<quantity>.tif`` (copies of the runs' maps) and the difference
maps ``<cmp>/maps/<scenario>-minus-<base>-<quantity>.tif`` get a ``.qml`` beside them.
Existing files are kept: a layer already there is the same run's map, and a style already
there may have been edited by its user.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from heatsim.report.figures import DIFFERENCE_CMAP, QUANTITIES, Comparison, difference_limit, shared_limits

#: the difference maps ``heatsim compare`` writes, by quantity key
DIFFERENCE_KEYS = ("surface_temperature_15h", "air_temperature_04h", "utci_hours_above_32", "flood_depth",
                   "infiltration")


def write_gis_layers(cmp: Comparison, lang: str = "nl") -> list[Path]:
    """Copy each run's key maps into ``layers/`` and style them and the difference maps.
    Returns the files written (GeoTIFFs and .qml)."""
    from heatsim.report.qml import write_qml

    written: list[Path] = []
    layers = cmp.folder / "layers"
    layers.mkdir(exist_ok=True)
    for quantity in QUANTITIES.values():
        data = cmp.absolute(quantity)
        if not data:
            continue
        vmin, vmax = quantity.limits or shared_limits(list(data.values()), from_zero=quantity.from_zero)
        label = f"{quantity.name[lang]} [{quantity.unit}]"
        for run_label in data:
            target = layers / f"{run_label.replace('#', '-')}-{quantity.key}.tif"
            if not target.exists():
                shutil.copy2(cmp.runs[run_label] / quantity.file, target)
                written.append(target)
            if not target.with_suffix(".qml").exists():
                write_qml(target, quantity.cmap, vmin, vmax, label)
                written.append(target.with_suffix(".qml"))
        differences = cmp.differences(quantity)
        if quantity.key in DIFFERENCE_KEYS and differences:
            limit = difference_limit(list(differences.values()))
            for run_label in differences:
                tif = cmp.folder / "maps" / f"{run_label.replace('#', '-')}-minus-{cmp.base}-{quantity.key}.tif"
                if tif.is_file() and not tif.with_suffix(".qml").exists():
                    write_qml(tif, DIFFERENCE_CMAP, -limit, limit, f"{run_label} - {cmp.base} [{quantity.unit}]",
                              diverging=True)
                    written.append(tif.with_suffix(".qml"))
    return written

"""``heatsim report``: the figures (kept beside the page for use in documents), the GIS
layers with their QGIS styles, and the self-contained HTML page of a comparison."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from heatsim.paths import current_umask, new_path


def make_report(comparison_dir: Path, lang: str = "nl") -> Path:
    """Write ``figures-<lang>/``, ``layers/`` (+ .qml) and the report page into a comparison
    folder; returns the page. Nothing earlier is replaced: a second report in the same
    language gets ``figures-<lang>-2/`` and ``report-2.html``."""
    from heatsim.report.figures import draw_report_figures, load_comparison
    from heatsim.report.html import write_report
    from heatsim.report.i18n import check_lang
    from heatsim.report.layers import write_gis_layers

    check_lang(lang)
    folder = Path(comparison_dir)
    comparison = load_comparison(folder)  # read once; a folder that is no comparison is refused here
    final = new_path(folder / f"figures-{lang}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", suffix=".partial", dir=folder))
    try:
        figures = draw_report_figures(folder, tmp, lang, comparison)
        os.chmod(tmp, 0o777 & ~current_umask())
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    figures = [type(f)(final / f.path.name, f.section, f.caption) for f in figures]
    write_gis_layers(comparison, lang)
    return write_report(folder, lang, figures)

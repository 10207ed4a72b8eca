"""The report of a comparison: figures, HTML page, QGIS styles, in Dutch or English."""

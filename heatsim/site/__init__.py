"""The study area: a CRS-aware ``xarray.Dataset`` of aligned layers on one grid.

See :mod:`heatsim.site.layers` for the layers and their units, :mod:`heatsim.site.store`
for reading and writing a site folder, :mod:`heatsim.site.build` for the schematic
Harelbeke builder and :mod:`heatsim.site.importer` for real rasters.
"""

from heatsim.site.layers import LAYERS, Layer
from heatsim.site.store import load_site

__all__ = ["LAYERS", "Layer", "load_site"]

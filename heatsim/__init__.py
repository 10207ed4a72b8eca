"""heatsim: urban heat-island and water adaptation simulator.

Built first for Harelbeke (Flanders). See README.md and ../shared/DESIGN.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("heatsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

"""Named weather presets that scenarios may ask for.

This is the registry of names a scenario file is validated against (and that
the CLI offers). The time series behind the names belong to the models: the
storms to the water model (:mod:`heatsim.rain`), the hot days to the heat model
(:mod:`heatsim.weather`).
"""

from __future__ import annotations

STORM_PRESETS: dict[str, str] = {
    "composite-t2": "composite design storm, return period 2 years, Uccle IDF statistics (sewer design storm in Flanders)",
    "composite-t20": "composite design storm, return period 20 years, Uccle IDF statistics (check of water on the street)",
    "composite-t100": "composite design storm, return period 100 years, Uccle IDF statistics",
    "juli-2021": "long-duration event in the spirit of 13-15 July 2021 (just over 50 mm in 24 h in Flanders)",
}

HEAT_PRESETS: dict[str, str] = {
    "hittegolf-2019": "hot day of the late-July 2019 heat wave, reaching ~39.7 C (Uccle record of 25 July 2019)",
    "warme-zomerdag": "a warm but not extreme summer day",
}

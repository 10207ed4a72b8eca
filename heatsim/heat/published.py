"""Published ranges the heat model is checked against (tests/test_heat_published.py) and that
the report shows next to a comparison's base run. One place, so that the two cannot drift.

Each range was chosen from its source, not from the model's output.
"""

ASPHALT_15H_C = (48.0, 68.0)
"""Asphalt surface temperature on a sunny summer afternoon [C]: roughly 50-65 C in the
measurements compiled by Santamouris 2013 (Renew. Sustain. Energy Rev. 26, 224-240, "Using
cool pavements as a mitigation strategy to fight urban heat island"), widened by 2-3 K each
side for a cell mean."""

ASPHALT_MINUS_GRASS_K = (0.0, 24.0)
"""Asphalt minus grass surface temperature in summer afternoons [K]: grass was up to 24 K
cooler (Armson, Stringer & Ennos 2012, Urban For. Urban Green. 11, 245-255); the lower end
is exclusive (grass must be cooler)."""

UHI_NIGHT_K = (1.0, 4.9)
"""Night-time heat-island intensity of the centre [K]. Lower bound: on the warm night of 16
June 2021 the gardens of Flemish towns were on average 2 K (midnight) to 3 K (coolest moment)
warmer than rural gardens (CurieuzeNeuzen in de Tuin, 5000 loggers; De Standaard, 9 July
2021); the effect grows with town size (VMM indicator 'Hitte-eilanden in steden', 2024), so a
town of 28,000 may sit at about half the Flemish urban average. Upper bound: Oke (1973,
Atmos. Environ. 7, 769-779), maximum heat island of European settlements under ideal calm,
clear nights, 2.01 log10(P) - 4.06 at P = 28,000."""

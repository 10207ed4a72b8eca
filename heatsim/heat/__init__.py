"""The heat model: surface energy balance, ground storage, shade, sky view and
near-surface air temperature over hot days (see :mod:`heatsim.heat.model`)."""

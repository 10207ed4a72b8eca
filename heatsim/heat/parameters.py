"""Constants and assumptions of the heat model, each with its source.

Values that are modelling choices rather than measured constants say so; they
are the first candidates for calibration against measurements (e.g. a street-level
temperature network) when one exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HeatParameters:
    # --- time -------------------------------------------------------------------------
    time_step_s: float = 600.0
    """Model time step [s]. The surface/ground solve is implicit (no stability limit);
    10 min resolves the diurnal cycle and the afternoon peak (Oke 1987 ch. 2 uses hourly
    or finer)."""

    # --- ground and material columns ------------------------------------------------
    ground_layers_m: tuple[float, ...] = (0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.18, 0.27, 0.40, 0.60)
    """Layer thicknesses from the surface down [m], 1.76 m in all: the first layer
    resolves the surface, the column is ~17 daily damping depths of asphalt (0.10 m)
    deep, so the daily wave does not reach the bottom (Carslaw & Jaeger 1959, sec. 2.6)."""
    roof_layers_m: tuple[float, ...] = (0.01, 0.01, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02)
    """Roof: 0.06 m of roof covering (the class's material: tiles, or a green roof's
    substrate) over 0.12 m of insulation [m]; as many layers as the ground column."""
    roof_covering_layers: int = 4
    insulation_heat_capacity_j_m3_k: float = 0.05e6
    """Mineral wool, density ~60 kg m-3 x 840 J kg-1 K-1 (EN ISO 10456:2007, Table 3)."""
    insulation_conductivity_w_m_k: float = 0.04
    """Mineral wool design value 0.035-0.04 W m-1 K-1 (EN ISO 10456:2007, Table 3)."""
    indoor_temperature_k: float = 299.15
    """26 C below the roof: assumption for non-air-conditioned Flemish dwellings in a
    heat wave (indoor summer comfort limit of EN 16798-1:2019, category II, upper bound)."""
    water_conductivity_w_m_k: float = 200.0
    """Effective conductivity of a mixed water column: 4.18e6 J m-3 K-1 x eddy
    diffusivity 5e-5 m2 s-1, middle of the 1e-6-1e-4 m2 s-1 range of lake surface
    layers (Henderson-Sellers 1985, Appl. Math. Modelling 9, 441-446). Assumption."""
    deep_ground_temperature_k: float = 292.15
    """19 C: start and bottom temperature of ground and road columns. Below the daily
    wave the ground follows the mean air temperature of the preceding weeks (Oke 1987,
    sec. 2.2): the July mean at Uccle is 18.7 C (RMI/KMI normals 1991-2020)."""
    start_at_mean_air_temperature: bool = True
    """Start the ground, road and roof-covering layers at the mean air temperature of the
    weather rather than at the deep temperature: a hot day comes after days of heat (25 July
    2019 was the fourth day of the heat wave), by which time the upper layers, several daily
    damping depths (~0.1 m for asphalt, Oke 1987 Table 2.1 order) deep, have approached the
    mean temperature of those days. The bottom stays at the deep temperature."""
    water_temperature_k: float = 297.15
    """24 C: start and bottom temperature of water columns; Flemish rivers reached
    24-26 C in the heat of late July 2019 (VMM water temperature monitoring). Assumption."""

    # --- radiation and vegetation ---------------------------------------------------
    leaf_transmissivity: float = 0.03
    """Shortwave transmissivity of tree crowns in leaf (SOLWEIG default, Lindberg &
    Grimmond 2011, Theor. Appl. Climatol. 105, 311-323, doi:10.1007/s00704-010-0382-8)."""
    sky_view_directions: int = 32
    """Azimuths for the sky view factor; 32 gives <1 % error for street canyons
    (Zaksek et al. 2011, Remote Sens. 3, 398-415)."""
    horizon_distance_m: float = 300.0
    """Search distance for shadows and the sky view [m]: a 20 m building at the 4 deg
    sun of early morning casts a 286 m shadow."""
    bulk_stomatal_resistance_s_m: float = 100.0
    """r_l of a well-illuminated leaf; surface resistance r_s = r_l / (0.5 LAI)
    (FAO-56, Allen et al. 1998, eq. 5)."""
    stomatal_humidity_coefficient_kg_kg: float = 36.35
    """Stomata close in dry air: r_s is divided by F2 = 1 / (1 + hs (q*(Ta) - q_a)) with
    the specific humidity deficit in kg kg-1 (Jarvis 1976 form as in the Noah land surface
    model, Chen et al. 1996, J. Geophys. Res. 101, 7251-7268; hs = 36.35 for grassland and
    cropland in Noah's VEGPARM table, the dominant vegetation of the town; deciduous forest
    there has 54.53)."""
    stomatal_optimum_temperature_k: float = 298.0
    """... and in heat: r_s is divided by F3 = 1 - 0.0016 (298 K - Ta)^2 (Noilhan & Planton
    1989, Mon. Weather Rev. 117, 536-549, eq. 33; used in Noah, Chen et al. 1996)."""
    initial_relative_soil_water: float = 0.35
    """Root-zone water at the start, as a share of the total available water between
    wilting point and field capacity. Assumption: after the dry first half of summer
    2019 (RMI/KMI climate reports: a very dry July at Uccle) about a third remained.
    A storm before the heat (issue 5) replaces it."""
    depletion_fraction: float = 0.5
    """FAO-56 p: transpiration falls below its potential once more than half of the
    available water is used (FAO-56 Table 22, p = 0.5 for grass, most crops and trees);
    water stress factor Ks = W / ((1 - p) TAW), capped at 1 (FAO-56 eq. 84)."""

    # --- air --------------------------------------------------------------------------
    air_density_kg_m3: float = 1.15
    """At 30 C and 1013 hPa (ideal gas, R_d = 287.05 J kg-1 K-1)."""
    air_heat_capacity_j_kg_k: float = 1005.0
    """Dry air at constant pressure (Stull 1988, Appendix)."""
    psychrometric_pa_k: float = 67.0
    """FAO-56 eq. 8 at 1013 hPa: 0.665e-3 x 101.3 kPa = 0.0674 kPa K-1."""
    latent_heat_j_kg: float = 2.45e6
    """FAO-56, p. 31, at about 20 C."""
    wind_reference_height_m: float = 10.0
    """Weather-station wind height (WMO standard)."""
    town_air: bool = True
    """Simulate the town's canopy-layer air (its heat island). False: the air everywhere is
    the station's (rural) air, so each surface sees only its own column and the weather; a
    diagnostic that isolates the surface (e.g. to show a wetter soil changes nothing on
    sealed cells), not a model of a town."""
    air_grid_m: float = 50.0
    """Cell size of the near-surface air model [m]: air mixes over tens of metres, and a
    coarser grid keeps the explicit advection step (CFL) affordable."""
    canopy_layer_depth_m: float = 10.0
    """Depth of the near-surface (urban canopy) air layer [m]: the typical building
    height of the town (two to three storeys, see the site's building heights)."""
    air_horizontal_diffusivity_m2_s: float = 10.0
    """Horizontal turbulent diffusivity [m2 s-1]: sigma_v ~ 1 m s-1 x mixing length ~10 m
    (Stull 1988, sec. 6.4); on the 50 m air grid it is of the order of the upwind scheme's
    numerical diffusion (u dx / 2)."""
    town_roughness_m: float = 1.0
    """Roughness of the town for the exchange of canopy air with the air above
    (Wieringa et al. 2001, 'closed' class)."""
    roof_surface_roughness_m: float = 0.005
    """Roughness for the heat exchange of a roof's own surface [m]. The table's value for the
    class 'building' (1 m) is the town's, for the wind above the roofs; the plane of tiles or
    bitumen is aerodynamically smooth (Wieringa et al. 2001, 'smooth' class 0.005 m). With it
    the roof's transfer coefficient rho cp / r_a is 8 W m-2 K-1 at 3 m s-1 in neutral air and
    ~25 for a roof 20 K above the air (Choudhury correction), the order of the wind convection
    correlations for building surfaces (5-20, Palyvos 2008, Appl. Therm. Eng. 28, 801-808);
    with 1 m it would be 55 and more."""
    rural_roughness_m: float = 0.03
    """Roughness of the open country around the weather station (Wieringa et al. 2001,
    'open' class, z0 = 0.03 m)."""
    blending_height_m: float = 60.0
    """Height above which the wind no longer feels the local surface (Wieringa 1986,
    Q. J. R. Meteorol. Soc. 112, 867-889: ~60 m); the station wind is carried up to it
    over open country and down from it over the town."""
    displacement_height_ratio: float = 0.7
    """Zero-plane displacement of the town as a share of its height, d = 0.7 h (Grimmond &
    Oke 1999, J. Appl. Meteorol. 38, 1262-1292, rule of thumb)."""
    active_margin_m: float = 100.0
    """Cells simulated beyond the study area [m] (at least one air cell): the margin the
    near-surface air needs at the boundary. Farther out, the grid serves only the shadows and
    the sky view; air enters the study area at the rural reference. (The bundled site's
    margin is open farmland, 55 % of its grid.)"""
    rural_built_share_max: float = 0.05
    """A cell is rural (sets the reference) when less than 5 % of the land within 500 m
    is roofs or paving. Assumption, in the spirit of the LCZ 'D' (low plants) class
    (Stewart & Oke 2012, BAMS 93, 1879-1900)."""
    rural_radius_m: float = 500.0

    # --- people -----------------------------------------------------------------------
    person_shortwave_absorptivity: float = 0.70
    """Standard value for the human body (Hoppe 1992; VDI 3787-2:2008)."""
    person_emissivity: float = 0.97
    """Human body (VDI 3787-2:2008)."""
    utci_strong_stress_c: float = 32.0
    """UTCI above 32 C: strong heat stress (Blazejczyk et al. 2013, Geogr. Pol. 86, 5-10)."""
    tropical_night_c: float = 20.0
    """Minimum temperature above 20 C: a tropical night (RMI/KMI definition)."""
    extra: dict = field(default_factory=dict)

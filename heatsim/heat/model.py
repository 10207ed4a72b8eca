"""The heat model: owns the time loop, the state and the energy ledger.

Per time step (``HeatParameters.time_step_s``):

1. weather at the step's time (air temperature, humidity, wind, sun, irradiance);
2. the sunlit fraction of every cell for the sun position (buildings and terrain
   opaque, tree crowns partly transparent); the sky view factor is computed once;
3. the surface energy balance of every cell, linearised around the surface
   temperature (:mod:`heatsim.kernels.surface_energy`);
4. one implicit conduction step of every cell's column (ground, road, roof slab
   over insulation, or a mixed water column) with that linearised flux on top
   (:mod:`heatsim.kernels.conduction`), giving the new surface temperature;
5. the energy ledger at the new state: net radiation = sensible + latent + storage
   change + flux through the bottom of the columns, summed over the study area;
6. the water stores: transpiration and evaporation draw down root-zone water and
   ponded water, which limit the next step's latent heat;
7. the near-surface air temperature on a coarser air grid: heated by the sensible
   flux in excess of the rural cells', advected by the wind, mixed horizontally and
   exchanged with the air above (:mod:`heatsim.kernels.airtemp`).

Steps 3-6 run band by band (:meth:`HeatModel._bands`: whole grid rows, ~1 M cells each), so
the scratch memory is one band's; the sums of step 5 and the air's heat source of step 7 are
added up over the bands. The hourly fields of the reported days (after the spin-up: surface,
air and mean radiant temperature and UTCI) are computed band by band too and handed to a
store (:mod:`heatsim.heat.hourly`): in memory, or written into the run's NetCDF file as they
come, which is how the 1 m town (65 M cells) fits into 24 GiB.

Walls: one brick column per building cell with façades (:class:`_Walls`), sunlit on each
façade orientation, cooled by longwave and convection, heating the canopy air; they enter
the ledger per plan area.

What the model leaves out: the walls' own longwave towards the street (the street sees
them at air temperature) and their shortwave reflections, the energy balance of tree
crowns themselves (trees shade the ground; cells of the class 'trees' transpire),
anthropogenic heat. Only the study area and a margin are simulated (``active_margin_m``).
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from heatsim.grid import Grid
from heatsim.heat.comfort import mean_radiant_temperature_c, utci_c
from heatsim.heat.hourly import TIMEZONE, hourly_store
from heatsim.heat.parameters import HeatParameters
from heatsim.kernels.airtemp import air_temperature_max_dt_s, air_temperature_step_serial
from heatsim.kernels.conduction import conduct_column_types
from heatsim.kernels.ledger import weighted_sums
from heatsim.kernels.linearised import fluxes_at_new_state, net_surface_flux
from heatsim.kernels.shadows import local_max_height_m, sunlit_fraction_cells
from heatsim.kernels.skyview import sky_view_factor
from heatsim.kernels.surface_energy import (ET_NONE, ET_OPEN_WATER, ET_PONDED, ET_SOIL, ET_VEGETATION,
                                            aerodynamic_resistance, saturation_vapour_pressure_pa, surface_fluxes)
from heatsim.kernels.walls import (INDOOR_SURFACE_RESISTANCE_M2_K_W, WALL_ALBEDO, WALL_CONDUCTIVITY_W_M_K,
                                   WALL_EMISSIVITY, WALL_HEAT_CAPACITY_J_M3_K, WALL_LAYERS_M, facade_area_ratios,
                                   facade_front_cells, wall_direct_weight_cells, wall_fluxes, wall_solar_weights)
from heatsim.kernels.water_stores import draw_water, water_availability
from heatsim.landcover import LandCoverTable
from heatsim.paths import cache_dir, write_atomically

ET_CODES = {"none": ET_NONE, "ponded": ET_PONDED, "soil": ET_SOIL, "vegetation": ET_VEGETATION,
            "open_water": ET_OPEN_WATER}
ROOF_CLASSES = ("building", "green_roof")
AIR_FILM_HEAT_CAPACITY_J_M3_K = 1.2e3  # air, rho 1.2 kg m-3 x cp 1005 J kg-1 K-1: the film stores ~nothing
LOCAL_TZ = TIMEZONE


@dataclass
class EnergyLedger:
    """Per-step sums over the study area (domain cells). [W]; ``area_m2`` [m2]."""

    area_m2: float
    reported: list = field(default_factory=list)  # True for steps after the spin-up
    net_radiation_w: list = field(default_factory=list)
    sensible_w: list = field(default_factory=list)
    latent_w: list = field(default_factory=list)
    storage_change_w: list = field(default_factory=list)
    bottom_w: list = field(default_factory=list)

    def residual_w(self) -> np.ndarray:
        """Rn - H - LE - dS/dt - bottom flux, per step. [W]"""
        return (np.asarray(self.net_radiation_w) - np.asarray(self.sensible_w) - np.asarray(self.latent_w)
                - np.asarray(self.storage_change_w) - np.asarray(self.bottom_w))

    @property
    def closure_rel(self) -> float:
        """Largest |residual| of a step relative to that step's |Rn| + |H| + |LE|."""
        scale = (np.abs(self.net_radiation_w) + np.abs(self.sensible_w) + np.abs(self.latent_w))
        return float(np.max(np.abs(self.residual_w()) / np.maximum(scale, 1e-30)))


@dataclass
class HeatResult:
    """Hourly fields of the reported days and the ledger.

    ``fields`` is a Dataset with ``surface_temperature``, ``air_temperature``,
    ``mean_radiant_temperature`` and ``utci`` [degC], dims (time, y, x), time in UTC
    (attribute ``timezone`` gives the local zone of the reports).
    """

    fields: xr.Dataset
    ledger: EnergyLedger
    sky_view: np.ndarray
    rural: np.ndarray
    built_share: np.ndarray  # share of roofs and paving within rural_radius_m [-]
    parameters: HeatParameters
    hourly_path: object = None  # the NetCDF file ``fields`` is read from, None when in memory
    #: reductions of the fields over the last day, computed once (heatsim.heat.summary.last_day_hours_above,
    #: last_day_night_min): read from the file they cost 24 hourly reads each
    reductions: dict = field(default_factory=dict, repr=False)


def built_share(site: xr.Dataset, table: LandCoverTable, radius_m: float) -> np.ndarray:
    """Share of roofs and sealed paving within ``radius_m`` of each cell (box filter). [-]"""
    res = Grid.of(site).resolution_m
    built = np.isin(site["landcover"].values, table.codes(["building", "green_roof", "asphalt", "paving"]))
    size = max(1, int(round(2 * radius_m / res)) | 1)
    return ndimage.uniform_filter(built.astype(np.float32), size=size, mode="nearest")


class HeatModel:
    """Set up from a site, a land-cover table and weather; :meth:`run` returns a :class:`HeatResult`."""

    #: a :class:`heatsim.tiling.Tiling` computes the sky view by tiles with dask (same result)
    tiling = None
    #: grid cells per band of rows updated at once (:meth:`_bands`): bounds the scratch memory
    #: (~0.3 kB per cell of a band) and the hourly fields held before they are written
    band_cells = 1 << 20

    def __init__(self, site: xr.Dataset, table: LandCoverTable, weather, params: HeatParameters | None = None,
                 root_zone_water_mm: np.ndarray | None = None, ponded_water_mm: np.ndarray | None = None,
                 storm_water_mm: np.ndarray | None = None):
        """``root_zone_water_mm`` replaces the assumed start of the root-zone water; ``storm_water_mm``
        (water a storm put into the ground, per cell area, e.g. the water model's infiltration)
        is added to it, up to the total available water; ``ponded_water_mm`` is the water left
        in depression stores of sealed surfaces. All on the site's grid [mm]."""
        self.site, self.table, self.weather = site, table, weather
        self.p = params or HeatParameters()
        self.grid = Grid.of(site)
        self._setup_cells(root_zone_water_mm, ponded_water_mm, storm_water_mm)

    # ------------------------------------------------------------------ set-up
    def _setup_cells(self, root_zone_water_mm, ponded_water_mm, storm_water_mm) -> None:
        p, t, site = self.p, self.table, self.site
        # the cells simulated: the study area and a margin around it (one air cell and at least
        # active_margin_m); the rest of the grid serves shadows and the sky view only
        self.domain2d = site["domain"].values == 1
        margin = max(int(np.ceil(p.active_margin_m / self.grid.resolution_m)),
                     int(round(p.air_grid_m / self.grid.resolution_m)))
        self.active2d = ndimage.maximum_filter(self.domain2d, size=2 * margin + 1, mode="constant")
        self.cells = np.flatnonzero(self.active2d)
        lc = site["landcover"].values.ravel()[self.cells]
        self.n = lc.size
        self.domain = self.domain2d.ravel()[self.cells]
        look = lambda name, fill=0.0: t.lookup(name, fill)[lc]  # noqa: E731
        self.albedo, self.emissivity = look("albedo"), look("emissivity")
        self.roughness = look("roughness_length_m", 0.1)
        et = np.zeros(max(c.code for c in t.classes.values()) + 1, dtype=np.int8)
        for cls in t.classes.values():
            et[cls.code] = ET_CODES[cls.et_kind]
        self.et_kind = et[lc]
        lai = look("leaf_area_index")
        self.surface_resistance = np.where(self.et_kind == ET_VEGETATION,
                                           p.bulk_stomatal_resistance_s_m / np.maximum(0.5 * lai, 1e-3), 0.0)
        # available water of the root zone / substrate / evaporating soil layer [mm]
        soil = site["soil"].values.ravel()[self.cells]
        fc = t.soil_lookup("field_capacity", 0.3)[soil]
        wp = t.soil_lookup("wilting_point", 0.1)[soil]
        taw = np.maximum(fc - wp, 0.0) * look("root_depth_m") * 1000.0
        is_substrate = np.isin(lc, [c.code for c in t.classes.values() if c.infiltration == "substrate"])
        taw = np.where(is_substrate, t.lookup("substrate_water_capacity_mm", 0.0)[lc], taw)
        self.total_available_water_mm = taw
        self.root_water_mm = (np.asarray(root_zone_water_mm, dtype=np.float64).ravel()[self.cells].copy()
                              if root_zone_water_mm is not None else p.initial_relative_soil_water * taw)
        if storm_water_mm is not None:
            # the storm refills the root zone (the water it took in), up to field capacity
            added = np.asarray(storm_water_mm, dtype=np.float64).ravel()[self.cells]
            self.root_water_mm = np.minimum(self.root_water_mm + np.maximum(added, 0.0), taw)
        self.ponded_mm = (np.asarray(ponded_water_mm, dtype=np.float64).ravel()[self.cells].copy()
                          if ponded_water_mm is not None else np.zeros(self.n))
        # columns: one type per land-cover code (all column properties follow from the class)
        nl = len(p.ground_layers_m)
        if len(p.roof_layers_m) != nl:
            raise ValueError("roof and ground columns need the same number of layers")
        roof_codes = set(t.codes(list(ROOF_CLASSES)))
        n_codes = max(c.code for c in t.classes.values()) + 1
        cap = np.ones((n_codes, nl))
        cond = np.ones((n_codes, nl))
        dz = np.repeat(np.asarray(p.ground_layers_m, dtype=np.float64)[None, :], n_codes, axis=0)
        bottom = np.full(n_codes, p.deep_ground_temperature_k)
        self.covering = np.ones((n_codes, nl), dtype=bool)  # layers that start at the mean air temperature
        for cls in t.classes.values():
            c = cls.code
            cap[c] = cls["heat_capacity_j_m3_k"]
            cond[c] = cls["conductivity_w_m_k"]
            if c in roof_codes:
                dz[c] = p.roof_layers_m
                insulation = np.arange(nl) >= p.roof_covering_layers
                cap[c, insulation] = p.insulation_heat_capacity_j_m3_k
                cond[c, insulation] = p.insulation_conductivity_w_m_k
                bottom[c] = p.indoor_temperature_k
                self.covering[c] = ~insulation
            elif cls.et_kind == "open_water":
                cond[c] = p.water_conductivity_w_m_k
                bottom[c] = p.water_temperature_k
                self.covering[c] = False
        self.column_type = lc.astype(np.int16)
        self.roof = np.isin(lc, list(roof_codes))
        self.roof2d = np.isin(site["landcover"].values, list(roof_codes))
        self.people2d = self.domain2d & ~self.roof2d  # where UTCI is reported: the study area's ground
        # a roof exchanges heat with the air over its own plane, not over the town's 1 m roughness
        self.roughness = np.where(self.roof, p.roof_surface_roughness_m, self.roughness)
        self.type_heat_capacity, self.type_conductivity, self.type_thickness = cap, cond, dz
        self.type_bottom_k = bottom
        # surfaces for shade and sky view
        elev = site["elevation"].values.astype(np.float64)
        self.surface_m = elev + site["building_height"].values.astype(np.float64)
        canopy = site["canopy"].values.astype(np.float64)
        self.canopy = canopy
        self.vegetation_top_m = np.where(canopy > 0, elev + site["tree_height"].values, elev).astype(np.float64)
        share = self.built_share = built_share(site, t, p.rural_radius_m)
        land = ~np.isin(site["landcover"].values, t.codes(["water"]))
        land &= self.active2d
        self.rural = (share < p.rural_built_share_max) & land
        if not self.rural.any():
            # a site cut from a town may hold no rural cell: its least built tenth stands in
            self.rural = (share <= np.percentile(share[land], 10)) & land

    def sky_view(self) -> np.ndarray:
        """Sky view factor of every cell [-], from the cache when this surface was seen before."""
        p = self.p
        key = hashlib.sha256()
        for array in (self.surface_m, self.vegetation_top_m, self.canopy):
            key.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        key.update(repr((self.grid.resolution_m, p.sky_view_directions, p.horizon_distance_m,
                         p.leaf_transmissivity)).encode())
        key.update(inspect.getsource(sky_view_factor.py_func).encode())  # a kernel change invalidates
        path = cache_dir() / "sky-view" / f"{key.hexdigest()[:32]}.npy"
        if path.exists():
            try:
                cached = np.load(path)
                if cached.shape == self.grid.shape:
                    return cached
            except (OSError, ValueError):
                pass  # a damaged cache entry is recomputed and replaced
        svf = self._compute_sky_view()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, lambda tmp: np.save(tmp, svf))
        except OSError:
            pass  # an unwritable cache only costs time
        return svf

    def _compute_sky_view(self) -> np.ndarray:
        if self.tiling is not None:
            from heatsim.tiling import sky_view_factor_tiled

            return sky_view_factor_tiled(
                self.surface_m, self.vegetation_top_m, self.canopy, cell_size_m=self.grid.resolution_m,
                n_directions=self.p.sky_view_directions, max_distance_m=self.p.horizon_distance_m,
                leaf_transmissivity=self.p.leaf_transmissivity, chunks=self.tiling.chunk_cells,
                scheduler=self.tiling.scheduler)
        out = np.empty(self.grid.shape, dtype=np.float64)
        return sky_view_factor(self.surface_m, self.vegetation_top_m, self.canopy, cell_size_m=self.grid.resolution_m,
                               n_directions=self.p.sky_view_directions, max_distance_m=self.p.horizon_distance_m,
                               leaf_transmissivity=self.p.leaf_transmissivity, out=out)

    # ------------------------------------------------------------------ run
    def _bands(self) -> list[tuple[int, int, int, int]]:
        """Bands of whole grid rows (row0, row1) and the simulated cells in them (cell0, cell1),
        about :attr:`band_cells` grid cells each: a step updates the cells band by band, so
        its scratch arrays and the hourly fields in memory are one band's, not the grid's."""
        grid = self.grid
        rows = max(1, int(self.band_cells) // grid.nx)
        edges = list(range(0, grid.ny, rows)) + [grid.ny]
        first_cell = np.searchsorted(self.cells, np.asarray(edges, dtype=np.int64) * grid.nx)
        return [(edges[b], edges[b + 1], int(first_cell[b]), int(first_cell[b + 1])) for b in range(len(edges) - 1)]

    def run(self, progress=None, hourly_path=None) -> HeatResult:
        """Simulate the weather's days; hourly fields of the reported days are kept in memory, or
        written band by band to the NetCDF file ``hourly_path`` (which must not exist) and
        opened lazily from it (:mod:`heatsim.heat.hourly`)."""
        p, grid = self.p, self.grid
        w = self.weather
        steps = pd.date_range(w.start, w.end, freq=pd.Timedelta(seconds=p.time_step_s), inclusive="left")
        met = w.at(steps)
        report_from = w.simulation_start
        dt = p.time_step_s
        nl = len(p.ground_layers_m)
        bands = self._bands()
        m = max([c1 - c0 for _, _, c0, c1 in bands] + [1])  # the most cells of a band

        svf = self.sky_view()
        cells = self.cells
        svf_cells = svf.ravel()[cells]
        types = self.column_type
        heat_per_kelvin = self.type_heat_capacity * self.type_thickness  # [J m-2 K-1] per type and layer
        mean_air_k = float(met["air_temperature_k"].mean())
        temperature = np.empty((self.n, nl))
        energy_old = np.empty(self.n)
        for _, _, c0, c1 in bands:
            t = types[c0:c1]
            start = np.repeat(self.type_bottom_k[t][:, None], nl, axis=1)
            if p.start_at_mean_air_temperature:
                # ground, roads and roof coverings start at the mean air temperature of the hot days (not the
                # water, not below the roof insulation): the upper layers after days of heat, see parameters
                start = np.where(self.covering[t], mean_air_k, start)
            temperature[c0:c1] = start
            energy_old[c0:c1] = np.sum(start * heat_per_kelvin[t], axis=1)
        walls = _Walls(self, svf, mean_air_k)
        # one band's scratch, reused by every band
        fluxes_buffer, terms_buffer = np.empty(6 * m), np.empty(5 * m)
        flux, slope, energy_new = np.empty(m), np.empty(m), np.empty(m)
        air_cells, sunlit_cells, surface, availability, resistance, weight = (np.empty(m) for _ in range(6))
        band_sums, sums, one_sum = np.empty(5), np.empty(5), np.empty(1)
        sunlit = np.zeros(grid.shape)
        # shadows where they are used: the simulated cells and the street in front of their walls
        shade_cells = np.flatnonzero(ndimage.maximum_filter(self.active2d, size=3, mode="constant"))
        horizon_m = local_max_height_m(self.surface_m, self.vegetation_top_m, cell_size_m=grid.resolution_m,
                                       max_distance_m=p.horizon_distance_m).ravel()[shade_cells]
        sunlit_shade = np.empty(min(m, max(shade_cells.size, 1)))
        # air grid
        factor = max(1, int(round(p.air_grid_m / grid.resolution_m)))
        air_cell_m = factor * grid.resolution_m  # a whole number of site cells, near p.air_grid_m
        ny_a, nx_a = -(-grid.ny // factor), -(-grid.nx // factor)
        anomaly = np.zeros((ny_a, nx_a))
        air_index = (cells // grid.nx // factor) * nx_a + (cells % grid.nx) // factor
        # grid cells per air cell (the last row and column of air cells may be partly outside the grid)
        block_cells = np.outer(np.bincount(np.arange(grid.ny) // factor, minlength=ny_a),
                               np.bincount(np.arange(grid.nx) // factor, minlength=nx_a)).ravel()
        simulated_per_block = np.bincount(air_index, minlength=ny_a * nx_a)
        heat_per_block = np.empty(ny_a * nx_a)
        air_tmp = np.empty((ny_a, nx_a))
        ledger = EnergyLedger(area_m2=float(self.domain.sum() * grid.cell_area_m2))
        rural_cells = self.rural.ravel()[cells]
        rural_share = 1.0 / max(int(self.rural.sum()), 1)  # the mean of rural cells as a weighted sum
        lam = p.latent_heat_j_kg

        hourly_times = [t for t in steps if t >= report_from and _on_the_hour(t)]
        store = hourly_store(grid, hourly_times, hourly_path, band_rows=bands[0][1] - bands[0][0])
        try:
            hour = 0
            for k, time in enumerate(steps):
                row = met.iloc[k]
                t_ref = float(row["air_temperature_k"])
                elevation = float(row["sun_elevation_deg"])
                if elevation > 0:
                    for a in range(0, shade_cells.size, sunlit_shade.size):
                        b = min(a + sunlit_shade.size, shade_cells.size)
                        sunlit_fraction_cells(self.surface_m, self.vegetation_top_m, self.canopy, shade_cells[a:b],
                                              horizon_m[a:b], cell_size_m=grid.resolution_m,
                                              sun_azimuth_deg=float(row["sun_azimuth_deg"]),
                                              sun_elevation_deg=elevation, max_distance_m=p.horizon_distance_m,
                                              leaf_transmissivity=p.leaf_transmissivity, out=sunlit_shade[:b - a])
                        sunlit.flat[shade_cells[a:b]] = sunlit_shade[:b - a]
                else:
                    sunlit[:] = 0.0
                sky_emissivity = brutsaert_emissivity(t_ref, float(row["vapour_pressure_pa"]))
                direct_h = float(row["dni_w_m2"]) * max(np.sin(np.radians(elevation)), 0.0)
                stress = stomatal_stress_factor(p, t_ref, float(row["vapour_pressure_pa"]))
                report_hour = time >= report_from and _on_the_hour(time)
                wall_sums = walls.step(sunlit, anomaly, air_index, t_ref, row, elevation, sky_emissivity, dt)
                sums[:] = 0.0
                heat_per_block[:] = 0.0
                rural_sensible = rural_surface = 0.0
                for r0, r1, c0, c1 in bands:
                    if report_hour:
                        # the state at the start of the step, with that moment's sun and air
                        self._hourly_band(store, hour, r0, r1, c0, c1, temperature, anomaly, t_ref, factor, sunlit,
                                          svf, row, elevation, direct_h, sky_emissivity)
                    nb = c1 - c0
                    if nb == 0:
                        continue
                    band = slice(c0, c1)
                    fluxes = fluxes_buffer[:6 * nb].reshape(6, nb)
                    terms = terms_buffer[:5 * nb].reshape(5, nb)  # Rn, H, LE at the new state, energy change, bottom
                    air, lit, ts = air_cells[:nb], sunlit_cells[:nb], surface[:nb]
                    np.take(anomaly.ravel(), air_index[band], out=air)  # the air cell above each cell
                    air += t_ref
                    np.take(sunlit.ravel(), cells[band], out=lit)
                    water_availability(self.et_kind[band], self.root_water_mm[band],
                                       self.total_available_water_mm[band], self.ponded_mm[band],
                                       depletion_fraction=p.depletion_fraction, out=availability[:nb])
                    ts[:] = temperature[band, 0]
                    np.multiply(self.surface_resistance[band], 1.0 / stress, out=resistance[:nb])
                    surface_fluxes(ts, air, self.albedo[band], self.emissivity[band], lit, svf_cells[band],
                                   self.roughness[band], self.et_kind[band], resistance[:nb], availability[:nb],
                                   direct_horizontal_w_m2=direct_h, diffuse_w_m2=float(row["dhi_w_m2"]),
                                   sky_emissivity=sky_emissivity, vapour_pressure_pa=float(row["vapour_pressure_pa"]),
                                   wind_speed_m_s=float(row["wind_speed_m_s"]),
                                   reference_height_m=p.wind_reference_height_m, air_density_kg_m3=p.air_density_kg_m3,
                                   air_heat_capacity_j_kg_k=p.air_heat_capacity_j_kg_k,
                                   psychrometric_pa_k=p.psychrometric_pa_k, out=fluxes)
                    net_surface_flux(fluxes, flux[:nb], slope[:nb])
                    # in place: the step reads each column before writing it, and half the memory traffic goes
                    columns = temperature[band]
                    conduct_column_types(columns, types[band], self.type_heat_capacity, self.type_conductivity,
                                         self.type_thickness, self.type_bottom_k, flux[:nb], slope[:nb], dt_s=dt,
                                         out=columns, energy_j_m2=energy_new[:nb], bottom_flux_w_m2=terms[4])
                    fluxes_at_new_state(fluxes, ts, columns, terms)
                    h_new, le_new = terms[1], terms[2]
                    np.subtract(energy_new[:nb], energy_old[band], out=terms[3])
                    energy_old[band] = energy_new[:nb]
                    np.multiply(self.domain[band], grid.cell_area_m2, out=weight[:nb])  # sums over the study area [m2]
                    sums += weighted_sums(terms, weight[:nb], band_sums)
                    walls.add_sensible_per_plan_area(h_new, c0, c1)  # the walls heat the canopy air too
                    draw_water(self.et_kind[band], le_new, self.root_water_mm[band], self.ponded_mm[band], dt_s=dt,
                               latent_heat_j_kg=lam)
                    if p.town_air:
                        heat_per_block += np.bincount(air_index[band], weights=h_new, minlength=ny_a * nx_a)
                        np.multiply(rural_cells[band], rural_share, out=weight[:nb])
                        rural_sensible += float(weighted_sums(h_new[None, :], weight[:nb], one_sum)[0])
                        rural_surface += float(weighted_sums(ts[None, :], weight[:nb], one_sum)[0])
                if report_hour:
                    hour += 1
                ledger.reported.append(bool(time >= report_from))
                ledger.net_radiation_w.append(float(sums[0] + wall_sums[0]))
                ledger.sensible_w.append(float(sums[1] + wall_sums[1]))
                ledger.latent_w.append(float(sums[2]))
                ledger.storage_change_w.append(float(sums[3] + wall_sums[2]) / dt)
                ledger.bottom_w.append(float(sums[4] + wall_sums[3]))
                # air: excess heating over the rural cells drives the canopy-layer anomaly, as the block
                # mean over each air cell; cells not simulated count as rural (no excess)
                if p.town_air:
                    source = ((heat_per_block - rural_sensible * simulated_per_block) / block_cells).reshape(ny_a, nx_a)
                    self._step_air(anomaly, air_tmp, source, t_ref, row, rural_surface, dt, air_cell_m)
                if progress is not None:
                    progress(k + 1, len(steps))
            fields = store.finish()
        except BaseException:
            store.close()
            raise
        return HeatResult(fields, ledger, svf, self.rural, self.built_share, p, hourly_path=store.path)

    def _hourly_band(self, store, hour, r0, r1, c0, c1, temperature, anomaly, t_ref, factor, sunlit, svf, row,
                     elevation, direct_h, sky_emissivity) -> None:
        """The hourly fields of grid rows r0:r1 (simulated cells c0:c1) into ``store``. [degC]"""
        p, nx = self.p, self.grid.nx
        shape = (r1 - r0, nx)
        local = self.cells[c0:c1] - r0 * nx
        air_k = t_ref + _upsample(anomaly, factor, self.grid.shape, rows=(r0, r1))
        surface_k, albedo, emissivity = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
        surface_k.flat[local] = temperature[c0:c1, 0]
        albedo.flat[local] = self.albedo[c0:c1]
        emissivity.flat[local] = self.emissivity[c0:c1]
        mrt = mean_radiant_temperature_c(
            surface_k=surface_k, air_k=air_k, ground_albedo=albedo, ground_emissivity=emissivity,
            sunlit=sunlit[r0:r1], sky_view=svf[r0:r1], direct_normal_w_m2=float(row["dni_w_m2"]),
            direct_horizontal_w_m2=direct_h, diffuse_w_m2=float(row["dhi_w_m2"]),
            sky_emissivity=sky_emissivity, sun_elevation_deg=elevation,
            absorptivity=p.person_shortwave_absorptivity, person_emissivity=p.person_emissivity)
        mrt = np.where(self.roof2d[r0:r1], np.nan, mrt)
        air_c = air_k - 273.15
        people = self.people2d[r0:r1]  # UTCI where people walk: the study area's ground cells
        utci = np.full(shape, np.nan)
        if people.any():
            utci[people] = utci_c(air_c[people], mrt[people], float(row["wind_speed_m_s"]),
                                  float(row["relative_humidity_pct"]))
        store.write("surface_temperature", hour, r0, r1, surface_k - 273.15)
        store.write("air_temperature", hour, r0, r1, air_c)
        store.write("mean_radiant_temperature", hour, r0, r1, mrt)
        store.write("utci", hour, r0, r1, utci)

    # ------------------------------------------------------------------ pieces
    def _step_air(self, anomaly, tmp, source_w_m2, t_ref, row, rural_surface_k, dt, dx) -> None:
        """Canopy air exchanges with the air above through the town's roughness; the
        stability of that air is the regional one, set by the rural surface."""
        p = self.p
        r_a = aerodynamic_resistance(rural_surface_k, t_ref, p.town_roughness_m, float(row["wind_speed_m_s"]),
                                     p.canopy_layer_depth_m + p.wind_reference_height_m)
        tau = p.canopy_layer_depth_m * r_a  # h / exchange velocity (1 / r_a)
        factor = canopy_wind_factor(p)
        u, v = factor * float(row["wind_u_m_s"]), factor * float(row["wind_v_m_s"])
        limit = air_temperature_max_dt_s(wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx,
                                         diffusivity_m2_s=p.air_horizontal_diffusivity_m2_s, relaxation_time_s=tau)
        n_sub = max(1, int(np.ceil(dt / (0.9 * limit))))
        air = anomaly + t_ref
        for _ in range(n_sub):
            air_temperature_step_serial(air, source_w_m2, t_ref, wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx,
                                        mixing_height_m=p.canopy_layer_depth_m,
                                        diffusivity_m2_s=p.air_horizontal_diffusivity_m2_s,
                                        relaxation_time_s=tau, air_density_kg_m3=p.air_density_kg_m3,
                                        air_heat_capacity_j_kg_k=p.air_heat_capacity_j_kg_k, dt_s=dt / n_sub,
                                        out=tmp)
            air, tmp = tmp, air
        anomaly[:] = air - t_ref


class _Walls:
    """The façades of the buildings: one combined wall per building cell with façades, a
    brick column heated by the sun on its faces and cooled by longwave and convection to
    the canopy air (:mod:`heatsim.kernels.walls`). Fluxes are per unit wall area inside,
    per unit plan area (x façade area ratio) in the ledger and the air."""

    def __init__(self, model: "HeatModel", svf: np.ndarray, start_k: float):
        p, grid = model.p, model.grid
        self.p = p
        # the facades' geometry band by band (one row of halo: the kernels read the four neighbours),
        # so that its grid-sized arrays (7 x 8 B per cell) are one band's; the same values as over
        # the whole grid, whose edges the kernels treat as open
        building = model.site["building_height"].values
        rows = max(1, int(model.band_cells) // grid.nx)
        index, area_ratio, sky_view, ratios = [], [], [], []
        for r0 in range(0, grid.ny, rows):
            r1 = min(r0 + rows, grid.ny)
            h0, h1 = max(r0 - 1, 0), min(r1 + 1, grid.ny)
            heights = np.where(model.roof2d[h0:h1], building[h0:h1], 0.0).astype(np.float64)
            band_ratios = facade_area_ratios(heights, cell_size_m=grid.resolution_m, out=np.empty((4,) + heights.shape))
            weights = np.empty((3,) + heights.shape)
            wall_solar_weights(band_ratios, np.ones(heights.shape), svf[h0:h1], sun_azimuth_deg=180.0,
                               sun_elevation_deg=-1.0, out=weights)
            inner = slice(r0 - h0, r1 - h0)
            local = np.flatnonzero((weights[1, inner] > 0.0) & model.active2d[r0:r1])
            index.append(local + r0 * grid.nx)
            area_ratio.append(weights[1, inner].ravel()[local])
            sky_view.append(weights[2, inner].ravel()[local])
            ratios.append(band_ratios[:, inner].reshape(4, -1)[:, local])
        self.index = np.concatenate(index)
        self.position = np.searchsorted(model.cells, self.index)  # in the model's per-cell arrays
        n = self.index.size
        self.area_ratio, self.sky_view = np.concatenate(area_ratio), np.concatenate(sky_view)
        # the sun on the walls is computed at the wall cells only (wall_direct_weight_cells)
        self.ratios = np.ascontiguousarray(np.concatenate(ratios, axis=1))
        self.front = facade_front_cells(self.index, grid.shape)
        # brick, then the indoor surface film as a light layer of the film's resistance (EN ISO 6946)
        film_m = 0.01
        dz = np.array([list(WALL_LAYERS_M) + [film_m]])
        cap = np.array([[WALL_HEAT_CAPACITY_J_M3_K] * len(WALL_LAYERS_M) + [AIR_FILM_HEAT_CAPACITY_J_M3_K]])
        cond = np.array([[WALL_CONDUCTIVITY_W_M_K] * len(WALL_LAYERS_M) + [film_m / INDOOR_SURFACE_RESISTANCE_M2_K_W]])
        self.tables = (cap, cond, dz, np.array([p.indoor_temperature_k]))
        self.types = np.zeros(n, dtype=np.int16)
        self.temperature = np.full((n, dz.shape[1]), start_k)
        self.new_temperature = np.empty_like(self.temperature)
        self.energy_old = np.sum(self.temperature * (cap * dz)[0][None, :], axis=1)
        self.energy_new = np.empty(n)
        self.fluxes = np.empty((4, n))
        self.terms = np.empty((4, n))  # Rn, H at the new state, energy change, bottom flux; per wall area
        self.weight = model.domain[self.position] * model.grid.cell_area_m2 * self.area_ratio
        self.sums = np.empty(4)
        self.direct = np.zeros(n)
        self.h_new = self.terms[1]

    def step(self, sunlit, anomaly, air_index, t_ref, row, elevation_deg, sky_emissivity, dt) -> np.ndarray:
        """One step, with the sunlit fractions of the grid, the air anomaly over the air grid [K]
        and ``air_index`` (the air cell of each simulated cell); returns the walls' net radiation
        [W], sensible heat [W], energy change over the step [J] and flux through their inner
        face [W], summed over the study area."""
        if self.index.size == 0:
            self.sums[:] = 0.0
            return self.sums
        if elevation_deg > 0:
            wall_direct_weight_cells(self.ratios, self.front, sunlit.ravel(),
                                     sun_azimuth_deg=float(row["sun_azimuth_deg"]), sun_elevation_deg=elevation_deg,
                                     out=self.direct)
        else:
            self.direct[:] = 0.0
        surface = self.temperature[:, 0].copy()
        air_k = anomaly.ravel()[air_index[self.position]] + t_ref
        wall_fluxes(surface, air_k, self.area_ratio, self.direct, self.sky_view,
                    albedo=WALL_ALBEDO, emissivity=WALL_EMISSIVITY, dni_w_m2=float(row["dni_w_m2"]),
                    diffuse_w_m2=float(row["dhi_w_m2"]), sky_emissivity=sky_emissivity,
                    wind_speed_m_s=canopy_wind_factor(self.p) * float(row["wind_speed_m_s"]), out=self.fluxes)
        rn, h, drn, dh = self.fluxes
        conduct_column_types(self.temperature, self.types, *self.tables, rn - h, drn - dh, dt_s=dt,
                             out=self.new_temperature, energy_j_m2=self.energy_new, bottom_flux_w_m2=self.terms[3])
        d_ts = self.new_temperature[:, 0] - surface
        np.add(rn, drn * d_ts, out=self.terms[0])
        np.add(h, dh * d_ts, out=self.terms[1])
        np.subtract(self.energy_new, self.energy_old, out=self.terms[2])
        weighted_sums(self.terms, self.weight, self.sums)
        self.temperature, self.new_temperature = self.new_temperature, self.temperature
        self.energy_old, self.energy_new = self.energy_new, self.energy_old
        return self.sums

    def add_sensible_per_plan_area(self, sensible_w_m2: np.ndarray, cell0: int, cell1: int) -> None:
        """Add the walls' sensible heat, per plan area, to a field of the simulated cells
        ``cell0:cell1`` (in place)."""
        a, b = np.searchsorted(self.position, (cell0, cell1))
        if b > a:
            sensible_w_m2[self.position[a:b] - cell0] += self.area_ratio[a:b] * self.terms[1, a:b]


def stomatal_stress_factor(p: HeatParameters, air_k: float, vapour_pressure_pa: float) -> float:
    """F2 F3 of the Jarvis-type stomatal resistance: r_s = r_s,min / (F2 F3). [-], in (0, 1]

    F2 for the air's specific humidity deficit, F3 for its temperature (see
    :class:`HeatParameters`); each factor at least 1e-4 as in Noah (Chen et al. 1996).
    """
    pressure_pa = 101325.0  # standard sea-level pressure; the town lies at 12-40 m
    q_sat = 0.622 * saturation_vapour_pressure_pa(air_k) / pressure_pa
    q_air = 0.622 * vapour_pressure_pa / pressure_pa
    f2 = 1.0 / (1.0 + p.stomatal_humidity_coefficient_kg_kg * max(q_sat - q_air, 0.0))
    f3 = 1.0 - 0.0016 * (p.stomatal_optimum_temperature_k - air_k) ** 2
    return max(f2, 1e-4) * max(f3, 1e-4)


def canopy_wind_factor(p: HeatParameters) -> float:
    """Wind at the top of the town's canopy layer over the station wind (10 m, open country). [-]

    Neutral log profiles joined at the blending height: up from the station over open
    country (z0 = ``rural_roughness_m``), down over the town (z0 = ``town_roughness_m``,
    displacement d = ``displacement_height_ratio`` x canopy depth) to the top of the
    canopy layer (Wieringa 1986's method of roughness-dependent wind interpolation). The
    air of the canopy layer moves slower still below its top, so this bounds the
    ventilation from above. With the defaults: 0.36.
    """
    h, zb = p.canopy_layer_depth_m, p.blending_height_m
    d = p.displacement_height_ratio * h
    up = np.log(zb / p.rural_roughness_m) / np.log(p.wind_reference_height_m / p.rural_roughness_m)
    down = np.log((h - d) / p.town_roughness_m) / np.log((zb - d) / p.town_roughness_m)
    return float(up * down)


def brutsaert_emissivity(air_k: float, vapour_pressure_pa: float) -> float:
    """Clear-sky emissivity 1.24 (e_a / T_a)^(1/7), e_a in hPa (Brutsaert 1975). [-]"""
    return 1.24 * (vapour_pressure_pa / 100.0 / air_k) ** (1.0 / 7.0)


def _on_the_hour(time: pd.Timestamp) -> bool:
    return time.minute == 0 and time.second == 0


def _upsample(coarse: np.ndarray, factor: int, shape: tuple[int, int], rows: tuple[int, int] | None = None
              ) -> np.ndarray:
    """A coarse (air-grid) field on the fine grid of ``shape`` (or its rows ``rows[0]:rows[1]``),
    bilinear between air-cell centres and constant beyond the outer centres (for outputs);
    separable, two gathers."""
    r_lo, r_hi = rows if rows is not None else (0, shape[0])
    if factor == 1:
        return coarse[r_lo:r_hi]

    def weights(n_fine, n_coarse):
        position = np.clip((np.arange(n_fine) + 0.5) / factor - 0.5, 0.0, n_coarse - 1)
        lower = np.minimum(position.astype(np.int64), max(n_coarse - 2, 0))
        upper = np.minimum(lower + 1, n_coarse - 1)
        return lower, upper, position - lower

    r0, r1, wr = (w[r_lo:r_hi] for w in weights(shape[0], coarse.shape[0]))
    c0, c1, wc = weights(shape[1], coarse.shape[1])
    rows = coarse[r0] * (1.0 - wr)[:, None] + coarse[r1] * wr[:, None]
    return rows[:, c0] * (1.0 - wc) + rows[:, c1] * wc

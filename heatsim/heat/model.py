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

Hourly fields of the reported days (after the spin-up) are kept for output: surface,
air and mean radiant temperature and UTCI.

What the model leaves out: walls as separate surfaces (their longwave is taken at air
temperature), the energy balance of tree crowns themselves (trees shade the ground;
cells of the class 'trees' transpire), anthropogenic heat, and the stable-night
reduction of turbulent exchange (see :func:`aerodynamic_resistance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from heatsim.grid import Grid
from heatsim.heat.comfort import mean_radiant_temperature_c, utci_c
from heatsim.heat.parameters import HeatParameters
from heatsim.kernels.airtemp import air_temperature_max_dt_s, air_temperature_step
from heatsim.kernels.conduction import bottom_flux_w_m2, column_energy_j_m2, conduct_columns
from heatsim.kernels.ledger import weighted_sums
from heatsim.kernels.shadows import sunlit_fraction
from heatsim.kernels.skyview import sky_view_factor
from heatsim.kernels.surface_energy import (ET_NONE, ET_OPEN_WATER, ET_PONDED, ET_SOIL, ET_VEGETATION,
                                            aerodynamic_resistance, surface_fluxes)
from heatsim.kernels.water_stores import draw_water, water_availability
from heatsim.landcover import LandCoverTable

ET_CODES = {"none": ET_NONE, "ponded": ET_PONDED, "soil": ET_SOIL, "vegetation": ET_VEGETATION,
            "open_water": ET_OPEN_WATER}
ROOF_CLASSES = ("building", "green_roof")
LOCAL_TZ = "Europe/Brussels"


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


def built_share(site: xr.Dataset, table: LandCoverTable, radius_m: float) -> np.ndarray:
    """Share of roofs and sealed paving within ``radius_m`` of each cell (box filter). [-]"""
    res = Grid.of(site).resolution_m
    built = np.isin(site["landcover"].values, table.codes(["building", "green_roof", "asphalt", "paving"]))
    size = max(1, int(round(2 * radius_m / res)) | 1)
    return ndimage.uniform_filter(built.astype(np.float32), size=size, mode="nearest")


class HeatModel:
    """Set up from a site, a land-cover table and weather; :meth:`run` returns a :class:`HeatResult`."""

    def __init__(self, site: xr.Dataset, table: LandCoverTable, weather, params: HeatParameters | None = None,
                 root_zone_water_mm: np.ndarray | None = None, ponded_water_mm: np.ndarray | None = None):
        self.site, self.table, self.weather = site, table, weather
        self.p = params or HeatParameters()
        self.grid = Grid.of(site)
        self._setup_cells(root_zone_water_mm, ponded_water_mm)

    # ------------------------------------------------------------------ set-up
    def _setup_cells(self, root_zone_water_mm, ponded_water_mm) -> None:
        p, t, site = self.p, self.table, self.site
        lc = site["landcover"].values.ravel()
        self.n = lc.size
        self.domain = site["domain"].values.ravel() == 1
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
        soil = site["soil"].values.ravel()
        fc = t.soil_lookup("field_capacity", 0.3)[soil]
        wp = t.soil_lookup("wilting_point", 0.1)[soil]
        taw = np.maximum(fc - wp, 0.0) * look("root_depth_m") * 1000.0
        is_substrate = np.isin(lc, [c.code for c in t.classes.values() if c.infiltration == "substrate"])
        taw = np.where(is_substrate, t.lookup("substrate_water_capacity_mm", 0.0)[lc], taw)
        self.total_available_water_mm = taw
        self.root_water_mm = (np.asarray(root_zone_water_mm, dtype=np.float64).ravel().copy()
                              if root_zone_water_mm is not None else p.initial_relative_soil_water * taw)
        self.ponded_mm = (np.asarray(ponded_water_mm, dtype=np.float64).ravel().copy()
                          if ponded_water_mm is not None else np.zeros(self.n))
        # columns
        nl = len(p.ground_layers_m)
        if len(p.roof_layers_m) != nl:
            raise ValueError("roof and ground columns need the same number of layers")
        roof = np.isin(lc, t.codes(list(ROOF_CLASSES)))
        water = self.et_kind == ET_OPEN_WATER
        self.roof = roof
        self.thickness = np.where(roof[:, None], np.asarray(p.roof_layers_m)[None, :],
                                  np.asarray(p.ground_layers_m)[None, :]).astype(np.float64)
        cap = np.repeat(look("heat_capacity_j_m3_k")[:, None], nl, axis=1)
        cond = np.repeat(look("conductivity_w_m_k")[:, None], nl, axis=1)
        insulation = roof[:, None] & (np.arange(nl)[None, :] >= p.roof_covering_layers)
        cap[insulation] = p.insulation_heat_capacity_j_m3_k
        cond[insulation] = p.insulation_conductivity_w_m_k
        cond[water, :] = p.water_conductivity_w_m_k
        self.heat_capacity = np.ascontiguousarray(cap)
        self.conductivity = np.ascontiguousarray(cond)
        # surfaces for shade and sky view
        elev = site["elevation"].values.astype(np.float64)
        self.surface_m = elev + site["building_height"].values.astype(np.float64)
        canopy = site["canopy"].values.astype(np.float64)
        self.canopy = canopy
        self.vegetation_top_m = np.where(canopy > 0, elev + site["tree_height"].values, elev).astype(np.float64)
        self.max_height_m = float(max(self.surface_m.max(), self.vegetation_top_m.max()))
        share = self.built_share = built_share(site, t, p.rural_radius_m)
        land = ~np.isin(site["landcover"].values, t.codes(["water"]))
        self.rural = (share < p.rural_built_share_max) & land
        if not self.rural.any():
            # a site cut from a town may hold no rural cell: its least built tenth stands in
            self.rural = (share <= np.percentile(share[land], 10)) & land

    def sky_view(self) -> np.ndarray:
        out = np.empty(self.grid.shape, dtype=np.float64)
        return sky_view_factor(self.surface_m, self.vegetation_top_m, self.canopy, cell_size_m=self.grid.resolution_m,
                               n_directions=self.p.sky_view_directions, max_distance_m=self.p.horizon_distance_m,
                               leaf_transmissivity=self.p.leaf_transmissivity, out=out)

    # ------------------------------------------------------------------ run
    def run(self, progress=None) -> HeatResult:
        p, grid = self.p, self.grid
        w = self.weather
        steps = pd.date_range(w.start, w.end, freq=pd.Timedelta(seconds=p.time_step_s), inclusive="left")
        met = w.at(steps)
        report_from = w.simulation_start
        dt = p.time_step_s
        n, nl = self.n, len(p.ground_layers_m)

        svf = self.sky_view()
        svf_flat = svf.ravel()
        water = self.et_kind == ET_OPEN_WATER
        bottom = np.where(self.roof, p.indoor_temperature_k,
                          np.where(water, p.water_temperature_k, p.deep_ground_temperature_k))
        temperature = np.repeat(bottom[:, None], nl, axis=1).astype(np.float64)
        if p.start_at_mean_air_temperature:
            # ground and roads start at the mean air temperature of the hot days (not the water,
            # not below the roof insulation): the upper layers after days of heat, see parameters
            covering = ~self.roof[:, None] | (np.arange(nl)[None, :] < p.roof_covering_layers)
            start = np.where(covering & ~water[:, None], float(met["air_temperature_k"].mean()), temperature)
            temperature = np.ascontiguousarray(start)
        new_temperature = np.empty_like(temperature)
        scratch = np.empty((n, 2 * nl))
        fluxes = np.empty((6, n))
        energy_old = column_energy_j_m2(temperature, self.heat_capacity, self.thickness, np.empty(n))
        energy_new = np.empty(n)
        terms = np.empty((5, n))  # Rn, H, LE at the new state, energy change, bottom flux
        sums = np.empty(5)
        sunlit = np.empty(grid.shape)
        availability = np.empty(n)
        # air grid
        factor = max(1, int(round(p.air_grid_m / grid.resolution_m)))
        air_cell_m = factor * grid.resolution_m  # a whole number of site cells, near p.air_grid_m
        ny_a, nx_a = -(-grid.ny // factor), -(-grid.nx // factor)
        anomaly = np.zeros((ny_a, nx_a))
        air_tmp = np.empty((ny_a, nx_a))
        ledger = EnergyLedger(area_m2=float(self.domain.sum() * grid.cell_area_m2))
        weight = self.domain * grid.cell_area_m2  # sums over the study area [m2]
        # the mean of rural cells as a weighted sum too (no BLAS call in the loop)
        rural_weight = np.where(self.rural.ravel(), 1.0 / max(int(self.rural.sum()), 1), 0.0)
        one_sum = np.empty(1)
        lam = p.latent_heat_j_kg

        hourly: dict[str, list] = {k: [] for k in ("surface", "air", "mrt", "utci")}
        hourly_times = []
        for k, time in enumerate(steps):
            row = met.iloc[k]
            t_ref = float(row["air_temperature_k"])
            air_fine = t_ref + _upsample(anomaly, factor, grid.shape).ravel()
            elevation = float(row["sun_elevation_deg"])
            if elevation > 0:
                sunlit_fraction(self.surface_m, self.vegetation_top_m, self.canopy, cell_size_m=grid.resolution_m,
                                sun_azimuth_deg=float(row["sun_azimuth_deg"]), sun_elevation_deg=elevation,
                                max_distance_m=p.horizon_distance_m, max_height_m=self.max_height_m,
                                leaf_transmissivity=p.leaf_transmissivity, out=sunlit)
            else:
                sunlit[:] = 0.0
            sky_emissivity = brutsaert_emissivity(t_ref, float(row["vapour_pressure_pa"]))
            direct_h = float(row["dni_w_m2"]) * max(np.sin(np.radians(elevation)), 0.0)
            water_availability(self.et_kind, self.root_water_mm, self.total_available_water_mm, self.ponded_mm,
                               depletion_fraction=p.depletion_fraction, out=availability)
            surface = temperature[:, 0].copy()
            # hourly fields: the state at the start of the step, with that moment's sun and air
            if time >= report_from and _on_the_hour(time):
                hourly_times.append(time)
                air_smooth = t_ref + _upsample(anomaly, factor, grid.shape, smooth=True)
                ts_c = surface.reshape(grid.shape) - 273.15
                mrt = mean_radiant_temperature_c(
                    surface_k=surface.reshape(grid.shape), air_k=air_smooth,
                    ground_albedo=self.albedo.reshape(grid.shape), ground_emissivity=self.emissivity.reshape(grid.shape),
                    sunlit=sunlit, sky_view=svf, direct_normal_w_m2=float(row["dni_w_m2"]),
                    direct_horizontal_w_m2=direct_h, diffuse_w_m2=float(row["dhi_w_m2"]),
                    sky_emissivity=sky_emissivity, sun_elevation_deg=elevation,
                    absorptivity=p.person_shortwave_absorptivity, person_emissivity=p.person_emissivity)
                roof2d = self.roof.reshape(grid.shape)
                mrt = np.where(roof2d, np.nan, mrt)
                air_c = air_smooth - 273.15
                # UTCI where people walk: the study area's ground cells (the margin and roofs stay NaN)
                people = self.domain.reshape(grid.shape) & ~roof2d
                u = np.full(grid.shape, np.nan)
                u[people] = utci_c(air_c[people], mrt[people], float(row["wind_speed_m_s"]),
                                   float(row["relative_humidity_pct"]))
                hourly["surface"].append(ts_c.astype(np.float32))
                hourly["air"].append(air_c.astype(np.float32))
                hourly["mrt"].append(mrt.astype(np.float32))
                hourly["utci"].append(u.astype(np.float32))
            surface_fluxes(surface, air_fine, self.albedo, self.emissivity, sunlit.ravel(), svf_flat, self.roughness,
                           self.et_kind, self.surface_resistance, availability, direct_horizontal_w_m2=direct_h,
                           diffuse_w_m2=float(row["dhi_w_m2"]), sky_emissivity=sky_emissivity,
                           vapour_pressure_pa=float(row["vapour_pressure_pa"]),
                           wind_speed_m_s=float(row["wind_speed_m_s"]), reference_height_m=p.wind_reference_height_m,
                           air_density_kg_m3=p.air_density_kg_m3, air_heat_capacity_j_kg_k=p.air_heat_capacity_j_kg_k,
                           psychrometric_pa_k=p.psychrometric_pa_k, out=fluxes)
            rn, h, le, drn, dh, dle = fluxes
            flux = rn - h - le
            slope = drn - dh - dle
            conduct_columns(temperature, self.heat_capacity, self.conductivity, self.thickness, flux, slope, bottom,
                            dt_s=dt, scratch=scratch, out=new_temperature)
            d_ts = new_temperature[:, 0] - surface
            rn_new, h_new, le_new = terms[0], terms[1], terms[2]
            np.add(rn, drn * d_ts, out=rn_new)
            np.add(h, dh * d_ts, out=h_new)
            np.add(le, dle * d_ts, out=le_new)
            column_energy_j_m2(new_temperature, self.heat_capacity, self.thickness, energy_new)
            np.subtract(energy_new, energy_old, out=terms[3])
            bottom_flux_w_m2(new_temperature, self.conductivity, self.thickness, bottom, terms[4])
            weighted_sums(terms, weight, sums)
            ledger.reported.append(bool(time >= report_from))
            ledger.net_radiation_w.append(float(sums[0]))
            ledger.sensible_w.append(float(sums[1]))
            ledger.latent_w.append(float(sums[2]))
            ledger.storage_change_w.append(float(sums[3]) / dt)
            ledger.bottom_w.append(float(sums[4]))
            temperature, new_temperature = new_temperature, temperature
            energy_old, energy_new = energy_new, energy_old
            draw_water(self.et_kind, le_new, self.root_water_mm, self.ponded_mm, dt_s=dt, latent_heat_j_kg=lam)
            # air: excess heating over the rural cells drives the canopy-layer anomaly
            excess = h_new - float(weighted_sums(h_new[None, :], rural_weight, one_sum)[0])
            source = _block_mean(excess.reshape(grid.shape), factor, (ny_a, nx_a))
            self._step_air(anomaly, air_tmp, source, t_ref, row,
                           float(weighted_sums(surface[None, :], rural_weight, one_sum)[0]), dt, air_cell_m)
            if progress is not None:
                progress(k + 1, len(steps))
        return HeatResult(self._fields(hourly, hourly_times), ledger, svf, self.rural, self.built_share, p)

    # ------------------------------------------------------------------ pieces
    def _step_air(self, anomaly, tmp, source_w_m2, t_ref, row, rural_surface_k, dt, dx) -> None:
        """Canopy air exchanges with the air above through the town's roughness; the
        stability of that air is the regional one, set by the rural surface."""
        p = self.p
        r_a = aerodynamic_resistance(rural_surface_k, t_ref, p.town_roughness_m, float(row["wind_speed_m_s"]),
                                     p.canopy_layer_depth_m + p.wind_reference_height_m)
        tau = p.canopy_layer_depth_m * r_a  # h / exchange velocity (1 / r_a)
        u, v = float(row["wind_u_m_s"]), float(row["wind_v_m_s"])
        limit = air_temperature_max_dt_s(wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx,
                                         diffusivity_m2_s=p.air_horizontal_diffusivity_m2_s, relaxation_time_s=tau)
        n_sub = max(1, int(np.ceil(dt / (0.9 * limit))))
        air = anomaly + t_ref
        for _ in range(n_sub):
            air_temperature_step(air, source_w_m2, t_ref, wind_u_m_s=u, wind_v_m_s=v, cell_size_m=dx,
                                 mixing_height_m=p.canopy_layer_depth_m,
                                 diffusivity_m2_s=p.air_horizontal_diffusivity_m2_s, relaxation_time_s=tau,
                                 air_density_kg_m3=p.air_density_kg_m3,
                                 air_heat_capacity_j_kg_k=p.air_heat_capacity_j_kg_k, dt_s=dt / n_sub, out=tmp)
            air, tmp = tmp, air
        anomaly[:] = air - t_ref

    def _fields(self, hourly, times) -> xr.Dataset:
        grid = self.grid
        index = pd.DatetimeIndex(times)
        names = {"surface": ("surface_temperature", "surface (skin) temperature of roofs, roads and ground"),
                 "air": ("air_temperature", "near-surface air temperature"),
                 "mrt": ("mean_radiant_temperature", "mean radiant temperature of a standing person"),
                 "utci": ("utci", "Universal Thermal Climate Index")}
        data = {}
        for key, (name, long_name) in names.items():
            stack = np.stack(hourly[key]) if hourly[key] else np.empty((0,) + grid.shape, np.float32)
            data[name] = xr.DataArray(stack, dims=("time", "y", "x"),
                                      coords={"time": index.tz_convert("UTC").tz_localize(None), "y": grid.y,
                                              "x": grid.x},
                                      attrs={"units": "degC", "long_name": long_name})
        ds = xr.Dataset(data).rio.write_crs(grid.crs).rio.write_transform(grid.transform)
        ds.attrs.update(timezone=LOCAL_TZ)
        return ds


def brutsaert_emissivity(air_k: float, vapour_pressure_pa: float) -> float:
    """Clear-sky emissivity 1.24 (e_a / T_a)^(1/7), e_a in hPa (Brutsaert 1975). [-]"""
    return 1.24 * (vapour_pressure_pa / 100.0 / air_k) ** (1.0 / 7.0)


def _on_the_hour(time: pd.Timestamp) -> bool:
    return time.minute == 0 and time.second == 0


def _block_mean(field2d: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    if factor == 1:
        return field2d.astype(np.float64)
    ny, nx = shape
    padded = np.pad(field2d, ((0, ny * factor - field2d.shape[0]), (0, nx * factor - field2d.shape[1])), mode="edge")
    return padded.reshape(ny, factor, nx, factor).mean(axis=(1, 3))


def _upsample(coarse: np.ndarray, factor: int, shape: tuple[int, int], smooth: bool = False) -> np.ndarray:
    """A coarse field on the fine grid: block copies in the time loop, bilinear for outputs."""
    if factor == 1:
        return coarse
    if smooth:
        rows = (np.arange(shape[0]) + 0.5) / factor - 0.5
        cols = (np.arange(shape[1]) + 0.5) / factor - 0.5
        r, c = np.meshgrid(rows, cols, indexing="ij")
        return ndimage.map_coordinates(coarse, [r, c], order=1, mode="nearest")
    return np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)[: shape[0], : shape[1]]


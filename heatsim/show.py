"""``heatsim site show``: load a site (or a scenario's changed site) and write maps of its layers."""

from __future__ import annotations

from pathlib import Path

from heatsim.errors import InputError
from heatsim.maps import SHOWABLE, changed_bounds, crop, site_map
from heatsim.paths import new_path, results_dir, write_atomically
from heatsim.scenario import apply_scenario, load_scenario
from heatsim.site.store import load_site, resolve_site


def show_site(site: str | None = None, *, scenario: Path | None = None, layer: str = "landcover",
              resolution_m: float | None = None, bbox: tuple[float, float, float, float] | None = None,
              whole: bool = False, out_file: Path | None = None, progress=None) -> list[Path]:
    """Write PNG maps of ``layer`` (or of every layer with ``"all"``); returns the files written.

    With ``scenario`` the site is the scenario's, changed by its interventions, and the
    map zooms to the changed cells unless ``whole`` or ``bbox`` [m] says otherwise.
    Maps go to ``out_file`` (one layer) or its folder, else ``results/maps/``, and
    never replace an existing file.
    """
    layers = SHOWABLE if layer == "all" else [layer]
    if layer != "all" and layer not in SHOWABLE:
        raise InputError("--layer", "layer", f"unknown layer {layer!r}; expected one of {', '.join(SHOWABLE)} or all")
    if out_file is not None and (out_file.suffix.lower() != ".png" or out_file.is_dir()):
        raise InputError("--out", "out", f"expected a file name ending in .png, got {str(out_file)!r}")
    changed, sc = None, None
    if scenario is not None:
        sc = load_scenario(scenario)
        if site is not None and resolve_site(site) != resolve_site(sc.site):
            raise InputError(scenario, "site", f"the scenario is on site {sc.site!r}, not {site!r}; "
                             "leave out the SITE argument to draw the scenario")
        site = sc.site
        if resolution_m is None:
            resolution_m = sc.resolution_m
    ds = load_site(site or "harelbeke", resolution_m, progress=progress)
    if sc is not None:
        ds, _, changed = apply_scenario(ds, sc)
    if bbox is None and changed is not None and changed.any() and not whole:
        bbox = changed_bounds(ds, changed)
    if bbox is not None:
        ds, changed = crop(ds, bbox, changed)
        if ds.sizes["x"] < 2 or ds.sizes["y"] < 2:
            raise InputError("--bbox", "bbox", f"{','.join(f'{v:g}' for v in bbox)} holds fewer than 2 x 2 cell "
                             "centres of the site; give a larger box inside the site, or a finer --resolution")
    tag = f"{ds.attrs['name']}" + (f"-{sc.name}" if sc else "") + f"-{ds.attrs['resolution_m']:g}m"
    folder = out_file.parent if out_file else results_dir() / "maps"
    written = []
    for name in layers:
        target = new_path(out_file if (out_file and len(layers) == 1) else folder / f"{tag}-{name}.png")
        title = f"{ds.attrs.get('title') or ds.attrs['name']}" + (f" - scenario {sc.title}" if sc else "") + f": {name}"
        written.append(write_atomically(target, lambda p: site_map(ds, p, layer=name, title=title, changed=changed)))
    return written

"""The ``heatsim`` command. Each command is a few lines: the work is in the package.

Bad input (:class:`heatsim.errors.InputError`) is printed as one line and exits
with status 2, without a traceback; a traceback means a bug in heatsim.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
import typer
from rich.console import Console

from heatsim.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Urban heat-island and water adaptation simulator (Harelbeke first).")
site_app = typer.Typer(no_args_is_help=True, help="Build, import and draw study areas.")
scenario_app = typer.Typer(no_args_is_help=True, help="Check and list scenario files.")
app.add_typer(site_app, name="site")
app.add_typer(scenario_app, name="scenario")

# markup off: scenario titles, paths and messages may contain brackets
out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)

SITE_ARG = typer.Argument("harelbeke", help="A bundled site name or a site folder (with site.toml).")
RESOLUTION = typer.Option(None, "--resolution", "-r", help="Cell size in m (default: the site's own, 5 m for Harelbeke).")


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
        raise InputError("--bbox", "bbox", f"expected four numbers x_min,y_min,x_max,y_max with min < max, got {text!r}")
    return box


def _progress(status):
    return lambda msg: status.update(f"building site: {msg}")


@site_app.command("build")
def site_build(site: str = SITE_ARG, resolution: Optional[float] = RESOLUTION,
               force: bool = typer.Option(False, help="Rebuild even when the cached rasters are up to date.")):
    """Rasterise a schematic site's vectors into GeoTIFF layers (cached per resolution)."""
    from heatsim.site.build import ensure_built
    from heatsim.site.store import read_definition, read_site_folder, resolve_site

    folder = resolve_site(site)
    definition = read_definition(folder)
    if definition["kind"] != "schematic":
        raise InputError(folder / "site.toml", "kind", "only schematic sites are built from vectors; "
                         "an imported site is already rasters")
    with err.status("building site") as status:
        built = ensure_built(folder, definition, resolution, force=force, progress=_progress(status))
    from heatsim.reports import site_summary_lines

    for line in site_summary_lines(read_site_folder(built)):
        out.print(line)
    out.print(f"rasters: {built}")


@site_app.command("import")
def site_import(
    landcover: Path = typer.Option(..., help="Land-cover GeoTIFF (WorldCover, BBK or a legend given by --mapping)."),
    dtm: Path = typer.Option(..., help="Terrain model GeoTIFF (e.g. DHMV II DTM), heights in m."),
    out_dir: Path = typer.Option(..., "--out", help="New site folder to create."),
    legend: str = typer.Option("worldcover", help="worldcover, bbk or csv (with --mapping)."),
    mapping: Optional[Path] = typer.Option(None, help="CSV with columns code,class,label for --legend csv."),
    building_height: Optional[Path] = typer.Option(None, help="Building heights above ground GeoTIFF [m]."),
    dsm: Optional[Path] = typer.Option(None, help="Surface model GeoTIFF [m]: heights = DSM - DTM."),
    bbox: Optional[str] = typer.Option(None, help="x_min,y_min,x_max,y_max in the target CRS [m]."),
    resolution: Optional[float] = RESOLUTION,
    crs: str = typer.Option("EPSG:31370", help="Target CRS (projected, metres)."),
    soil_texture: str = typer.Option("sandy_loam", help="Soil texture for the whole site."),
    districts: Optional[Path] = typer.Option(None, help="GeoJSON of districts (polygons)."),
    district_field: str = typer.Option("name", help="Property holding the district name."),
    name: Optional[str] = typer.Option(None, help="Site name (default: the folder name)."),
    population: Optional[Path] = typer.Option(None, help="GeoJSON of statistical sectors (polygons with residents, "
                                              "share_over_65, share_under_5)."),
):
    """Build a site from real rasters, reprojected and resampled to one grid."""
    from heatsim.site.importer import import_site

    box = _parse_bbox(bbox)
    with err.status("importing site") as status:
        folder = import_site(landcover=landcover, dtm=dtm, out=out_dir, legend=legend, mapping_csv=mapping,
                             building_height=building_height, dsm=dsm, bbox=box, resolution_m=resolution, crs=crs,
                             soil_texture=soil_texture, districts=districts, district_field=district_field, name=name,
                             population=population, progress=lambda m: status.update(f"importing: {m}"))
    out.print(f"site written to {folder}")


@site_app.command("show")
def site_show(
    site: Optional[str] = typer.Argument(None, help="A bundled site name or a site folder (default: harelbeke, "
                                        "or the scenario's site)."),
    scenario: Optional[Path] = typer.Option(None, help="Draw the site as this scenario changes it."),
    layer: str = typer.Option("landcover", help="landcover, elevation, building_height, tree_height, canopy, "
                              "impervious, soil, stream, culvert, district, or 'all'."),
    resolution: Optional[float] = RESOLUTION,
    bbox: Optional[str] = typer.Option(None, help="x_min,y_min,x_max,y_max [m] to zoom to (default: the whole "
                                       "site, or the changed area of a scenario)."),
    whole: bool = typer.Option(False, "--whole", help="With --scenario: draw the whole site, not the changed area."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="PNG to write (default: results/maps/...)."),
):
    """Draw a site's layers (or a scenario's changed site) as a PNG map."""
    from heatsim.show import show_site

    with err.status("loading site") as status:
        written = show_site(site, scenario=scenario, layer=layer, resolution_m=resolution, bbox=_parse_bbox(bbox),
                            whole=whole, out_file=out_file, progress=_progress(status))
    for path in written:
        out.print(f"map written: {path}")


def _model_bars(bar):
    """A ``progress(model, done, total)`` callback drawing one rich bar per model."""
    tasks = {}

    def progress(model: str, done: float, total: float) -> None:
        if model not in tasks:
            tasks[model] = bar.add_task(f"{model} model", total=total)
        bar.update(tasks[model], completed=done, total=total)

    return progress


@app.command("run")
def run_command(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="New run folder (default: results/<scenario>-<time>)."),
    resolution: Optional[float] = RESOLUTION,
    tile_size: Optional[int] = typer.Option(None, "--tile-size", help="Tile the grid in chunks of N x N cells "
                                            "with dask (the sky view; the flow step by bands of N rows); same results."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="With --tile-size: threads (default), "
                                            "synchronous, or a dask scheduler's address (tcp://host:8786)."),
):
    """Run the models a scenario asks for and write a results folder."""
    from rich.progress import Progress

    from heatsim.run import run_scenario
    from heatsim.tiling import Tiling, scheduler_for

    if scheduler is not None and tile_size is None:
        raise InputError("--scheduler", "scheduler", "only applies to a tiled run; add --tile-size N")
    tiling = None
    if tile_size is not None:
        Tiling(tile_size)  # a bad size is refused before connecting anywhere
        # connect once, before the models start: a wrong address fails in seconds
        chosen = scheduler_for(scheduler)
        tiling = Tiling(tile_size, chosen, described_as=scheduler)
    try:
        with Progress(console=err, transient=True) as bar:
            folder = run_scenario(scenario, out=out_dir, resolution_m=resolution, progress=_model_bars(bar),
                                  say=out.print, tiling=tiling)
    finally:
        if tiling is not None and hasattr(tiling.scheduler, "close"):
            tiling.scheduler.close()
    out.print(f"run written: {folder}")


@app.command("compare")
def compare_command(
    base: Optional[Path] = typer.Argument(None, help="The base scenario (YAML)."),
    scenarios: Optional[list[Path]] = typer.Argument(None, help="Scenarios to compare with the base."),
    all_: bool = typer.Option(False, "--all", help="Compare every bundled scenario with the bundled baseline."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="New comparison folder (default: results/compare-...)."),
    resolution: Optional[float] = RESOLUTION,
    report: bool = typer.Option(True, "--report/--no-report", help="Write the report (maps, plots, report.html)."),
    lang: str = typer.Option("nl", "--lang", help="Language of the report: nl (default) or en."),
):
    """Run (or reuse) a base and scenarios; write indicator tables, difference maps and the report."""
    from rich.progress import Progress

    from heatsim.compare import compare
    from heatsim.paths import scenarios_dir

    if all_:
        folder = scenarios_dir()
        base = base or folder / "baseline.yaml"
        scenarios = [p for p in sorted(folder.glob("*.yaml")) if p.resolve() != Path(base).resolve()]
    if base is None or not scenarios:
        raise InputError("compare", "arguments", "give a base scenario and at least one scenario, or --all")
    if report:
        from heatsim.report.i18n import check_lang

        check_lang(lang)  # before the runs, not after them
    with Progress(console=err, transient=True) as bar:
        folder = compare(base, scenarios, out=out_dir, resolution_m=resolution, progress=_model_bars(bar),
                         say=out.print)
    out.print(f"comparison written: {folder}")
    if report:
        from heatsim.report.make import make_report

        with err.status("drawing the report"):
            page = make_report(folder, lang)
        out.print(f"report written: {page}")


@app.command("report")
def report_command(
    comparison: Path = typer.Argument(..., help="A comparison folder written by `heatsim compare`."),
    lang: str = typer.Option("nl", "--lang", help="Language of the report: nl (default) or en."),
):
    """Draw the maps and plots of a comparison and write its self-contained report.html."""
    from heatsim.report.make import make_report

    with err.status("drawing the report"):
        page = make_report(comparison, lang)
    out.print(f"report written: {page}")


@scenario_app.command("check")
def scenario_check(
    files: Optional[list[Path]] = typer.Argument(None, help="Scenario YAML files."),
    all_: bool = typer.Option(False, "--all", help="Check every bundled scenario in scenarios/."),
    resolution: Optional[float] = RESOLUTION,
):
    """Validate scenarios and print, per intervention, what changes on the site."""
    from heatsim.paths import scenarios_dir
    from heatsim.reports import check_scenarios

    paths = list(files or [])
    if all_:
        paths += sorted(scenarios_dir().glob("*.yaml"))
    if not paths:
        raise InputError("heatsim scenario check", "FILES", "name one or more scenario files, or use --all")
    failures = check_scenarios(paths, resolution, out.print, lambda e: err.print(f"error: {e}", style="red"))
    if failures:
        if len(paths) > 1:
            err.print(f"{failures} of {len(paths)} scenario files failed the check")
        raise typer.Exit(2)


@scenario_app.command("list")
def scenario_list():
    """List the bundled scenarios with their titles."""
    from heatsim.paths import scenarios_dir
    from heatsim.scenario.loader import read_scenario_file

    for path in sorted(scenarios_dir().glob("*.yaml")):
        spec = read_scenario_file(path)
        out.print(f"{spec.name:32s} {spec.title}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, turning bad input into one line and exit status 2."""
    try:
        code = app(args=argv, prog_name="heatsim", standalone_mode=False)
    except InputError as exc:
        err.print(f"error: {exc.one_line()}", style="red")
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

"""What a comparison folder holds, read once for the report.

A comparison folder (``heatsim compare``) has ``indicators.json`` (every numeric indicator
per scenario and scenario minus base) and ``runs.json`` (the run folder behind each
column); each run folder has ``summary.json`` and ``manifest.json`` (scenario texts, input
hashes, weather, wall time). :func:`load_comparison` gathers them into a
:class:`Comparison`. Everything read here is data from files: the renderer escapes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from heatsim.errors import InputError


@dataclass(frozen=True)
class ScenarioInfo:
    """A column of the comparison: its label, the scenario's name, title, description and the
    interventions its run applied (one line each, as the run's manifest records them)."""

    label: str
    name: str
    title: str
    description: str
    interventions: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    folder: Path
    base: str
    scenarios: list[str]
    rows: dict[str, dict]  # indicator key -> row of indicators.json
    runs: dict[str, Path | None]  # label -> run folder (None when runs.json does not name one)
    summaries: dict[str, dict]  # label -> summary.json ({} when the run folder is gone)
    manifests: dict[str, dict]  # label -> manifest.json ({} when the run folder is gone)
    info: dict[str, ScenarioInfo]
    made: datetime  # when the comparison was written (its indicators.json)

    @property
    def labels(self) -> list[str]:
        return [self.base] + self.scenarios

    def value(self, key: str, label: str) -> float | None:
        row = self.rows.get(key)
        return None if row is None else row.get(label)

    def difference(self, key: str, label: str) -> float | None:
        """``label`` minus the base for indicator ``key`` (None where either is missing)."""
        row = self.rows.get(key)
        return None if row is None else row.get(f"{label} - {self.base}")

    def districts(self, section: str, suffixes: list[str]) -> dict[str, dict[str, str]]:
        """District name -> {suffix: indicator key} for ``<section>.by_district.<district>.<suffix>``.

        District names may hold dots, so a key is split by the known suffixes, not at dots.
        Districts come in the order of the base run's summary, else alphabetically.
        """
        prefix = f"{section}.by_district."
        found: dict[str, dict[str, str]] = {}
        for key in self.rows:
            if not key.startswith(prefix):
                continue
            for suffix in suffixes:
                if key.endswith("." + suffix) and len(key) > len(prefix) + len(suffix) + 1:
                    found.setdefault(key[len(prefix):-len(suffix) - 1], {})[suffix] = key
                    break
        order = list(self.summaries.get(self.base, {}).get(section, {}).get("by_district", {}))
        rank = {name: i for i, name in enumerate(order)}
        return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def load_comparison(folder: Path) -> Comparison:
    """Read a comparison folder; a folder that is not one is an :class:`InputError`."""
    folder = Path(folder)
    indicators = _read_json(folder / "indicators.json", folder, "indicators.json",
                            "is not a comparison folder (no indicators.json); make one with heatsim compare")
    if (not isinstance(indicators, dict) or "base" not in indicators or not isinstance(indicators.get("rows"), list)
            or not all(isinstance(r, dict) and "indicator" in r for r in indicators["rows"])
            or not isinstance(indicators.get("scenarios", []), list)):
        raise InputError(folder / "indicators.json", None, "expected {\"base\", \"scenarios\": [...], \"rows\": "
                         "[{\"indicator\": ...}, ...]} as heatsim compare writes it")
    base, scenarios = str(indicators["base"]), [str(s) for s in indicators.get("scenarios", [])]
    rows = {str(row["indicator"]): row for row in indicators["rows"]}
    runs_file = folder / "runs.json"
    named = _read_json(runs_file, folder, "runs.json", "is missing (it names the run behind each scenario)")
    if not isinstance(named, dict):
        raise InputError(runs_file, None, "expected {\"scenario\": \"run folder\", ...} as heatsim compare writes it")
    runs: dict[str, Path | None] = {}
    summaries: dict[str, dict] = {}
    manifests: dict[str, dict] = {}
    info: dict[str, ScenarioInfo] = {}
    for label in [base] + scenarios:
        run = Path(named[label]) if named.get(label) else None
        runs[label] = run
        summaries[label] = _read_optional(run / "summary.json") if run else {}
        manifests[label] = _read_optional(run / "manifest.json") if run else {}
        info[label] = _scenario_info(label, summaries[label], manifests[label])
    made = datetime.fromtimestamp((folder / "indicators.json").stat().st_mtime)
    return Comparison(folder, base, scenarios, rows, runs, summaries, manifests, info, made)


def _scenario_info(label: str, summary: dict, manifest: dict) -> ScenarioInfo:
    """Title and description from the scenario's own file among the texts its manifest keeps
    (the scenario and the bases it builds on); the label is ``name`` or ``name#2``."""
    name = str(summary.get("scenario") or label.split("#")[0])
    own: dict = {}
    texts = manifest.get("scenario") or {}
    parsed = []
    for source_text in texts.values():
        try:
            data = yaml.safe_load(source_text)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict):
            parsed.append(data)
    own = next((d for d in parsed if str(d.get("name")) == name), parsed[0] if parsed else {})
    title = summary.get("title") or own.get("title") or name
    description = " ".join(str(own.get("description") or "").split())
    interventions = [str(i) for i in manifest.get("interventions") or []]
    return ScenarioInfo(label, name, str(title), description, interventions)


def _read_json(path: Path, folder: Path, field_name: str, problem: str):
    if not path.is_file():
        raise InputError(folder, field_name, problem)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(path, None, f"is not valid JSON ({exc})") from None


def _read_optional(path: Path) -> dict:
    """A run's JSON file, or {} when the run folder was moved or removed: the report still shows
    the indicators and says the run is missing."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

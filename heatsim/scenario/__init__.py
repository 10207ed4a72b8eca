"""Scenarios: a validated YAML file naming a base, a site, weather, parameter
overrides and interventions; applying it to a site gives a new site."""

from heatsim.scenario.apply import ChangeReport, apply_scenario
from heatsim.scenario.loader import Scenario, load_scenario

__all__ = ["ChangeReport", "Scenario", "apply_scenario", "load_scenario"]

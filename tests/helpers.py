"""Building scenarios for tests from the bundled default."""

import copy
import tomllib

from trdsim.scenario import bundled_scenarios, from_dict


def default_raw() -> dict:
    return tomllib.loads((bundled_scenarios() / "uk_nhs.toml").read_text())


def scenario_with(**sections):
    """The default scenario with whole sections replaced or added (dicts are merged one level)."""
    raw = default_raw()
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(name), dict):
            merged = copy.deepcopy(raw[name])
            merged.update(value)
            raw[name] = merged
        else:
            raw[name] = value
    return from_dict(raw, "test.toml")

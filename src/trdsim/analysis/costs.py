"""Costs by category: the discounted cost per patient of each arm, broken down by what
it pays for (treatments, usual care, maintenance, state costs, productivity) and, where
the library says, by resource (unit-cost keys)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trdsim import schema
from trdsim.inputs import ModelInputs, cost_parts
from trdsim.scenario import Scenario

__all__ = ["COST_COLUMNS", "category_label", "cost_table"]

COST_COLUMNS = ["arm", "group", "category", "label", "resource", "resource_label", "cost", "se"]

_STATES = {"depressed": "while depressed", "response": "in response", "remission": "in remission"}


def category_label(category: str, params: dict) -> str:
    """A human label of a cost category key ('treatment:ect', 'state:depressed', ...)."""
    kind, _, name = category.partition(":")
    if kind == "treatment":
        own = params.get("treatments", {}).get(name, {}).get("label")
        return own if isinstance(own, str) else schema.words(name)
    if kind == "state":
        return f"State costs {_STATES.get(name, name)}"
    if category == "usual_care":
        return "Usual care (after or without the pathway, and while waiting)"
    if category == "maintenance":
        return "Maintenance treatment after response"
    return schema.words(category)


def cost_table(
    scenario: Scenario, inputs: ModelInputs, by_arm: dict[str, dict[str, np.ndarray]]
) -> pd.DataFrame:
    """One row per arm x category x resource: mean discounted cost per patient and its
    standard error. by_arm: per arm, `ArmRun.cost_by_category` over all its patients.
    Each category's cost is split over its parts (`inputs.cost_parts`) in proportion to
    their weekly costs, so the rows of an arm add up to its total cost."""
    parts = cost_parts(scenario, inputs)
    params = scenario.params
    resources = scenario.raw.get("resources")
    rows = []
    for arm, cats in by_arm.items():
        for category, money in cats.items():
            pp = parts[category]
            total_rate = sum(c for _, _, c in pp)
            for group, key, rate in pp:
                # a category whose weekly cost is zero costs nothing, whatever its parts
                share = rate / total_rate if total_rate != 0.0 else 0.0
                x = money * share
                n = len(x)
                se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
                maint = group == "maintenance"
                rows.append(
                    {
                        "arm": arm,
                        "group": group,
                        "category": category,
                        "label": category_label(category, params),
                        "resource": "" if maint else key,
                        "resource_label": ""
                        if maint
                        else schema.label(key, params, with_unit=False, resources=resources),
                        "cost": float(x.mean()),
                        "se": se,
                    }
                )
    return pd.DataFrame(rows, columns=COST_COLUMNS)

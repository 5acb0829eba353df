"""Costs by category: the discounted cost per patient of each arm, broken down by what
it pays for (each treatment, usual care, each maintenance option, state costs,
productivity) and, where the library says, by resource (unit-cost keys)."""

from __future__ import annotations

import pandas as pd

from trdsim import schema
from trdsim.inputs.arrays import ModelInputs, cost_parts
from trdsim.scenario import Scenario
from trdsim.simulation.means import CategoryMoments

__all__ = ["COST_COLUMNS", "category_label", "cost_table"]

COST_COLUMNS = ["arm", "group", "category", "label", "resource", "resource_label", "cost", "se"]

# the parameter section whose entries' own labels name a category's items
_SECTIONS = {"treatment": "treatments", "maintenance": "maintenance"}
_STATES = {"depressed": "while depressed", "response": "in response", "remission": "in remission"}


def category_label(category: str, params: dict) -> str:
    """A human label of a cost category key ('treatment:ect', 'maintenance:maintenance_cbt',
    'state:depressed', ...)."""
    kind, _, name = category.partition(":")
    if kind in _SECTIONS and name:
        own = params.get(_SECTIONS[kind], {}).get(name, {}).get("label")
        return own if isinstance(own, str) else schema.words(name)
    if kind == "state":
        return f"State costs {_STATES.get(name, name)}"
    if category == "usual_care":
        return "Usual care (after or without the pathway, and while waiting)"
    if category == "maintenance":  # one sum, in folders of earlier versions
        return "Maintenance treatment after response"
    return schema.words(category)


def cost_table(
    scenario: Scenario, inputs: ModelInputs, by_arm: dict[str, CategoryMoments]
) -> pd.DataFrame:
    """One row per arm x category x resource: mean discounted cost per patient and its
    standard error. by_arm: per arm, the moments of `ArmRun.cost_by_category` over all
    its patients. Each category's cost is split over its parts (`inputs.cost_parts`) in
    proportion to their weekly costs, so the rows of an arm add up to its total cost."""
    parts = cost_parts(scenario, inputs)
    params = scenario.params
    resources = scenario.raw.get("resources")
    rows = []
    for arm, moments in by_arm.items():
        for category, (mean, se_cat) in moments.mean_se().items():
            pp = parts[category]
            total_rate = sum(c for _, _, c in pp)
            for group, key, rate in pp:
                # a category whose weekly cost is zero costs nothing, whatever its parts;
                # a part is a fixed share of its category, patient by patient
                share = rate / total_rate if total_rate != 0.0 else 0.0
                rows.append(
                    {
                        "arm": arm,
                        "group": group,
                        "category": category,
                        "label": category_label(category, params),
                        "resource": key,
                        "resource_label": schema.label(
                            key, params, with_unit=False, resources=resources
                        ),
                        "cost": mean * share,
                        "se": se_cat * abs(share),
                    }
                )
    return pd.DataFrame(rows, columns=COST_COLUMNS)

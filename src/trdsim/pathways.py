"""Pathways: ordered treatment steps and their rules, compiled to arrays for the kernel."""

from dataclasses import dataclass

import numpy as np

from trdsim.engine import layout as L

_RELAPSE = {"advance": L.RELAPSE_ADVANCE, "retreat": L.RELAPSE_RETREAT}
_EXHAUSTED = {
    "none": L.EXHAUSTED_NONE,
    "repeat_last": L.EXHAUSTED_REPEAT_LAST,
    "restart": L.EXHAUSTED_RESTART,
}


@dataclass(frozen=True)
class CompiledPathway:
    """One arm: treatment index per step, tabulated maintenance effects and costs, rule codes."""

    label: str
    step_names: list[str]
    steps: np.ndarray  # (n_steps,) int64 index into the treatment table
    # (n_steps, horizon + 1, 2) product of active relapse HRs [remitted, partial]
    maint_hr: np.ndarray
    # (n_steps, horizon + 1) weekly cost of active maintenance
    maint_cost: np.ndarray
    on_relapse: int
    on_exhausted: int

    @property
    def n_steps(self) -> int:
        return int(self.steps.shape[0])


def compile_pathway(
    p: dict, treatments: list[str], maintenance: list[str], mx: np.ndarray, horizon: int
) -> CompiledPathway:
    """Arrays for one validated pathway, given the model's treatment and maintenance tables.

    Maintenance is tabulated by step and week since the end of the course (1 .. horizon):
    a component is active while that week is within its duration; hazard ratios of
    active components multiply, their weekly costs add.
    """
    steps = np.array([treatments.index(s) for s in p["steps"]], dtype=np.int64)
    maint = np.full((len(steps), L.MAX_MAINTENANCE), -1, dtype=np.int64)
    for i, name in enumerate(p["steps"]):
        chosen = p["maintenance"].get(name, p["maintenance"]["default"])
        for k, m in enumerate(chosen):
            maint[i, k] = maintenance.index(m)
    weeks = np.arange(horizon + 1)
    maint_hr = np.ones((len(steps), horizon + 1, 2))
    maint_cost = np.zeros((len(steps), horizon + 1))
    for i in range(len(steps)):
        for j in maint[i][maint[i] >= 0]:
            active = weeks <= mx[j, L.MX_DURATION]
            maint_hr[i, active, 0] *= mx[j, L.MX_HR]
            maint_hr[i, active, 1] *= mx[j, L.MX_HR_PARTIAL]
            maint_cost[i, active] += mx[j, L.MX_COST_WEEK]
    return CompiledPathway(
        label=p["label"],
        step_names=list(p["steps"]),
        steps=steps,
        maint_hr=maint_hr,
        maint_cost=maint_cost,
        on_relapse=_RELAPSE[p["on_relapse"]],
        on_exhausted=_EXHAUSTED[p["on_exhausted"]],
    )

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
    """One arm: treatment index per step, maintenance indices per step, rule codes."""

    label: str
    step_names: list[str]
    steps: np.ndarray  # (n_steps,) int64 index into the treatment table
    maint: (
        np.ndarray
    )  # (n_steps, MAX_MAINTENANCE) int64 index into the maintenance table, -1 = none
    on_relapse: int
    on_exhausted: int

    @property
    def n_steps(self) -> int:
        return int(self.steps.shape[0])


def compile_pathway(p: dict, treatments: list[str], maintenance: list[str]) -> CompiledPathway:
    """Arrays for one validated pathway, given the model's treatment and maintenance order."""
    steps = np.array([treatments.index(s) for s in p["steps"]], dtype=np.int64)
    maint = np.full((len(steps), L.MAX_MAINTENANCE), -1, dtype=np.int64)
    for i, name in enumerate(p["steps"]):
        chosen = p["maintenance"].get(name, p["maintenance"]["default"])
        for k, m in enumerate(chosen):
            maint[i, k] = maintenance.index(m)
    return CompiledPathway(
        label=p["label"],
        step_names=list(p["steps"]),
        steps=steps,
        maint=maint,
        on_relapse=_RELAPSE[p["on_relapse"]],
        on_exhausted=_EXHAUSTED[p["on_exhausted"]],
    )

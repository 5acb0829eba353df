"""Pathways: ordered steps of one or more treatments given together, and their rules.

A step is a list of components (treatments started together). Usual care is a
component like any other (odds ratio 1 against itself): a step holding only usual care
is a usual-care course, which is how a trial's control arm is written; after the last
step the patient is in usual care (natural history, usual care's weekly cost) for good. What follows a response at a
step is looked up in the pathway's maintenance table by the step's key (the component
names joined by "+", e.g. "iv_ketamine+cbt_augmentation"), then "default"; a response
that natural history produced is followed by the "usual_care" entry, then "default".
"""

from dataclasses import dataclass

import numpy as np

from trdsim.engine import layout as L

_RELAPSE = {"advance": L.RELAPSE_ADVANCE, "retreat": L.RELAPSE_RETREAT}
_EXHAUSTED = {
    "usual_care": L.EXHAUSTED_USUAL_CARE,
    "none": L.EXHAUSTED_NONE,
    "repeat_last": L.EXHAUSTED_REPEAT_LAST,
    "restart": L.EXHAUSTED_RESTART,
}
USUAL_CARE = "usual_care"  # the library treatment that is the comparator of add-ons


def step_key(components: list[str]) -> str:
    """The name a step goes by in maintenance tables and reports."""
    return "+".join(components)


def maintenance_for(p: dict, key: str) -> list[str]:
    """Maintenance options after a response at the step `key` (or 'usual_care')."""
    return p["maintenance"].get(key, p["maintenance"]["default"])


@dataclass(frozen=True)
class CompiledPathway:
    """One arm: component table per step, tabulated maintenance, rule codes."""

    label: str
    step_names: list[list[str]]
    comp: np.ndarray  # (n_steps, MAX_COMPONENTS) int64 treatment index, -1 padding
    step_xmult: np.ndarray  # (n_steps,) multiplier of the combined excess (interaction)
    step_rhr: np.ndarray  # (n_steps,) relapse HR of the step's responders (interaction)
    step_counts: np.ndarray  # (n_steps,) int8: failing the step counts as a failed trial
    # (n_steps + 1, horizon + 1, 2) product of active relapse HRs [remitted, partial];
    # the last row follows a response that natural history produced
    maint_hr: np.ndarray
    # (n_steps + 1, horizon + 1) weekly cost of active maintenance
    maint_cost: np.ndarray
    on_relapse: int
    on_exhausted: int
    usual_cost: float  # weekly cost of usual care (the UNTREATED phase costs nothing)
    usual_disutility: float
    start: str  # "failed_trials" (step k + 1 after k failures) or "first"

    @property
    def n_steps(self) -> int:
        return int(self.comp.shape[0])

    def entry_steps(self, failed_trials: np.ndarray) -> np.ndarray:
        """Entry step of each patient: by failed trials, or the first step."""
        if self.start == "first":
            return np.zeros(failed_trials.shape, dtype=np.int8)
        return np.minimum(failed_trials, self.n_steps - 1).astype(np.int8)


def compile_pathway(
    p: dict,
    treatments: list[str],
    tx: np.ndarray,
    maintenance: list[str],
    mx: np.ndarray,
    interactions: list[tuple[frozenset, float, float]],
    horizon: int,
) -> CompiledPathway:
    """Arrays for one validated pathway, given the model's treatment and maintenance tables.

    Maintenance is tabulated by step and week since the relapse clock started
    (0 .. horizon): a component is active while that week is within its duration;
    hazard ratios of active components multiply, their weekly costs add.
    interactions: (components, excess multiplier, relapse HR) applying to any step that
    holds all the components.
    """
    steps = p["steps"]
    n = len(steps)
    comp = np.full((n, L.MAX_COMPONENTS), -1, dtype=np.int64)
    step_xmult = np.ones(n)
    step_rhr = np.ones(n)
    step_counts = np.zeros(n, dtype=np.int8)
    for i, names in enumerate(steps):
        idx = [treatments.index(s) for s in names]
        comp[i, : len(idx)] = idx
        step_counts[i] = int(any(tx[j, L.TX_COUNTS] > 0 for j in idx))
        for members, xmult, rhr in interactions:
            if members <= set(names):
                step_xmult[i] *= xmult
                step_rhr[i] *= rhr
    keys = [step_key(s) for s in steps] + [USUAL_CARE]
    weeks = np.arange(horizon + 1)
    maint_hr = np.ones((n + 1, horizon + 1, 2))
    maint_cost = np.zeros((n + 1, horizon + 1))
    for i, key in enumerate(keys):
        for m in maintenance_for(p, key):
            j = maintenance.index(m)
            active = weeks <= mx[j, L.MX_DURATION]
            maint_hr[i, active, 0] *= mx[j, L.MX_HR]
            maint_hr[i, active, 1] *= mx[j, L.MX_HR_PARTIAL]
            maint_cost[i, active] += mx[j, L.MX_COST_WEEK]
    uc = treatments.index(USUAL_CARE)
    return CompiledPathway(
        label=p["label"],
        step_names=[list(s) for s in steps],
        comp=comp,
        step_xmult=step_xmult,
        step_rhr=step_rhr,
        step_counts=step_counts,
        maint_hr=maint_hr,
        maint_cost=maint_cost,
        on_relapse=_RELAPSE[p["on_relapse"]],
        on_exhausted=_EXHAUSTED[p["on_exhausted"]],
        usual_cost=float(tx[uc, L.TX_COST_WEEK]),
        usual_disutility=float(tx[uc, L.TX_DISUTILITY]),
        start=p["start"],
    )

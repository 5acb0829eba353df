"""Pathways: ordered steps of one or more treatments given together, and their rules.

A step is a list of components (treatments started together). Usual care is a
component like any other (odds ratio 1 against itself): a step holding only usual care
is a usual-care course, which is how a trial's control arm is written; after the last
step the patient is in usual care (natural history, usual care's weekly cost) for good. What follows a response at a
step is looked up in the pathway's maintenance table by the step's key (the component
names joined by "+", e.g. "iv_ketamine+cbt_augmentation"), then "default"; a response
that natural history produced is followed by the "usual_care" entry, then "default".

A personalised pathway adds rules: for patients whose attributes satisfy a rule's
condition, the rule's components replace those of its step (the first matching rule of
a step wins). Each combination of rule choices is a *variant*: the compiled arrays hold
one block of steps per variant, and each patient is given the index of their variant.
"""

import itertools
import math
import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trdsim.engine import layout as L

__all__ = [
    "ARM_FIELDS",
    "MAX_VARIANTS",
    "RULE_ATTRIBUTES",
    "USUAL_CARE",
    "CompiledPathway",
    "arm_labels",
    "compile_pathway",
    "compile_pathway_draws",
    "entry_step",
    "maintenance_for",
    "named_arms",
    "parse_condition",
    "rule_moderation",
    "step_key",
]

_RELAPSE = {"advance": L.RELAPSE_ADVANCE, "retreat": L.RELAPSE_RETREAT}
_EXHAUSTED = {
    "usual_care": L.EXHAUSTED_USUAL_CARE,
    "none": L.EXHAUSTED_NONE,
    "repeat_last": L.EXHAUSTED_REPEAT_LAST,
    "restart": L.EXHAUSTED_RESTART,
}
USUAL_CARE = "usual_care"  # the library treatment that is the comparator of add-ons
# patient attributes a rule may select on (known at entry; sudden gains come later)
RULE_ATTRIBUTES = (
    "age",
    "sex",
    "severity",
    "failed_trials",
    "maltreatment",
    "inflammation",
    "flexibility",
    "chronic",
)
RULE_OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
MAX_VARIANTS = 64  # combinations of rule choices in one pathway


def parse_condition(text: str) -> tuple[str, str, float]:
    """'severity >= 25' -> ('severity', '>=', 25.0); ValueError if malformed."""
    parts = text.split()
    if len(parts) != 3 or parts[1] not in RULE_OPERATORS:
        raise ValueError("must read '<attribute> <operator> <number>', e.g. 'severity >= 25'")
    attr, op, value = parts
    if attr not in RULE_ATTRIBUTES:
        raise ValueError(f"unknown attribute '{attr}'; known: {', '.join(RULE_ATTRIBUTES)}")
    try:
        return attr, op, float(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None


def step_key(components: list[str]) -> str:
    """The name a step goes by in maintenance tables and reports."""
    return "+".join(components)


def maintenance_for(p: dict, key: str) -> list[str]:
    """Maintenance options after a response at the step `key` (or 'usual_care')."""
    return p["maintenance"].get(key, p["maintenance"]["default"])


@dataclass(frozen=True)
class CompiledPathway:
    """One arm: component table per step (one block of steps per variant), tabulated
    maintenance, rule codes. Without rules there is one variant."""

    label: str
    step_names: list[list[str]]  # the unpersonalised steps
    variant_steps: list[list[list[str]]]  # the steps of each variant (0: unpersonalised)
    variant_choice: list[tuple[int, ...]]  # per variant, the rule chosen at each step (-1)
    rules: list[dict]  # validated rules: step (0-based), attribute, op, value, components
    comp: np.ndarray  # (variants x n_steps, MAX_COMPONENTS) int64 treatment index, -1 pad
    step_xmult: np.ndarray  # (variants x n_steps,) multiplier of the combined excess
    step_rhr: np.ndarray  # (variants x n_steps,) relapse HR of the step's responders
    step_counts: np.ndarray  # (variants x n_steps,) int8: failing it counts as a failure
    # (variants x (n_steps + 1),) the maintenance row followed after a response at each
    # step of each variant; each block's last entry follows a natural-history response.
    # Rows are distinct maintenance combinations, so variants share them.
    maint_row: np.ndarray
    # (rows, horizon + 1, 2) product of active relapse HRs [remitted, partial]
    maint_hr: np.ndarray
    # (rows, horizon + 1) weekly cost of active maintenance
    maint_cost: np.ndarray
    # (rows, slots) each row's maintenance options (maintenance-table rows, -1 pad), and
    # the last week of the relapse clock each is active in: maint_cost[row, k] is the sum
    # of the weekly costs of the row's options with k <= their last week
    maint_opt: np.ndarray
    maint_last: np.ndarray
    on_relapse: int
    on_exhausted: int
    usual_cost: float  # weekly cost of usual care (the UNTREATED phase costs nothing)
    usual_disutility: float
    start: str  # "failed_trials" (step k + 1 after k failures) or "first"

    @property
    def n_steps(self) -> int:
        return len(self.step_names)

    @property
    def n_variants(self) -> int:
        return len(self.variant_steps)

    def variants_of(self, attributes: dict[str, np.ndarray]) -> np.ndarray:
        """Each patient's variant index (int8) from their attributes (RULE_ATTRIBUTES)."""
        n = len(next(iter(attributes.values())))
        if not self.rules:
            return np.zeros(n, dtype=np.int8)
        choice = np.full((n, self.n_steps), -1, dtype=np.int64)
        for r_i, r in enumerate(self.rules):
            hit = RULE_OPERATORS[r["op"]](np.asarray(attributes[r["attribute"]]), r["value"])
            col = choice[:, r["step"]]
            col[(col < 0) & hit] = r_i  # the first matching rule of a step wins
        # each row of choices as one integer (mixed radix), looked up among the variants'
        base = np.int64(len(self.rules) + 1) ** np.arange(self.n_steps, dtype=np.int64)
        codes = (choice + 1) @ base
        known = np.array(self.variant_choice, dtype=np.int64).reshape(-1, self.n_steps)
        known_codes = (known + 1) @ base
        order = np.argsort(known_codes)
        at = np.searchsorted(known_codes[order], codes)
        return order[at].astype(np.int8)

    def entry_steps(self, failed_trials: np.ndarray) -> np.ndarray:
        """Entry step of each patient: by failed trials, or the first step."""
        if self.start == "first":
            return np.zeros(failed_trials.shape, dtype=np.int8)
        return np.minimum(failed_trials, self.n_steps - 1).astype(np.int8)


def entry_step(p: dict, failed_trials: int) -> int:
    """The step (0-based) a cohort with `failed_trials` enters a validated pathway at: by
    its failed trials, or the first step (start = "first"). Nothing sends a patient back
    before it."""
    return 0 if p["start"] == "first" else min(failed_trials, len(p["steps"]) - 1)


@dataclass(frozen=True)
class _Structure:
    """What a compiled pathway takes from its definition alone (no parameter value)."""

    variant_steps: list[list[list[str]]]
    choices: list[tuple[int, ...]]
    comp: np.ndarray
    interaction_rows: list[np.ndarray]  # per interaction, the step rows holding all of it
    maint_row: np.ndarray
    combos: list[tuple[int, ...]]  # per maintenance row, its options (maintenance indices)
    # per maintenance row, the step's components with an enduring effect (treatment
    # indices): a step holding one has rows of its own
    enduring: list[tuple[int, ...]]
    # per maintenance row, the treatment whose own relapse-curve shape it follows (-1:
    # the baseline's): a step of one component that has a shape of its own
    shaped: list[int]


# A PSA compiles the same pathway definitions once per draw (its scenarios share the
# pathway dicts): structures are kept by the dict's identity (the dict is held, so the
# identity cannot be reused) and the names they were compiled with. Scenarios are not
# changed in place (`Scenario.with_value` and `ParameterSpace.apply` copy).
_STRUCTURES: dict[int, tuple[dict, tuple, _Structure]] = {}
_STRUCTURES_MAX = 64


def _structure(
    p: dict,
    treatments: list[str],
    maintenance: list[str],
    members: list[frozenset],
    enduring: tuple[int, ...] = (),
    shaped: tuple[int, ...] = (),
) -> _Structure:
    compiled_with = (tuple(treatments), tuple(maintenance), tuple(members), enduring, shaped)
    hit = _STRUCTURES.get(id(p))
    if hit is not None and hit[0] is p and hit[1] == compiled_with:
        return hit[2]
    steps = p["steps"]
    n = len(steps)
    rules = p.get("rules", [])
    # every combination of rule choices (-1: the step as written), the unpersonalised first
    options = [[-1] + [r_i for r_i, r in enumerate(rules) if r["step"] == s] for s in range(n)]
    choices = list(itertools.product(*options))
    variant_steps = [
        [list(rules[c]["components"]) if c >= 0 else list(steps[s]) for s, c in enumerate(ch)]
        for ch in choices
    ]
    comp = np.full((len(choices) * n, L.MAX_COMPONENTS), -1, dtype=np.int64)
    holds = [np.zeros(len(choices) * n, dtype=bool) for _ in members]
    # one table row per distinct combination of maintenance and enduring components
    combos: dict[tuple[tuple[int, ...], tuple[int, ...], int], int] = {}
    maint_row = np.empty(len(choices) * (n + 1), dtype=np.int64)
    for v, v_steps in enumerate(variant_steps):
        for s, names in enumerate(v_steps):
            idx = [treatments.index(t) for t in names]
            comp[v * n + s, : len(idx)] = idx
            for k, m in enumerate(members):
                holds[k][v * n + s] = m <= set(names)
        keys = [step_key(st) for st in v_steps] + [USUAL_CARE]
        for s, step in enumerate(keys):
            combo = tuple(maintenance.index(m) for m in maintenance_for(p, step))
            # a natural-history response (the usual-care row) completed no course
            lasting = tuple(
                sorted({treatments.index(t) for t in v_steps[s]} & set(enduring)) if s < n else ()
            )
            # a step of one component with its own curve shape (combinations keep the
            # baseline's: the responsible component is known only as the patient responds)
            one = treatments.index(v_steps[s][0]) if s < n and len(v_steps[s]) == 1 else -1
            shape = one if one in shaped else -1
            maint_row[v * (n + 1) + s] = combos.setdefault((combo, lasting, shape), len(combos))
    out = _Structure(
        variant_steps=variant_steps,
        choices=choices,
        comp=comp,
        interaction_rows=[np.flatnonzero(h) for h in holds],
        maint_row=maint_row,
        combos=[c for c, _, _ in combos],
        enduring=[e for _, e, _ in combos],
        shaped=[t for _, _, t in combos],
    )
    if len(_STRUCTURES) >= _STRUCTURES_MAX:
        _STRUCTURES.clear()
    _STRUCTURES[id(p)] = (p, compiled_with, out)
    return out


def compile_pathway(
    p: dict,
    treatments: list[str],
    tx: np.ndarray,
    maintenance: list[str],
    mx: np.ndarray,
    interactions: list[tuple[frozenset, float, float]],
    horizon: int,
    enduring: tuple[int, ...] = (),
    shapes: dict[int, np.ndarray] | None = None,
) -> CompiledPathway:
    """Arrays for one validated pathway, given the model's treatment and maintenance tables.

    Maintenance is tabulated by step and week since the relapse clock started
    (0 .. horizon): a component is active while that week is within its duration;
    hazard ratios of active components multiply, their weekly costs add.
    interactions: (components, excess multiplier, relapse HR) applying to any step that
    holds all the components. A maintenance option lasts as the pathway's
    maintenance_duration says (weeks, or "horizon"), else its library duration_weeks.
    enduring: treatments whose completed course lowers relapse afterwards (TX_ENDURING_*):
    their hazard ratio, waning with its half-life, multiplies the rows of steps holding
    them from week 0 of the relapse clock. shapes: per treatment with a relapse curve
    shape of its own, the weekly multiplier of the baseline curve's increments that
    gives it (one-component steps).
    """
    shapes = shapes or {}
    st = _structure(
        p, treatments, maintenance, [m for m, _, _ in interactions], enduring, tuple(shapes)
    )
    rows = st.comp.shape[0]
    used = st.comp >= 0
    counts = np.zeros(st.comp.shape, dtype=bool)
    counts[used] = tx[st.comp[used], L.TX_COUNTS] > 0
    step_counts = counts.any(axis=1).astype(np.int8)
    step_xmult = np.ones(rows)
    step_rhr = np.ones(rows)
    # in the order of the interactions, as a step holding several multiplies them in turn
    for (_, xmult, rhr), at in zip(interactions, st.interaction_rows, strict=True):
        step_xmult[at] *= xmult
        step_rhr[at] *= rhr
    weeks = np.arange(horizon + 1)
    maint_hr = np.ones((len(st.combos), horizon + 1, 2))
    maint_cost = np.zeros((len(st.combos), horizon + 1))
    maint_opt = _maintenance_slots(st.combos)
    maint_last = np.full(maint_opt.shape, -1, dtype=np.int64)
    policy = maintenance_durations(p, maintenance)
    for i, combo in enumerate(st.combos):
        for slot, j in enumerate(combo):
            # active while the week of the clock is within the duration: a prefix
            k = int(np.count_nonzero(weeks <= policy.get(j, mx[j, L.MX_DURATION])))
            maint_hr[i, :k, 0] *= mx[j, L.MX_HR]
            maint_hr[i, :k, 1] *= mx[j, L.MX_HR_PARTIAL]
            maint_cost[i, :k] += mx[j, L.MX_COST_WEEK]
            maint_last[i, slot] = k - 1
        for t in st.enduring[i]:
            g = enduring_curve(tx[t, L.TX_ENDURING_LNHR], tx[t, L.TX_ENDURING_HALF], horizon)
            maint_hr[i, :, 0] *= g
            maint_hr[i, :, 1] *= g
        if st.shaped[i] >= 0:
            maint_hr[i, :, 0] *= shapes[st.shaped[i]]
            maint_hr[i, :, 1] *= shapes[st.shaped[i]]
    uc = treatments.index(USUAL_CARE)
    return CompiledPathway(
        label=p["label"],
        step_names=[list(s) for s in p["steps"]],
        variant_steps=st.variant_steps,
        variant_choice=[tuple(c) for c in st.choices],
        rules=list(p.get("rules", [])),
        comp=st.comp,
        step_xmult=step_xmult,
        step_rhr=step_rhr,
        step_counts=step_counts,
        maint_row=st.maint_row,
        maint_hr=maint_hr,
        maint_cost=maint_cost,
        maint_opt=maint_opt,
        maint_last=maint_last,
        on_relapse=_RELAPSE[p["on_relapse"]],
        on_exhausted=_EXHAUSTED[p["on_exhausted"]],
        usual_cost=float(tx[uc, L.TX_COST_WEEK]),
        usual_disutility=float(tx[uc, L.TX_DISUTILITY]),
        start=p["start"],
    )


def maintenance_durations(p: dict, maintenance: list[str]) -> dict[int, float]:
    """The pathway's maintenance_duration policy by maintenance index: weeks, or inf
    for "horizon" (until relapse, death or the horizon)."""
    out = {}
    for name, d in p.get("maintenance_duration", {}).items():
        if name in maintenance:
            out[maintenance.index(name)] = math.inf if d == "horizon" else float(d)
    return out


def shape_multiplier(shape: float, t_ref: float, h_ref: float, cum_h: np.ndarray) -> np.ndarray:
    """Weekly multiplier of the baseline curve's increments (cum_h, by week of the clock)
    that turns it into a Weibull of `shape` through the same cumulative hazard h_ref at
    t_ref weeks: h_ref ((w / t_ref)^shape - ((w - 1) / t_ref)^shape) / (cum_h[w] -
    cum_h[w - 1]); 1 at week 0 (no increment)."""
    weeks = np.arange(cum_h.shape[0], dtype=np.float64)
    own = h_ref * np.power(weeks / t_ref, float(shape))
    out = np.ones(cum_h.shape[0])
    out[1:] = (own[1:] - own[:-1]) / (cum_h[1:] - cum_h[:-1])
    return out


def enduring_curve(ln_hr: float, half_life: float, horizon: int) -> np.ndarray:
    """Hazard ratio of an enduring effect by week of the relapse clock (0 .. horizon):
    exp(ln HR x 0.5^(week / half-life)); an infinite half-life does not wane, and
    HR 1 gives ones exactly."""
    weeks = np.arange(horizon + 1, dtype=np.float64)
    return np.exp(ln_hr * np.power(0.5, weeks / half_life))


def _maintenance_slots(combos: list[tuple[int, ...]]) -> np.ndarray:
    """(rows, slots) each maintenance row's options, -1 where a row has fewer."""
    out = np.full((len(combos), max([1, *map(len, combos)])), -1, dtype=np.int64)
    for i, combo in enumerate(combos):
        out[i, : len(combo)] = combo
    return out


def compile_pathway_draws(
    p: dict,
    treatments: list[str],
    tx: np.ndarray,
    maintenance: list[str],
    mx: np.ndarray,
    interactions: list[tuple[frozenset, np.ndarray, np.ndarray]],
    horizon: int,
    enduring: tuple[int, ...] = (),
    shapes: dict[int, np.ndarray] | None = None,
) -> tuple[CompiledPathway, dict[str, np.ndarray]]:
    """`compile_pathway` for several parameter draws at once, bit for bit.

    tx (draws, treatments, TX_NCOL), mx (draws, maintenance, MX_NCOL) and the
    interactions' multipliers (draws,) hold each draw's values. Returns the first draw's
    CompiledPathway (structure and Python-side methods) and the arrays that depend on
    the values, with the draw as leading axis: step_xmult, step_rhr, maint_hr,
    maint_cost, maint_last, usual_cost, usual_disutility. Every element is computed by the same
    operations as in `compile_pathway` (same multiplies in the same order).
    """
    shapes = shapes or {}  # (draws, horizon + 1) per treatment
    st = _structure(
        p, treatments, maintenance, [m for m, _, _ in interactions], enduring, tuple(shapes)
    )
    n = tx.shape[0]
    rows = st.comp.shape[0]
    used = st.comp >= 0
    counts = np.zeros(st.comp.shape, dtype=bool)
    # whether failing a component counts as a trial is a flag, the same in every draw
    counts[used] = tx[0][st.comp[used], L.TX_COUNTS] > 0
    step_counts = counts.any(axis=1).astype(np.int8)
    step_xmult = np.ones((n, rows))
    step_rhr = np.ones((n, rows))
    for (_, xmult, rhr), at in zip(interactions, st.interaction_rows, strict=True):
        step_xmult[:, at] *= xmult[:, None]
        step_rhr[:, at] *= rhr[:, None]
    weeks = np.arange(horizon + 1)
    maint_hr = np.ones((n, len(st.combos), horizon + 1, 2))
    maint_cost = np.zeros((n, len(st.combos), horizon + 1))
    maint_opt = _maintenance_slots(st.combos)
    maint_last = np.full((n, *maint_opt.shape), -1, dtype=np.int64)
    policy = maintenance_durations(p, maintenance)
    for i, combo in enumerate(st.combos):
        for slot, j in enumerate(combo):
            # the prefix of weeks within each draw's duration, as a mask over draws
            dur = np.full(n, policy[j]) if j in policy else mx[:, j, L.MX_DURATION]
            active = weeks[None, :] <= dur[:, None]
            for col, hr in ((0, L.MX_HR), (1, L.MX_HR_PARTIAL)):
                view = maint_hr[:, i, :, col]
                np.multiply(view, mx[:, j, hr, None], out=view, where=active)
            cost = maint_cost[:, i]
            np.add(cost, mx[:, j, L.MX_COST_WEEK, None], out=cost, where=active)
            maint_last[:, i, slot] = np.count_nonzero(active, axis=1) - 1
        for t in st.enduring[i]:
            for d in range(n):  # each draw's curve as compile_pathway computes it
                g = enduring_curve(
                    tx[d, t, L.TX_ENDURING_LNHR], tx[d, t, L.TX_ENDURING_HALF], horizon
                )
                maint_hr[d, i, :, 0] *= g
                maint_hr[d, i, :, 1] *= g
        if st.shaped[i] >= 0:
            for d in range(n):
                maint_hr[d, i, :, 0] *= shapes[st.shaped[i]][d]
                maint_hr[d, i, :, 1] *= shapes[st.shaped[i]][d]
    uc = treatments.index(USUAL_CARE)
    arrays = {
        "step_xmult": step_xmult,
        "step_rhr": step_rhr,
        "maint_hr": maint_hr,
        "maint_cost": maint_cost,
        "maint_last": maint_last,
        "usual_cost": np.ascontiguousarray(tx[:, uc, L.TX_COST_WEEK]),
        "usual_disutility": np.ascontiguousarray(tx[:, uc, L.TX_DISUTILITY]),
    }
    first = CompiledPathway(
        label=p["label"],
        step_names=[list(s) for s in p["steps"]],
        variant_steps=st.variant_steps,
        variant_choice=[tuple(c) for c in st.choices],
        rules=list(p.get("rules", [])),
        comp=st.comp,
        step_xmult=step_xmult[0].copy(),
        step_rhr=step_rhr[0].copy(),
        step_counts=step_counts,
        maint_row=st.maint_row,
        maint_hr=maint_hr[0].copy(),
        maint_cost=maint_cost[0].copy(),
        maint_opt=maint_opt,
        maint_last=maint_last[0].copy(),
        on_relapse=_RELAPSE[p["on_relapse"]],
        on_exhausted=_EXHAUSTED[p["on_exhausted"]],
        usual_cost=float(arrays["usual_cost"][0]),
        usual_disutility=float(arrays["usual_disutility"][0]),
        start=p["start"],
    )
    return first, arrays


# Attributes that modify a treatment's own effect in the kernel, with the parameter that
# does it, the treatment flag it acts on, and its neutral value (no moderation). Every
# other attribute acts on the baselines, alike for every treatment.
TREATMENT_MODERATORS = {
    "severity": ("response_logodds_per_severity_point_psychotherapy", "psychotherapy", 0.0),
    "inflammation": ("response_or_inflammation_monoaminergic", "monoaminergic", 1.0),
}


def rule_moderation(rule: dict, steps: list[list[str]], params: dict) -> str:
    """What the evidence library says a rule's attribute does to the treatments it swaps:
    the sourced moderator if there is one, else that there is none (never invented)."""
    attr = rule["attribute"]
    swapped = sorted(set(rule["components"]) | set(steps[rule["step"]]))
    if attr not in TREATMENT_MODERATORS:
        return (
            f"No sourced moderator: the library has no effect of {attr} on one treatment "
            "relative to another, so the rule changes which treatment is given, not its "
            "effect."
        )
    key, flag, neutral = TREATMENT_MODERATORS[attr]
    p = params["effects"][key]
    where = f"effects.{key} = {p['value']:g} ({p.get('verified', '')})"
    if p["value"] == neutral:
        return (
            f"No sourced moderator: {where} means no effect, so the rule changes which "
            "treatment is given, not its effect."
        )
    acted = [t for t in swapped if params["treatments"][t].get(flag)]
    if not acted:
        return (
            f"The sourced moderator {where} acts on {flag} treatments only, none of which "
            "this rule gives or replaces: the rule changes which treatment is given, not "
            "its effect."
        )
    return (
        f"Sourced moderator: {where} ({p['source']}) acts on the {flag} component(s) "
        f"{', '.join(acted)}."
    )


def arm_labels(pathways: dict[str, dict], arms: list[str]) -> dict[str, str]:
    """Each arm's name for tables, text and figures: its pathway's label up to the first
    colon or parenthesis ('Sequential care'), the whole label if two arms would share a
    name, the arm's id if its pathway has no label."""
    full = {a: str(pathways.get(a, {}).get("label") or a) for a in arms}
    short = {a: re.split(r":| \(", full[a], maxsplit=1)[0].strip() or a for a in arms}
    if len(set(short.values())) < len(arms):
        return full if len(set(full.values())) == len(arms) else {a: a for a in arms}
    return short


# table columns and info keys that hold arm ids: a contrast's two arms, a two-way grid's or
# a tornado's optimal arm, the EVPI's optimal arm ("optimal" is only renamed where it holds
# text: in a net-benefit table it is a flag)
ARM_FIELDS = ("arm", "comparator", "compared_with", "versus", "optimal", "optimal_arm",
              "optimal_low", "optimal_high", "base_optimal")  # fmt: skip


def named_arms(pathways: dict[str, dict], arms: list[str]):
    """A function giving a copy of a table (or of an info dict) with its arm fields
    (ARM_FIELDS: 'arm', 'comparator', 'versus', 'optimal', ...) in `arm_labels` names,
    for figures. Arms it does not know keep their ids."""
    names = arm_labels(pathways, arms)

    def name(a):
        return names.get(a, a) if isinstance(a, str) else a

    def named(x):
        if isinstance(x, dict):
            return {k: name(v) if k in ARM_FIELDS else v for k, v in x.items()}
        cols = [c for c in ARM_FIELDS if c in x.columns and not pd.api.types.is_bool_dtype(x[c])]
        # as plain text: a categorical's categories would be mapped, not its values
        return x.assign(**{c: x[c].astype(object).map(name) for c in cols})

    return named

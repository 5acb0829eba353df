"""Per-patient state and outputs of one arm, and the Python entry points to the kernel.

`ArmRun.start` puts a cohort on its entry steps; `ArmRun.advance(w0, w1)` moves it on.
The full-horizon simulation calls advance once; a week-by-week caller (the care-system
model) calls it once per week, with identical results.
"""

from dataclasses import dataclass, field

import numpy as np

from trdsim.engine import kernel
from trdsim.engine import layout as L
from trdsim.inputs.arrays import ModelInputs
from trdsim.inputs.cohort import Cohort
from trdsim.pathways import CompiledPathway

__all__ = ["ArmRun", "DrawsRun"]


def _z(n: int, dtype, fill=0) -> np.ndarray:
    return np.full(n, fill, dtype=dtype)


@dataclass
class ArmRun:
    """One arm's cohort in the kernel: state arrays (small dtypes) and accumulated outputs."""

    cohort: Cohort
    pathway: CompiledPathway
    inputs: ModelInputs
    seed: int
    queued: bool = False  # patients wait for their entry step (the care-system model)
    entry_step: np.ndarray = field(init=False)
    variant: np.ndarray = field(init=False)  # the patient's variant of a personalised pathway
    # state
    clin: np.ndarray = field(init=False)
    phase: np.ndarray = field(init=False)
    step: np.ndarray = field(init=False)
    wk: np.ndarray = field(init=False)  # weeks since the step started
    cs: np.ndarray = field(init=False)  # week of the step at which the relapse clock started
    rc: np.ndarray = field(init=False)  # component slot that produced the response (-1 natural)
    fails: np.ndarray = field(init=False)
    gain: np.ndarray = field(init=False)
    hnh: np.ndarray = field(init=False)  # natural-history weekly response hazard
    xk: np.ndarray = field(init=False)  # (n, components + 1) excess hazard per onset week
    ek: np.ndarray = field(init=False)  # (n, components + 1) week each component ends
    # budgets in fixed-point units of cumulative hazard (kernel.quantise)
    death_budget: np.ndarray = field(init=False)
    resp_budget: np.ndarray = field(init=False)
    deep_budget: np.ndarray = field(init=False)
    relapse_at: np.ndarray = field(init=False)  # threshold on the follow-up relapse curve
    # the open segment of weeks with one weekly cost and utility: first week, cost, utility
    seg_a: np.ndarray = field(init=False)
    seg_c: np.ndarray = field(init=False)
    seg_u: np.ndarray = field(init=False)
    week: int = field(init=False, default=0)  # the first week not yet simulated
    # outputs (cost and QALYs of closed segments; `cost` and `qaly` add the open one)
    cost_closed: np.ndarray = field(init=False)
    qaly_closed: np.ndarray = field(init=False)
    # (n, CC_TX0 + treatments + maintenance options): discounted weeks by clinical state,
    # in usual care, on each treatment and on each maintenance option (layout.CC_*); see
    # `cost_by_category`
    cost_cat: np.ndarray | None = field(init=False)
    weeks_alive: np.ndarray = field(init=False)
    weeks_remission: np.ndarray = field(init=False)
    first_remission: np.ndarray = field(init=False)
    first_response: np.ndarray = field(init=False)
    first_followup: np.ndarray = field(init=False)
    first_relapse: np.ndarray = field(init=False)
    relapses: np.ndarray = field(init=False)
    max_step: np.ndarray = field(init=False)
    top_start: np.ndarray = field(init=False)  # week the patient's highest step began
    death_week: np.ndarray = field(init=False)
    death_cause: np.ndarray = field(init=False)  # L.CAUSE_*
    sudden_gains: np.ndarray = field(init=False)  # sudden gains on psychotherapy courses
    trace: np.ndarray = field(init=False)
    # gate per patient for the next call, and what a probing call found
    gate: np.ndarray = field(init=False)
    requested: np.ndarray = field(init=False)
    req_step: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.cohort)
        p = self.pathway
        self.entry_step = p.entry_steps(self.cohort.failed_trials)
        self.variant = p.variants_of(self.cohort.attributes())
        self.clin, self.phase, self.step = _z(n, np.int8), _z(n, np.int8), _z(n, np.int8)
        self.wk, self.cs, self.rc = _z(n, np.int16), _z(n, np.int16), _z(n, np.int8, L.NATURAL)
        self.fails = self.cohort.failed_trials.copy()
        self.gain, self.hnh = _z(n, np.int8), _z(n, np.float64)
        # one slot per component, and one for the course's trial-context response
        self.xk = np.zeros((n, L.MAX_COMPONENTS + 1), dtype=np.float64)
        self.ek = np.zeros((n, L.MAX_COMPONENTS + 1), dtype=np.int16)
        self.death_budget, self.resp_budget = _z(n, np.int64), _z(n, np.int64)
        self.deep_budget, self.relapse_at = _z(n, np.int64), _z(n, np.float64)
        self.seg_a, self.seg_c, self.seg_u = _z(n, np.int16), _z(n, np.float64), _z(n, np.float64)
        self.cost_closed, self.qaly_closed = _z(n, np.float64), _z(n, np.float64)
        self.cost_cat = (
            np.zeros((n, L.CC_TX0 + len(self.inputs.treatments) + len(self.inputs.maintenance)))
            if self._categories()
            else None
        )
        self.weeks_alive, self.weeks_remission = _z(n, np.int16), _z(n, np.int16)
        self.first_remission, self.first_followup = _z(n, np.int16, -1), _z(n, np.int16, -1)
        self.first_response = _z(n, np.int16, -1)
        self.first_relapse, self.death_week = _z(n, np.int16, -1), _z(n, np.int16, -1)
        self.relapses, self.max_step = _z(n, np.int16), _z(n, np.int8)
        self.top_start = _z(n, np.int16, -1)
        self.sudden_gains, self.death_cause = _z(n, np.int8), _z(n, np.int8)
        self.trace = np.zeros(self._trace_shape(), dtype=np.int64)
        self.gate = _z(n, np.int8, L.GATE_OPEN)
        self.requested, self.req_step = _z(n, np.int8), _z(n, np.int8, -1)
        self._start()
        if self.queued:
            # nobody has started: each waits for the entry step, whose plan is drawn
            # when it starts (keyed as start() keys it, so an open gate changes nothing)
            waits = self.phase == L.ACUTE
            self.phase[waits] = L.WAITING
            self.max_step[waits] = 0
            self.top_start[waits] = -1

    def _trace_shape(self) -> tuple[int, ...]:
        return (len(self.inputs.disc_q), len(L.TRACE_STATES))

    def _categories(self) -> bool:
        """Whether the kernel keeps each patient's cost categories (`cost_by_category`)."""
        return True

    def _start_args(self) -> tuple:
        """What the kernel's start takes after the seed and patient numbering."""
        c, p, x = self.cohort, self.pathway, self.inputs
        return (
            c.severity, c.maltreatment, c.inflammation, c.flexibility, c.chronic,
            self.entry_step, self.variant, p.comp, p.n_steps, p.step_xmult, x.tx, x.ef, x.nhz,
            x.ctxz,
            self.clin, self.phase, self.step, self.wk, self.fails, self.hnh, self.xk, self.ek,
            self.max_step, self.top_start, self.death_budget, self.resp_budget,
        )  # fmt: skip

    def _advance_args(self) -> tuple:
        """What the kernel's advance takes after the weeks, seed and patient numbering."""
        c, p, x = self.cohort, self.pathway, self.inputs
        return (
            c.age, c.sex, c.severity, c.maltreatment, c.inflammation, c.flexibility, c.chronic,
            self.entry_step, self.gate, self.variant,
            p.comp, p.n_steps, p.step_xmult, p.step_rhr, p.step_counts, p.maint_row,
            p.maint_hr, p.maint_cost, p.maint_opt, p.maint_last, p.on_relapse, p.on_exhausted,
            p.usual_cost,
            p.usual_disutility,
            x.tx, x.ef, x.nhz, x.ctxz, x.mort_h, x.cum_h, x.qaly_weight, x.disc_c,
            x.cum_qaly_weight, x.cum_disc_c,
            self.clin, self.phase, self.step, self.wk, self.cs, self.rc, self.fails, self.gain,
            self.hnh, self.xk, self.ek,
            self.death_budget, self.resp_budget, self.relapse_at, self.deep_budget,
            self.seg_a, self.seg_c, self.seg_u,
            self.cost_closed, self.qaly_closed, self.cost_cat, self.weeks_alive, self.weeks_remission,
            self.first_remission, self.first_response, self.first_followup, self.first_relapse,
            self.relapses, self.max_step, self.top_start, self.death_week, self.death_cause,
            self.sudden_gains, self.requested, self.req_step,
            self.trace,
        )  # fmt: skip

    def _start(self) -> None:
        kernel.start(self.seed, self.cohort.pid0, *self._start_args())

    def _advance(self, w0: int, w1: int) -> None:
        kernel.advance(w0, w1, self.seed, self.cohort.pid0, *self._advance_args())

    def advance(self, w0: int, w1: int) -> None:
        """Simulate weeks w0 .. w1 - 1 for every patient, as `gate` allows.

        With the default open gate this is the plain simulation. A probing gate is for
        one-week calls only: it undoes the week of any patient who would start a step.
        """
        x = self.inputs
        if not 0 <= w0 <= w1 <= len(x.disc_q):
            raise ValueError(f"weeks {w0}..{w1} outside the horizon 0..{len(x.disc_q)}")
        if w1 - w0 != 1 and (self.gate == L.GATE_PROBE).any():
            raise ValueError("a probing gate works one week at a time")
        self._advance(w0, w1)
        self.week = max(self.week, w1)

    def catch_up(self, who: np.ndarray, first_week: np.ndarray, w1: int) -> None:
        """Simulate weeks first_week[j] .. w1 - 1 of each patient who[j], as `advance`
        does: for a caller that left them out of some weekly calls (the trace is not kept)."""
        if len(who):
            # a waiting patient lives its weeks waiting (its step does not start)
            self.gate[who] = np.where(self.phase[who] == L.WAITING, L.GATE_WAIT, L.GATE_OPEN)
            self.advance_some(who, first_week, w1)

    def advance_some(self, who: np.ndarray, first_week: np.ndarray | int, w1: int) -> None:
        """Simulate weeks first_week[j] .. w1 - 1 of each patient who[j] (patient numbers,
        each once), as `gate` allows: `advance` for these patients only, without looking at
        the others (the trace is not kept). A probing gate works one week at a time."""
        who = np.asarray(who, dtype=np.int64)
        if not len(who):
            return
        first = np.broadcast_to(np.asarray(first_week, dtype=np.int64), who.shape)
        if not 0 <= int(first.min()) <= int(first.max()) <= w1 <= len(self.inputs.disc_q):
            raise ValueError(f"weeks outside the horizon 0..{len(self.inputs.disc_q)}")
        if (self.gate[who] == L.GATE_PROBE).any() and int(first.min()) != w1 - 1:
            raise ValueError("a probing gate works one week at a time")
        a = self._advance_args()[:-1]  # without the trace
        kernel.advance_each(who, np.ascontiguousarray(first), w1, self.seed,
                            self.cohort.pid0, *a)  # fmt: skip
        self.week = max(self.week, w1)

    def quiet_weeks(self, who: np.ndarray, week: int) -> np.ndarray:
        """For each patient who[j] at the start of `week`, the weeks from then in which
        nothing can happen to it (kernel.quiet_weeks_usual, _course and _followup: 0
        unless depressed in usual care or none, depressed on a course, or a responder on
        a course or in follow-up, with its open segment's cost and utility)."""
        c, p, x = self.cohort, self.pathway, self.inputs
        who = who.astype(np.int64)
        out = np.zeros(len(who), dtype=np.int64)
        # each look-ahead gets the patients of its phases only (each is 0 outside them)
        ph = self.phase[who]
        kinds = (
            (ph == L.USUAL) | (ph == L.UNTREATED) | (ph == L.WAITING),
            ph == L.ACUTE,
            (ph == L.COURSE) | (ph == L.FOLLOWUP),
        )
        sel = [np.flatnonzero(k) for k in kinds]
        out[sel[0]] = kernel.quiet_weeks_usual(
            who[sel[0]], week, len(x.disc_q), c.sex, c.age, self.clin, self.phase,
            self.hnh, self.death_budget, self.resp_budget, self.seg_c, self.seg_u, x.ef,
            x.mort_h, p.usual_cost, p.usual_disutility,
        )  # fmt: skip
        out[sel[1]] = kernel.quiet_weeks_course(
            who[sel[1]], week, len(x.disc_q), c.sex, c.age, self.clin, self.phase, self.step,
            self.wk, self.variant, self.xk, self.ek, self.hnh, self.death_budget,
            self.resp_budget, self.seg_c, self.seg_u, p.comp, x.tx, p.n_steps, x.ef,
            x.mort_h,
        )  # fmt: skip
        out[sel[2]] = kernel.quiet_weeks_followup(
            who[sel[2]], week, len(x.disc_q), c.sex, c.age, self.clin, self.phase, self.step,
            self.wk, self.cs, self.rc, self.variant, self.xk, self.ek, self.death_budget,
            self.deep_budget, self.relapse_at, self.seg_c, self.seg_u, p.comp, x.tx,
            p.n_steps, p.maint_row, p.maint_hr, p.maint_cost, x.cum_h, x.ef, x.mort_h,
        )  # fmt: skip
        return out

    def survives_week(self, who: np.ndarray, week: int) -> np.ndarray:
        """Whether each depressed patient who[j] lives through `week` (the kernel's death
        test of the week, made ahead of it)."""
        c, x = self.cohort, self.inputs
        return kernel.survives_week_depressed(
            who.astype(np.int64), week, len(x.disc_q), c.sex, c.age, self.death_budget,
            x.ef, x.mort_h,
        )  # fmt: skip

    @property
    def cost(self) -> np.ndarray:
        """Discounted cost per patient of the weeks simulated so far."""
        c = self.inputs.cum_disc_c
        return self.cost_closed + self.seg_c * (c[self.week] - c[self.seg_a])

    @property
    def qaly(self) -> np.ndarray:
        """Discounted QALYs per patient of the weeks simulated so far."""
        q = self.inputs.cum_qaly_weight
        return self.qaly_closed + self.seg_u * (q[self.week] - q[self.seg_a])

    def cost_by_category(self) -> dict[str, np.ndarray]:
        """Discounted cost per patient by category so far: one entry per clinical state
        ('state:depressed', ...; its weekly state cost, productivity included), 'usual_care'
        (usual care after or without the pathway, and while waiting), 'treatment:<name>'
        per treatment and 'maintenance:<name>' per maintenance option. They add up to
        `cost` (to rounding)."""
        x, p = self.inputs, self.pathway
        cc = self.cost_cat
        if cc is None:
            raise ValueError("this run keeps no cost categories (a PSA batch)")
        out = {
            "state:depressed": cc[:, L.CC_DEP] * x.ef[L.EF_C_DEP],
            "state:response": cc[:, L.CC_RESP] * x.ef[L.EF_C_RESP],
            "state:remission": cc[:, L.CC_REM] * x.ef[L.EF_C_REM],
            "usual_care": cc[:, L.CC_USUAL] * p.usual_cost,
        }
        for t, name in enumerate(x.treatments):
            out[f"treatment:{name}"] = cc[:, L.CC_TX0 + t] * x.tx[t, L.TX_COST_WEEK]
        base = L.CC_TX0 + len(x.treatments)
        for j, name in enumerate(x.maintenance):
            out[f"maintenance:{name}"] = cc[:, base + j] * x.mx[j, L.MX_COST_WEEK]
        return out

    def outputs(self) -> dict[str, np.ndarray]:
        """Per-patient outcomes so far."""
        return {
            "patient": np.arange(self.cohort.pid0, self.cohort.pid0 + len(self.cohort)),
            "cost": self.cost,
            "qaly": self.qaly,
            "life_years": self.weeks_alive / 52.0,
            "weeks_in_remission": self.weeks_remission.copy(),
            "ever_remitted": self.first_remission >= 0,
            "first_remission_week": self.first_remission.copy(),
            "first_response_week": self.first_response.copy(),
            "first_followup_week": self.first_followup.copy(),
            "first_relapse_week": self.first_relapse.copy(),
            "relapses": self.relapses.copy(),
            "steps_used": np.maximum(self.max_step - self.entry_step, 0).astype(np.int8),
            "top_step_start_week": self.top_start.copy(),
            "death_week": self.death_week.copy(),
            "suicide": self.death_cause == L.CAUSE_SUICIDE,
            "sudden_gain": self.sudden_gains > 0,
        }


@dataclass
class DrawsRun(ArmRun):
    """One arm for several parameter draws in one kernel call (a PSA batch).

    `cohort` holds each draw's patients one after another (n_per each, numbered from 0
    within a draw); `pathway` and `inputs` are the stacked `DrawPathway` / `DrawInputs`;
    `seed` is each draw's seed. Every patient meets the numbers it meets in a one-draw
    `ArmRun` with that draw's inputs and seed, so results are bit-identical to it.
    """

    seed: np.ndarray = None  # type: ignore[assignment]  # (draws,) uint64 seeds
    n_per: int = 0

    def _trace_shape(self) -> tuple[int, ...]:
        return (len(self.seed), len(self.inputs.disc_q), len(L.TRACE_STATES))

    def _categories(self) -> bool:
        """No: a PSA batch needs total costs only, and runs the kernel compiled without."""
        return False

    def _start(self) -> None:
        kernel.start_batch(self.seed, self.n_per, *self._start_args())

    def _advance(self, w0: int, w1: int) -> None:
        kernel.advance_batch(w0, w1, self.seed, self.n_per, *self._advance_args())

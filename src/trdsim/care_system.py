"""The care system under capacity: referrals, services with capacity, queues (mesa).

`CareSystemModel` steps week by week. Referrals arrive (Poisson, counter-based, so the
same seed gives the same referrals); every referral follows the scenario's
`care_system.arm` pathway. Services are mesa agents with a capacity in concurrent
patients (units x patients_per_unit: therapists x caseload, chairs x sessions a day,
clinic sessions, ECT list places); a step starts when it has a place in every service
that delivers one of its components (rTMS with CBT: a chair and a therapist's place),
and holds each place while that component's course runs (the chair for the rTMS
sessions, the therapist's place for the CBT sessions). Treatments no service delivers
are not limited.

Each week the numba kernel runs twice over everybody referred, one week at a time
(mesa stays out of the per-patient loop):

1. a probing call runs the week; a patient who would start a step has that week
   undone and is flagged (with the step wanted);
2. the flagged patients are taken in queue order (FIFO by the week they joined, or by
   severity); one starts if every service its step needs has a free place (a later
   patient may take what is left), and the kernel reruns the week for the flagged:
   granted patients start, the rest wait (depressed, in usual care, natural history
   acting; a natural response ends the wait).

With unlimited capacity every flagged patient is granted and reruns exactly the week
the plain simulation runs, so a closed cohort gives `trdsim.simulate`'s per-patient
results bit for bit (tested). Waiting patients may leave care (leave_per_week), after
which they are in usual care for good.

Capacity answers (`yearly`, `steady_state`, `summary`): per year and service, the
starts, mean and 90th-percentile wait, queue at year end and on average, utilisation
and the share within the wait target (`within_target_share`, the one definition: starts
within it among starts and those still waiting past it); whether each queue is stable
or growing over the last year, the years before it excluded as warm-up, and which
service binds (its own places full, not a queue held by another service). Costs of capacity
(a service's `unit_cost`: staff or equipment per unit a week, paid whether used or
idle) and of waiting (`waiting_cost` per patient-week waiting, e.g. GP contacts) are
reported apart from the model's treatment costs, discounted alike.
"""

from __future__ import annotations

import mesa
import numba
import numpy as np
import pandas as pd
from scipy import stats

from trdsim.care_result import within_target_label, within_target_share
from trdsim.currency import share as pct
from trdsim.economics import discount_factors
from trdsim.engine import layout as L
from trdsim.engine.rng import P_ARRIVALS, P_LEAVE, uniform
from trdsim.errors import ScenarioError, TrdsimError
from trdsim.inputs.arrays import _cost, compile_inputs
from trdsim.inputs.cohort import sample_cohort
from trdsim.scenario import MAX_SEED, Scenario, load_scenario
from trdsim.simulation.arm import ArmRun

__all__ = [
    "BINDING_SHARE",
    "CareSystemModel",
    "Service",
    "referral_weeks",
    "warm_up_care",
]

UNLIMITED = -1
WEEKS_PER_YEAR = 52
# The steady-state test looks at the last year only; every week before it is warm-up
# (the pathway fills over the first years: later steps are reached later). It needs at
# least this much warm-up before the year tested.
MIN_WARM_UP_WEEKS = 52
# A queue is growing when its least-squares trend over the last 52 weeks adds more than
# this share of the year's starts in a year. An overloaded service's queue grows by
# (arrivals - starts) a year, and under FIFO each year's growth G adds 52 G / starts
# weeks to the wait: 1 % is half a week more every year (over 30 years to use up an
# 18-week target). 5 % was tried and let through a queue adding 2.2 weeks a year at
# 100 % utilisation (90 therapists, experiments/capacity_whatif.py).
GROWTH_SHARE_THRESHOLD = 0.01
STABLE, GROWING, TOO_SHORT = "stable", "growing", "too short to tell"
# A service binds when, in most of the last year's patient-weeks waiting at it, it had
# no place free at the patient's turn (its places were all taken), and a queue grows: its
# own, or one it holds. A queue can grow with its own places free: a step that needs two
# services (rTMS with CBT) waits for the full one, and its patients count in the queues
# of both; that queue is held by the other service, not short of its own places. And the
# full service's own queue may stay under the growth threshold while the queue it holds
# crosses it (capacity_whatif at 90 therapists): it binds all the same.
BINDING_SHARE = 0.5


@numba.njit(cache=True)
def _uniforms(seed, ids, week, purpose):
    out = np.empty(ids.shape[0])
    for j in range(ids.shape[0]):
        out[j] = uniform(seed, ids[j], week, purpose)
    return out


@numba.njit(cache=True)
def _so_far(closed, seg_rate, seg_a, cum, week, n):
    """closed + rate x (cum[week] - cum[seg_a]) for patients 0 .. n - 1: ArmRun.cost and
    .qaly of the first n patients, element by element the same arithmetic (summed by the
    caller with numpy, as before), without numpy's temporaries over the whole cohort."""
    out = np.empty(n)
    at = cum[week]
    for i in range(n):
        out[i] = closed[i] + seg_rate[i] * (at - cum[seg_a[i]])
    return out


@numba.njit(cache=True)
def _probe_gates(gate, parked_from, clin, phase, step, n, n_steps, shortcuts):
    """Gates of this week's probe for the first n patients, in one pass: the dead and the
    parked skip it, and so do the living who wait for a step (they ask again unless they
    die this week: the caller checks that and probes those who may). Returns those
    probed, those waiting, unparked, and the parked who wait (they ask again this week
    for sure)."""
    gate[:] = L.GATE_SKIP
    probed = np.empty(n, dtype=np.int64)
    waiting = np.empty(n, dtype=np.int64)
    parked_waiting = np.empty(n, dtype=np.int64)
    a = b = c = 0
    for i in range(n):
        if not shortcuts:
            gate[i] = L.GATE_PROBE
            probed[c] = i
            c += 1
        elif parked_from[i] >= 0:
            if phase[i] == L.WAITING:
                parked_waiting[b] = i
                b += 1
        elif clin[i] != L.DEAD:
            if phase[i] == L.WAITING and step[i] < n_steps:
                waiting[a] = i
                a += 1
            else:
                gate[i] = L.GATE_PROBE
                probed[c] = i
                c += 1
    return probed[:c], waiting[:a], parked_waiting[:b]


@numba.njit(cache=True)
def _census(phase, clin, left, n):
    """Counts of the first n patients, in one pass: waiting, in care, in usual care (alive),
    dead, in remission, responding, left care."""
    # a table of phase x clinical state, filled without branches, then read
    tab = np.zeros((L.UNTREATED + 1, L.DEAD + 1), dtype=np.int64)
    gone = 0
    for i in range(n):
        tab[phase[i], clin[i]] += 1
        gone += left[i]
    out = np.zeros(7, dtype=np.int64)
    alive = tab[:, : L.DEAD]
    out[0] = alive[L.WAITING].sum()
    out[1] = alive[L.ACUTE].sum() + alive[L.COURSE].sum() + alive[L.FOLLOWUP].sum()
    out[2] = alive[L.USUAL].sum()
    out[3] = tab[:, L.DEAD].sum()
    out[4] = tab[:, L.REMISSION].sum()
    out[5] = tab[:, L.RESPONSE].sum()
    out[6] = gone
    return out


def referral_weeks(rate_per_year: float, weeks: int, seed: int) -> np.ndarray:
    """Arrival week of each referral, in order: Poisson counts per week (inverse CDF of
    counter-based uniforms, so the counts depend only on the seed and the week)."""
    u = _uniforms(np.uint64(seed), np.arange(weeks, dtype=np.int64), -1, P_ARRIVALS)
    counts = stats.poisson.ppf(u, rate_per_year / 52.0).astype(np.int64)
    return np.repeat(np.arange(weeks), counts)


@numba.njit(cache=True)
def _grant_in_order(queue, variant, req_step, stride, needs_flat, free):
    """Requesters (patients, in queue order) granted: each takes a place in every service
    its step needs (row variant x stride + step of `needs_flat`) if all of them have one
    free; a later requester may fill what is left. Returns who is granted, each
    requester's row, and for each requester the services it needs that had no place
    free at its turn (what kept it waiting)."""
    m = queue.shape[0]
    ok = np.zeros(m, dtype=np.bool_)
    rows = np.empty(m, dtype=np.int64)
    short = np.zeros((m, free.shape[0]), dtype=np.bool_)
    for j in range(m):
        i = queue[j]
        r = np.int64(variant[i]) * stride + req_step[i]
        rows[j] = r
        fits = True
        for k in range(free.shape[0]):
            if needs_flat[r, k] and free[k] <= 0:
                short[j, k] = True
                fits = False
        if fits:
            ok[j] = True
            for k in range(free.shape[0]):
                if needs_flat[r, k]:
                    free[k] -= 1
    return ok, rows, short


@numba.njit(cache=True)
def _service_queue(queue, ok, rows, short, needs_flat, k):
    """Service k's requesters this week, in queue order: those granted, those left
    waiting, and how many of these each service kept waiting (had no place free at
    their turn)."""
    m = queue.shape[0]
    granted = np.empty(m, dtype=np.int64)
    waiting = np.empty(m, dtype=np.int64)
    kept = np.zeros(short.shape[1], dtype=np.int64)
    a = b = 0
    for j in range(m):
        if needs_flat[rows[j], k]:
            i = queue[j]
            if ok[j]:
                granted[a] = i
                a += 1
            else:
                waiting[b] = i
                b += 1
                for s in range(short.shape[1]):
                    kept[s] += short[j, s]
    return granted[:a], waiting[:b], kept


@numba.njit(cache=True)
def _due(parked_until, n, week):
    """Patients among the first n whose parked weeks end at `week` (in patient order)."""
    out = np.empty(n, dtype=np.int64)
    a = 0
    for i in range(n):
        if parked_until[i] == week:
            out[a] = i
            a += 1
    return out[:a]


@numba.njit(cache=True)
def _requests(
    requested, phase, clin, variant, step, wk, ek, parked_from, comp, n_steps, service_of,
    queued_since, n, week, n_services,
):  # fmt: skip
    """After the probe, in one pass over the first n patients: the requesters (in patient
    order), stamping the week they join the queue on those new to it, and the places in
    use this week per service. A patient on a step (depressed on its course, or
    responding while it runs), not changing step this week, holds a place in a service
    while a component that service delivers runs: to the end of that component's own
    course, not the step's (an rTMS chair is free once rTMS ends, though CBT given with
    it goes on)."""
    req = np.empty(n, dtype=np.int64)
    in_use = np.zeros(n_services, dtype=np.int64)
    held = np.zeros(n_services, dtype=np.bool_)
    a = 0
    for i in range(n):
        if requested[i] == 1:
            req[a] = i
            a += 1
            if queued_since[i] < 0:
                queued_since[i] = week
            continue
        ph = phase[i]
        st = step[i]
        if not (ph == L.ACUTE or ph == L.COURSE) or clin[i] == L.DEAD or st >= n_steps:
            continue
        # weeks of the step by the end of this week: the probe lived it; a parked patient
        # lives its parked weeks later, each a week of its step
        nw = wk[i]
        if parked_from[i] >= 0:
            nw += week - parked_from[i] + 1
        held[:] = False
        row = np.int64(variant[i]) * n_steps + st
        for k in range(comp.shape[1]):
            t = comp[row, k]
            # the kernel's rule: slot k runs in step week nw while nw <= its end ek
            if t >= 0 and service_of[t] >= 0 and nw <= ek[i, k] and not held[service_of[t]]:
                held[service_of[t]] = True
                in_use[service_of[t]] += 1
    return req[:a], in_use


@numba.njit(cache=True)
def _rerun_gates(gate, req, granted, parked_from):
    """Gates of the week's rerun: everybody skips it but the requesters, who wait unless
    granted (they start); the parked among them live the week later (skip)."""
    gate[:] = L.GATE_SKIP
    for j in range(req.shape[0]):
        i = req[j]
        gate[i] = L.GATE_SKIP if parked_from[i] >= 0 else L.GATE_WAIT
    for j in range(granted.shape[0]):
        gate[granted[j]] = L.GATE_OPEN


@numba.njit(cache=True)
def _park_candidates(parked_from, clin, phase, step, n, n_steps, waiting_too):
    """Patients among the first n who may be parked: not parked, alive, and in a phase
    whose quiet weeks the kernel can look ahead (usual care or none, on a course, in
    follow-up; waiting for a step when waiting_too)."""
    out = np.empty(n, dtype=np.int64)
    a = 0
    for i in range(n):
        if parked_from[i] >= 0 or clin[i] == L.DEAD:
            continue
        ph = phase[i]
        if (
            ph == L.USUAL or ph == L.UNTREATED or ph == L.FOLLOWUP or ph == L.ACUTE
            or ph == L.COURSE or (waiting_too and ph == L.WAITING and step[i] < n_steps)
        ):  # fmt: skip
            out[a] = i
            a += 1
    return out[:a]


class Service(mesa.Agent):
    """A service with a capacity in concurrent patients and a queue."""

    def __init__(self, model: CareSystemModel, name: str, spec: dict, treatment_ids: list[int]):
        super().__init__(model)
        self.name = name
        self.label = spec["label"]
        self.units = int(spec["units"])
        self.capacity = int(spec["units"] * spec["patients_per_unit"])
        self.unit_cost_name: str = spec.get("unit_cost", "")
        self.unit_week_cost = 0.0  # cost of a unit a week, used or idle (set by the model)
        self.treatment_ids = treatment_ids
        self.in_use = 0
        self.queue_length = 0
        self.starts = 0
        self.waits: np.ndarray = np.empty(0, dtype=np.int64)  # weeks waited by this week's starts
        self.total_starts = 0
        self.within_target = 0
        self.all_waits: list[np.ndarray] = []  # weeks waited, every start
        self.last_granted = self.last_waiting = np.empty(0, dtype=np.int64)
        # one value a week (for the yearly table and the steady-state test)
        self.queue_by_week: list[int] = []
        self.in_use_by_week: list[int] = []
        self.over_target_by_week: list[int] = []  # waiting longer than the target
        # of those waiting, how many each service (by index) had no place for
        self.kept_by_week: list[np.ndarray] = []

    def record(self, granted: np.ndarray, waiting: np.ndarray, kept: np.ndarray) -> None:
        """This week's requesters of a place here, in queue order: those granted one, those
        left waiting, and how many of these each service had no place for."""
        m = self.model
        self.last_granted = granted
        self.last_waiting = waiting
        self.queue_length = len(waiting)
        self.starts = len(granted)
        self.waits = m.week - m.queued_since[granted]
        self.all_waits.append(self.waits)
        self.total_starts += len(granted)
        self.within_target += int((self.waits <= m.wait_target).sum())
        self.in_use += len(granted)
        self.queue_by_week.append(self.queue_length)
        self.in_use_by_week.append(self.in_use)
        self.kept_by_week.append(kept)

    def record_over_target(self) -> None:
        """At the week's end: those left waiting here this week who still wait (alive, not
        started, not gone from care, no natural response) and have waited longer than
        the target (the `waiting_past` of `within_target_share`)."""
        m = self.model
        w, run = self.last_waiting, m.run
        still = (run.phase[w] == L.WAITING) & (run.clin[w] != L.DEAD) & ~m.left[w]
        past = m.week - m.queued_since[w] > m.wait_target
        self.over_target_by_week.append(int((still & past).sum()))

    @property
    def over_target(self) -> int:
        """Patients waiting here past the target at the end of the latest week."""
        return self.over_target_by_week[-1] if self.over_target_by_week else 0

    @property
    def share_within_target(self) -> float:
        """`within_target_share` of every start so far and those waiting past the target."""
        return within_target_share(self.within_target, self.total_starts, self.over_target)

    @property
    def utilisation(self) -> float:
        """Share of the capacity in use this week (nan without capacity)."""
        return self.in_use / self.capacity if self.capacity else float("nan")

    def yearly(self, target: int) -> pd.DataFrame:
        """One row per year of the run: starts, waits, queue and utilisation."""
        weeks = len(self.queue_by_week)
        rows = []
        for y in range(-(-weeks // WEEKS_PER_YEAR)):
            a, b = y * WEEKS_PER_YEAR, min((y + 1) * WEEKS_PER_YEAR, weeks)
            waits = np.concatenate(self.all_waits[a:b]) if b > a else np.empty(0, dtype=np.int64)
            n = len(waits)
            in_use = np.asarray(self.in_use_by_week[a:b], dtype=float)
            rows.append(
                {
                    "service": self.name,
                    "year": y + 1,
                    "weeks": b - a,
                    "capacity": self.capacity,
                    "starts": n,
                    "mean_wait": float(waits.mean()) if n else float("nan"),
                    "p90_wait": float(np.percentile(waits, 90)) if n else float("nan"),
                    "within_target": within_target_share(
                        int((waits <= target).sum()), n, self.over_target_by_week[b - 1]
                    ),
                    "queue_end": self.queue_by_week[b - 1],
                    "queue_mean": float(np.mean(self.queue_by_week[a:b])),
                    "over_target_end": self.over_target_by_week[b - 1],
                    "utilisation": (
                        float(in_use.mean() / self.capacity) if self.capacity else float("nan")
                    ),
                }
            )
        return pd.DataFrame(rows)

    def trend(self) -> dict:
        """The steady-state test of this queue over the last year (see GROWTH_SHARE_THRESHOLD).

        The queue, not the waits of starts, is tested: it counts everybody not yet served
        under any queue rule (under `severity` the starts can wait briefly while the least
        severe wait for ever), and a regression on all 52 weeks is steadier than comparing
        two yearly means, the earlier of which may still be warming up.
        """
        weeks = len(self.queue_by_week)
        kept = self.kept_shares()
        use = np.asarray(self.in_use_by_week[-WEEKS_PER_YEAR:], dtype=float)
        util = float(use.mean() / self.capacity) if self.capacity and len(use) else float("nan")
        common = {"utilisation": util, "kept_waiting_by": kept}
        if weeks < MIN_WARM_UP_WEEKS + WEEKS_PER_YEAR:
            return {"verdict": TOO_SHORT, "queue_growth_per_year": float("nan"),
                    "growth_share_of_starts": float("nan"), "wait_trend_per_year": float("nan"),
                    **common}  # fmt: skip
        q = np.asarray(self.queue_by_week[-WEEKS_PER_YEAR:], dtype=float)
        wk = np.arange(weeks - WEEKS_PER_YEAR, weeks, dtype=float)
        growth = float(np.polyfit(wk, q, 1)[0]) * WEEKS_PER_YEAR
        last = self.all_waits[-WEEKS_PER_YEAR:]
        starts = sum(len(w) for w in last)
        share = growth / max(starts, 1)
        # the waits of the year's starts against their start week: how the waits move
        ws = np.concatenate(last) if starts else np.empty(0)
        at = np.repeat(wk, [len(w) for w in last])
        wait_trend = (
            float(np.polyfit(at, ws, 1)[0]) * WEEKS_PER_YEAR
            if starts > 1 and np.ptp(at) > 0
            else float("nan")
        )
        return {
            "verdict": GROWING if share > GROWTH_SHARE_THRESHOLD else STABLE,
            "queue_growth_per_year": growth,
            "growth_share_of_starts": share,
            "wait_trend_per_year": wait_trend,
            **common,
        }

    def kept_shares(self) -> dict[str, float]:
        """Of the patient-weeks waiting here over the last year (or the weeks run), the
        share each service kept waiting, by name: it had no place free at the patient's
        turn (a patient may be kept by more than one; nan: nobody waited)."""
        waited = sum(self.queue_by_week[-WEEKS_PER_YEAR:])
        kept = np.sum(self.kept_by_week[-WEEKS_PER_YEAR:], axis=0) if self.kept_by_week else None
        return {
            sv.name: (float(kept[k]) / waited if waited and kept is not None else float("nan"))
            for k, sv in enumerate(self.model.services)
        }

    @property
    def mean_wait(self) -> float:
        return float(self.waits.mean()) if len(self.waits) else float("nan")

    @property
    def p90_wait(self) -> float:
        return float(np.percentile(self.waits, 90)) if len(self.waits) else float("nan")

    @property
    def share_over_target(self) -> float:
        return (
            float((self.waits > self.model.wait_target).mean()) if len(self.waits) else float("nan")
        )


def _dotted(name: str) -> str:
    return name.replace("__", ".")


class CareSystemModel(mesa.Model):
    """Referrals, services and queues over `care_system.years` (see the module doc).

    scenario_file: a scenario with a [care_system] section (path or bundled name), or a
    Scenario. Other keyword arguments set scenario keys, with `__` for the dots
    (care_system__services__cbt__units=12), so mesa.batch_run can sweep them.
    rng: as in mesa 3: an int seeds the referrals and the patients; a
    `np.random.Generator` (or anything `np.random.default_rng` takes) draws that seed
    (so two Generators give two different runs, and the Generator advances); None:
    the scenario's seed (unlike mesa, so a run is repeatable by default).
    seed: mesa 3's older keyword, the same as an int rng (give one of the two).
    cohort_size: instead of referrals, this many patients all referred in week 0 (a
    closed cohort, e.g. a backlog; with unlimited capacity it is `trdsim.simulate`).
    """

    # Leave out of the weekly kernel calls the patients whose week is known (parked, dead,
    # waiting and sure to ask again): the same numbers, faster. False: everybody is in
    # every call (the plain way, kept to test that the two agree).
    shortcuts: bool = True

    def __init__(
        self,
        scenario_file: str | Scenario = "capacity_whatif",
        rng: int | np.random.Generator | None = None,
        cohort_size: int | None = None,
        seed: int | None = None,
        **settings,
    ):
        if seed is not None and rng is not None:
            raise ValueError("you have to pass either rng or seed, not both")  # mesa's rule
        given = rng if seed is None else seed
        # mesa's seed= path is deprecated (a FutureWarning on every run of batch_run,
        # which passes seed= when the model takes it); an int rng seeds mesa alike
        super().__init__(rng=given)
        base = (
            scenario_file if isinstance(scenario_file, Scenario) else load_scenario(scenario_file)
        )
        sc = base.with_values({_dotted(k): v for k, v in settings.items()})
        if sc.care_system is None:
            raise ScenarioError(
                sc.source,
                "care_system",
                "(missing)",
                "a care-system run needs a [care_system] section",
            )
        cs = sc.care_system
        self.weeks = 52 * cs["years"]
        sc = sc.with_values({"scenario.horizon_weeks": self.weeks, "scenario.arms": [cs["arm"]]})
        self.scenario = sc
        if given is None:
            self.seed_value = sc.seed
        elif isinstance(given, (int, np.integer)) and not isinstance(given, bool):
            if not 0 <= given <= MAX_SEED:
                raise TrdsimError(f"seed {given}: must be between 0 and {MAX_SEED} (2**63 - 1)")
            self.seed_value = int(given)
        else:  # a Generator (the caller's, advanced) or a SeedSequence: draw the kernel's seed
            self.seed_value = int(self.rng.integers(0, MAX_SEED, endpoint=True))
        self.queue_rule = cs["queue"]
        self.wait_target = cs["wait_target_weeks"]
        self.leave_per_week = cs["leave_per_week"]
        if cohort_size is not None:
            self.arrival_week = np.zeros(int(cohort_size), dtype=np.int64)
        else:
            self.arrival_week = referral_weeks(
                cs["referrals_per_year"], self.weeks, self.seed_value
            )
        n = len(self.arrival_week)
        cohort = sample_cohort(sc, n, self.seed_value)
        # the kernel ages a patient by model week; referral at week a: age at week 0 = age - a/52
        cohort.age[:] = cohort.age - self.arrival_week.astype(np.float32) / np.float32(52.0)
        self.inputs = compile_inputs(sc)
        self.pathway = self.inputs.pathways[cs["arm"]]
        self.run = ArmRun(cohort, self.pathway, self.inputs, self.seed_value, queued=True)
        self.queued_since = np.full(n, -1, dtype=np.int64)
        self.left = np.zeros(n, dtype=bool)
        self.started = np.zeros(n, dtype=bool)  # started at least one step of the pathway
        self.wait_standard = cs["wait_standard_share"]
        # costs outside the kernel, discounted as the kernel discounts its costs
        self.disc_c = discount_factors(sc.discount_costs, self.weeks)
        unit = sc.params["unit_costs"][sc.setting]
        self.waiting_week_cost = _cost(sc, unit[cs["waiting_cost"]]) if cs["waiting_cost"] else 0.0
        self.waiting_weeks = 0  # patient-weeks spent waiting
        self.waiting_cost = 0.0  # discounted
        # service of each treatment index (UNLIMITED when none delivers it)
        self.service_of_treatment = np.full(len(self.inputs.treatments), UNLIMITED, dtype=np.int64)
        services = []
        for k, (name, spec) in enumerate(cs["services"].items()):
            ids = [
                self.inputs.treatments.index(t)
                for t in spec["treatments"]
                if t in self.inputs.treatments
            ]
            self.service_of_treatment[ids] = k
            sv = Service(self, name, spec, ids)
            sv.unit_week_cost = _cost(sc, unit[sv.unit_cost_name]) if sv.unit_cost_name else 0.0
            services.append(sv)
        # an AgentSet keeps the scenario's order (service k is column k of `needs`)
        self.services = mesa.agentset.AgentSet(services, random=self.random)
        # services a step needs: a place in each service that delivers one of its
        # components, by variant of a personalised pathway and step (the last step is the
        # end of the pathway: usual care, no service)
        n_steps = self.pathway.n_steps
        self.needs = np.zeros(
            (self.pathway.n_variants, n_steps + 1, len(self.services)), dtype=np.bool_
        )
        for row, comps in enumerate(self.pathway.comp):
            for t in comps[comps >= 0]:
                if self.service_of_treatment[t] != UNLIMITED:
                    self.needs[row // n_steps, row % n_steps, self.service_of_treatment[t]] = True
        # patients left out of the weekly kernel calls while nothing can happen to them
        # (depressed in usual care, or in follow-up, with no event due and the same
        # costs: see kernel.quiet_weeks_usual and _followup), and brought up to date in
        # the week something may:
        # the first week not simulated, and that week (-1: not parked)
        self.parked_from = np.full(n, -1, dtype=np.int64)
        self.parked_until = np.full(n, -1, dtype=np.int64)
        # the same table by row variant x (steps + 1) + step, for one-index lookups
        self.needs_flat = self.needs.reshape(-1, len(self.services))
        self.week = 0
        self.arrived = 0
        self._changes = 0  # counts steps, so that census() knows when to count again
        self._census_key: tuple = ()
        self._census = np.zeros(7, dtype=np.int64)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "week": "week",
                "arrived": "arrived",
                # the counts of count(), count_in_care() etc., taken in one pass
                "waiting": lambda m: int(m.census()[0]),
                "in_care": lambda m: int(m.census()[1]),
                "discharged": lambda m: int(m.census()[2]),
                "dead": lambda m: int(m.census()[3]),
                "left_care": lambda m: int(m.census()[6]),
                "remission": lambda m: int(m.census()[4]),
                "response": lambda m: int(m.census()[5]),
                "cost": lambda m: m.cost_so_far(),
                "qaly": lambda m: m.qaly_so_far(),
            },
            agent_reporters={
                "service": "name",
                "capacity": "capacity",
                "queue": "queue_length",
                "in_use": "in_use",
                "starts": "starts",
                "utilisation": "utilisation",
                "mean_wait": "mean_wait",
                "p90_wait": "p90_wait",
                "share_over_target": "share_over_target",
                "over_target": "over_target",
            },
        )

    # ----- counts over everybody referred so far ------------------------------
    def _alive(self) -> np.ndarray:
        return self.run.clin[: self.arrived] != L.DEAD

    def count(self, phase: int) -> int:
        return int(((self.run.phase[: self.arrived] == phase) & self._alive()).sum())

    def count_in_care(self) -> int:
        ph = self.run.phase[: self.arrived]
        return int(
            (((ph == L.ACUTE) | (ph == L.COURSE) | (ph == L.FOLLOWUP)) & self._alive()).sum()
        )

    def count_dead(self) -> int:
        return int((~self._alive()).sum())

    def count_clinical(self, clin: int) -> int:
        return int((self.run.clin[: self.arrived] == clin).sum())

    def census(self) -> np.ndarray:
        """Waiting, in care, in usual care (alive), dead, in remission, responding, left
        care: of everybody referred so far (kept until the state changes: a DataCollector
        reads several of them in a row)."""
        key = (self.week, self.arrived, self._changes)
        if self._census_key != key:
            self._census = _census(self.run.phase, self.run.clin, self.left, self.arrived)
            self._census_key = key
        return self._census

    def cost_so_far(self) -> float:
        """Discounted cost of everybody referred so far (the model's, as run.cost)."""
        r = self.run
        return float(
            _so_far(
                r.cost_closed, r.seg_c, r.seg_a, self.inputs.cum_disc_c, r.week, self.arrived
            ).sum()
        )

    def qaly_so_far(self) -> float:
        """Discounted QALYs of everybody referred so far (as run.qaly)."""
        r = self.run
        q = self.inputs.cum_qaly_weight
        return float(_so_far(r.qaly_closed, r.seg_u, r.seg_a, q, r.week, self.arrived).sum())

    def _advance_week(self, who: np.ndarray) -> None:
        """This week, as the gates say, for patients `who` (everybody else's gate is
        closed): only they are visited, in chunks of equal numbers of them. The plain
        way (no shortcuts) runs the whole cohort, as `trdsim.simulate` does."""
        if self.shortcuts:
            self.run.advance_some(who, self.week, self.week + 1)
        else:
            self.run.advance(self.week, self.week + 1)

    # ----- one week ---------------------------------------------------------------
    def step(self) -> None:
        w, run = self.week, self.run
        self.arrived = int(np.searchsorted(self.arrival_week, w, side="right"))
        # 0. parked patients whose quiet weeks end now are brought up to this week
        due = _due(self.parked_until, self.arrived, w)
        if len(due):
            run.catch_up(due, self.parked_from[due], w)
            self.parked_from[due] = self.parked_until[due] = -1
        # 1. probe: who would start a step this week? (the dead and the parked are left
        # out: a week changes nothing of the dead, and nothing happens to the parked)
        # A patient waiting for a step asks for it again unless it dies this week (in a
        # probe nothing else can happen first: the wait's response hazard acts only in
        # a week lived waiting): those who live through it are flagged without a probe,
        # and so are the parked who wait (nothing but asking again can happen to them)
        probed, waiting, parked_waiting = _probe_gates(
            run.gate, self.parked_from, run.clin, run.phase, run.step, self.arrived,
            self.pathway.n_steps, self.shortcuts,
        )  # fmt: skip
        lives = run.survives_week(waiting, w)
        run.gate[waiting[~lives]] = L.GATE_PROBE
        run.requested[:] = 0
        self._advance_week(np.concatenate([probed, waiting[~lives]]))
        sure = np.concatenate([waiting[lives], parked_waiting])
        run.requested[sure] = 1
        run.req_step[sure] = run.step[sure]
        # 2. requesters, and places in use by patients not changing step this week (each
        # service's while a component it delivers runs)
        stride = self.pathway.n_steps + 1
        req, in_use = _requests(
            run.requested, run.phase, run.clin, run.variant, run.step, run.wk, run.ek,
            self.parked_from, self.pathway.comp, self.pathway.n_steps,
            self.service_of_treatment, self.queued_since, self.arrived, w, len(self.services),
        )  # fmt: skip
        # requesters in queue order; each is granted if every service its step needs has
        # a free place (a step that needs none starts at once)
        since = self.queued_since[req]
        if self.queue_rule == "severity":
            order = np.lexsort((req, since, -run.cohort.severity[req]))
        else:
            # by week joined, then patient number: req is in patient order, so a stable
            # sort on the week alone gives it (and a radix sort on int16 weeks is fast)
            key = since.astype(np.int16) if self.weeks < 2**15 else since
            order = np.argsort(key, kind="stable")
        queue = req[order]
        free = np.array([sv.capacity for sv in self.services], dtype=np.int64) - in_use
        ok, rows, short = _grant_in_order(
            queue, run.variant, run.req_step, stride, self.needs_flat, np.maximum(free, 0)
        )
        granted = queue[ok]
        for k, sv in enumerate(self.services):
            sv.in_use = int(in_use[k])
            sv.record(*_service_queue(
                queue, ok, rows, short, self.needs_flat, k
            ))  # fmt: skip
        # 3. rerun the week for the flagged: granted start, the others wait (the parked
        # who wait live this week later, with their other quiet weeks; those granted are
        # first brought up to this week)
        late = granted[self.parked_from[granted] >= 0]
        if len(late):
            run.catch_up(late, self.parked_from[late], w)
            self.parked_from[late] = self.parked_until[late] = -1
        _rerun_gates(run.gate, req, granted, self.parked_from)
        self._advance_week(req[self.parked_from[req] < 0])
        self.queued_since[granted] = -1
        self.started[granted] = True
        # 4. some waiting patients leave care
        waiting = req[run.phase[req] == L.WAITING]
        if self.leave_per_week > 0 and len(waiting):
            u = _uniforms(np.uint64(self.seed_value), waiting.astype(np.int64), w, P_LEAVE)
            gone = waiting[u < self.leave_per_week]
            # they leave the pathway for good: usual care, no further step
            run.phase[gone] = L.USUAL
            run.step[gone] = self.pathway.n_steps
            self.left[gone] = True
            self.queued_since[gone] = -1
            waiting = waiting[u >= self.leave_per_week]
        for sv in self.services:
            sv.record_over_target()
        # 5. the week's cost of those still waiting (alive at the end of it)
        n_waiting = int((run.clin[waiting] != L.DEAD).sum())
        self.waiting_weeks += n_waiting
        self.waiting_cost += n_waiting * self.waiting_week_cost * self.disc_c[w]
        self._park(w + 1)
        self._changes += 1
        self.datacollector.collect(self)
        self.week += 1
        if self.week >= self.weeks:
            self.running = False
            self._catch_up_all()

    def _park(self, week: int) -> None:
        """Leave out of the weekly calls from `week` the patients to whom nothing can
        happen for two weeks or more (one saves nothing), until the week something may.
        Their state stays as it is; their cost and QALYs so far are exact (the open
        segment runs on), and their clinical state and phase do not change."""
        if week >= self.weeks or not self.shortcuts:
            return
        run = self.run
        # waiting for a step too, unless waiting patients may leave care (which changes a
        # waiting patient's state in the week, so keeps them in the weekly calls); on a
        # course too: its place stays taken, as the phase stays as it is
        who = _park_candidates(
            self.parked_from, run.clin, run.phase, run.step, self.arrived,
            self.pathway.n_steps, self.leave_per_week == 0,
        )  # fmt: skip
        if not len(who):
            return
        k = run.quiet_weeks(who, week)
        park = k >= 2
        who, k = who[park], k[park]
        self.parked_from[who] = week
        self.parked_until[who] = np.minimum(week + k, self.weeks)

    def _catch_up_all(self) -> None:
        """Bring every parked patient up to the current week (the end of a run, so that
        the per-patient outputs, `run.outputs()`, are complete)."""
        who = np.flatnonzero(self.parked_from >= 0)
        if len(who):
            self.run.catch_up(who, self.parked_from[who], self.week)
            self.parked_from[who] = self.parked_until[who] = -1

    def share_within_target(self) -> float:
        """`within_target_share` pooled over the services, of the run so far: every start,
        and those waiting past the target now (a step needing two services counts at
        each)."""
        return within_target_share(
            sum(sv.within_target for sv in self.services),
            sum(sv.total_starts for sv in self.services),
            sum(sv.over_target for sv in self.services),
        )

    def run_model(self) -> None:
        """Step to the end of the horizon."""
        while self.running:
            self.step()

    def yearly(self) -> pd.DataFrame:
        """Per service and year of the run: starts, mean and p90 wait, share of starts
        within the target, queue at year end and mean, those waiting past the target at
        year end, utilisation (mean share of capacity in use)."""
        return pd.concat([sv.yearly(self.wait_target) for sv in self.services], ignore_index=True)

    def steady_state(self) -> dict:
        """Is each queue stable or growing over the last year (the rest warm-up)? With
        the verdict of the whole system (growing if any service is), the binding
        services (`BINDING_SHARE`: growing, and kept most of their own queue waiting for
        want of places) and, in `bottleneck`, that said in words; and whether the system
        meets the wait standard in steady state: stable, and in the last year at least
        `wait_standard_share` `within_target_share` at every service."""
        per = {sv.name: sv.trend() for sv in self.services}
        verdicts = {t["verdict"] for t in per.values()}
        verdict = TOO_SHORT if TOO_SHORT in verdicts else GROWING if GROWING in verdicts else STABLE
        meets = {}
        for sv in self.services:
            last = sv.all_waits[-WEEKS_PER_YEAR:]
            starts = sum(len(w) for w in last)
            within = sum(int((w <= self.wait_target).sum()) for w in last)
            share = within_target_share(within, starts, sv.over_target)
            t = per[sv.name]
            t["last_year_within_target"] = share
            own = t["kept_waiting_by"][sv.name]
            t["binding"] = bool(t["verdict"] == GROWING and own >= BINDING_SHARE)
            meets[sv.name] = bool(t["verdict"] == STABLE and not share < self.wait_standard)
        # a growing queue whose patients another service kept waiting is held by it
        for name, t in per.items():
            t["held_by"] = [
                k for k, v in t["kept_waiting_by"].items()
                if t["verdict"] == GROWING and not t["binding"] and k != name
                and v >= BINDING_SHARE
            ]  # fmt: skip
        # and a service holding a growing queue binds if its own places were full too
        for name, t in per.items():
            holds = any(name in u["held_by"] for u in per.values())
            if holds and t["kept_waiting_by"][name] >= BINDING_SHARE:
                t["binding"] = True
        binding = [k for k, t in per.items() if t["binding"]]
        return {
            "verdict": verdict,
            "meets_standard": verdict == STABLE and all(meets.values()),
            "binding": binding,
            "bottleneck": self._bottleneck(verdict, per),
            "test": (
                f"least-squares trend of each queue over the last {WEEKS_PER_YEAR} weeks "
                f"(weeks before: warm-up, at least {MIN_WARM_UP_WEEKS}); growing when it adds "
                f"more than {pct(GROWTH_SHARE_THRESHOLD, 0)} of the year's starts in a year; "
                f"binding when, in at least {pct(BINDING_SHARE, 0)} of the year's patient-weeks "
                "waiting at it, it had no place free, and its queue grows or it holds one "
                "that does (keeps most of its patients waiting)"
            ),
            "wait_standard": f"{pct(self.wait_standard, 0)} {within_target_label(self.wait_target)}",
            "services": per,
        }

    def _bottleneck(self, verdict: str, per: dict) -> str:
        """The steady-state verdict in words: which service limits the system, and why
        another's queue grows (the same sentence in the terminal, report and dashboard)."""
        label = {sv.name: sv.label for sv in self.services}

        def in_use(k: str) -> str:
            u = per[k]["utilisation"]
            return "no places at all" if np.isnan(u) else f"{pct(u, 0)} of its places in use"

        def names(keys: list[str]) -> str:
            words = [label[k] for k in keys]
            return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]

        if verdict == TOO_SHORT:
            years = (MIN_WARM_UP_WEEKS + WEEKS_PER_YEAR) // WEEKS_PER_YEAR
            return (
                f"too short to tell which service limits the system (needs {years} years or more)"
            )
        if verdict == STABLE:
            return "no queue grows: no service limits the system"
        binding = [k for k, t in per.items() if t["binding"]]
        parts = []
        if binding:
            use = ", ".join(in_use(k) for k in binding)
            parts.append(f"binding: {names(binding)} ({use})")
        for k, t in per.items():
            if t["verdict"] != GROWING or t["binding"]:
                continue
            why = (
                f"only because its patients also wait for {names(t['held_by'])}"
                if t["held_by"]
                else "though no service kept most of its patients waiting"
            )
            parts.append(f"the queue for {label[k]} grows {why} ({in_use(k)})")
        return "; ".join(parts)

    def costs(self) -> dict:
        """Discounted costs: the model's (treatments, care by state), waiting, capacity."""
        n = self.arrived
        weeks_value = float(self.disc_c[: self.week].sum())  # discounted weeks run
        capacity = {sv.name: sv.units * sv.unit_week_cost * weeks_value for sv in self.services}
        care = float(self.run.cost[:n].sum())
        total = care + self.waiting_cost + sum(capacity.values())
        treated = int(self.started[:n].sum())
        qaly = float(self.run.qaly[:n].sum())
        return {
            "cost_care": care,
            "cost_waiting": self.waiting_cost,
            "waiting_weeks": self.waiting_weeks,
            **{f"{k}_cost_capacity": v for k, v in capacity.items()},
            "cost_capacity": sum(capacity.values()),
            "cost_total": total,
            "treated": treated,
            "cost_per_patient_treated": total / treated if treated else float("nan"),
            "cost_per_qaly": total / qaly if qaly else float("nan"),
        }

    def summary(self) -> dict:
        """One row describing the whole run (what a sweep records): outcomes, costs, the
        pooled shares within target, and the steady-state verdict with the last year's
        figures per service."""
        cs = self.scenario.care_system
        n = self.arrived
        out = {
            "referrals": n,
            "weeks": self.weeks,
            "cost": float(self.run.cost[:n].sum()),
            "qaly": float(self.run.qaly[:n].sum()),
            "cost_per_referral": float(self.run.cost[:n].mean()) if n else float("nan"),
            "qaly_per_referral": float(self.run.qaly[:n].mean()) if n else float("nan"),
            "dead": self.count_dead(),
            "left_care": int(self.left[:n].sum()),
            "waiting_at_end": self.count(L.WAITING),
            **self.costs(),
        }
        # over the whole run: patients still waiting past the target at the end count as over
        out["share_started_within_target"] = self.share_within_target()
        for sv in self.services:
            out[f"{sv.name}_capacity"] = sv.capacity
            out[f"{sv.name}_starts"] = sv.total_starts
            out[f"{sv.name}_over_target_at_end"] = sv.over_target
            out[f"{sv.name}_within_target"] = sv.share_within_target
        out["wait_target_weeks"] = cs["wait_target_weeks"]
        out["wait_standard_share"] = cs["wait_standard_share"]
        ss = self.steady_state()
        out["steady_state"] = ss["verdict"]
        out["meets_standard_in_steady_state"] = ss["meets_standard"]
        out["binding_services"] = ",".join(ss["binding"])
        last = self.yearly().groupby("service").tail(1).set_index("service")
        for sv in self.services:
            t = ss["services"][sv.name]
            out[f"{sv.name}_steady_state"] = t["verdict"]
            out[f"{sv.name}_queue_growth_per_year"] = t["queue_growth_per_year"]
            out[f"{sv.name}_growth_share_of_starts"] = t["growth_share_of_starts"]
            out[f"{sv.name}_last_year_within_target"] = t["last_year_within_target"]
            out[f"{sv.name}_binding"] = t["binding"]
            for col in ("mean_wait", "p90_wait", "utilisation", "queue_end"):
                out[f"{sv.name}_last_year_{col}"] = last.loc[sv.name, col]
        return {k: v.item() if isinstance(v, np.generic) else v for k, v in out.items()}


# A warm-up needs only a few weeks of a small region to call every weekly function once
# (arrivals, waits, the quiet look-aheads, the catch-up calls); not clinical numbers.
_WARM_WEEKS = 8
_WARM_REFERRALS = 200


def warm_up_care(scenario: Scenario) -> None:
    """Compile (or load from numba's cache) every kernel function the care system calls
    week by week, by running a few weeks of a small region of `scenario`."""
    small = scenario.with_values(
        {"care_system.referrals_per_year": _WARM_REFERRALS, "care_system.years": 1}
    )
    model = CareSystemModel(small, rng=scenario.seed)
    for _ in range(_WARM_WEEKS):
        model.step()

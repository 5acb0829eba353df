"""The planner's dashboard: two capacity plans of one care system, stepped together.

`PlanComparison` is a mesa model holding two `CareSystemModel`s of the same scenario,
referrals and seed (common random numbers: the same patients arrive in both), which
differ only in the units of each service: plan A and plan B. Each step runs one week
of both and records, per plan, each service's queue, the mean wait of the week's
starts and utilisation, the share of referrals in remission, and the discounted cost
so far (care, waiting and capacity). `page()` builds the mesa SolaraViz page that
`trdsim dashboard` serves: sliders for referrals, the queue rule and each service's
units in both plans, charts overlaying plan A (solid) and plan B (dashed).

Slider ranges come from the scenario: every value from 0 to `SLIDER_SPAN` times the
scenario's (referrals from 1: a care system needs some). The constructor refuses a
value outside them with a `TrdsimError`; the page shows that message instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numba
import numpy as np

from trdsim.care_result import within_target_label
from trdsim.care_system import CareSystemModel
from trdsim.currency import share as pct
from trdsim.engine import layout as L
from trdsim.errors import MISSING, ScenarioError, TrdsimError
from trdsim.scenario import MAX_SEED, QUEUES, Scenario, load_scenario

__all__ = ["PLANS", "SLIDER_SPAN", "PlanComparison", "Range", "page", "slider_ranges"]

PLANS = ("A", "B")
# Sliders run from none to four times the scenario's value: wide enough to show an
# overloaded service (queue growing without bound) and an idle one (utilisation well
# under half) around any scenario, yet fine-grained enough to drag one unit at a time.
SLIDER_SPAN = 4


@dataclass(frozen=True)
class Range:
    """A slider: its label, the scenario's value and the values allowed."""

    label: str
    value: int
    min: int
    max: int

    def check(self, name: str, given: object) -> int:
        """The value as an int, or a TrdsimError saying what is allowed."""
        if isinstance(given, bool) or not isinstance(given, (int, np.integer, float)):
            raise TrdsimError(f"{self.label} ({name}) = {given!r}: must be a whole number")
        if not (float(given).is_integer() and self.min <= given <= self.max):
            raise TrdsimError(
                f"{self.label} ({name}) = {given!r}: must be a whole number from {self.min} "
                f"to {self.max} ({SLIDER_SPAN} times the scenario's {self.value})"
            )
        return int(given)


def _base(scenario: str | Scenario, settings: dict | None) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sc = sc.with_values(settings or {})
    if sc.care_system is None:
        raise ScenarioError(
            sc.source, "care_system", MISSING, "the dashboard needs a [care_system] section"
        )
    return sc


def slider_ranges(scenario: str | Scenario, settings: dict | None = None) -> dict[str, Range]:
    """The dashboard's sliders for a scenario: `referrals_per_year`, then `a_<service>` and
    `b_<service>` (units of each service the scenario declares, in plans A and B)."""
    cs = _base(scenario, settings).care_system
    ref = cs["referrals_per_year"]
    out = {
        "referrals_per_year": Range(
            "referrals a year", round(ref), 1, max(1, math.ceil(SLIDER_SPAN * ref))
        )
    }
    for plan in PLANS:
        for name, sv in cs["services"].items():
            # a service the scenario gives no units still gets a range to try some in
            top = SLIDER_SPAN * max(sv["units"], 1)
            out[f"{plan.lower()}_{name}"] = Range(
                f"plan {plan}: {sv['label']}", sv["units"], 0, top
            )
    return out


class PlanComparison(mesa.Model):
    """Two capacity plans of one care system stepped together (see the module doc).

    scenario_file: scenario with a [care_system] section (name or path); settings: other
    scenario keys (dotted), as `trdsim care --set` takes them. referrals_per_year, queue
    and the units `a_<service>` / `b_<service>` default to the scenario's; a value out of
    `slider_ranges` raises `TrdsimError`, or with show_errors=True is kept in `error`
    (the model then does not run), so that a page can show it. seed: the referrals' and
    patients' seed, the same in both plans (default: the scenario's). `scenario` is what
    mesa's page passes on reset (its own experiment object); it is not used.
    """

    def __init__(
        self,
        scenario_file: str = "capacity_whatif",
        settings: dict | None = None,
        referrals_per_year: int | None = None,
        queue: str | None = None,
        seed: int | str | None = None,
        show_errors: bool = False,
        scenario: object = None,
        **units: int,
    ):
        super().__init__()
        self.error: str | None = None
        self.plans: dict[str, CareSystemModel] = {}
        self.week = 0
        try:
            self._build(scenario_file, settings, referrals_per_year, queue, seed, units)
        except TrdsimError as e:
            if not show_errors:
                raise
            self.error = str(e)
            self.running = False
            return
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())

    def _build(self, scenario_file, settings, referrals, queue, seed, units) -> None:
        base = _base(scenario_file, settings)
        cs = base.care_system
        ranges = slider_ranges(base)
        referrals = ranges["referrals_per_year"].check(
            "referrals_per_year",
            round(cs["referrals_per_year"]) if referrals is None else referrals,
        )
        queue = cs["queue"] if queue is None else queue
        if queue not in QUEUES:
            raise TrdsimError(f"queue rule {queue!r}: must be one of {', '.join(QUEUES)}")
        unknown = sorted(set(units) - set(ranges))
        if unknown:
            raise TrdsimError(
                f"unknown setting {unknown[0]!r}: the services are "
                f"{', '.join(k for k in ranges if k != 'referrals_per_year')}"
            )
        if seed is not None and seed != "":
            try:
                seed = int(seed)
            except (TypeError, ValueError):
                seed = -1  # refused just below, with the allowed range
            if not 0 <= seed <= MAX_SEED:
                raise TrdsimError(f"seed: must be a whole number from 0 to {MAX_SEED}")
        else:
            seed = None
        self.scenario_name = base.name
        self.currency = base.currency
        self.queue_rule = queue
        self.referrals_per_year = referrals
        self.wait_target = cs["wait_target_weeks"]
        self.units: dict[str, dict[str, int]] = {}
        for plan in PLANS:
            p = plan.lower()
            chosen = {
                name: ranges[f"{p}_{name}"].check(
                    f"{p}_{name}", units.get(f"{p}_{name}", sv["units"])
                )
                for name, sv in cs["services"].items()
            }
            self.units[plan] = chosen
            values = {
                "care_system.referrals_per_year": referrals,
                "care_system.queue": queue,
                **{f"care_system.services.{n}.units": u for n, u in chosen.items()},
            }
            self.plans[plan] = CareSystemModel(base.with_values(values), rng=seed)
        self.seed_value = self.plans["A"].seed_value
        self.weeks = self.plans["A"].weeks
        self.services = [sv.name for sv in self.plans["A"].services]

    def _reporters(self) -> dict:
        """What each week records, per plan: a name each chart finds by its prefix."""
        out = {}
        for plan, m in self.plans.items():
            for sv in m.services:
                out[f"queue {sv.name} {plan}"] = lambda _, sv=sv: sv.queue_length
                out[f"wait {sv.name} {plan}"] = lambda _, sv=sv: sv.mean_wait
                out[f"utilisation {sv.name} {plan}"] = lambda _, sv=sv: sv.utilisation
            out[f"remission {plan}"] = lambda _, m=m: (
                m.count_clinical(L.REMISSION) / m.arrived if m.arrived else float("nan")
            )
            out[f"cost {plan}"] = lambda _, m=m: m.costs()["cost_total"]
        return out

    def step(self) -> None:
        """One week of both plans, then the week's record."""
        if self.error is not None:
            return
        # One numba thread: a planner's system is thousands of patients, too few to gain
        # from a second, and a parallel region waits for every thread, so on a busy
        # machine two threads made a week 30-50 times slower (benchmarks/bench_care.py
        # --dashboard: 10 against 500 weeks a second). Results do not depend on threads.
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            for m in self.plans.values():
                m.step()
        finally:
            numba.set_num_threads(threads)
        self.datacollector.collect(self)
        self.week += 1
        self.running = all(m.running for m in self.plans.values())

    def table(self) -> list[dict]:
        """One row per plan: its capacity and how it has done so far: the share within the
        wait target as `trdsim care` gives it (`within_target_share`, pooled over the
        services and the weeks so far) and the steady-state verdict naming the binding
        service (from two years on)."""
        rows = []
        for plan, m in self.plans.items():
            c = m.costs() if m.week else None
            share = m.share_within_target()
            ss = m.steady_state()
            rows.append(
                {
                    "plan": plan,
                    **{sv.label: f"{sv.units} ({sv.capacity} places)" for sv in m.services},
                    "referred": m.arrived,
                    "waiting": m.count(L.WAITING),
                    within_target_label(self.wait_target): (
                        pct(share) if not np.isnan(share) else "-"
                    ),
                    # the sentence says stable and too short itself; growing leads it
                    "steady state": (
                        f"growing; {ss['bottleneck']}"
                        if ss["verdict"] == "growing"
                        else ss["bottleneck"]
                    ),
                    f"cost so far ({self.currency}, discounted)": (
                        f"{c['cost_total']:,.0f}" if c else "-"
                    ),
                }
            )
        return rows


# ----- the page ------------------------------------------------------------------------
def _chart(title: str, prefix: str, ylabel: str, scale: float = 1.0):
    """A chart component: every recorded series starting with `prefix`, plan A solid and
    plan B dashed, one colour per service."""
    import solara
    from matplotlib.figure import Figure

    from trdsim.care_plots import COLOURS

    def Chart(model: PlanComparison):
        if model.error is not None:
            return solara.Text("")
        fig = Figure(figsize=(6, 3.2), layout="constrained")
        ax = fig.add_subplot()
        data = model.datacollector.get_model_vars_dataframe()
        names = [c for c in data.columns if c.startswith(prefix + " ")]
        series = sorted({c[len(prefix) + 1 : -2] for c in names})
        for k, name in enumerate(series or [""]):
            for plan, style in zip(PLANS, ("-", "--"), strict=True):
                col = f"{prefix} {name} {plan}".replace("  ", " ")
                if col in data:
                    ax.plot(
                        np.arange(len(data)), data[col].to_numpy(dtype=float) * scale,
                        style, color=COLOURS[k % len(COLOURS)],
                        label=f"{name} {plan}".strip() if name else f"plan {plan}",
                    )  # fmt: skip
        ax.set_title(title)
        ax.set_xlim(0, model.weeks)
        ax.set_xlabel("week")
        ax.set_ylabel(ylabel)
        if len(data):
            ax.legend(frameon=False, fontsize=8)
        return solara.FigureMatplotlib(fig, format="png")

    Chart.__name__ = f"Chart_{prefix}"
    return Chart


def _summary(model: PlanComparison):
    import solara

    if model.error is not None:
        return solara.Error(f"Cannot run this plan: {model.error}")
    import pandas as pd

    # plain text and a table: solara.Markdown would load KaTeX, which the offline assets lack
    with solara.Column() as col:
        solara.Text(
            f"{model.scenario_name}: {model.referrals_per_year:,} referrals a year, "
            f"{model.queue_rule} queue, seed {model.seed_value}; week {model.week} of "
            f"{model.weeks}. Plan A solid, plan B dashed; both see the same referrals. "
            f"Change a setting, then Reset to start both plans again with it."
        )
        solara.DataFrame(pd.DataFrame(model.table()), items_per_page=2)
    return col


def page(scenario: str = "capacity_whatif", settings: dict | None = None):
    """The SolaraViz page of a scenario (what `trdsim dashboard` serves)."""
    from mesa.visualization import SolaraViz

    ranges = slider_ranges(scenario, settings)
    params: dict = {
        "scenario_file": scenario,
        "settings": settings or {},
        "show_errors": True,
        "seed": {"type": "InputText", "value": "", "label": "seed (empty: the scenario's)"},
        "queue": {
            "type": "Select",
            "value": _base(scenario, settings).care_system["queue"],
            "values": list(QUEUES),
            "label": "queue rule",
        },
    }
    for name, r in ranges.items():
        params[name] = {"type": "SliderInt", "value": r.value, "min": r.min, "max": r.max,
                        "step": 1, "label": r.label}  # fmt: skip
    model = PlanComparison(scenario, settings, show_errors=True)
    components = [
        _summary,
        _chart("Queues (patients waiting)", "queue", "patients"),
        _chart("Mean wait of the week's starts", "wait", "weeks"),
        _chart("Utilisation", "utilisation", "% of places in use", 100.0),
        _chart("Outcomes: referrals in remission", "remission", "% of referrals", 100.0),
        _chart("Cost so far (care, waiting, capacity)", "cost", "discounted, millions", 1e-6),
    ]
    return SolaraViz(
        model, components=components, model_params=params, name="trdsim: two capacity plans"
    )

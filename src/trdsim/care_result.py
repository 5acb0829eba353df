"""The result of a care-system run (`trdsim care`): weekly and yearly tables, the
steady-state verdict and the costs, written and read through `ResultBase`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from trdsim.currency import money
from trdsim.scenario import Scenario
from trdsim.store.manifest import json_ready, make_manifest
from trdsim.store.result import ResultBase
from trdsim.store.tables import Table, as_written

__all__ = [
    "WITHIN_TARGET_DEFINITION",
    "YEARLY_COLUMNS",
    "CareResult",
    "care",
    "within_target",
    "within_target_label",
    "within_target_share",
]

YEARLY_COLUMNS = ("service", "year", "starts", "mean_wait", "p90_wait", "within_target",
                  "queue_end", "queue_mean", "over_target_end", "utilisation")  # fmt: skip

# The one definition of "within the wait target" (computed here, used by the model, the
# terminal, the figures, the report, the dashboard and sweeps).
WITHIN_TARGET_DEFINITION = (
    "starts within the target, of starts plus patients still waiting past it (those "
    "still waiting, not yet past it, are not counted)"
)


def within_target_share(within: int, starts: int, waiting_past: int) -> float:
    """The one measure of "within the wait target" (WITHIN_TARGET_DEFINITION): `within`
    of `starts` started within the target, `waiting_past` still wait past it; nan when
    there is nobody to count. Every table, figure and page of the care system uses it."""
    n = starts + waiting_past
    return within / n if n else float("nan")


def within_target(waits: np.ndarray, waiting: np.ndarray, target: int) -> float:
    """`within_target_share` of the weeks waited by starts and, so far, by the patients
    still waiting (a start within the target waited at most `target` weeks; a patient
    still waiting is past it after more than `target`)."""
    waits, waiting = np.asarray(waits), np.asarray(waiting)
    return within_target_share(
        int((waits <= target).sum()), len(waits), int((waiting > target).sum())
    )


def within_target_label(target: int | None = None) -> str:
    """The measure's label, the same everywhere ("started within 18 weeks")."""
    return f"started within {target} weeks" if target is not None else "started within target"


@dataclass(eq=False, repr=False)
class CareResult(ResultBase):
    """A care-system run: `weekly` (system counts by week), `services` (each service by
    week), `yearly` (each service by year: waits, queue, utilisation, share within the
    target; `.table`), `waits` (every start's wait, one row per start) and `info` (the
    run's summary, costs and steady-state test)."""

    ANALYSIS: ClassVar[str] = "care"
    MAIN: ClassVar[str] = "yearly"
    TABLES: ClassVar[dict[str, Table]] = {
        "weekly": Table("weekly.csv"),
        "services": Table("services.csv", ("service", "week")),
        "yearly": Table("yearly.csv", YEARLY_COLUMNS),
        "waits": Table("waits.parquet", ("service", "wait")),
    }
    JSON: ClassVar[dict[str, str]] = {"info": "summary.json"}

    manifest: dict
    weekly: pd.DataFrame
    services: pd.DataFrame
    yearly: pd.DataFrame
    waits: pd.DataFrame
    info: dict

    @classmethod
    def of(cls, model, settings: dict | None = None) -> CareResult:
        """The result of a CareSystemModel that has run (settings: the --set values)."""
        weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        services = model.datacollector.get_agent_vars_dataframe().reset_index()
        services["week"] = services["Step"].astype(int) - 1
        services = services.drop(columns=["Step", "AgentID"])
        waits = pd.DataFrame(
            {
                "service": np.concatenate(
                    [[sv.name] * sum(len(w) for w in sv.all_waits) for sv in model.services] or [[]]
                ).astype(str),
                "wait": np.concatenate(
                    [np.concatenate(sv.all_waits) for sv in model.services if sv.all_waits]
                    or [np.empty(0, dtype=np.int64)]
                ).astype(np.int64),
            }
        )
        m = make_manifest(model.scenario, cls.ANALYSIS, model.seed_value,
                          care_system=model.scenario.care_system, settings=settings or {})  # fmt: skip
        m.pop("patients")  # referrals arrive at random: there is no fixed number
        info = {**model.summary(), "steady_state_test": model.steady_state()}
        return cls(m, as_written(weekly), as_written(services), as_written(model.yearly()), waits,
                   json_ready(info))  # fmt: skip

    @property
    def steady(self) -> dict:
        """The steady-state test: verdict, whether the standard is met, per service."""
        return self.info["steady_state_test"]

    def summary(self) -> str:
        """Referrals, the steady-state verdict, and costs per patient treated and QALY."""
        s, cur = self.info, self.manifest["currency"]
        ss = self.steady
        answer = "meets" if ss["meets_standard"] else "does not meet"
        return (
            f"{self.manifest['scenario']}: {s['referrals']:,} referrals over "
            f"{self.manifest['care_system']['years']} years; {ss['verdict']} "
            f"({ss['bottleneck']}), {answer} the standard ({ss['wait_standard']}) in steady "
            f"state; total cost "
            f"{money(s['cost_total'], cur)}, {money(s['cost_per_patient_treated'], cur)} per "
            f"patient treated, {money(s['cost_per_qaly'], cur)} per QALY (average)"
        )

    def plot(self):
        """Queues by service over the run."""
        from trdsim import care_plots

        return care_plots.queues_figure(
            self.services, scenario=self.manifest["scenario"],
            labels=care_plots.service_labels(self.manifest["care_system"]),
        )  # fmt: skip

    def _figures(self, folder: Path) -> list[Path]:
        from trdsim import care_plots

        sc = self.manifest["scenario"]
        names = care_plots.service_labels(self.manifest["care_system"])
        paths = [folder / n for n in ("queues.png", "utilisation.png", "waits.png")]
        care_plots.queues_figure(self.services, paths[0], scenario=sc, labels=names)
        care_plots.utilisation_figure(self.services, paths[1], scenario=sc, labels=names)
        order = list(dict.fromkeys(self.services.service))
        by = {s: self.waits.wait[self.waits.service == s].to_numpy() for s in order}
        target = int(self.manifest["care_system"]["wait_target_weeks"])
        # those still waiting past the target at the end count as over (within_target_share)
        past = {s: int(self.info[f"{s}_over_target_at_end"]) for s in order}
        care_plots.waits_figure(by, target, paths[2], scenario=sc, labels=names,
                                waiting_past=past)  # fmt: skip
        return paths


def care(
    scenario: Scenario | str = "capacity_whatif",
    seed: int | np.random.Generator | None = None,
    settings: dict | None = None,
    progress: Callable[[int], None] | None = None,
) -> CareResult:
    """Run the care-system model of `scenario` (with `settings`, dotted keys as `--set`)
    to its horizon. progress(1) is called after each week."""
    from trdsim.care_system import CareSystemModel
    from trdsim.scenario import load_scenario

    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if settings:
        sc = sc.with_values(settings)
    model = CareSystemModel(sc, rng=seed)
    while model.running:
        model.step()
        if progress is not None:
            progress(1)
    return CareResult.of(model, settings)

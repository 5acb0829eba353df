"""The report of a care-system folder (`trdsim care`): capacity, queues, waits,
utilisation by year, the steady-state verdict and the costs of capacity and waiting.

Read from the files the command wrote (manifest.json, summary.json, yearly.csv and the
figures, drawn afresh from services.csv after `--no-figures`); never re-run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CareFolder", "care_sections", "is_care", "load_care"]

import pandas as pd

from trdsim.care_result import WITHIN_TARGET_DEFINITION, within_target_label
from trdsim.currency import money
from trdsim.errors import TrdsimError
from trdsim.report import figures
from trdsim.report.tables import Column, Table, number

CARE_MANIFEST_KEYS = ("scenario", "scenario_hash", "seed", "currency", "care_system")
YEARLY_COLUMNS = ("service", "year", "starts", "mean_wait", "p90_wait", "within_target",
                  "queue_end", "queue_mean", "over_target_end", "utilisation")  # fmt: skip
SUMMARY_KEYS = ("referrals", "steady_state_test", "cost_care", "cost_waiting", "cost_capacity",
                "cost_total", "treated", "cost_per_patient_treated", "cost_per_qaly")  # fmt: skip


@dataclass
class CareFolder:
    """A `trdsim care` folder, read and checked."""

    folder: Path
    manifest: dict
    summary: dict
    yearly: pd.DataFrame
    notices: list[str] = field(default_factory=list)


def is_care(manifest: dict) -> bool:
    """Whether a manifest is a care-system run's."""
    return manifest.get("analysis") == "care"


def load_care(folder: Path, manifest: dict, read_json, read_csv) -> CareFolder:
    """The care folder's files (read with folder.py's checked readers)."""
    missing = [k for k in CARE_MANIFEST_KEYS if k not in manifest]
    if missing:
        raise TrdsimError(
            f"{folder / 'manifest.json'}: has no {', '.join(missing)}: rerun trdsim care"
        )
    summary = read_json(folder / "summary.json")
    lacking = [k for k in SUMMARY_KEYS if k not in summary]
    if lacking:
        raise TrdsimError(
            f"{folder / 'summary.json'}: has no {', '.join(lacking)}: written by another trdsim "
            "version? Rerun trdsim care with this one"
        )
    return CareFolder(folder, manifest, summary, read_csv(folder / "yearly.csv", YEARLY_COLUMNS))


def _e(x: object) -> str:
    return html.escape(str(x))


def _services_figure(folder: Path, draw, labels: dict[str, str]):
    path = folder / "services.csv"
    if not path.is_file():
        return None
    return lambda out: draw(pd.read_csv(path), out, labels=labels)


def care_sections(r: CareFolder, section) -> list:
    """The sections of a care folder's report; `section` builds one (sections.Section)."""
    from trdsim import care_plots

    m, s = r.manifest, r.summary
    cs = m["care_system"]
    cur = m["currency"]
    target = cs["wait_target_weeks"]
    steady = s["steady_state_test"]
    out = []
    notices = list(r.notices)
    if steady["verdict"] != "stable":
        binding = steady.get("bottleneck")
        notices.append(
            f"The system is {steady['verdict']} in its last year"
            + (f" ({binding})" if binding else "")
            + ": shares within the target over the whole run overstate what it delivers "
            "(see Steady state)."
        )
    rows = [
        ("scenario", m["scenario"]),
        ("description", m.get("description", "")),
        ("referrals", f"{cs['referrals_per_year']:,.0f} a year (Poisson), {cs['years']} years"),
        ("pathway followed", cs["arm"]),
        ("queue rule", cs["queue"]),
        ("leaving care while waiting", f"{cs['leave_per_week']:.1%} a week"),
        ("wait standard", steady["wait_standard"]),
        (
            "setting",
            f"{m.get('setting', '')}, {cur} {m.get('price_year', '')} prices, "
            f"costs discounted {m.get('discount_costs', 0):.1%} a year",
        ),  # fmt: skip
        (
            "settings given (--set)",
            "; ".join(f"{k} = {v}" for k, v in m.get("settings", {}).items()),
        ),
        ("random seed", m["seed"]),
        ("scenario file", m.get("scenario_file", "")),
        ("scenario hash (SHA-256)", m["scenario_hash"]),
        ("made by", f"trdsim {m.get('trdsim_version', '')} on {m.get('created_utc', '')}"),
    ]
    t = Table("care_scenario", "Care system run",
              [Column("item", "item", [a for a, _ in rows]),
               Column("value", "value", [str(b) for _, b in rows])])  # fmt: skip
    names = list(cs["services"])
    sv = Table(
        "care_services",
        "Services and their capacity",
        [
            Column("service", "service", names),
            Column("label", "label", [cs["services"][k]["label"] for k in names]),
            Column("units", "units", [cs["services"][k]["units"] for k in names], number(",d"), True),
            Column("patients_per_unit", "patients per unit",
                   [cs["services"][k]["patients_per_unit"] for k in names], number(",g"), True),
            Column("capacity", "capacity (patients at once)", [s[f"{k}_capacity"] for k in names],
                   number(",d"), True),
            Column("treatments", "treatments", [", ".join(cs["services"][k]["treatments"])
                                                for k in names]),
            Column("unit_cost", "cost of a unit a week (library)",
                   [cs["services"][k].get("unit_cost", "") or "not costed" for k in names]),
        ],
    )  # fmt: skip
    settings = " ".join(f"--set {k}={v}" for k, v in m.get("settings", {}).items())
    redo = f"trdsim care {m['scenario']} {settings} --seed {m['seed']}".replace("  ", " ")
    body = (
        t.html()
        + sv.html()
        + f"<p>Repeat exactly with <code>{_e(redo)}</code> (same scenario hash and trdsim "
        "version).</p>"
    )
    out.append(section("care", "Care system and capacity", body, [t, sv]))

    y = r.yearly
    yt = Table(
        "care_by_year",
        "Per service and year: starts, waits (weeks, of that year's starts), queues, utilisation",
        [
            Column("service", "service", list(y.service)),
            Column("year", "year", list(y.year), number("d"), True),
            Column("starts", "starts", list(y.starts), number(",d"), True),
            Column("mean_wait", "mean wait", list(y.mean_wait), number(".1f"), True),
            Column("p90_wait", "90th percentile wait", list(y.p90_wait), number(".0f"), True),
            Column("within_target", within_target_label(target), list(y.within_target),
                   number(".1%"), True),
            Column("queue_end", "queue at year end", list(y.queue_end), number(",d"), True),
            Column("queue_mean", "mean queue", list(y.queue_mean), number(",.0f"), True),
            Column("over_target_end", f"waiting over {target} weeks at year end",
                   list(y.over_target_end), number(",d"), True),
            Column("utilisation", "utilisation", list(y.utilisation), number(".1%"), True),
        ],
        note="Utilisation: the mean share of the service's places in use over the year's "
        f"weeks. {within_target_label(target).capitalize()}: {WITHIN_TARGET_DEFINITION}, "
        "those still waiting at the year's end.",
    )  # fmt: skip
    figs = "".join(
        figures.embed(r.folder / name, caption,
                      _services_figure(r.folder, draw, care_plots.service_labels(cs)), notices)
        for name, caption, draw in [
            ("queues.png", "Patients waiting per service, by week", care_plots.queues_figure),
            ("utilisation.png", "Share of each service's capacity in use, by week",
             care_plots.utilisation_figure),
        ]
    )  # fmt: skip
    waits = r.folder / "waits.png"
    if waits.is_file():
        figs += figures.embed(waits, "Distribution of weeks waited before starting", None, notices)
    out.append(section("care_by_year", "Queues, waits and utilisation by year", yt.html() + figs,
                       [yt]))  # fmt: skip

    per = steady["services"]
    st = Table(
        "steady_state",
        "Steady state: each queue over the last year (the years before it: warm-up)",
        [
            Column("service", "service", list(per)),
            Column("verdict", "verdict", [p["verdict"] for p in per.values()]),
            Column("queue_growth_per_year", "queue trend (patients a year)",
                   [p["queue_growth_per_year"] for p in per.values()], number("+,.0f"), True),
            Column("growth_share_of_starts", "trend / the year's starts",
                   [p["growth_share_of_starts"] for p in per.values()], number("+.1%"), True),
            Column("wait_trend_per_year", "trend of the waits of starts (weeks a year)",
                   [p["wait_trend_per_year"] for p in per.values()], number("+.1f"), True),
            Column("last_year_within_target", f"{within_target_label(target)}, last year",
                   [p["last_year_within_target"] for p in per.values()], number(".1%"), True),
            Column("utilisation", "utilisation, last year",
                   [p.get("utilisation", float("nan")) for p in per.values()], number(".0%"), True),
            Column("own_places_full", "of its waiting patient-weeks: its own places full",
                   [p.get("kept_waiting_by", {}).get(k, float("nan")) for k, p in per.items()],
                   number(".0%"), True),
            Column("role", "binding?",
                   ["binding" if p.get("binding") else
                    "held by " + ", ".join(cs["services"][h]["label"] for h in p["held_by"])
                    if p.get("held_by") else "-"
                    for p in per.values()]),
        ],
        note=f"Test: {steady['test']}. {within_target_label(target).capitalize()}: "
        f"{WITHIN_TARGET_DEFINITION}.",
    )  # fmt: skip
    answer = "meets" if steady["meets_standard"] else "does not meet"
    binding = steady.get("bottleneck")
    verdict = (
        f"<p><b>The system is {_e(steady['verdict'])} and {answer} the standard "
        f"({_e(steady['wait_standard'])}) in steady state.</b>"
        + (f" {_e(binding[:1].upper() + binding[1:])}.</p>" if binding else "</p>")
    )
    out.append(section("steady_state", "Steady state", verdict + st.html(), [st]))

    items = [
        ("care (treatments delivered, care by clinical state)", s["cost_care"]),
        ("waiting (GP contacts while waiting)", s["cost_waiting"]),
        ("capacity (staff and equipment, used or idle)", s["cost_capacity"]),
        ("total", s["cost_total"]),
        (f"per patient treated ({s['treated']:,} of {s['referrals']:,} referrals)",
         s["cost_per_patient_treated"]),
        ("per QALY (average cost, not incremental)", s["cost_per_qaly"]),
    ]  # fmt: skip
    ct = Table(
        "care_costs",
        f"Costs over the run ({cur}, discounted)",
        [
            Column("item", "item", [a for a, _ in items]),
            Column("cost", "cost", [b for _, b in items], lambda x: money(x, cur), True),
        ],
        note="Session unit costs already include the therapist's or operator's time: the "
        "capacity cost shows what the staff and equipment cost whether used or idle, and the "
        "total counts that time twice where a service is costed both ways.",
    )
    out.append(section("care_costs", "Costs of care, waiting and capacity", ct.html(), [ct]))
    if notices:
        body = "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notices) + "</ul>"
        out.insert(0, section("notices", "Read first", body))
    r.notices[:] = notices
    return out

"""The report's sections, built from a checked results folder: tables, figures and text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from trdsim import schema
from trdsim.currency import money
from trdsim.economics import STATUS_LABELS, optimal_arms, status_label
from trdsim.evidence import UNVERIFIED
from trdsim.pathways import arm_labels, named_arms
from trdsim.report import cheers, figures
from trdsim.report.diagram import pathway_svg
from trdsim.report.folder import ResultsFolder
from trdsim.report.tables import Column, Table, number

# a format 1 subgroup table holds statuses as labels
_STATUS_CODES = {v: k for k, v in STATUS_LABELS.items()}

__all__ = ["PERSPECTIVES", "STARTS", "ReportBuilder", "Section", "arm_labels"]

PERSPECTIVES = {
    "payer": "health-care payer (costs of care only)",
    "societal": "societal (care and productivity costs)",
}
STARTS = {
    "trd": "at treatment-resistant depression",
    "diagnosis": "at diagnosis of major depression",
}
COST_GROUPS = {
    "treatment": "Treatment",
    "usual care": "Usual care",
    "maintenance": "Maintenance",
    "state": "State costs",
    "productivity": "Productivity",
}
COST_GROUPS_ORDER = {g: k for k, g in enumerate(COST_GROUPS)}
FILL_WORDS = {"report": "in this report", "partly": "partly: author adds", "author": "author only"}


@dataclass
class Section:
    """One part of the page: anchor, heading, HTML body, and the tables it shows."""

    id: str
    title: str
    body: str
    tables: list[Table] = field(default_factory=list)


def _p(s: str) -> str:
    return f"<p>{s}</p>"


def _pathway_details(pw: dict, names: dict[str, str], words=lambda t: t) -> str:
    """A pathway's note, its personalised rules (with what the evidence says each
    attribute does) and where each step comes from; `words` puts labels for the
    parameter keys these texts name."""
    out = _p(_e(pw["note"])) if pw.get("note") else ""
    rules = pw.get("rules", [])
    if rules:
        items = []
        for j, r in enumerate(rules):
            given = " + ".join(names.get(c, c) for c in r["components"])
            replaced = " + ".join(names.get(c, c) for c in pw["steps"][r["step"]])
            items.append(
                f"<li><b>Rule {j + 1}</b>, step {r['step'] + 1}: if {_e(r['when'])}, "
                f"{_e(given)} instead of {_e(replaced)}. "
                f"<i>{_e(words(r.get('moderation', '')))}</i></li>"
            )
        out += (
            _p("Personalised rules (the first rule that matches a step wins):")
            + f'<ul class="rules">{"".join(items)}</ul>'
        )
    cites = pw.get("citations", {})
    if cites or rules:
        rows = "".join(
            f"<li><b>{_e(k)}</b>: {_e(words(v))}</li>" for k, v in cites.items()
        ) + "".join(
            f"<li><b>rule{j + 1}</b>: {_e(words(r['why']))}</li>"
            for j, r in enumerate(rules)
            if "why" in r and f"rule{j + 1}" not in cites
        )
        out += f"<details><summary>Sources of each step</summary><ul>{rows}</ul></details>"
    else:
        out += _p("<i>No sources given for this pathway's steps.</i>")
    return out


def _e(x: object) -> str:
    return html.escape(str(x))


def _vs(arm: str, versus: object, names: dict[str, str]) -> str:
    return f"{names.get(arm, arm)} vs {names.get(str(versus), versus)}"


def _yes(x: object) -> str:
    return "yes" if bool(x) and str(x).lower() != "false" else ""


def _share(x: object) -> str:
    return number(".1%")(x)


class ReportBuilder:
    """Builds the sections of one results folder's report, in reading order."""

    def __init__(self, r: ResultsFolder):
        self.r = r
        self.m = r.manifest
        self.cur = self.m["currency"]
        self.arms: list[str] = list(self.m["arms"])
        self.base = self.arms[0]
        self.thresholds: list[float] = [float(t) for t in self.m["thresholds"]]
        self.text = self.m.get("text_parameters", {})
        self.params = self.m["parameters"]
        self.names = arm_labels(self.m["pathways"], self.arms)
        # the figures it draws afresh name arms as the result objects' figures do
        self.named = named_arms(self.m["pathways"], self.arms)
        # parameter labels: parameters.csv's own (with the scenario's resources), else
        # derived from the key with the treatments' and maintenance's own labels
        self.tree: dict = {}
        for key, v in self.text.items():
            section, name, field_ = (key.split(".") + ["", ""])[:3]
            self.tree.setdefault(section, {}).setdefault(name, {})[field_] = v
        p = r.parameters
        self.key_labels = dict(zip(p.key, p["label"], strict=True)) if "label" in p else {}

    def _arm(self, arm: object) -> str:
        """An arm's label (its id if unknown; blank if missing)."""
        return "" if not isinstance(arm, str) or not arm else self.names.get(arm, arm)

    def _arm_words(self, text: str) -> str:
        """A PSA warning ('integrated vs sequential at ...') with the arms by their labels."""
        return re.sub(
            r"^(\S+) vs (\S+)",
            lambda m: f"{self._arm(m.group(1))} vs {self._arm(m.group(2))}",
            str(text),
        )

    def _words(self, text: str) -> str:
        """Free text (rule moderation, citations) with every parameter key it names
        replaced by the parameter's label."""
        if not hasattr(self, "_key_pattern"):
            keys = sorted(set(self.params) | set(self.key_labels), key=len, reverse=True)
            self._key_pattern = re.compile(
                r"(?<![\w.])(" + "|".join(map(re.escape, keys)) + r")(?![\w])"
            )
        return self._key_pattern.sub(lambda m: self._label(m.group(1)), str(text))

    def _label(self, key: str) -> str:
        """A parameter key's human label, without unit."""
        own = self.key_labels.get(key)
        if isinstance(own, str) and own:
            return own
        return schema.label(key, self.tree, with_unit=False)

    def _money(self, x: object) -> str:
        return money(x, self.cur)

    # -- sections -----------------------------------------------------------------------

    def sections(self) -> list[Section]:
        built = [
            self.scenario(),
            self.population(),
            self.comparators(),
            self.model(),
            self.results(),
            self.costs(),
            self.incremental(),
            self.subgroups(),
            self.uncertainty(),
            self.validation(),
            self.replications(),
            # the 170-odd inputs after the results, so a reader reaches those first
            self.parameters(),
        ]
        notices = self.notices()
        out = [self.bottom_line()] + ([notices] if notices else []) + built
        return out + [self.cheers({s.id: s.title for s in out}, self.analyses())]

    def analyses(self) -> set[str]:
        found = set()
        if self.r.psa is not None:
            found.add("psa")
        if self.r.dsa is not None:
            found.add("dsa")
        if self.r.validation is not None:
            found.add("validation")
        if self.r.subgroups is not None:
            found.add("subgroups")
        if self.r.costs is not None:
            found.add("costs")
        return found

    def bottom_line(self) -> Section:
        """Per threshold: the optimal arm, its increments and ICER against its comparator
        on the frontier, and the PSA's probability that it is cost-effective, as
        incremental.csv and ceac.csv give them; then the main caveats."""
        f = self.r.frontier
        by_arm = f.assign(arm=f.arm.astype(str)).set_index("arm", drop=False)
        psa = self.r.psa
        rows = []
        for lam in self.thresholds:
            best = optimal_arms(self.r.net_benefit, lam)
            if not best:
                continue
            row = by_arm.loc[best[0]]
            p = None
            if psa is not None:
                c = psa.ceac
                hit = c[(c.threshold - lam).abs() < 1e-6 * max(lam, 1.0)]
                hit = hit[hit.arm == row.arm]
                p = float(hit.p_cost_effective.iloc[0]) if len(hit) else None
            rows.append((lam, row, p))
        versus = [r.comparator if isinstance(r.comparator, str) else "" for _, r, _ in rows]
        cols = [
            Column("threshold", "threshold (per QALY)", [x for x, _, _ in rows], self._money, True),
            Column("optimal_arm", "optimal arm", [self._arm(r.arm) for _, r, _ in rows]),
            Column(
                "compared_with",
                "compared with (next on the frontier)",
                [self._arm(v) if v else "none: the least costly arm" for v in versus],
            ),
            Column("inc_cost", "Δcost", [r.inc_cost for _, r, _ in rows], self._money, True),
            Column("inc_qaly", "ΔQALYs", [r.inc_qaly for _, r, _ in rows], number("+.3f"), True),
            Column(
                "icer", f"ICER ({self.cur}/QALY)", [r.icer for _, r, _ in rows], self._money, True
            ),
        ]
        if psa is not None:
            cols.append(
                Column(
                    "p_cost_effective",
                    "P(cost-effective), PSA",
                    [p for _, _, p in rows],
                    number(".2f"),
                    True,
                )
            )
        src = "deterministic means" if self.r.summary is not None else "PSA means"
        t = Table(
            "bottom_line",
            f"The optimal arm at each threshold ({src}, discounted, per patient)",
            cols,
            note="Optimal: the highest expected net monetary benefit. Δ and ICER: against the "
            "next less costly arm on the efficiency frontier (see Incremental analysis).",
        )
        caveats = []
        prm = self.r.parameters
        flagged = int(prm.verified.isin(UNVERIFIED).sum())
        if flagged:
            caveats.append(
                f"{flagged} of {len(prm)} inputs are unverified (from memory) or assumptions: "
                "the results hold only as far as they do (⚠ in the parameter table)."
            )
        if psa is None:
            caveats.append(
                "No probabilistic sensitivity analysis in this folder, so no probability of "
                "cost-effectiveness: ± figures are Monte Carlo error only, not parameter "
                "uncertainty."
            )
        else:
            caveats.append(
                f"Probabilities from a PSA of {int(psa.info['draws']):,} parameter draws × "
                f"{int(psa.manifest['patients']):,} patients per arm."
            )
            ceaf = psa.ceac[psa.ceac.on_ceaf.astype(bool)]
            for lam, row, _ in rows:
                on = ceaf[(ceaf.threshold - lam).abs() < 1e-6 * max(lam, 1.0)]
                if len(on) and on.arm.iloc[0] != row.arm:
                    caveats.append(
                        f"At {self._money(lam)}/QALY the PSA's arm with the highest expected "
                        f"net benefit is {self._arm(on.arm.iloc[0])}, not {self._arm(row.arm)}."
                    )
        v = self.r.validation
        if v is None:
            caveats.append("No external validation beside these results.")
        else:
            bad = int((~v.agrees.astype(bool)).sum())
            caveats.append(
                f"{bad} of {len(v)} validation targets missed (see Validation)."
                if bad
                else f"All {len(v)} validation targets agree (see Validation)."
            )
        body = (
            t.html()
            + '<p class="caveat"><b>Caveats.</b> '
            + " ".join(_e(c) for c in caveats)
            + "</p>"
        )
        return Section("bottom-line", "Bottom line", body, [t])

    def notices(self) -> Section | None:
        items = list(self.r.notices)
        p = self.r.parameters
        flagged = p[p.verified.isin(UNVERIFIED)]
        if len(flagged):
            items.append(
                f"{len(flagged)} of {len(p)} inputs are 'from memory, unverified' or assumptions "
                "(marked ⚠ in the parameter table): check them before relying on the results."
            )
        if self.r.psa is not None:
            items += [f"PSA: {self._arm_words(w)}" for w in self.r.psa.info.get("warnings", [])]
        v = self.r.validation
        if v is not None and not v.agrees.astype(bool).all():
            bad = v[~v.agrees.astype(bool)]
            items.append(
                f"{len(bad)} of {len(v)} validation targets disagree with the model: "
                + "; ".join(bad.description)
                + " (see Validation)."
            )
        if not items:
            return None
        body = "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"
        return Section("notices", "Read first", body)

    def scenario(self) -> Section:
        m = self.m
        weeks = int(m["horizon_weeks"])
        rows = [
            ("scenario", m["scenario"]),
            ("description", m.get("description", "")),
            ("setting", m.get("setting", "")),
            ("perspective", PERSPECTIVES.get(m["perspective"], m["perspective"])),
            ("currency and price year", f"{m['currency']}, {m['price_year']} prices"),
            ("time horizon", f"{weeks} weeks ({weeks / 52:.1f} years), weekly cycles"),
            ("discount rate, costs", f"{m['discount_costs']:.1%} a year"),
            ("discount rate, QALYs", f"{m['discount_qalys']:.1%} a year"),
            (
                "cost-effectiveness thresholds",
                ", ".join(f"{self._money(t)}/QALY" for t in self.thresholds),
            ),
            ("life table", m.get("life_table", "")),
            ("patients per arm", f"{int(m['patients']):,}"),
            ("random seed", m["seed"]),
            ("scenario file", m.get("scenario_file", "")),
            ("scenario hash (SHA-256)", m["scenario_hash"]),
            ("made by", f"trdsim {m['trdsim_version']} on {m.get('created_utc', '')}"),
        ]
        t = Table(
            "scenario",
            "Scenario and decision context",
            [
                Column("item", "item", [a for a, _ in rows]),
                Column("value", "value", [str(b) for _, b in rows]),
            ],
        )
        redo = (
            f"trdsim compare {m['scenario']} --seed {m['seed']} --patients {m['patients']}"
            if self.r.summary is not None
            else f"trdsim psa {m['scenario']} --seed {m['seed']} --draws {m.get('psa_draws', '')} "
            f"--patients {m['patients']}"
        )
        body = t.html() + _p(
            f"Repeat exactly with <code>{_e(redo)}</code> (same scenario hash and trdsim version)."
        )
        return Section("scenario", "Scenario and decision context", body, [t])

    def population(self) -> Section:
        m, p = self.m, self.params
        k = int(m.get("failed_trials_at_entry", 0))
        start = STARTS.get(m.get("cohort_start", ""), m.get("cohort_start", ""))
        rows = [
            ("entry", f"{start}, after {k} failed adequate trial{'s' if k != 1 else ''}"),
        ]

        def get(key: str) -> float | None:
            return p.get(f"cohort.{key}")

        if get("age_mean") is not None:
            rows.append(
                (
                    "age, years",
                    f"mean {get('age_mean'):g} (SD {get('age_sd'):g}), "
                    f"{get('age_min'):g} to {get('age_max'):g}",
                )
            )
        for key, what in (
            ("female_share", "women"),
            ("maltreatment_share", "childhood maltreatment"),
            ("inflammation_share", "inflammatory subtype (CRP > 3 mg/L)"),
        ):
            if get(key) is not None:
                rows.append((what, f"{get(key):.0%}"))
        if get("severity_mean") is not None:
            rows.append(
                (
                    "baseline severity (HRSD-17)",
                    f"mean {get('severity_mean'):g} (SD {get('severity_sd'):g})",
                )
            )
        t = Table(
            "population",
            "Study population (sampled per patient at entry)",
            [
                Column("characteristic", "characteristic", [a for a, _ in rows]),
                Column("value", "value", [b for _, b in rows]),
            ],
        )
        effects = {k: v for k, v in p.items() if k.startswith("effects.")}
        mods = Table(
            "effect_modifiers",
            "Patient attributes that change response and relapse (heterogeneity)",
            [
                Column("label", "parameter", [self._label(k) for k in effects]),
                Column("key", "key", list(effects), shown=False),
                Column("value", "value", list(effects.values()), number("g"), numeric=True),
            ],
            note="Odds ratios (OR) act on a step's response odds, hazard ratios (HR) on the "
            "relapse hazard; sources in the parameter table.",
        )
        body = (
            t.html()
            + _p(
                "Each patient's baseline response odds, treatment effects and relapse hazard "
                "depend on these attributes, centred on the population the evidence comes "
                "from (the library's default cohort): a cohort with a different mix has "
                "different outcomes."
            )
            + mods.html()
        )
        return Section("population", "Study population", body, [t, mods])

    def comparators(self) -> Section:
        m = self.m
        k = int(m.get("failed_trials_at_entry", 0)) if m.get("cohort_start") == "trd" else 0

        def labels(section: str) -> dict[str, str]:
            return {
                key.split(".")[1]: v
                for key, v in self.text.items()
                if key.startswith(f"{section}.") and key.endswith(".label")
            }

        weeks = {
            key.split(".")[1]: v
            for key, v in self.params.items()
            if key.startswith("treatments.") and key.endswith(".trial_weeks")
        }
        parts = []
        for arm in self.arms:
            pw = m["pathways"][arm]
            parts.append(
                f'<div class="arm"><h3>{_e(self._arm(arm))}</h3><p>{_e(pw.get("label", ""))}</p>'
                + pathway_svg(
                    re.sub(r"\W", "-", arm),
                    pw,
                    labels("treatments"),
                    labels("maintenance"),
                    weeks,
                    min(k, len(pw["steps"]) - 1),
                )
                + _pathway_details(pw, labels("treatments"), self._words)
                + "</div>"
            )
        body = (
            _p(
                f"{len(self.arms)} pathways, drawn step by step: a patient starts at the entry "
                "step and moves down after no response or drop-out; after a response the "
                "maintenance on the right follows; the rules below each say what follows a "
                "relapse and the last step."
            )
            + '<div class="arms">'
            + "".join(parts)
            + "</div>"
        )
        return Section("comparators", "Comparators", body)

    def model(self) -> Section:
        m = self.m
        paras = [
            "trdsim is a weekly, individual-level (microsimulation) model. Each patient has "
            "an age, sex, baseline severity, number of failed adequate trials, a chronic "
            "episode or not, childhood maltreatment, inflammatory subtype and psychological "
            "flexibility, and moves week by week between depressed, response, remission and "
            "death: on a pathway step (one or more treatments given together), completing a "
            "course, in follow-up with maintenance, or in usual care after the pathway.",
            "Response is one weekly hazard: every depressed patient has a natural-history "
            "(usual-care) hazard; a new course adds the trial-context response of the "
            "comparator arms, and each component adds the excess that applies its published "
            "effect (odds ratio, risk ratio or risk difference against a named comparator) "
            "to the patient's own baseline at the component's time point; components given "
            "together add their excess hazards. Both baselines fall with failed trials; the "
            "effects do not.",
            "Each week: death from the life table "
            f"({_e(m.get('life_table', ''))}) by age and sex, times a hazard ratio while "
            "depressed; response (or the end of a course without it, or drop-out of a "
            "component); relapse after a response, by one baseline curve times the "
            "responsible treatment's hazard ratio, patient hazard ratios and maintenance; "
            "then the week's costs (treatments, usual care, maintenance, background "
            "health-care costs by clinical state) and QALYs.",
            "Outcomes: costs (treatment sessions and medication at unit costs, usual care, "
            "maintenance, state costs; every cost indexed to the scenario's price year), "
            "QALYs (utility by clinical state minus any treatment disutility), life-years, "
            "weeks in remission, remission, relapses and deaths. Week w is valued at its "
            f"start and discounted by (1 + r)^(−w/52): r = {m['discount_costs']:.1%} for "
            f"costs and {m['discount_qalys']:.1%} for QALYs.",
            "Every arm meets the same simulated patients (common random numbers), so "
            "differences between arms are paired; ± figures are Monte Carlo standard errors. "
            "The incremental analysis orders arms by cost and removes strictly and "
            "extendedly dominated ones before computing ICERs.",
        ]
        if self.r.psa is not None:
            pm = self.r.psa.manifest
            paras.append(
                f"Uncertainty: a probabilistic sensitivity analysis of {self.r.psa.info['draws']:,} "
                f"parameter draws × {int(pm['patients']):,} patients per arm (every parameter "
                "with a distribution in the parameter table), giving the CE plane, CEAC and "
                f"CEAF, EVPI and EVPPI by parameter group ({_evppi_method(self.r.psa.evppi)})."
            )
        if self.r.dsa is not None:
            paras.append(
                "One-way sensitivity: incremental NMB at each end of every uncertain "
                f"parameter's {self.r.dsa.info.get('level', 0.95):.0%} interval."
            )
        body = "".join(_p(_e(s)) for s in paras)
        return Section("model", "Model and methods", body)

    def parameters(self) -> Section:
        p = self.r.parameters
        flag = p.verified.isin(UNVERIFIED)
        # labels and units from trdsim.schema (folders written before they were stored
        # get them derived from the key)
        labels = (
            p["label"] if "label" in p else p.key.map(lambda k: schema.label(k, with_unit=False))
        )
        units = (
            p["unit"].fillna("") if "unit" in p else p.key.map(lambda k: schema.unit(k, self.cur))
        )
        t = Table(
            "parameters",
            f"Every input ({len(p)}): value, distribution for the PSA, certainty and source",
            [
                Column("label", "parameter", list(labels)),
                Column("key", "key", list(p.key), code=True),
                Column("value", "value", list(p.value), number("g"), numeric=True),
                Column("unit", "unit", list(units)),
                Column("distribution", "distribution", list(p.distribution)),
                Column(
                    "certainty",
                    "certainty",
                    [
                        f"⚠ {v}" if f else v
                        for v, f in zip(p.verified.fillna(""), flag, strict=True)
                    ],
                ),
                Column("source", "source", list(p.source.fillna(""))),
            ],
            note="Certainty: 'read' = checked in the publication; 'read (secondary source)'; "
            "'doc' = from the project's source documents; 'derived' = computed from read "
            "values; ⚠ 'from memory, unverified' and 'assumption' need checking. Unit costs "
            f"in {self.cur}.",
        )
        return Section("parameters", "Parameters", t.html(), [t])

    def results(self) -> Section:
        s = self.r.summary
        tables, figs = [], []
        if s is None:
            f = self.r.frontier
            t = Table(
                "results",
                "Per-arm results: PSA means over draws (discounted)",
                [
                    Column("arm", "arm", [self._arm(a) for a in f.arm]),
                    Column("cost", f"cost ({self.cur})", list(f.cost), self._money, True),
                    Column("qaly", "QALYs", list(f.qaly), number(".3f"), True),
                ],
            )
            return Section("results", "Results per arm", t.html(), [t])
        base = self.base
        cols = [
            Column("arm", "arm", [self._arm(a) for a in s.arm]),
            Column("cost", f"cost ({self.cur})", list(s.cost), self._money, True),
            Column("cost_se", "± SE", list(s.cost_se), number(",.0f"), True),
            Column("qaly", "QALYs", list(s.qaly), number(".3f"), True),
            Column("qaly_se", "± SE", list(s.qaly_se), number(".3f"), True),
            Column("life_years", "life-years", list(s.life_years), number(".2f"), True),
        ]
        for name, title, fmt in (
            ("weeks_in_remission", "weeks in remission", number(".1f")),
            ("ever_remitted", "ever remitted", _share),
            ("relapses", "relapses", number(".2f")),
            ("died", "died", _share),
            ("suicides", "of which suicide", _share),
            ("self_harm_events", "self-harm episodes", number(".2f")),
        ):
            if name in s.columns:
                cols.append(Column(name, title, list(s[name]), fmt, True))
        for name, title, fmt in (
            ("cost_diff", f"Δcost vs {self._arm(base)}", self._money),
            ("cost_diff_se", "± SE", number(",.0f")),
            ("qaly_diff", f"ΔQALYs vs {self._arm(base)}", number("+.3f")),
            ("qaly_diff_se", "± SE", number(".3f")),
        ):
            if name in s.columns:
                cols.append(Column(name, title, list(s[name]), fmt, True))
        t = Table(
            "results",
            f"Per-arm results over {int(self.m['horizon_weeks']) / 52:g} years, discounted "
            f"({int(self.m['patients']):,} patients per arm)",
            cols,
            note="± SE: Monte Carlo standard error. Δ: paired differences (every arm meets the "
            "same patients). Life-years, weeks in remission, remission, relapses, deaths and "
            "self-harm episodes (expected number per patient) are undiscounted.",
        )
        tables.append(t)
        folder = self.r.folder
        trace, patients = folder / "trace.parquet", folder / "patients.parquet"
        h = int(self.m["horizon_weeks"])
        from trdsim.plots import (
            compare as plots,  # the plotting module loads matplotlib; only when needed
        )

        named = self.named
        for name, caption, make in (
            ("trace.png", "Proportion of each arm's cohort in each state, by week",
             figures.from_table(trace, lambda d, p: plots.trace_figure(named(d), p))),
            ("ever_remitted.png", "Cumulative proportion ever remitted",
             figures.from_table(patients, lambda d, p: plots.ever_remitted_figure(named(d), h, p))),
            ("relapse_free.png", "Relapse-free survival of responders (Kaplan–Meier)",
             figures.from_table(patients, lambda d, p: plots.relapse_free_figure(named(d), h, p))),
        ):  # fmt: skip
            figs.append(figures.embed(folder / name, caption, make, self.r.notices))
        body = t.html() + "".join(f for f in figs if f)
        return Section("results", "Results per arm", body, tables)

    def costs(self) -> Section:
        """Each arm's discounted cost per patient by category and resource (costs.csv)."""
        c = self.r.costs
        if c is None:
            body = _p(
                "This folder has no costs by category (costs.csv): rerun <code>trdsim "
                "compare</code> with this trdsim to add them."
            )
            return Section("costs", "Costs by category", body)
        arms = [a for a in self.arms if a in set(c.arm)]
        c = c.assign(_o=c.group.map(COST_GROUPS_ORDER).fillna(len(COST_GROUPS_ORDER)))
        c = c.sort_values("_o", kind="stable")
        totals = c.groupby("arm").cost.sum()

        def table(keys: list[str], tid: str, caption: str, note: str) -> Table:
            wide = c.pivot_table(
                index=keys, columns="arm", values="cost", aggfunc="sum", sort=False
            )
            wide = wide.reset_index()
            # categories no arm spends on (treatments only other pathways give) are left out
            wide = wide[(wide[arms].abs() > 0).any(axis=1)]
            names = c.drop_duplicates(keys).set_index(keys)
            shown = wide.join(names[["label", "resource_label"]], on=keys)
            cols = [
                Column("group", "group", [*shown.group.map(COST_GROUPS), "Total"]),
                Column("category", "category", [*shown.label, ""]),
            ]
            if "resource" in keys:
                cols.append(Column("resource", "resource", [*shown.resource_label.fillna(""), ""]))
            for a in arms:
                cols.append(
                    Column(a, self._arm(a), [*shown[a], float(totals[a])], self._money, True)
                )
            return Table(tid, caption, cols, note=note)

        unit = f"{self.cur}, {self.m['price_year']} prices"
        by_category = table(
            ["group", "category"],
            "costs",
            f"Discounted cost per patient by category ({unit})",
            "Treatment: the courses of each pathway step's components; usual care: after or "
            "without the pathway, and while waiting; maintenance: each option given after a "
            "response; state "
            "costs: health-care costs by clinical state (with non-fatal self-harm while "
            "depressed)"
            + ("; productivity: by clinical state" if "productivity" in set(c.group) else "")
            + ". The totals are the per-arm costs of the results; standard errors are in "
            "costs.csv.",
        )
        by_resource = table(
            ["group", "category", "resource"],
            "costs_by_resource",
            f"Discounted cost per patient by category and resource ({unit})",
            "A category's cost is split over the unit costs its weekly cost is made of, in "
            "proportion to them"
            + (
                " (maintenance is one sum: its weekly cost changes over time)."
                if "maintenance" in set(c.category)  # one category: folders of earlier versions
                else " (a maintenance option's weekly cost is the same while it runs)."
            ),
        )
        t = by_category
        body = (
            by_category.html()
            + "<details><summary>By resource (unit cost)</summary>"
            + by_resource.html()
            + "</details>"
        )
        return Section("costs", "Costs by category", body, [t, by_resource])

    def incremental(self) -> Section:
        f = self.r.frontier
        nb = self.r.net_benefit
        base = self.base
        status = [
            status_label(st, self._arm(cw) if isinstance(cw, str) else None)
            for st, cw in zip(f.status, f.comparator, strict=True)
        ]
        cols = [
            Column("arm", "arm", [self._arm(a) for a in f.arm]),
            Column("status", "status", status),
            Column("inc_cost", "Δcost", list(f.inc_cost), self._money, True),
            Column("inc_qaly", "ΔQALYs", list(f.inc_qaly), number("+.3f"), True),
            Column("icer", f"ICER ({self.cur}/QALY)", list(f.icer), self._money, True),
        ]
        by_arm = nb.assign(arm=nb.arm.astype(str)).set_index(["threshold", "arm"])
        order = [str(a) for a in f.arm]
        for lam in self.thresholds:
            if lam not in set(nb.threshold):
                continue
            at = by_arm.loc[lam].reindex(order)
            cols.append(
                Column(
                    f"inc_nmb_{lam:g}", f"INMB vs {self._arm(base)} @{self._money(lam)}",
                    list(at.inc_nmb), self._money, True,
                )
            )  # fmt: skip
            cols.append(
                Column(f"optimal_{lam:g}", f"optimal @{self._money(lam)}",
                       list(at.optimal.astype(bool)), _yes)
            )  # fmt: skip
        src = "PSA means" if self.r.summary is None else "deterministic means"
        t = Table(
            "incremental",
            f"Incremental analysis: efficiency frontier ({src})",
            cols,
            note="Δcost, ΔQALYs and the ICER are against the next less costly arm on the "
            "frontier (the 'compared with' arm for dominated arms); INMB = incremental net "
            f"monetary benefit against {self._arm(base)}.",
        )
        best = []
        for lam in self.thresholds:
            arms = [self._arm(a) for a in optimal_arms(nb, lam)]
            if arms:
                best.append(f"at {self._money(lam)}/QALY: <b>{_e(', '.join(arms))}</b>")
        body = t.html() + (
            _p("Optimal by expected net monetary benefit " + "; ".join(best) + ".") if best else ""
        )
        from trdsim.plots.compare import frontier_figure

        folder = self.r.folder if self.r.summary is not None else self.r.psa.folder
        body += figures.embed(
            folder / ("frontier.png" if self.r.summary is not None else "frontier_means.png"),
            "Arms on the cost-effectiveness plane with the efficiency frontier",
            lambda p: frontier_figure(self.named(f), self.cur, p),
            self.r.notices,
        )
        return Section("incremental", "Incremental analysis", body, [t])

    def subgroups(self) -> Section:
        g = self.r.subgroups
        if g is None:
            return Section(
                "subgroups",
                "Subgroups",
                _p(
                    "No subgroup analysis in this folder: <code>trdsim compare --by "
                    "ATTRIBUTE</code> (e.g. <code>--by severity --by inflammation</code>) "
                    "writes <code>subgroups.csv</code>, shown here."
                ),
                [],
            )
        base = self.base
        dc, dq = "cost_diff", "qaly_diff"
        if f"cost_vs_{base}" in g.columns:  # format 1
            dc, dq = f"cost_vs_{base}", f"qaly_vs_{base}"
        status = [
            status_label(_STATUS_CODES.get(st, st), self._arm(cw) if isinstance(cw, str) else None)
            for st, cw in zip(
                g.status, g.get("comparator", g.get("compared_with", [None] * len(g))), strict=True
            )
        ]
        cols = [
            Column("attribute", "attribute", list(g.attribute)),
            Column("subgroup", "subgroup", list(g.subgroup)),
            Column("share", "share of cohort", list(g.share), _share),
            Column("arm", "arm", [self._arm(a) for a in g.arm]),
            Column("cost", "cost", list(g.cost), self._money, True),
            Column("qaly", "QALYs", list(g.qaly), number(".3f"), True),
        ]
        if dc in g.columns:
            cols.append(Column(dc, f"Δcost vs {self._arm(base)}", list(g[dc]), self._money, True))
            cols.append(
                Column(dq, f"ΔQALYs vs {self._arm(base)}", list(g[dq]), number("+.3f"), True)
            )
        cols.append(Column("status", "status", status))
        if "icer" in g.columns:
            cols.append(Column("icer", f"ICER ({self.cur}/QALY)", list(g.icer), self._money, True))
        t = Table(
            "subgroups",
            "Results by subgroup of patients (attributes at entry)",
            cols,
            note="Each subgroup holds the same patients in every arm (common random numbers), "
            "so differences are paired; the subgroup's own incremental analysis gives the "
            "status and ICER. Continuous attributes are split into thirds of the cohort "
            "unless cut-offs were given. Subgroups recombine to the whole cohort, weighted "
            "by their shares. Subgroup results are exploratory: no test of interaction.",
        )
        return Section("subgroups", "Subgroups", t.html(), [t])

    def uncertainty(self) -> Section:
        tables, parts = [], []
        psa, dsa, st = self.r.psa, self.r.dsa, self.r.structural
        if psa is None and dsa is None and st is None and not self.r.thresholds:
            body = _p(
                "No uncertainty analysis was found beside these results. "
                "<code>trdsim psa</code> (into <code>&lt;results&gt;/psa/</code>), "
                "<code>trdsim dsa</code> (<code>dsa/</code>), <code>trdsim structural</code> "
                "(<code>structural/</code>) and <code>trdsim threshold --out "
                "&lt;results&gt;/threshold/NAME</code> add it to this report."
            )
            return Section("uncertainty", "Uncertainty", body)
        if psa is not None:
            tables_psa, html_psa = self._psa(psa)
            tables += tables_psa
            parts.append(html_psa)
        if dsa is not None:
            t = self._tornado(dsa)
            tables.append(t)
            from trdsim.plots import analysis as aplots

            parts.append("<h3>One-way sensitivity (tornado)</h3>" + t.html())
            parts.append(
                figures.embed(
                    dsa.folder / "tornado.png",
                    "Tornado: incremental NMB at each end of each parameter's range",
                    lambda p: aplots.tornado_figure(
                        self.named(dsa.tornado), self.named(dsa.info), self.cur, p
                    ),
                    self.r.notices,
                )
            )
            for path in dsa.two_way:
                # format 2: dsa/twoway_X_x_Y/twoway.png; format 1: dsa/twoway_X_x_Y.png
                name = path.parent.name if path.name == "twoway.png" else path.stem
                pair = " × ".join(self._label(k) for k in name[7:].split("_x_"))
                parts.append(
                    figures.embed(path, f"Two-way sensitivity: {pair}", None, self.r.notices)
                )
        if st is not None:
            t_st, html_st = self._structural(st)
            tables += t_st
            parts.append(html_st)
        if self.r.thresholds:
            t = self._threshold_table()
            tables.append(t)
            parts.append("<h3>Threshold analysis</h3>" + t.html())
        return Section("uncertainty", "Uncertainty", "".join(p for p in parts if p), tables)

    def _structural(self, st) -> tuple[list[Table], str]:
        """Structural uncertainty: what each variant is, and per threshold the optimal arm
        and every arm's INMB against the first arm under each variant."""
        from trdsim.plots import analysis as aplots

        info = st.info
        first = info["first_arm"]
        d = st.decisions
        lams = [float(x) for x in info["thresholds"]]
        arms = [str(a) for a in st.arms or []]
        names = arm_labels(st.manifest["pathways"], arms)  # arms a variant adds included

        def arm(a: object) -> str:
            return names.get(str(a), str(a))

        cols = [
            Column("variant", "variant", [st.label(v) for v in st.variants]),
            Column("name", "name", list(st.variants), shown=False),
        ]
        for lam in lams:
            at = d[d.threshold == lam]
            best = {str(r.variant): str(r.arm) for r in at[at.optimal.astype(bool)].itertuples()}
            cols.append(Column(f"optimal_{lam:g}", f"optimal at {self._money(lam)}",
                               [arm(best[v]) for v in st.variants]))  # fmt: skip
            for a in arms:
                if a == first:
                    continue
                cells = []
                for v in st.variants:
                    row = at[(at.variant == v) & (at.arm.astype(str) == a)]
                    cells.append(
                        "" if row.empty else
                        f"{money(row.inmb.iloc[0], self.cur, sign=True)} ± "
                        f"{money(row.inmb_se.iloc[0], self.cur)}"
                    )  # fmt: skip
                cols.append(Column(f"inmb_{a}_{lam:g}", f"INMB {arm(a)} at "
                                   f"{self._money(lam)}", cells, numeric=True))  # fmt: skip
        decisions = Table(
            "structural",
            f"Structural uncertainty: the optimal arm and each arm's incremental NMB against "
            f"{arm(first)} (± Monte Carlo SE, paired) under each structural variant; "
            f"{st.manifest['patients']:,} patients per arm, the same patients in every variant",
            cols,
            note="Each variant is an alternative way to build the model, declared with its "
            "source in evidence/structural.toml; the base case is unchanged.",
        )
        about = Table(
            "structural_variants",
            "Structural variants: what each changes and why",
            [
                Column("variant", "variant", [v["label"] for v in info["variants"]]),
                Column("description", "what changes", [v["description"] for v in info["variants"]]),
                Column("source", "source or reason", [v["source"] for v in info["variants"]]),
            ],
        )
        tables = [decisions, about]
        if st.averaged is not None:
            av = st.averaged
            tables.append(Table(
                "structural_averaged",
                "Model-averaged expected NMB per patient (variants weighted as declared)",
                [
                    Column("threshold", "threshold", list(av.threshold), self._money, True),
                    Column("arm", "arm", [arm(a) for a in av.arm]),
                    Column("nmb", "expected NMB", list(av.nmb), self._money, True),
                    Column("optimal", "optimal", [_yes(x) for x in av.optimal]),
                ],
            ))  # fmt: skip
        labels = {v: st.label(v) for v in st.variants}
        fig = figures.embed(
            st_folder(self.r) / "structural.png",
            "Structural variants: incremental NMB of each arm under each variant",
            lambda p: aplots.structural_figure(
                st.named()(st.decisions), labels, arm(first), self.cur, 1.96, p
            ),
            self.r.notices,
        )
        head, *rest = st.summary().splitlines()
        items = "".join(f"<li>{html.escape(x.strip())}</li>" for x in rest)
        body = (
            "<h3>Structural uncertainty</h3>"
            + _p(html.escape(head))
            + f"<ul>{items}</ul>"
            + decisions.html()
            + fig
            + "".join(t.html() for t in tables[1:])
        )
        return tables, body

    def _psa(self, psa) -> tuple[list[Table], str]:
        s = psa.summary
        info = psa.info

        def quantity(q: str, lam: float) -> str:
            if q == "inc_nmb":
                return f"INMB @{self._money(float(lam))}"
            return {"inc_cost": "Δcost", "inc_qaly": "ΔQALYs"}.get(q, q)

        # money rows (Δcost, INMB) and QALY rows share the value columns
        row_show = [self._money if q != "inc_qaly" else number("+.3f") for q in s.quantity]
        cols = [
            Column(
                "comparison",
                "comparison",
                [_vs(a, b, self.names) for a, b in zip(s.arm, s.comparator, strict=True)],
            ),
            Column(
                "quantity",
                "quantity",
                [quantity(q, t) for q, t in zip(s.quantity, s.threshold, strict=True)],
            ),
        ]
        for name, title in (
            ("mean", "mean"),
            ("low_95", "2.5 %"),
            ("high_95", "97.5 %"),
            ("mcse", "MC SE"),
        ):
            cols.append(Column(name, title, list(s[name]), numeric=True, row_show=row_show))
        cols.append(Column("p_positive", "P(> 0)", list(s.p_positive), number(".3f"), True))
        if "noise_share" in s.columns:
            cols.append(Column("noise_share", "patient noise", list(s.noise_share), _share, True))
        summary = Table(
            "psa_summary",
            f"PSA: {info['draws']:,} draws × {int(psa.manifest['patients']):,} patients per arm",
            cols,
            note="Means and 95 % intervals over draws; MC SE of the mean; patient noise: share "
            "of the spread due to the finite patients per draw (under 10 % is fine).",
        )
        e = psa.evpi[psa.evpi.threshold.isin(self.thresholds)]
        ce = psa.ceac[psa.ceac.on_ceaf.astype(bool) & psa.ceac.threshold.isin(self.thresholds)]
        p_opt = dict(zip(ce.threshold, ce.p_cost_effective, strict=True))
        ecols = [
            Column("threshold", "threshold (per QALY)", list(e.threshold), self._money, True),
            Column("optimal_arm", "optimal arm", [self._arm(a) for a in e.optimal_arm]),
            Column(
                "p_optimal",
                "P(optimal arm is cost-effective)",
                [p_opt.get(t) for t in e.threshold],
                number(".3f"),
                True,
            ),
            Column("evpi", "EVPI per person", list(e.evpi), self._money, True),
        ]
        if "population_evpi" in e.columns:
            ecols.append(
                Column(
                    "population_evpi", "population EVPI", list(e.population_evpi), self._money, True
                )
            )
        evpi = Table("evpi", "Decision uncertainty at the thresholds", ecols)
        tables = [summary, evpi]
        parts = ["<h3>Probabilistic sensitivity analysis</h3>", summary.html(), evpi.html()]
        if psa.evppi is not None and len(psa.evppi):
            v = psa.evppi
            vcols = [
                Column(
                    "group",
                    "group",
                    # section names (natural_history) in words; groups the user named as given
                    [schema.words(g) if " " not in str(g) else g for g in v.group],
                ),
                Column("threshold", "threshold", list(v.threshold), self._money, True),
                Column("parameters", "parameters", list(v.parameters), number("d"), True),
                Column("evppi", "EVPPI", list(v.evppi), self._money, True),
                Column("se", "± SE", list(v.se), self._money, True),
            ]
            if "method" in v.columns:
                vcols.append(Column("method", "method", list(v.method)))
            t = Table("evppi", "Partial EVPI by parameter group (per person)", vcols)
            tables.append(t)
            parts.append(t.html())
        from trdsim.analysis.decision import population_factor
        from trdsim.plots import analysis as aplots

        pop = info.get("population")
        factor = population_factor(pop["per_year"], pop["years"], pop["rate"]) if pop else None
        draws = psa.folder / "draws.parquet"
        for name, caption, make in (
            ("ce_plane.png", "Cost-effectiveness plane (one dot per draw)",
             figures.from_table(draws, lambda d, p: aplots.ce_plane(self.named(d), self.thresholds,
                                                                    self.cur, p))),
            ("ceac.png", "Cost-effectiveness acceptability curves and frontier (CEAC, CEAF)",
             lambda p: aplots.ceac_figure(self.named(psa.ceac), self.cur, p, marks=self.thresholds)),
            ("evpi.png", "Expected value of perfect information",
             lambda p: aplots.evpi_figure(psa.evpi, self.cur, p, factor)),
        ):  # fmt: skip
            parts.append(figures.embed(psa.folder / name, caption, make, self.r.notices))
        for lam in self.thresholds:
            path = psa.folder / f"evppi_{lam:g}.png"
            if path.is_file():
                parts.append(
                    figures.embed(
                        path, f"Partial EVPI at {self._money(lam)}/QALY", None, self.r.notices
                    )
                )
        return tables, "".join(p for p in parts if p)

    def _tornado(self, dsa) -> Table:
        t = dsa.tornado.head(15)
        info = dsa.info
        cols = [
            Column("label", "parameter", [self._label(k) for k in t.key]),
            Column("key", "key", list(t.key), shown=False),
            Column("base_value", "base", list(t.base_value), number(".4g"), True),
            Column("low_value", "low", list(t.low_value), number(".4g"), True),
            Column("high_value", "high", list(t.high_value), number(".4g"), True),
            Column("inmb_low", "INMB at low", list(t.inmb_low), self._money, True),
            Column("inmb_high", "INMB at high", list(t.inmb_high), self._money, True),
        ]
        if "optimal_low" in t.columns:
            cols.append(
                Column(
                    "optimal",
                    "optimal arm low / high",
                    [
                        f"{self._arm(a)} / {self._arm(b)}"
                        for a, b in zip(t.optimal_low, t.optimal_high, strict=True)
                    ],
                )
            )
        return Table(
            "tornado",
            f"One-way sensitivity: incremental NMB of {_vs(info['arm'], info['versus'], self.names)} at "
            f"{self._money(info['threshold'])}/QALY (base {self._money(info['base_inmb'])} ± "
            f"{self._money(info['base_inmb_se'])}); the {len(t)} widest of {len(dsa.tornado)}",
            cols,
            note=f"Ranges: {info.get('level', 0.95):.0%} intervals of each parameter's distribution; "
            "linked parameters (remission with response, a relapse curve's two points) move together.",
        )

    def _threshold_table(self) -> Table:
        rs = self.r.thresholds
        return Table(
            "thresholds",
            "Threshold analysis: the value at which an ICER reaches the target",
            [
                Column("label", "parameter", [self._label(r["parameter"]) for r in rs]),
                Column("parameter", "key", [r["parameter"] for r in rs], shown=False),
                Column("base_value", "base", [r["base_value"] for r in rs], number(".4g"), True),
                Column("value", "threshold value", [r["value"] for r in rs], number(".4g"), True),
                Column(
                    "comparison", "ICER of", [_vs(r["arm"], r["versus"], self.names) for r in rs]
                ),
                Column("target_icer", "target", [r["target_icer"] for r in rs], self._money, True),
                Column("quadrant", "at the threshold", [r["quadrant"] for r in rs]),
            ],
        )

    def validation(self) -> Section:
        v = self.r.validation
        if v is None:
            body = _p(
                "No validation was found beside these results: <code>trdsim validate "
                f"{_e(self.m['scenario'])} --out &lt;results&gt;/validation</code> adds it."
            )
            return Section("validation", "Validation", body)
        agrees = v.agrees.astype(bool)
        t = Table(
            "validation",
            f"External validation: {int(agrees.sum())} of {len(v)} published targets agree "
            f"({int(self.r.validation_manifest['patients']):,} simulated patients per target)",
            [
                Column("description", "target", list(v.description)),
                Column("id", "id", list(v.id), shown=False),
                Column("model", "model", list(v.model), number(".3f"), True),
                Column("target", "published", list(v.target), number(".3f"), True),
                Column(
                    "interval",
                    "agreement interval",
                    [f"{a:.3f}–{b:.3f}" for a, b in zip(v.low, v.high, strict=True)],
                ),
                Column("agrees", "agrees", ["yes" if a else "NO" for a in agrees]),
                Column("source", "source", list(v.source)),
            ],
            note="Each target is simulated in its own setting (the published trial's steps and "
            "follow-up) with this scenario's parameters; targets are not tuned to agree.",
        )
        from trdsim.plots import analysis as aplots

        fig = figures.embed(
            self.r.folder / "validation" / "validation.png",
            "Model against each target's interval of agreement",
            lambda p: aplots.validation_overview(v, p),
            self.r.notices,
        )
        return Section("validation", "Validation", t.html() + (fig or ""), [t])

    def replications(self) -> Section:
        v = self.r.replications
        if v is None:
            body = _p(
                "No replications were found beside these results: "
                "<code>python experiments/replications/run.py</code> writes "
                "<code>results/replications/</code>."
            )
            return Section("replications", "Replications of published studies", body)
        agrees = v.agrees.astype(bool)
        dep = v.dependent.astype(bool)

        def fmt(x: float) -> str:
            return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3f}"

        t = Table(
            "replications",
            f"Published trials and evaluations run from their designs: {int(agrees.sum())} "
            f"of {len(v)} figures reproduced ({int((agrees & ~dep).sum())} of "
            f"{int((~dep).sum())} that no library input comes from)",
            [
                Column("study", "study", list(v.study)),
                Column("description", "figure", list(v.description)),
                Column("model", "model", list(v.model), fmt, True),
                Column("published", "published", list(v.published), fmt, True),
                Column(
                    "interval",
                    "agreement interval",
                    [f"{fmt(a)} to {fmt(b)}" for a, b in zip(v.low, v.high, strict=True)],
                ),
                Column("agrees", "agrees", ["yes" if a else "NO" for a in agrees]),
                Column("dependent", "dependent", ["yes" if d else "no" for d in dep]),
                Column("source", "source", list(v.source)),
            ],
            note="Each study is a scenario written from its publication's design "
            "(experiments/replications/); no input was changed to approach a published "
            "figure. 'Dependent': the same study supplies a library input, so agreement "
            "checks the mechanics, not the evidence. Misses are kept.",
        )
        from trdsim.plots import analysis as aplots

        fig = figures.embed(
            self.r.folder.parent / "replications" / "replications.png",
            "Each compared figure against its interval of agreement",
            lambda p: aplots.replication_figure(v, p),
            self.r.notices,
        )
        return Section(
            "replications", "Replications of published studies", t.html() + (fig or ""), [t]
        )

    def cheers(self, titles: dict[str, str], analyses: set[str]) -> Section:
        """titles: the id and title of every other section of the page."""
        items = cheers.checklist(set(titles), analyses)
        t = Table(
            "cheers",
            "CHEERS 2022 checklist: where this report answers each item",
            [
                Column("item", "item", [i.number for i in items], number("d"), True),
                Column("section", "section", [i.section for i in items]),
                Column("topic", "topic", [i.topic for i in items]),
                Column("status", "status", [FILL_WORDS[i.fill] for i in items]),
                Column(
                    "reported_in",
                    "reported in",
                    ["; ".join(titles[s] for s in i.sections) for i in items],
                ),
                Column("author_adds", "the author adds", [i.author for i in items]),
            ],
            note="Husereau et al. CHEERS 2022 statement, BMJ 2022;376:e067975. 'Reported in' "
            "names this report's sections; a manuscript cites its own.",
        )
        # the HTML version links each section it names
        links = {
            i.number: ", ".join(f'<a href="#{s}">{_e(titles[s])}</a>' for s in i.sections)
            for i in items
        }
        rows = "".join(
            f'<tr class="fill-{i.fill}"><td class=num>{i.number}</td><td>{_e(i.topic)}'
            f'<div class="guidance">{_e(i.guidance)}</div></td><td>{_e(FILL_WORDS[i.fill])}</td>'
            f"<td>{links[i.number]}</td><td>{_e(i.author)}</td></tr>"
            for i in items
        )
        only = [i for i in items if i.fill == "author"]
        body = (
            _p(
                f"Of the 28 items, this report answers {sum(i.fill == 'report' for i in items)}, "
                f"gives the facts for {sum(i.fill == 'partly' for i in items)} (the author adds "
                f"the reasons), and leaves {len(only)} to the author."
            )
            + f'<div class="table-wrap"><table id="table-cheers" data-table="cheers"><caption>'
            f"{_e(t.caption)}</caption><thead><tr><th class=num>item</th><th>topic</th>"
            f"<th>status</th><th>reported in</th><th>the author adds</th></tr></thead><tbody>"
            f"{rows}</tbody></table></div>"
            + f'<p class="note">{_e(t.note)}</p>'
            + "<h3>Items only the author can fill</h3><ul>"
            + "".join(f"<li>{i.number}. {_e(i.topic)}: {_e(i.author)}</li>" for i in only)
            + "</ul>"
        )
        return Section("cheers", "CHEERS 2022", body, [t])


def st_folder(r: ResultsFolder):
    """The structural/ subfolder of a results folder."""
    return r.folder / "structural"


def _evppi_method(evppi) -> str:
    """The EVPPI regression in words, from evppi.csv's method column (older files: GP)."""
    if evppi is None or "method" not in evppi.columns:
        return "Gaussian-process regression"
    words = {
        "gam": "generalised additive model regression",
        "gam-screened": "GAM with screened interactions for groups of more than three",
        "gp": "Gaussian-process regression",
    }
    return "; ".join(words.get(m, m) for m in dict.fromkeys(evppi.method))

"""One declaration per input field: its kind (what values it allows), unit, human label,
the PSA distributions that fit it, and the kernel column it fills.

Scenario validation (`trdsim.scenario`), `trdsim params` and the parameter table
(`trdsim.evidence.parameter_table`), the report's and figures' labels (`label`) and the
straight copies into the kernel's treatment table (`trdsim.inputs.arrays`) all read these
tables, so adding a field is one line here plus its use in the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "FIELDS",
    "INTEGER_KINDS",
    "INTERACTION",
    "KINDS",
    "MAINTENANCE",
    "SECTIONS",
    "STATE_COSTS",
    "TREATMENT",
    "Field",
    "Kind",
    "field_of",
    "kinds",
    "label",
    "unit",
    "words",
]


@dataclass(frozen=True)
class Kind:
    """What values a field allows, and which PSA distributions have that support."""

    description: str
    check: Callable[[float], bool]
    families: tuple[str, ...]  # distributions a PSA may draw it from ("fixed" always)
    integer: bool = False


_POSITIVE = ("lognormal", "gamma", "uniform", "fixed")
_UNIT_INTERVAL = ("beta", "uniform", "fixed")

KINDS: dict[str, Kind] = {
    "prob": Kind("a probability between 0 and 1", lambda v: 0.0 <= v <= 1.0, _UNIT_INTERVAL),
    "prob_open": Kind(
        "a probability strictly between 0 and 1", lambda v: 0.0 < v < 1.0, _UNIT_INTERVAL
    ),
    "weeks": Kind(
        "a whole number of weeks, at least 1",
        lambda v: v >= 1 and float(v).is_integer(),
        ("fixed",),
        integer=True,
    ),
    "count": Kind(
        "a whole number, 0 or more",
        lambda v: v >= 0 and float(v).is_integer(),
        ("fixed",),
        integer=True,
    ),
    "positive": Kind("a number greater than 0", lambda v: v > 0, _POSITIVE),
    "ratio": Kind("a ratio greater than 0", lambda v: v > 0, _POSITIVE),
    "cost": Kind("a cost of 0 or more", lambda v: v >= 0, _POSITIVE),
    "nonneg": Kind("a number of 0 or more", lambda v: v >= 0, _POSITIVE),
    # a family is allowed when its whole support lies within what the kind allows (a
    # uniform's range is checked against the kind where the scenario is read)
    "utility": Kind("a utility of at most 1", lambda v: v <= 1.0, _UNIT_INTERVAL),
    "decrement": Kind(
        "a utility decrement between 0 and 1", lambda v: 0.0 <= v <= 1.0, _UNIT_INTERVAL
    ),
    "real": Kind(
        "a number", lambda v: True, ("normal", "lognormal", "gamma", "beta", "uniform", "fixed")
    ),
}
INTEGER_KINDS = tuple(k for k, d in KINDS.items() if d.integer)


@dataclass(frozen=True)
class Field:
    """One input field of a section or an entry (a treatment, a maintenance component)."""

    key: str
    kind: str
    label: str
    unit: str = ""
    required: bool = True
    column: str = ""  # the kernel table column (engine.layout name) it is copied into


TREATMENT = (
    Field("trial_weeks", "weeks", "course length (time point of its effect)", "weeks", column="TX_TRIAL_WEEKS"),
    Field("onset_first_week", "weeks", "first week of its extra response", "week", column="TX_ONSET_FIRST"),
    Field("onset_last_week", "weeks", "last week of its extra response", "week", column="TX_ONSET_LAST"),
    Field("dropout", "prob", "stopping for intolerance", "share of starters", column="TX_DROPOUT"),
    Field("remission_share", "prob", "remission among responders", "share", column="TX_REM_SHARE"),
    Field("relapse_t1", "positive", "time of the first relapse figure", "weeks"),
    Field("relapse_p1", "prob_open", "relapse by that time", "probability"),
    Field("source_prior_failures", "count", "failed trials in the source population", "trials"),
    # the population the relapse figure was measured in (DESIGN 2.3.1): its own failed
    # trials, apart from the acute effect's; with relapse_entry, relapse_design and
    # relapse_setting (text) and relapse_reference (the maintenance it was measured under)
    Field("relapse_prior_failures", "count", "failed trials in the relapse figure's population", "trials"),
    Field("sessions", "nonneg", "sessions per course", "sessions"),
    Field("disutility", "decrement", "utility decrement while on it", "QALY weight", column="TX_DISUTILITY"),
    # effect = "absolute": single-arm rate in the source population
    Field("response", "prob_open", "response (single-arm)", "probability", required=False),
    # effect = "relative": checked against its measure
    Field("response_effect", "real", "response effect vs its comparator", "OR, RR or RD", required=False),
    Field("relapse_t2", "positive", "time of the second relapse figure", "weeks", required=False),
    Field("relapse_p2", "prob_open", "relapse by that time (second figure)", "probability", required=False),
    # failed adequate trials a patient must have before the treatment (e.g. lithium
    # augmentation follows a failed antidepressant): a pathway giving it earlier is refused
    Field("requires_failed_trials", "count", "failed trials required before it", "trials", required=False),
    # enduring effect of a completed course (psychotherapy): relapse HR after the course
    # ends, on top of the relapse figure (which must not already contain it), waning back
    # to 1 with a half-life (absent: no waning)
    Field("enduring_relapse_hr", "ratio", "relapse hazard ratio after the course ends (enduring effect)", "HR", required=False),
    Field("enduring_half_life_weeks", "positive", "half-life of the enduring effect", "weeks", required=False),
    # the Weibull shape of its responders' relapse curve, where its kind of treatment
    # has its own (absent: relapse_baseline.shape, shared); normalised so that the
    # relapse figure's last point is unchanged
    Field("relapse_shape", "positive", "Weibull shape of its relapse curve", "", required=False),
)  # fmt: skip

MAINTENANCE = (
    Field("relapse_hr", "ratio", "relapse hazard ratio while active", "HR"),
    Field("duration_weeks", "count", "duration", "weeks"),
    Field("sessions_per_week", "nonneg", "sessions per week", "sessions"),
    Field("relapse_hr_partial", "ratio", "relapse hazard ratio, partial responders", "HR", required=False),
)  # fmt: skip

INTERACTION = (
    Field("excess_multiplier", "ratio", "multiplier of the combined excess response", "ratio"),
    Field("relapse_hr", "ratio", "relapse hazard ratio of the combination", "HR"),
)

STATE_COSTS = (
    Field("depressed_week", "cost", "a week depressed", "per week"),
    Field("response_week", "cost", "a week in response", "per week"),
    Field("remission_week", "cost", "a week in remission", "per week"),
)

SECTIONS: dict[str, tuple[Field, ...]] = {
    "cohort": (
        Field("age_mean", "positive", "mean age", "years"),
        Field("age_sd", "nonneg", "SD of age", "years"),
        Field("age_min", "nonneg", "youngest age", "years"),
        Field("age_max", "positive", "oldest age", "years"),
        Field("female_share", "prob", "women", "share"),
        Field("severity_mean", "real", "mean severity", "HRSD-17 points"),
        Field("severity_sd", "nonneg", "SD of severity", "HRSD-17 points"),
        Field("severity_min", "real", "lowest severity", "HRSD-17 points"),
        Field("severity_max", "real", "highest severity", "HRSD-17 points"),
        Field("maltreatment_share", "prob", "childhood maltreatment", "share"),
        Field("inflammation_share", "prob", "raised CRP (inflammation)", "share"),
        Field("chronic_share", "prob", "chronic episode (2 years or more)", "share"),
    ),
    "effects": (
        Field("response_or_per_prior_failure", "ratio", "response per failed trial", "OR"),
        Field("response_or_chronic_episode", "ratio", "response with a chronic episode", "OR"),
        Field("response_or_maltreatment", "ratio", "response with childhood maltreatment", "OR"),
        Field("response_or_inflammation_monoaminergic", "ratio", "monoaminergic response with raised CRP", "OR"),
        Field("response_logodds_per_severity_point_psychotherapy", "real", "psychotherapy response per severity point", "log-odds"),
        Field("response_or_per_sd_flexibility", "ratio", "response per SD of psychological flexibility", "OR"),
        Field("relapse_hr_per_prior_failure", "ratio", "relapse per failed trial", "HR"),
        Field("relapse_hr_residual_symptoms", "ratio", "relapse with residual symptoms", "HR"),
        Field("relapse_hr_maltreatment", "ratio", "relapse with childhood maltreatment", "HR"),
        Field("relapse_hr_per_sd_flexibility", "ratio", "relapse per SD of psychological flexibility", "HR"),
        Field("sudden_gain_probability", "prob", "sudden gain in psychotherapy", "probability"),
        Field("relapse_hr_sudden_gain", "ratio", "relapse after a sudden gain", "HR"),
    ),
    "natural_history": (
        Field("response", "prob_open", "response without treatment", "probability"),
        Field("weeks", "positive", "period of that response", "weeks"),
        Field("source_prior_failures", "count", "failed trials in the natural-history source", "trials"),
        Field("remission_share", "prob", "remission among natural-history responders", "share"),
        Field("deepening_weekly_hazard", "nonneg", "response deepening into remission", "per week"),
    ),
    "trial_context": (
        Field("response", "prob_open", "response in a trial's comparator arm", "probability"),
        Field("first_week", "weeks", "first week of the trial-context response", "week"),
        Field("last_week", "weeks", "last week of the trial-context response", "week"),
        Field("source_prior_failures", "count", "failed trials in the trial-context source", "trials"),
    ),
    "relapse_baseline": (
        Field("time_weeks", "positive", "time of the baseline relapse figure", "weeks"),
        Field("relapse", "prob_open", "baseline relapse by that time", "probability"),
        Field("shape", "positive", "Weibull shape of relapse", ""),
        Field("source_prior_failures", "count", "failed trials in the relapse-curve source", "trials"),
    ),
    "mortality": (
        Field("nonsuicide_depressed_hr", "ratio", "non-suicide death while depressed", "HR"),
        Field("suicide_weekly_hazard_depressed", "nonneg", "suicide while depressed", "per week"),
    ),
    "self_harm": (
        Field("weekly_hazard_depressed", "nonneg", "non-fatal self-harm while depressed", "per week"),
    ),
    "utilities": (
        Field("depressed", "utility", "utility, depressed", "QALY weight"),
        Field("response", "utility", "utility, in response", "QALY weight"),
        Field("remission", "utility", "utility, in remission", "QALY weight"),
    ),
}  # fmt: skip

# a parameter tree's top-level sections whose entries are named by the scenario or
# library (treatments.NAME.FIELD ...), with the fields of each entry
ENTRIES: dict[str, tuple[Field, ...]] = {
    "treatments": TREATMENT,
    "maintenance": MAINTENANCE,
    "interactions": INTERACTION,
}

# every section field by dotted key: the fixed sections, and the setting's state costs
# and productivity costs (weekly costs by clinical state)
FIELDS: dict[str, Field] = {
    f"{section}.{f.key}": f
    for section, fields in {
        **SECTIONS,
        "state_costs": STATE_COSTS,
        "productivity": STATE_COSTS,
    }.items()
    for f in fields
}

_SECTION_LABELS = {
    "treatments": "",
    "maintenance": "maintenance",
    "interactions": "combination",
    "state_costs": "state cost",
    "productivity": "productivity cost",
}


# readable words for the identifiers inside keys (names of treatments and resources)
_WORDS = {
    "ad": "AD",
    "bdi2": "BDI-II",
    "cbt": "CBT",
    "dbs": "DBS",
    "ect": "ECT",
    "gp": "GP",
    "hr": "HR",
    "itbs": "iTBS",
    "logodds": "log-odds",
    "mbct": "MBCT",
    "iv": "IV",
    "or": "OR",
    "rtms": "rTMS",
    "sd": "SD",
    "smd": "SMD",
    "ssri": "SSRI",
    "vns": "VNS",
    "p1": "by time 1",
    "p2": "by time 2",
    "t1": "time 1",
    "t2": "time 2",
}


def words(identifier: str) -> str:
    """An identifier in words: cbt_session -> "CBT session"."""
    return " ".join(_WORDS.get(w, w) for w in identifier.split("_"))


def kinds(fields: tuple[Field, ...], required: bool = True) -> dict[str, str]:
    """{key: kind} of the required (or the optional) fields."""
    return {f.key: f.kind for f in fields if f.required == required}


def field_of(key: str) -> Field | None:
    """The declaration of a dotted parameter key (treatments.cbt.dropout ...), if any."""
    if key in FIELDS:
        return FIELDS[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "state_costs":  # state_costs.SETTING.NAME
        return FIELDS.get(f"state_costs.{parts[2]}")
    if len(parts) == 3 and parts[0] in ENTRIES:
        for f in ENTRIES[parts[0]]:
            if f.key == parts[2]:
                return f
    return None


def unit(key: str, currency: str = "") -> str:
    """The unit of a parameter key ('' if it has none); money in the given currency."""
    parts = key.split(".")
    f = field_of(key)
    if parts[0] in ("unit_costs", "state_costs", "productivity"):
        per = f.unit if f is not None and f.unit.startswith("per ") else ""
        return " ".join(p for p in (currency, per) if p)
    return f.unit if f is not None else ""


def label(
    key: str,
    params: dict | None = None,
    currency: str = "",
    with_unit: bool = True,
    resources: dict | None = None,
) -> str:
    """A human label of a dotted parameter key, e.g. 'CBT: stopping for intolerance (share
    of starters)' or 'Unit cost: CBT session (GBP)'. params (a scenario's parameter tree)
    supplies the treatments' own labels, resources (a scenario's [resources] section) the
    labels of the resources it declares; both optional."""
    parts = key.split(".")
    f = field_of(key)
    head = parts[0]
    if head == "unit_costs":
        name = parts[-1]
        res = (resources or {}).get(name, {})
        what = res.get("label") if isinstance(res, dict) else None
        text = f"Unit cost: {what or words(name)}"
    elif head in ENTRIES and len(parts) == 3:
        entry = ((params or {}).get(head) or {}).get(parts[1], {})
        own = entry.get("label") if isinstance(entry, dict) else None
        name = own if isinstance(own, str) else words(parts[1])
        what = f.label if f is not None else words(parts[2])
        kind = _SECTION_LABELS[head]
        text = f"{kind.capitalize()}, {name}: {what}" if kind else f"{name}: {what}"
    elif head in ("state_costs", "productivity") and f is not None:
        text = f"{_SECTION_LABELS[head].capitalize()}: {f.label}"
    elif f is not None:
        text = f.label[0].upper() + f.label[1:]
    else:
        text = key
    u = unit(key, currency) if with_unit else ""
    return f"{text} ({u})" if u else text

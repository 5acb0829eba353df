"""Scenario files: TOML loading, merging over the evidence library, validation.

A scenario names the setting, horizon, discounting, thresholds, cohort and the arms to
compare, and may override any library parameter or add treatments, maintenance
options, resources and pathways. Anything wrong stops here, before any simulation,
with one message naming the file, the key, the value and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from trdsim import schema
from trdsim.engine.layout import MAX_COMPONENTS, MAX_MAINTENANCE
from trdsim.errors import MISSING, ScenarioError
from trdsim.evidence import (
    DISTRIBUTIONS,
    PARAM_FIELDS,
    USER_UNSTATED,
    is_param,
    life_tables,
    load_library,
    price_years,
)
from trdsim.pathways import MAX_VARIANTS, USUAL_CARE, entry_step, parse_condition, step_key

__all__ = [
    "DEFAULT_SCENARIO",
    "KINDS",
    "MAX_SEED",
    "MEASURES",
    "PERSPECTIVES",
    "SELF_HARM_COST",
    "SETTING_SECTIONS",
    "STARTS",
    "Scenario",
    "bundled_scenarios",
    "default_pathway_files",
    "from_dict",
    "load_scenario",
    "read_toml",
    "resolve_path",
]

# Kinds of parameter value and what each allows ({kind: (description, check)}); the
# fields of each section and entry are declared once in trdsim.schema
KINDS = {name: (k.description, k.check) for name, k in schema.KINDS.items()}
INTEGER_KINDS = schema.INTEGER_KINDS
TREATMENT_PARAMS = schema.kinds(schema.TREATMENT)
TREATMENT_OPTIONAL_PARAMS = schema.kinds(schema.TREATMENT, required=False)
TREATMENT_TEXT = {
    "label": str,
    "relapse_reference": str,
    "effect": str,
    "outcome": str,
    # the relapse figure's own population (with relapse_prior_failures): state at entry,
    # kind of design, setting (DESIGN 2.3.1-2)
    "relapse_entry": str,
    "relapse_design": str,
    "relapse_setting": str,
}
# relapse_entry: responders or remitters when the relapse clock started ("mixed": the
# source's responders, with the treatment's remission share)
RELAPSE_ENTRY = ("response", "remission", "mixed")
# relapse_design: naturalistic or pragmatic follow-up (relapse as in routine care); a
# trial's own follow-up; a randomised discontinuation trial's arm (selected stable
# responders: a contrast continued vs stopped, not a routine-care rate: flagged)
RELAPSE_DESIGNS = ("naturalistic", "pragmatic", "trial_follow_up", "discontinuation_trial")
TREATMENT_OPTIONAL_TEXT = {
    "resource": str,
    "drug_per_week": str,
    "measure": str,
    "comparator": str,
    "source_setting": str,
    # how far the evidence carries the treatment: "sufficient" (defaults may use it),
    # "flagged" or "insufficient" (available to scenarios, flagged in params and report)
    "evidence_status": str,
    "evidence_verdict": str,
}
EVIDENCE_STATUS = ("sufficient", "flagged", "insufficient")
TREATMENT_FLAGS = ("monoaminergic", "psychotherapy", "counts_as_trial")
EFFECT_KINDS = ("relative", "absolute")
HRSD_MAX = 52.0  # the HRSD-17 total score runs 0 to 52 (Hamilton 1960)
RULE_TESTS = {
    "==": lambda x, v: x == v,
    "!=": lambda x, v: x != v,
    ">=": lambda x, v: x >= v,
    "<=": lambda x, v: x <= v,
    ">": lambda x, v: x > v,
    "<": lambda x, v: x < v,
}


def _meets_range(op: str, v: float, lo: float, hi: float) -> bool:
    """Whether some value in [lo, hi] satisfies `x op v`."""
    if op == ">=":
        return v <= hi
    if op == ">":
        return v < hi
    if op == "<=":
        return v >= lo
    if op == "<":
        return v > lo
    if op == "==":
        return lo <= v <= hi
    return lo < hi or v != lo  # "!="


MEASURES = ("OR", "RR", "RD")

MAINTENANCE_PARAMS = schema.kinds(schema.MAINTENANCE)
MAINTENANCE_OPTIONAL_PARAMS = schema.kinds(schema.MAINTENANCE, required=False)
MAINTENANCE_TEXT = {"label": str}
# relapse_hr_design: the kind of evidence its hazard ratio comes from (e.g.
# "discontinuation_trial": continued vs stopped in selected stable responders)
MAINTENANCE_OPTIONAL_TEXT = {"resource": str, "drug_per_week": str, "relapse_hr_design": str}

INTERACTION_PARAMS = schema.kinds(schema.INTERACTION)
OUTCOME_TEXT = ("label", "kind", "scale", "threshold")
OUTCOME_KINDS = ("response", "remission")
TRIAL_KEYS = {
    "name": "a label for the trial",
    "control": "the arm randomised as the comparator (one of scenario.arms)",
    "assess_weeks": "weeks after randomisation at which outcomes are assessed",
    "outcomes": "outcome definitions of the library (trdsim params lists them)",
    "source": "the publication the design is taken from",
}

FIXED_SECTIONS = {section: schema.kinds(fields) for section, fields in schema.SECTIONS.items()}
PRODUCTIVITY = schema.kinds(schema.STATE_COSTS)
SELF_HARM_COST = "self_harm_episode"  # unit cost of one non-fatal self-harm episode
STATE_COSTS = schema.kinds(schema.STATE_COSTS)
SETTING_SECTIONS = ("unit_costs", "state_costs")  # parameters kept per setting

SCENARIO_KEYS = {
    "base": str,
    "name": str,
    "description": str,
    "setting": str,
    "perspective": str,
    "horizon_weeks": int,
    "discount_costs": float,
    "discount_qalys": float,
    "thresholds": list,
    "life_table": str,
    "arms": list,
    "patients": int,
    "seed": int,
}
COHORT_ENTRY = {"start": str, "failed_trials": (int, dict)}
PATHWAY_KEYS = {
    "label": str,
    "steps": list,
    "maintenance": dict,
    "on_relapse": str,
    "on_exhausted": str,
    "start": str,
    "note": str,
    "rules": list,
    "citations": dict,
    # how long each maintenance option is given after the acute course, by the pathway's
    # policy: weeks (a number >= 0) or "horizon" (until relapse, death or the horizon);
    # an option not named keeps its library duration_weeks
    "maintenance_duration": dict,
}
CITED_FIELDS = {
    "steps",
    "rules",
    "maintenance",
    "maintenance_duration",
    "on_relapse",
    "on_exhausted",
    "start",
}
MAINTENANCE_HORIZON = "horizon"
RULE_KEYS = ("step", "when", "components", "why")
TOP_LEVEL = (
    "scenario",
    "cohort",
    "pathways",
    "treatments",
    "maintenance",
    "interactions",
    "comparators",
    "outcomes",
    "effects",
    "natural_history",
    "trial_context",
    "relapse_baseline",
    "mortality",
    "self_harm",
    "utilities",
    "unit_costs",
    "resources",
    "state_costs",
    "settings",
    "productivity",
    "care_system",
    "trial",
)
CARE_SYSTEM_KEYS = {
    "referrals_per_year": "a number of referrals per year greater than 0",
    "years": "a whole number of years from 1 to 50",
    "arm": "a pathway",
    "queue": "fifo or severity",
    "leave_per_week": "a probability between 0 and 1",
    "wait_target_weeks": "a whole number of weeks, at least 1",
    "wait_standard_share": "a share of starts between 0 and 1",
    "waiting_cost": "a resource of unit_costs (the weekly cost of a patient waiting)",
    "services": "a table of services",
}
SERVICE_KEYS = ("label", "units", "patients_per_unit", "treatments", "unit_cost")
QUEUES = ("fifo", "severity")
# Most units (staff, chairs, lists) one care service may have: far beyond any region's
# service, and small enough that units x patients_per_unit stays an exact count of places
# (a float such as 1e20 is past the 2**53 where whole numbers stop being exact, and past
# what an int64 array of places can hold)
MAX_UNITS = 1_000_000
PERSPECTIVES = ("payer", "societal")
ON_RELAPSE = ("advance", "retreat")
ON_EXHAUSTED = ("usual_care", "none", "repeat_last", "restart")
PATHWAY_STARTS = ("failed_trials", "first")
STARTS = ("trd", "diagnosis")


@dataclass
class Scenario:
    """A validated scenario: settings, the merged parameter tree and the pathways."""

    name: str
    source: str
    description: str
    setting: str
    currency: str
    price_year: int
    perspective: str
    horizon_weeks: int
    discount_costs: float
    discount_qalys: float
    thresholds: list[float]
    life_table: str
    arms: list[str]
    patients: int
    seed: int
    start: str
    failed_trials: int  # the fewest failed trials in the cohort (its earliest entry)
    params: dict
    pathways: dict
    raw: dict = field(repr=False)
    care_system: dict | None = None  # validated [care_system] section, if any
    # share of the cohort by failed adequate trials at entry ({2: 1.0} for "2")
    failed_trials_shares: dict[int, float] = field(default_factory=dict)
    trial: dict | None = None  # validated [trial] section (a randomised trial's design)

    @property
    def hash(self) -> str:
        """SHA-256 of everything that defines the run (settings, parameters, pathways)."""
        blob = json.dumps(
            {"raw": self.raw, "params": self.params, "pathways": self.pathways},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_value(self, key: str, value: object) -> Scenario:
        """A copy with one key (dotted, e.g. treatments.ssri.response) set and checked."""
        return self.with_values({key: value})

    def with_values(self, values: dict[str, object]) -> Scenario:
        """A copy with dotted keys set as a scenario file would set them, and checked."""
        if not values:
            return self
        return from_dict(self.raw_with(self.raw, values), self.source)

    def raw_with(self, raw: dict, values: dict[str, object]) -> dict:
        """A copy of a scenario file's dict with dotted keys set.

        unit_costs.NAME and state_costs.NAME are accepted for this scenario's setting
        (unit_costs.SETTING.NAME, the one spelling trdsim writes).
        """
        out = copy.deepcopy(raw)
        for key, value in values.items():
            parts = key.split(".")
            if parts[0] in SETTING_SECTIONS and len(parts) == 2:
                parts = [parts[0], self.setting, parts[1]]
            node = out
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ScenarioError(self.source, key, value, "is not a scenario key")
            node[parts[-1]] = value
        return out


def bundled_scenarios() -> Path:
    """The folder holding the ready-to-run scenarios (repo checkout or installed package)."""
    packaged = Path(str(resources.files("trdsim"))) / "scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios"


DEFAULT_SCENARIO = "uk_nhs"


RESOURCE_KEYS = {
    "label": "what one unit is, e.g. 'VNS programming session'",
    "unit": "e.g. 'session'",
}
POSITIVE_DIST_ARGS = ("a", "b", "sigma", "se", "sd")  # spreads and shapes
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_SEED = 2**63 - 1  # seeds are kept in signed 64-bit integers (numpy, parquet)


def resolve_path(name_or_path: str | Path | None) -> Path:
    """A scenario file from a path, or a bundled scenario's name (default uk_nhs)."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    p = Path(name_or_path)
    if p.exists():
        return p
    bundled = bundled_scenarios() / f"{p.stem}.toml"
    if p.suffix in ("", ".toml") and p.parent == Path() and bundled.exists():
        return bundled
    available = sorted(f.stem for f in bundled_scenarios().glob("*.toml"))
    raise ScenarioError(
        str(name_or_path),
        "(file)",
        MISSING,
        f"no such file; bundled scenarios: {', '.join(available)}",
    )


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load, merge over the evidence library and validate a scenario file.

    A file whose [scenario] table names `base` (a scenario file, relative to this one,
    or a bundled name) is read as changes to that scenario: tables merge key by key,
    values replace. Calibration writes its results this way.
    """
    p = resolve_path(path)
    return from_dict(_read_with_base(p, ()), str(p))


DEFAULT_PATHWAYS = "default_pathways"  # package folder: common.toml and <setting>.toml


def default_pathway_files(setting: str) -> list[Path]:
    """The default pathway files of a setting: the common one, then the setting's own
    (whose pathways replace common ones of the same name)."""
    folder = Path(str(resources.files("trdsim").joinpath(DEFAULT_PATHWAYS)))
    return [f for f in (folder / "common.toml", folder / f"{setting}.toml") if f.is_file()]


def read_toml(p: Path, kind: str = "scenario") -> dict:
    """A TOML file of trdsim's (`kind`: what it should be, for the messages), read as UTF-8
    (a byte-order mark accepted); ScenarioError in one line for a folder, an unreadable,
    binary or non-UTF-8 file, or invalid TOML."""
    if p.is_dir():
        raise ScenarioError(str(p), "(file)", MISSING, f"is a folder, not a {kind} file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ScenarioError(str(p), "(file)", MISSING, f"cannot be read: {e.strerror}") from None
    if b"\x00" in data:
        raise ScenarioError(str(p), "(file)", MISSING, f"is a binary file, not a TOML {kind}")
    try:
        # a byte-order mark (as some Windows editors write) is accepted and dropped
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioError(
            str(p),
            "(file)",
            MISSING,
            f"is not UTF-8 text (byte 0x{data[e.start]:02x} at position {e.start}); "
            "save it as UTF-8",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(p), "(file)", MISSING, f"not valid TOML: {e}") from None


def _read_with_base(p: Path, seen: tuple[Path, ...]) -> dict:
    raw = read_toml(p)
    base = raw.get("scenario", {}).get("base") if isinstance(raw.get("scenario"), dict) else None
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ScenarioError(str(p), "scenario.base", base, "must be a scenario file or name")
    local = (p.parent / base) if not Path(base).is_absolute() else Path(base)
    bp = local if local.exists() else resolve_path(base)
    if bp.resolve() in seen or bp.resolve() == p.resolve():
        raise ScenarioError(str(p), "scenario.base", base, "scenarios must not include each other")
    parent = _read_with_base(bp, (*seen, p.resolve()))
    merged = _deep_merge(parent, raw)
    del merged["scenario"]["base"]
    own = raw["scenario"]
    # a derived scenario is not its base: its own name (so its results do not land in
    # the base's folder) and a description that says what it changes
    if "name" not in own:
        merged["scenario"]["name"] = p.stem
    if "description" not in own:
        changed = [k for k in _dotted_keys(raw) if k not in ("scenario.base", "scenario.name")]
        shown = ", ".join(changed[:6]) + (
            f" and {len(changed) - 6} more" if len(changed) > 6 else ""
        )
        merged["scenario"]["description"] = (
            f"{parent.get('scenario', {}).get('description', bp.stem)}; changed by {p.name}: "
            f"{shown or 'nothing'}"
        )
    return merged


def _dotted_keys(raw: dict, prefix: str = "") -> list[str]:
    """The leaf keys of a scenario file as dotted paths (a parameter table is a leaf)."""
    out = []
    for k, v in raw.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "value" not in v and v:
            out += _dotted_keys(v, f"{key}.")
        else:
            out.append(key)
    return out


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and "value" not in v:
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def from_dict(raw: dict, source: str = "<scenario>") -> Scenario:
    """Build a Scenario from an already-parsed TOML dict."""
    return _Builder(raw, source).build()


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(sorted(options))}"


def _named(v: object, options) -> bool:
    """Whether `v` is a name among `options`; a TOML list or table in its place (which
    cannot be looked up in a dict) is simply not one, so the caller's one-line refusal
    names it instead of a TypeError."""
    return isinstance(v, str) and v in options


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Builder:
    def __init__(self, raw: dict, source: str):
        self.raw = raw
        self.file = source

    def fail(self, key: str, value: object, allowed: str) -> NoReturn:
        raise ScenarioError(self.file, key, value, allowed)

    def unknown(self, key: str, value: object, options, what: str) -> NoReturn:
        """Fail for a name that is not among `options`, suggesting the closest."""
        self.fail(
            key, value, _suggest(str(value), options).replace("unknown key", f"unknown {what}")
        )

    # ----- generic checks -------------------------------------------------
    def table(self, node: object, key: str) -> dict:
        if not isinstance(node, dict):
            self.fail(key, node, "must be a table")
        return node

    def typed(self, node: dict, key: str, name: str, typ: type, required: bool = True):
        if name not in node:
            if required:
                self.fail(f"{key}.{name}", MISSING, f"required ({typ.__name__})")
            return None
        v = node[name]
        if typ is float:
            ok = _is_number(v)
        elif typ is bool:
            ok = isinstance(v, bool)
        else:  # bool is an int in Python; a TOML true is not a number of weeks
            ok = isinstance(v, typ) and not isinstance(v, bool)
        if not ok:
            self.fail(f"{key}.{name}", v, f"must be of type {typ.__name__}")
        return v

    def failed_trials(self, v: object, start: str) -> dict[int, float]:
        """cohort.failed_trials: a whole number, or a table of shares by number of failed
        trials (as trials report them), e.g. { 2 = 0.5, 3 = 0.3, 4 = 0.2 }."""
        key = "cohort.failed_trials"
        rule = "must be >= 0 (and 0 when start = 'diagnosis')"
        if v is None:
            return {2 if start == "trd" else 0: 1.0}
        if isinstance(v, int) and not isinstance(v, bool):
            if v < 0 or (start == "diagnosis" and v != 0):
                self.fail(key, v, rule)
            return {v: 1.0}
        if not isinstance(v, dict) or not v:
            self.fail(key, v, "a whole number, or a table of shares such as { 2 = 0.6, 3 = 0.4 }")
        shares: dict[int, float] = {}
        for k, share in v.items():
            # ASCII digits only: str.isdigit() also passes "²", which int() refuses
            if not re.fullmatch(r"[0-9]{1,2}", str(k)) or int(k) > 20:
                self.fail(f"{key}.{k}", share, "keys are numbers of failed trials from 0 to 20")
            if not _is_number(share) or not 0.0 <= share <= 1.0:
                self.fail(f"{key}.{k}", share, "a share between 0 and 1")
            if start == "diagnosis" and int(k) != 0 and share > 0:
                self.fail(f"{key}.{k}", share, rule)
            if share > 0:
                shares[int(k)] = float(share)
        total = sum(v.values())
        if abs(total - 1.0) > 1e-9:
            self.fail(key, v, f"shares must sum to 1 (they sum to {total:g})")
        return dict(sorted(shares.items()))

    def check_keys(self, node: dict, key: str, allowed) -> None:
        for k in node:
            if k not in allowed:
                self.fail(f"{key}.{k}" if key else k, node[k], _suggest(k, allowed))

    def param(self, node: object, key: str, kind: str, base: dict | None) -> dict:
        """Merge a scenario value (number or inline table) over a library entry; check it."""
        p: dict[str, Any]
        if _is_number(node) and base is None:
            p = {
                "value": node,
                "dist": "fixed",
                "source": f"scenario {self.file}",
                "verified": USER_UNSTATED,
            }
        elif _is_number(node) or (isinstance(node, dict) and is_param(node)):
            entry: dict = node if isinstance(node, dict) else {"value": node}
            self.check_keys(entry, key, PARAM_FIELDS)
            p = dict(entry)
            if base is not None and entry is not base:
                # a scenario override: a new value is fixed unless it brings its own distribution
                p = {k: v for k, v in base.items() if k not in ("note", "ref")}
                for args in DISTRIBUTIONS.values():
                    for a in args:
                        p.pop(a, None)
                # a new value keeps the entry's price year unless it states its own (so a
                # scenario, `with_value`, the PSA and the DSA all mean the same thing)
                p.update(dist="fixed", source=f"scenario {self.file}", verified=USER_UNSTATED)
                p.update(entry)
        else:
            allowed = KINDS[kind][0]
            self.fail(key, node, f"must be {allowed} (a number, or a table with 'value')")
        v = p["value"]
        if not _is_number(v):
            self.fail(key, v, f"must be {KINDS[kind][0]}")
        desc, ok = KINDS[kind]
        if not ok(v):
            self.fail(key, v, f"must be {desc}")
        dist = p.get("dist", "fixed")
        if not _named(dist, DISTRIBUTIONS):
            self.fail(f"{key}.dist", dist, f"must be one of {', '.join(DISTRIBUTIONS)}")
        families = schema.KINDS[kind].families
        if dist not in families:
            # a distribution whose support is wider than the kind's would be clipped or
            # refused draw by draw; say so once, here
            self.fail(
                f"{key}.dist", dist, f"{KINDS[kind][0]} is drawn from one of {', '.join(families)}"
            )
        for a in DISTRIBUTIONS[dist]:
            if not _is_number(p.get(a)):
                self.fail(
                    f"{key}.{a}", p.get(a, MISSING), f"a {dist} distribution needs a number '{a}'"
                )
        for a in DISTRIBUTIONS[dist]:
            if a in POSITIVE_DIST_ARGS and not p[a] > 0:
                self.fail(f"{key}.{a}", p[a], f"a {dist} distribution needs '{a}' > 0")
        if dist == "gamma" and not p["mean"] > 0:
            self.fail(f"{key}.mean", p["mean"], "a gamma distribution needs 'mean' > 0")
        if dist == "uniform" and not p["low"] < p["high"]:
            self.fail(f"{key}.high", p["high"], f"must be greater than low ({p['low']})")
        if dist == "uniform" and not p["low"] <= v <= p["high"]:
            self.fail(key, v, f"must lie within its uniform range [{p['low']}, {p['high']}]")
        if dist == "uniform":
            for end in ("low", "high"):
                if not KINDS[kind][1](p[end]):
                    self.fail(f"{key}.{end}", p[end], f"must be {KINDS[kind][0]}")
        if dist != "fixed" and kind in INTEGER_KINDS:
            self.fail(f"{key}.dist", dist, f"must be 'fixed': {KINDS[kind][0]} cannot be drawn")
        p["kind"] = kind  # what values are allowed; the PSA checks its draws against it
        return p

    def resources(self, raw: dict, lib_uc: dict) -> dict[str, dict]:
        """New resources the scenario declares: [resources.NAME] with a label (and unit)."""
        out = {}
        for name, node in self.table(raw.get("resources", {}), "resources").items():
            node = self.table(node, f"resources.{name}")
            self.check_keys(node, f"resources.{name}", RESOURCE_KEYS)
            if name in lib_uc:
                self.fail(
                    f"resources.{name}",
                    node,
                    "is a library resource already: give its cost under [unit_costs.SETTING]",
                )
            if not isinstance(node.get("label"), str) or not node["label"].strip():
                self.fail(f"resources.{name}.label", node.get("label", MISSING), "required: text")
            out[name] = node
        return out

    def merge_params(
        self, lib: dict, over: dict, key: str, spec: dict, optional: dict | None = None
    ) -> dict:
        """Merge parameters of one entry; every key of spec must end up present."""
        out = {}
        for name, kind in {**spec, **(optional or {})}.items():
            if name in over:
                out[name] = self.param(over[name], f"{key}.{name}", kind, lib.get(name))
                out[name].setdefault("verified", USER_UNSTATED)
            elif name in lib:
                out[name] = self.param(lib[name], f"{key}.{name}", kind, None)
            elif name in spec:
                self.fail(f"{key}.{name}", MISSING, f"required: {KINDS[kind][0]}")
        return out

    # ----- sections -------------------------------------------------------
    def build(self) -> Scenario:
        raw = self.table(self.raw, "(file)")
        self.check_keys(raw, "", TOP_LEVEL)
        lib = load_library()
        s = self.table(raw.get("scenario", MISSING), "scenario")
        self.check_keys(s, "scenario", SCENARIO_KEYS)

        settings = copy.deepcopy(lib["settings"])
        for name, node in self.table(raw.get("settings", {}), "settings").items():
            node = self.table(node, f"settings.{name}")
            self.check_keys(node, f"settings.{name}", ("currency", "price_year", "life_table"))
            settings.setdefault(name, {}).update(node)
        setting = self.typed(s, "scenario", "setting", str)
        if setting not in settings:
            self.fail("scenario.setting", setting, f"must be one of {', '.join(sorted(settings))}")
        for k, typ in (("currency", str), ("price_year", int)):
            self.typed(settings[setting], f"settings.{setting}", k, typ)
        own_currency = lib["settings"].get(setting, {}).get("currency")
        if own_currency is not None and settings[setting]["currency"] != own_currency:
            # the setting's prices are in its own currency: relabelling them converts nothing
            self.fail(
                f"settings.{setting}.currency",
                settings[setting]["currency"],
                f"must be {own_currency}, the {setting} setting's currency (its unit costs are "
                f"in {own_currency}; a scenario in another currency needs a setting of its own)",
            )
        tables = sorted(life_tables().table.unique())
        own = settings[setting].get("life_table", MISSING)
        if own is MISSING or own not in tables:
            # background mortality is the setting's own; another country's is not a default
            self.fail(
                f"settings.{setting}.life_table",
                own,
                f"required: the life table of the setting's population, one of {', '.join(tables)}",
            )
        self.check_price_year(
            f"settings.{setting}.price_year", settings[setting]["price_year"], setting
        )

        params: dict = {}
        for section, spec in FIXED_SECTIONS.items():
            over = self.table(raw.get(section, {}), section)
            allowed: dict = dict(spec)
            if section == "cohort":
                allowed.update(COHORT_ENTRY)
            self.check_keys(over, section, allowed)
            params[section] = self.merge_params(
                lib[section], {k: v for k, v in over.items() if k in spec}, section, spec
            )
        u = {k: params["utilities"][k]["value"] for k in ("depressed", "response", "remission")}
        if not u["depressed"] <= u["response"] <= u["remission"]:
            # the PSA keeps this order in every draw; the base case must have it too
            bad = "depressed" if u["depressed"] > u["response"] else "response"
            nxt = "response" if bad == "depressed" else "remission"
            self.fail(
                f"utilities.{bad}",
                u[bad],
                f"must not exceed utilities.{nxt} ({u[nxt]}): depressed <= response <= remission",
            )
        cohort_over = raw.get("cohort", {})
        start = cohort_over.get("start", "trd")
        if not _named(start, STARTS):
            self.fail("cohort.start", start, f"must be one of {', '.join(STARTS)}")
        shares = self.failed_trials(cohort_over.get("failed_trials"), start)
        self.fewest_failed = min(shares)  # (a rule on a step before it never fires)
        c = params["cohort"]
        if c["age_min"]["value"] > c["age_max"]["value"]:
            self.fail("cohort.age_min", c["age_min"]["value"], "must not exceed cohort.age_max")
        if c["severity_min"]["value"] > c["severity_max"]["value"]:
            self.fail(
                "cohort.severity_min",
                c["severity_min"]["value"],
                "must not exceed cohort.severity_max",
            )
        for k in ("severity_min", "severity_max"):
            if not 0.0 <= c[k]["value"] <= HRSD_MAX:
                self.fail(
                    f"cohort.{k}", c[k]["value"], f"must be within the HRSD-17's 0 to {HRSD_MAX:g}"
                )
        lt = life_tables()
        ages = lt.age[lt.table == own]
        for k in ("age_min", "age_max"):
            if not 0.0 <= c[k]["value"] <= ages.max():
                self.fail(
                    f"cohort.{k}",
                    c[k]["value"],
                    f"must be from 0 to {ages.max()} (the age the life table {own} ends at)",
                )

        # unit costs: library resources of the setting plus any the scenario adds
        uc_raw = self.table(raw.get("unit_costs", {}), "unit_costs")
        for name in uc_raw:
            if name not in settings:
                self.fail(f"unit_costs.{name}", uc_raw[name], _suggest(name, settings))
            if name != setting:
                # another setting's prices (another currency) would be silently ignored
                self.fail(
                    f"unit_costs.{name}",
                    uc_raw[name],
                    f"unit costs of the {name} setting ({settings[name]['currency']}); this "
                    f"scenario's setting is {setting} ({settings[setting]['currency']}): give "
                    f"them under unit_costs.{setting}, in its currency",
                )
        lib_uc = lib["unit_costs"].get(setting, {})
        over_uc = self.table(uc_raw.get(setting, {}), f"unit_costs.{setting}")
        # a unit cost names a library resource of the setting or one declared under
        # [resources.NAME]: a misspelt name is an error, not a new resource
        declared = self.resources(raw, lib_uc)
        for name in over_uc:
            if name not in lib_uc and name not in declared:
                self.fail(
                    f"unit_costs.{setting}.{name}",
                    over_uc[name],
                    _suggest(name, [*lib_uc, *declared]).replace(
                        "; allowed:",
                        " (a new resource is declared as [resources.NAME] with a label); allowed:",
                    ),
                )
        # keyed by setting as in the file, so a unit cost has one spelling everywhere:
        # unit_costs.SETTING.NAME (scenario file, with_value, --param, tables, PSA columns)
        params["unit_costs"] = {
            setting: self.merge_params(
                lib_uc,
                over_uc,
                f"unit_costs.{setting}",
                dict.fromkeys({**lib_uc, **over_uc}, "cost"),
            )
        }
        resources_known = params["unit_costs"][setting]
        # weekly background costs by clinical state, per setting
        sc_raw = self.table(raw.get("state_costs", {}), "state_costs")
        for name in sc_raw:
            if name not in settings:
                self.fail(f"state_costs.{name}", sc_raw[name], _suggest(name, settings))
        over_sc = self.table(sc_raw.get(setting, {}), f"state_costs.{setting}")
        self.check_keys(over_sc, f"state_costs.{setting}", STATE_COSTS)
        lib_sc = lib["state_costs"].get(setting)
        if lib_sc is None and len(over_sc) < len(STATE_COSTS):
            self.fail(
                f"state_costs.{setting}",
                MISSING,
                f"the library holds no state costs for setting '{setting}': give {', '.join(STATE_COSTS)}",
            )
        params["state_costs"] = {
            setting: self.merge_params(lib_sc or {}, over_sc, f"state_costs.{setting}", STATE_COSTS)
        }
        if (
            params["self_harm"]["weekly_hazard_depressed"]["value"] > 0
            and SELF_HARM_COST not in resources_known
        ):
            self.fail(
                f"unit_costs.{setting}.{SELF_HARM_COST}",
                MISSING,
                "self-harm episodes need a cost per episode in this setting "
                "(or set self_harm.weekly_hazard_depressed = 0)",
            )
        for section in ("unit_costs", "state_costs"):
            for name, entry in params[section][setting].items():
                if "price_year" in entry:
                    self.check_price_year(
                        f"{section}.{setting}.{name}.price_year", entry["price_year"], setting
                    )

        # maintenance first: treatments refer to it
        params["maintenance"] = self.entries(
            "maintenance",
            lib["maintenance"],
            raw,
            MAINTENANCE_PARAMS,
            MAINTENANCE_OPTIONAL_PARAMS,
            MAINTENANCE_TEXT,
            MAINTENANCE_OPTIONAL_TEXT,
            (),
        )
        for name, m in params["maintenance"].items():
            for rk in ("resource", "drug_per_week"):
                if rk in m and m[rk] not in resources_known:
                    self.fail(
                        f"maintenance.{name}.{rk}",
                        m[rk],
                        f"unknown resource in unit_costs.{setting}; known: {', '.join(sorted(resources_known))}",
                    )
            if m["sessions_per_week"]["value"] > 0 and "resource" not in m:
                self.fail(
                    f"maintenance.{name}.resource", MISSING, "required when sessions_per_week > 0"
                )
        params["treatments"] = self.entries(
            "treatments",
            lib["treatments"],
            raw,
            TREATMENT_PARAMS,
            TREATMENT_OPTIONAL_PARAMS,
            TREATMENT_TEXT,
            TREATMENT_OPTIONAL_TEXT,
            TREATMENT_FLAGS,
        )
        params["comparators"] = self.text_entries(
            "comparators", lib["comparators"], raw, ("label",), ("note",)
        )
        params["outcomes"] = self.text_entries(
            "outcomes", lib["outcomes"], raw, OUTCOME_TEXT, ("note",)
        )
        for name, o in params["outcomes"].items():
            if not _named(o["kind"], OUTCOME_KINDS):
                self.fail(
                    f"outcomes.{name}.kind", o["kind"], f"must be one of {', '.join(OUTCOME_KINDS)}"
                )
        for name, t in params["treatments"].items():
            self.check_treatment(name, t, params, resources_known, setting)
        params["interactions"] = self.interactions(lib.get("interactions", {}), raw, params)

        perspective = s.get("perspective", "payer")
        if not _named(perspective, PERSPECTIVES):
            self.fail(
                "scenario.perspective", perspective, f"must be one of {', '.join(PERSPECTIVES)}"
            )
        prod = self.table(raw.get("productivity", {}), "productivity")
        self.check_keys(prod, "productivity", PRODUCTIVITY)
        if perspective == "societal":
            if not prod:
                self.fail(
                    "productivity",
                    MISSING,
                    "the societal perspective needs productivity losses per week (depressed_week, response_week, remission_week); the evidence library holds none yet",
                )
            params["productivity"] = self.merge_params({}, prod, "productivity", PRODUCTIVITY)

        self.default_origin: dict[str, str] = {}
        pathways_default = {}
        for f in default_pathway_files(setting):
            for name, p in read_toml(f).items():
                pathways_default[name] = p
                self.default_origin[name] = str(f)
        pathways = self.pathways(pathways_default, raw, params)
        sc = self.finish(s, raw, settings, setting, perspective, start, shares, params, pathways)
        if "care_system" in raw:
            sc.care_system = self.care_system(raw["care_system"], params, pathways)
        if "trial" in raw:
            sc.trial = self.trial(raw["trial"], sc)
        return sc

    def trial(self, node: object, sc: Scenario) -> dict:
        """A randomised trial's design: the control arm, the assessment weeks (within the
        follow-up, which is the horizon) and the outcomes assessed among all randomised."""
        t = self.table(node, "trial")
        self.check_keys(t, "trial", TRIAL_KEYS)
        control = t.get("control", MISSING)
        if control not in sc.arms:
            self.fail("trial.control", control, f"one of scenario.arms ({', '.join(sc.arms)})")
        weeks = t.get("assess_weeks", MISSING)
        if not isinstance(weeks, list) or not weeks:
            self.fail("trial.assess_weeks", weeks, "a list of weeks, e.g. [26, 52]")
        for j, w in enumerate(weeks):
            if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w < sc.horizon_weeks:
                self.fail(
                    f"trial.assess_weeks[{j}]",
                    w,
                    f"a week within the follow-up: 1 to {sc.horizon_weeks - 1} "
                    f"(scenario.horizon_weeks = {sc.horizon_weeks})",
                )
        outcomes = t.get("outcomes", MISSING)
        if not isinstance(outcomes, list) or not outcomes:
            self.fail("trial.outcomes", outcomes, "a list of outcome definitions")
        # threshold outcomes only: a mean difference has no share of patients to assess
        known = [
            k
            for k, o in sc.params["outcomes"].items()
            if not o["threshold"].startswith("not a threshold")
        ]
        for j, o in enumerate(outcomes):
            if o not in known:
                self.unknown(f"trial.outcomes[{j}]", o, known, "outcome definition")
            if o in outcomes[:j]:  # its rows would appear twice in every table
                self.fail(f"trial.outcomes[{j}]", o, "given twice: list each outcome once")
        for j, w in enumerate(weeks):
            if w in weeks[:j]:
                self.fail(f"trial.assess_weeks[{j}]", w, "given twice: list each week once")
        return {
            "name": str(t.get("name", sc.name)),
            "source": str(t.get("source", "")),
            "control": control,
            "assess_weeks": sorted(set(weeks)),
            "outcomes": list(outcomes),
        }

    def care_system(self, node: object, params: dict, pathways: dict) -> dict:
        """The care-system section: referrals, services with capacity, queue rule."""
        cs = self.table(node, "care_system")
        self.check_keys(cs, "care_system", CARE_SYSTEM_KEYS)
        out = {
            "referrals_per_year": cs.get("referrals_per_year", MISSING),
            "years": cs.get("years", MISSING),
            "arm": cs.get("arm", MISSING),
            "queue": cs.get("queue", "fifo"),
            "leave_per_week": cs.get("leave_per_week", 0.0),
            "wait_target_weeks": cs.get("wait_target_weeks", 18),
            # the NHS standard: 92 % of patients start within the target (18 weeks)
            "wait_standard_share": cs.get("wait_standard_share", 0.92),
            "waiting_cost": cs.get("waiting_cost", ""),
        }
        (costs,) = params["unit_costs"].values()  # the scenario's setting's unit costs
        checks = {
            "referrals_per_year": lambda v: _is_number(v) and v > 0,
            "years": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 50,
            "arm": lambda v: _named(v, pathways),
            "queue": lambda v: _named(v, QUEUES),
            "leave_per_week": lambda v: _is_number(v) and 0.0 <= v <= 1.0,
            "wait_target_weeks": lambda v: (
                isinstance(v, int) and not isinstance(v, bool) and v >= 1
            ),
            "wait_standard_share": lambda v: _is_number(v) and 0.0 < v <= 1.0,
            "waiting_cost": lambda v: v == "" or _named(v, costs),
        }
        for k, ok in checks.items():
            if not ok(out[k]):
                allowed = CARE_SYSTEM_KEYS[k]
                if k == "arm":
                    allowed = f"a pathway; known: {', '.join(sorted(pathways))}"
                if k == "waiting_cost":
                    allowed = f"a resource of unit_costs; known: {', '.join(sorted(costs))}"
                self.fail(f"care_system.{k}", out[k], f"must be {allowed}")
        services = {}
        owner: dict[str, str] = {}
        for name, sv in self.table(cs.get("services", {}), "care_system.services").items():
            key = f"care_system.services.{name}"
            sv = self.table(sv, key)
            self.check_keys(sv, key, SERVICE_KEYS)
            units = sv.get("units", MISSING)
            if not (_is_number(units) and 0 <= units <= MAX_UNITS and float(units).is_integer()):
                self.fail(
                    f"{key}.units",
                    units,
                    f"must be a whole number from 0 to {MAX_UNITS} (staff, chairs, lists)",
                )
            per = sv.get("patients_per_unit", MISSING)
            if not (_is_number(per) and per > 0):
                self.fail(
                    f"{key}.patients_per_unit", per, "must be a number of patients greater than 0"
                )
            treatments = sv.get("treatments", MISSING)
            if not isinstance(treatments, list) or not treatments:
                self.fail(
                    f"{key}.treatments",
                    treatments,
                    "must list the treatments this service delivers",
                )
            for j, t in enumerate(treatments):
                if not _named(t, params["treatments"]):
                    self.unknown(f"{key}.treatments[{j}]", t, params["treatments"], "treatment")
                if t in owner:
                    self.fail(
                        f"{key}.treatments[{j}]", t, f"already delivered by service '{owner[t]}'"
                    )
                owner[t] = name
            unit_cost = sv.get("unit_cost", "")
            if unit_cost != "" and not _named(unit_cost, costs):
                self.fail(
                    f"{key}.unit_cost",
                    unit_cost,
                    f"must be a resource of unit_costs (cost of a unit a week); known: "
                    f"{', '.join(sorted(costs))}",
                )
            services[name] = {
                "label": str(sv.get("label", name)),
                "units": int(units),
                "patients_per_unit": float(per),
                "treatments": list(treatments),
                "unit_cost": unit_cost,
            }
        out["services"] = services
        out["referrals_per_year"] = float(out["referrals_per_year"])
        out["wait_standard_share"] = float(out["wait_standard_share"])
        return out

    def entries(self, section, lib_entries, raw, spec, opt, text, opt_text, flags) -> dict:
        over_all = self.table(raw.get(section, {}), section)
        out = {}
        for name in {**lib_entries, **over_all}:
            key = f"{section}.{name}"
            lib = lib_entries.get(name, {})
            over = self.table(over_all.get(name, {}), key)
            allowed = {**spec, **opt, **text, **opt_text, **dict.fromkeys(flags, bool)}
            self.check_keys(over, key, allowed)
            entry = self.merge_params(lib, over, key, spec, opt)
            merged = {**lib, **over}
            for k, typ in text.items():
                entry[k] = self.typed(merged, key, k, typ)
            for k, typ in opt_text.items():
                v = self.typed(merged, key, k, typ, required=False)
                if v is not None:
                    entry[k] = v
            for f in flags:
                entry[f] = self.typed(merged, key, f, bool)
            out[name] = entry
        return out

    def check_price_year(self, key: str, year: object, setting: str) -> None:
        """A price year must be a year the setting's price index holds."""
        years = price_years(setting)
        if not years:
            self.fail(
                key, year, f"setting '{setting}' has no price index (evidence/price_indices.csv)"
            )
        if not (isinstance(year, int) and not isinstance(year, bool) and year in years):
            self.fail(
                key, year, f"must be a year of the {setting} price index, {years[0]}-{years[-1]}"
            )

    def text_entries(self, section, lib_entries, raw, required, optional) -> dict:
        """A table of named entries holding text fields only (comparators, outcomes)."""
        over_all = self.table(raw.get(section, {}), section)
        out = {}
        for name in {**lib_entries, **over_all}:
            key = f"{section}.{name}"
            over = self.table(over_all.get(name, {}), key)
            self.check_keys(over, key, (*required, *optional))
            merged = {**lib_entries.get(name, {}), **over}
            entry = {k: self.typed(merged, key, k, str) for k in required}
            for k in optional:
                if k in merged:
                    entry[k] = self.typed(merged, key, k, str)
            out[name] = entry
        return out

    def interactions(self, lib_entries: dict, raw: dict, params: dict) -> dict:
        """Interactions of components given together: excess multiplier and relapse HR."""
        over_all = self.table(raw.get("interactions", {}), "interactions")
        out = {}
        for name in {**lib_entries, **over_all}:
            key = f"interactions.{name}"
            over = self.table(over_all.get(name, {}), key)
            self.check_keys(over, key, {**INTERACTION_PARAMS, "label": str, "components": list})
            lib = lib_entries.get(name, {})
            entry = self.merge_params(lib, over, key, INTERACTION_PARAMS)
            merged = {**lib, **over}
            entry["label"] = self.typed(merged, key, "label", str)
            comps = self.typed(merged, key, "components", list)
            if not 2 <= len(comps) <= MAX_COMPONENTS or len(set(comps)) != len(comps):
                self.fail(
                    f"{key}.components",
                    comps,
                    f"must list 2 to {MAX_COMPONENTS} different treatments given together",
                )
            for j, c in enumerate(comps):
                if not _named(c, params["treatments"]):
                    self.unknown(f"{key}.components[{j}]", c, params["treatments"], "treatment")
            entry["components"] = list(comps)
            out[name] = entry
        return out

    def check_treatment(self, name, t, params, resources_known, setting) -> None:
        key = f"treatments.{name}"
        v = {k: p["value"] for k, p in t.items() if isinstance(p, dict) and "value" in p}
        if not _named(t["effect"], EFFECT_KINDS):
            self.fail(f"{key}.effect", t["effect"], f"must be one of {', '.join(EFFECT_KINDS)}")
        if t["effect"] == "absolute":
            if "response" not in v:
                self.fail(
                    f"{key}.response",
                    MISSING,
                    "required with effect = 'absolute': the single-arm response rate at trial_weeks",
                )
        else:
            if "response_effect" not in v:
                self.fail(
                    f"{key}.response_effect",
                    MISSING,
                    "required with effect = 'relative': the effect as reported (with measure and comparator)",
                )
            measure = t.get("measure", MISSING)
            if not _named(measure, MEASURES):
                self.fail(f"{key}.measure", measure, f"must be one of {', '.join(MEASURES)}")
            e = v["response_effect"]
            if measure in ("OR", "RR") and not e > 0:
                self.fail(
                    f"{key}.response_effect", e, f"must be a ratio greater than 0 ({measure})"
                )
            if measure == "RD" and not -1.0 < e < 1.0:
                self.fail(f"{key}.response_effect", e, "must be a risk difference between -1 and 1")
            comparator = t.get("comparator", MISSING)
            if comparator is MISSING:
                self.fail(
                    f"{key}.comparator",
                    MISSING,
                    f"a relative effect needs its comparator; known: {', '.join(sorted(params['comparators']))}",
                )
            if comparator not in params["comparators"]:
                self.unknown(f"{key}.comparator", comparator, params["comparators"], "comparator")
        status = t.get("evidence_status", "sufficient")
        if not _named(status, EVIDENCE_STATUS):
            self.fail(
                f"{key}.evidence_status", status, f"must be one of {', '.join(EVIDENCE_STATUS)}"
            )
        if t["outcome"] not in params["outcomes"]:
            self.unknown(f"{key}.outcome", t["outcome"], params["outcomes"], "outcome definition")
        if params["outcomes"][t["outcome"]]["kind"] != "response":
            self.fail(f"{key}.outcome", t["outcome"], "an effect on response: a response outcome")
        if v["onset_first_week"] > v["onset_last_week"]:
            self.fail(
                f"{key}.onset_first_week",
                v["onset_first_week"],
                f"must not exceed onset_last_week ({v['onset_last_week']})",
            )
        if v["onset_last_week"] > v["trial_weeks"]:
            self.fail(
                f"{key}.onset_last_week",
                v["onset_last_week"],
                f"must not exceed trial_weeks ({v['trial_weeks']})",
            )
        if ("relapse_t2" in v) != ("relapse_p2" in v):
            missing = "relapse_p2" if "relapse_t2" in v else "relapse_t2"
            self.fail(f"{key}.{missing}", MISSING, "relapse_t2 and relapse_p2 go together")
        if "relapse_t2" in v:
            if v["relapse_t2"] <= v["relapse_t1"]:
                self.fail(
                    f"{key}.relapse_t2",
                    v["relapse_t2"],
                    f"must be later than relapse_t1 ({v['relapse_t1']})",
                )
            if v["relapse_p2"] <= v["relapse_p1"]:
                self.fail(
                    f"{key}.relapse_p2",
                    v["relapse_p2"],
                    f"must be greater than relapse_p1 ({v['relapse_p1']})",
                )
        if not _named(t["relapse_entry"], RELAPSE_ENTRY):
            self.fail(
                f"{key}.relapse_entry",
                t["relapse_entry"],
                f"the relapse figure's state at entry: one of {', '.join(RELAPSE_ENTRY)}",
            )
        if not _named(t["relapse_design"], RELAPSE_DESIGNS):
            self.fail(
                f"{key}.relapse_design",
                t["relapse_design"],
                f"the relapse figure's kind of design: one of {', '.join(RELAPSE_DESIGNS)}",
            )
        if not _named(t["relapse_reference"], params["maintenance"]):
            self.fail(
                f"{key}.relapse_reference",
                t["relapse_reference"],
                f"unknown maintenance; known: {', '.join(sorted(params['maintenance']))}",
            )
        for rk in ("resource", "drug_per_week"):
            if rk in t and t[rk] not in resources_known:
                self.fail(
                    f"{key}.{rk}",
                    t[rk],
                    f"unknown resource in unit_costs.{setting}; known: {', '.join(sorted(resources_known))}",
                )
        if v["sessions"] > 0 and "resource" not in t:
            self.fail(f"{key}.resource", MISSING, "required when sessions > 0")

    def pathways(self, defaults: dict, raw: dict, params: dict) -> dict:
        over_all = self.table(raw.get("pathways", {}), "pathways")
        out = {}
        for name in {**defaults, **over_all}:
            # a default pathway the scenario leaves alone is checked against its own file
            # (a guideline step naming an unknown treatment names that file)
            own_file = self.file
            if name not in over_all:
                self.file = self.default_origin.get(name, own_file)
            try:
                out[name] = self.pathway(name, defaults, over_all, params)
            finally:
                self.file = own_file
        return out

    def pathway(self, name: str, defaults: dict, over_all: dict, params: dict) -> dict:
        """One pathway: its defaults (if any) with the scenario's fields over them."""
        key = f"pathways.{name}"
        over = self.table(over_all.get(name, {}), key)
        self.check_keys(over, key, PATHWAY_KEYS)
        p = {**copy.deepcopy(defaults.get(name, {})), **over}
        if "citations" not in over and over.keys() & CITED_FIELDS:
            # the defaults' citations no longer describe a pathway the scenario changed
            p.pop("citations", None)
        steps = self.steps(self.typed(p, key, "steps", list), f"{key}.steps", params)
        label = self.typed(p, key, "label", str, required=False) or name
        rule = p.get("on_relapse", "advance")
        if not _named(rule, ON_RELAPSE):
            self.fail(f"{key}.on_relapse", rule, f"must be one of {', '.join(ON_RELAPSE)}")
        ex = p.get("on_exhausted", "usual_care")
        if not _named(ex, ON_EXHAUSTED):
            self.fail(f"{key}.on_exhausted", ex, f"must be one of {', '.join(ON_EXHAUSTED)}")
        begin = p.get("start", "failed_trials")
        if not _named(begin, PATHWAY_STARTS):
            self.fail(f"{key}.start", begin, f"must be one of {', '.join(PATHWAY_STARTS)}")
        rules = self.rules(p.get("rules", []), f"{key}.rules", steps, params)
        if "rules" in over:  # (the defaults' rules serve any cohort: some may not apply)
            self.rules_can_fire(rules, f"{key}.rules", steps, begin, params)
        maint = self.table(p.get("maintenance", {"default": ["none"]}), f"{key}.maintenance")
        keys = ["default", USUAL_CARE, *(step_key(st) for st in steps)]
        keys += [step_key(r["components"]) for r in rules]
        if "maintenance" not in over:
            # default maintenance for a step the scenario's own steps no longer have
            # applies to nothing: drop it rather than refuse the scenario
            maint = {k: v for k, v in maint.items() if k in keys}
        self.check_keys(maint, f"{key}.maintenance", keys)
        for k, lst in maint.items():
            mk = f"{key}.maintenance.{k}"
            if not isinstance(lst, list) or not lst or len(lst) > MAX_MAINTENANCE:
                self.fail(mk, lst, f"must be a list of 1 to {MAX_MAINTENANCE} maintenance options")
            for j, m in enumerate(lst):
                if not _named(m, params["maintenance"]):
                    self.unknown(f"{mk}[{j}]", m, params["maintenance"], "maintenance")
        maint.setdefault("default", ["none"])
        durations = self.maintenance_duration(
            p, key, maint, params, own="maintenance_duration" in over
        )
        out = {
            "label": label,
            "steps": steps,
            "maintenance": maint,
            "on_relapse": rule,
            "on_exhausted": ex,
            "start": begin,
        }
        if durations:
            out["maintenance_duration"] = durations
        if rules:
            out["rules"] = rules
        if "note" in p:
            out["note"] = self.typed(p, key, "note", str)
        if "citations" in p:
            out["citations"] = self.citations(
                p["citations"], f"{key}.citations", out, params["maintenance"]
            )
        return out

    def maintenance_duration(self, p: dict, key: str, maint: dict, params: dict, own: bool) -> dict:
        """The pathway's duration policy per maintenance option: weeks or "horizon".
        A default's duration for an option the scenario's maintenance no longer gives
        applies to nothing and is dropped (`own`: the scenario wrote the table)."""
        node = self.table(p.get("maintenance_duration", {}), f"{key}.maintenance_duration")
        used = sorted({m for lst in maint.values() for m in lst})
        out: dict[str, float | str] = {}
        for m, d in node.items():
            dk = f"{key}.maintenance_duration.{m}"
            if not _named(m, params["maintenance"]):
                self.unknown(dk, m, params["maintenance"], "maintenance")
            if m not in used:
                if not own:
                    continue
                self.fail(
                    dk, d, f"the pathway gives no {m}; its maintenance options: {', '.join(used)}"
                )
            if d == MAINTENANCE_HORIZON:
                out[m] = d
            elif _is_number(d) and d >= 0:
                out[m] = float(d)
            else:
                self.fail(
                    dk,
                    d,
                    'must be a number of weeks (0 or more) or "horizon" (until relapse or the horizon)',
                )
        return out

    def citations(
        self, node: object, key: str, p: dict, durations: dict | None = None
    ) -> dict[str, str]:
        """Where each step, maintenance entry, rule and policy comes from (text);
        `durations`: the maintenance options a duration may be cited for (a pathway
        copied from another keeps its citations of options it does not give)."""
        cites = self.table(node, key)
        allowed = [f"step{i + 1}" for i in range(len(p["steps"]))]
        allowed += [f"maintenance.{k}" for k in p["maintenance"]]
        allowed += [f"maintenance_duration.{k}" for k in durations or {}]
        allowed += [f"rule{j + 1}" for j in range(len(p.get("rules", [])))]
        allowed += ["on_relapse", "on_exhausted", "start"]
        self.check_keys(cites, key, allowed)
        return {k: self.typed(cites, key, k, str) for k in cites}

    def check_prerequisites(self, name: str, p: dict, failed: int, params: dict) -> None:
        """Refuse a step whose treatment needs more failed trials than every patient
        reaching it has had: the cohort's failures at entry plus the earlier steps (from
        the entry step) that count as trials, for the steps as written and as each rule
        makes them."""
        steps = p["steps"]
        entry = entry_step(p, failed)
        treatments = params["treatments"]

        def needs(t: str) -> int:
            return int(treatments[t].get("requires_failed_trials", {}).get("value", 0))

        def counts(comps: list[str]) -> bool:
            return any(treatments[t]["counts_as_trial"] for t in comps)

        variants = [(f"pathways.{name}.steps", {})] + [
            (f"pathways.{name}.rules[{j}].components", {r["step"]: r["components"]})
            for j, r in enumerate(p.get("rules", []))
        ]
        for where, swap in variants:
            had = failed
            for s in range(entry, len(steps)):
                comps = swap.get(s, steps[s])
                for t in comps:
                    if needs(t) > had:
                        key = where if swap else f"{where}[{s}]"
                        self.fail(
                            key,
                            t,
                            f"needs {needs(t)} failed adequate trial(s) before it; a patient "
                            f"reaches step {s + 1} after {had} (cohort.failed_trials = {failed} "
                            "plus the earlier steps that count as trials)",
                        )
                had += counts(comps)

    def rules(self, raw: object, key: str, steps: list, params: dict) -> list[dict]:
        """Personalised rules: for patients whose attribute satisfies `when`, `components`
        replace those of step `step` (1-based, as a reader counts the steps)."""
        if not isinstance(raw, list):
            self.fail(key, raw, "must be a list of rules ([[pathways.NAME.rules]] tables)")
        out = []
        for j, r in enumerate(raw):
            rk = f"{key}[{j}]"
            r = self.table(r, rk)
            self.check_keys(r, rk, RULE_KEYS)
            step = self.typed(r, rk, "step", int)
            if not 1 <= step <= len(steps):
                self.fail(f"{rk}.step", step, f"must be a step number from 1 to {len(steps)}")
            when = self.typed(r, rk, "when", str)
            try:
                attr, op, value = parse_condition(when)
            except ValueError as e:
                self.fail(f"{rk}.when", when, str(e))
            comps = r.get("components", MISSING)
            if comps is MISSING or comps == [] or comps == "":
                self.fail(
                    f"{rk}.components",
                    comps,
                    f"must select 1 to {MAX_COMPONENTS} treatments (a rule that selects no "
                    "component gives nobody a treatment)",
                )
            comps = self.components(comps, f"{rk}.components", params)
            rule = {"step": step - 1, "attribute": attr, "op": op, "value": value}
            rule |= {"when": when, "components": comps}
            if "why" in r:
                rule["why"] = self.typed(r, rk, "why", str)
            out.append(rule)
        combos = 1
        for s in range(len(steps)):
            combos *= 1 + sum(r["step"] == s for r in out)
        if combos > MAX_VARIANTS:
            self.fail(
                key,
                f"{len(out)} rules",
                f"must give at most {MAX_VARIANTS} combinations of rule choices (these give {combos})",
            )
        return out

    def rules_can_fire(
        self, rules: list[dict], key: str, steps: list, begin: str, params: dict
    ) -> None:
        """Refuse a rule no patient can meet: a NaN threshold, one outside the attribute's
        values in this cohort (sex is 0 or 1; the flags too; age and severity within the
        cohort's range; failed trials among the cohort's), or one on a step before the
        cohort enters the pathway."""
        import math

        c = params["cohort"]
        shares = getattr(self, "fewest_failed", None)
        first = 0 if begin == "first" or shares is None else min(shares, len(steps) - 1)
        flags = {"sex": "0 (male) or 1 (female)", "maltreatment": "0 or 1",
                 "inflammation": "0 or 1", "chronic": "0 or 1"}  # fmt: skip
        for j, r in enumerate(rules):
            rk = f"{key}[{j}]"
            attr, op, v = r["attribute"], r["op"], r["value"]
            fire = RULE_TESTS[op]
            if math.isnan(v):
                self.fail(f"{rk}.when", r["when"], "the threshold must be a number, not nan")
            if attr in flags:
                if not any(fire(x, v) for x in (0.0, 1.0)):
                    self.fail(f"{rk}.when", r["when"], f"never true: {attr} is {flags[attr]}")
            elif attr in ("age", "severity"):
                lo, hi = c[f"{attr}_min"]["value"], c[f"{attr}_max"]["value"]
                if not _meets_range(op, v, lo, hi):
                    self.fail(
                        f"{rk}.when",
                        r["when"],
                        f"never true: the cohort's {attr} runs from {lo:g} to {hi:g} "
                        f"(cohort.{attr}_min, cohort.{attr}_max)",
                    )
            if r["step"] < first:
                self.fail(
                    f"{rk}.step",
                    r["step"] + 1,
                    f"never reached: the cohort enters this pathway at step {first + 1} "
                    f"(cohort.failed_trials = {shares}); a rule needs a step from {first + 1}",
                )

    def steps(self, steps: list, key: str, params: dict) -> list[list[str]]:
        """Steps as lists of components: a name is a one-component step."""
        if not steps:
            self.fail(key, steps, "must list at least one step")
        return [self.components(st, f"{key}[{i}]", params) for i, st in enumerate(steps)]

    def components(self, st: object, key: str, params: dict) -> list[str]:
        """One step: a treatment name, or a list of treatments given together."""
        comps = [st] if isinstance(st, str) else st
        if not isinstance(comps, list) or not 1 <= len(comps) <= MAX_COMPONENTS:
            self.fail(
                key,
                st,
                f"must be a treatment or a list of 1 to {MAX_COMPONENTS} treatments given together",
            )
        for j, c in enumerate(comps):
            where = key if isinstance(st, str) else f"{key}[{j}]"
            if not isinstance(c, str) or c not in params["treatments"]:
                self.unknown(where, c, params["treatments"], "treatment")
        if len(set(comps)) != len(comps):
            self.fail(key, st, "must not name a treatment twice")
        return list(comps)

    def finish(
        self, s, raw, settings, setting, perspective, start, shares, params, pathways
    ) -> Scenario:
        failed = min(shares)
        name = self.typed(s, "scenario", "name", str)
        if not SAFE_NAME.fullmatch(name):
            # the name is the results folder's: it must not climb out of results/
            self.fail(
                "scenario.name",
                name,
                "must be a plain folder name: letters, digits, '_', '-' and '.', starting "
                "with a letter or digit (e.g. 'uk_nhs_high_cost')",
            )
        horizon = self.typed(s, "scenario", "horizon_weeks", int)
        if not 1 <= horizon <= 52 * 100:
            self.fail("scenario.horizon_weeks", horizon, "must be between 1 and 5200 weeks")
        rates = {}
        for k in ("discount_costs", "discount_qalys"):
            r = self.typed(s, "scenario", k, float)
            if not 0.0 <= r < 1.0:
                self.fail(f"scenario.{k}", r, "must be an annual rate in [0, 1), e.g. 0.035")
            rates[k] = float(r)
        thresholds = self.typed(s, "scenario", "thresholds", list)
        if not thresholds or not all(_is_number(x) and x >= 0 for x in thresholds):
            self.fail(
                "scenario.thresholds",
                thresholds,
                "must be a non-empty list of numbers >= 0 (per QALY)",
            )
        if any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
            self.fail("scenario.thresholds", thresholds, "must be strictly increasing")
        table = (
            self.typed(s, "scenario", "life_table", str)
            if "life_table" in s
            else settings[setting]["life_table"]
        )
        tables = sorted(life_tables().table.unique())
        if table not in tables:
            self.fail("scenario.life_table", table, f"must be one of {', '.join(tables)}")
        arms = self.typed(s, "scenario", "arms", list)
        if len(arms) < 1:
            self.fail("scenario.arms", arms, "must name at least one pathway")
        for i, a in enumerate(arms):
            if not _named(a, pathways):
                self.fail(
                    f"scenario.arms[{i}]",
                    a,
                    f"unknown pathway; known: {', '.join(sorted(pathways))}",
                )
        if len(set(arms)) != len(arms):
            self.fail("scenario.arms", arms, "must not name a pathway twice")
        most = max(shares)
        for a in arms:
            n_steps = len(pathways[a]["steps"])
            if pathways[a]["start"] == "failed_trials" and n_steps > 1 and most >= n_steps:
                self.fail(
                    "cohort.failed_trials",
                    raw.get("cohort", {}).get("failed_trials", most),
                    f"must be fewer than the {n_steps} steps of pathway '{a}' "
                    '(or give the pathway start = "first")',
                )
        for a in arms:
            for f in shares:
                self.check_prerequisites(a, pathways[a], f, params)
        patients = self.typed(s, "scenario", "patients", int)
        if patients < 1:
            self.fail("scenario.patients", patients, "must be at least 1")
        seed = self.typed(s, "scenario", "seed", int)
        if not 0 <= seed <= MAX_SEED:
            self.fail("scenario.seed", seed, f"must be between 0 and {MAX_SEED} (2**63 - 1)")
        return Scenario(
            name=name,
            source=self.file,
            description=s.get("description", ""),
            setting=setting,
            currency=settings[setting]["currency"],
            price_year=settings[setting]["price_year"],
            perspective=perspective,
            horizon_weeks=horizon,
            discount_costs=rates["discount_costs"],
            discount_qalys=rates["discount_qalys"],
            thresholds=[float(x) for x in thresholds],
            life_table=table,
            arms=list(arms),
            patients=patients,
            seed=seed,
            start=start,
            failed_trials=failed,
            params=params,
            pathways=pathways,
            raw=copy.deepcopy(raw),
            failed_trials_shares=shares,
        )

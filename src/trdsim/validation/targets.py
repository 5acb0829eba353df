"""Calibration and validation targets as data (see evidence/targets.toml for the format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from trdsim.errors import MISSING, ScenarioError
from trdsim.scenario import load_scenario, read_toml

__all__ = [
    "DESIGN_SETTINGS",
    "MEASURES",
    "REQUIRED",
    "Target",
    "default_targets_file",
    "load_targets",
]

SETTINGS = ("acute", "relapse", "hazard_ratio", "trial", "economic")
MEASURES = ("response", "remission")
# a design scenario's figures: a trial's outcome at a week, or an economic result
TRIAL_MEASURES = ("share", "difference", "odds_ratio")
ECONOMIC_MEASURES = ("icer", "inc_cost", "inc_qaly", "p_ce")
QUADRANTS = ("NE", "SE", "SW", "NW")  # of (incremental QALYs, incremental cost)
DESIGN_SETTINGS = ("trial", "economic")
RESPONDERS = ("all", "remitters", "partial")
REQUIRED = ("id", "description", "source", "setting")
ALLOWED = {
    *REQUIRED,
    "verified", "cohort", "steps", "measure", "treatment", "maintenance", "versus",
    "responders", "week", "value", "tolerance", "range", "events", "n", "overdispersion",
    "scenario", "arm", "outcome", "threshold", "quadrant", "draws", "patients", "study",
    "dependent",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One published figure, the setting that reproduces it, and what counts as agreement."""

    id: str
    description: str
    source: str
    setting: str
    verified: str = ""
    cohort: dict = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    measure: str = ""
    treatment: str | list[str] = ""  # a treatment, or a step of components given together
    maintenance: list[str] | None = None
    versus: list[str] | None = None
    responders: str = "all"
    week: int = 0
    value: float | None = None
    tolerance: float | None = None
    range: tuple[float, float] | None = None
    events: int | None = None
    n: int | None = None
    overdispersion: float | None = None
    # design targets (setting "trial" or "economic"): the design scenario file, the arm
    # and its comparator, and what a figure of that kind needs
    scenario: str = ""
    arm: str = ""
    outcome: str = ""
    threshold: float | None = None  # willingness to pay, for p_ce
    quadrant: str = ""  # the published figure's quadrant, for icer
    draws: int = 200  # PSA draws, for p_ce
    patients: int | None = None  # simulated patients (default: validate's)
    study: str = ""
    dependent: bool = False  # the study also supplies an input of the library

    @property
    def components(self) -> list[str]:
        """The treatment a relapse target follows, as a step's components."""
        return [self.treatment] if isinstance(self.treatment, str) else list(self.treatment)

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval of agreement."""
        if self.range is not None:
            return self.range
        return self.value - self.tolerance, self.value + self.tolerance

    @property
    def centre(self) -> float:
        """The figure itself (the middle of a range that has no point value)."""
        return self.value if self.value is not None else sum(self.range) / 2

    def agrees(self, model: float, quadrant: str = "") -> bool:
        """Inside the interval of agreement; an ICER also in the published quadrant (and
        a dominant or dominated result needs only the quadrant: it has no ICER band)."""
        if self.measure == "icer":
            if quadrant != self.quadrant:
                return False
            if self.quadrant in ("SE", "NW"):
                return True
        lo, hi = self.bounds
        return lo <= model <= hi


def default_targets_file() -> Path:
    """The bundled validation targets (evidence/targets.toml)."""
    return Path(str(resources.files("trdsim.evidence").joinpath("targets.toml")))


def load_targets(path: str | Path | None = None, scenario=None) -> list[Target]:
    """Read and check a targets file (default: the bundled one).

    With a scenario, treatment and maintenance names are checked against it too.
    """
    p = Path(path) if path is not None else default_targets_file()
    if not p.is_file():
        raise ScenarioError(str(p), "(file)", MISSING, "no such targets file")
    raw = read_toml(p, "targets file")
    entries = raw.get("target")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(str(p), "target", MISSING, "needs at least one [[target]] table")
    out, seen = [], set()
    for i, t in enumerate(entries):
        out.append(_check(p, f"target[{i}]", t, scenario))
        if out[-1].id in seen:
            raise ScenarioError(str(p), f"target[{i}].id", out[-1].id, "must be unique")
        seen.add(out[-1].id)
    return out


def _check(p: Path, key: str, t: dict, scenario) -> Target:
    def fail(k, v, allowed):
        raise ScenarioError(str(p), f"{key}.{k}", v, allowed)

    if not isinstance(t, dict):
        raise ScenarioError(str(p), key, t, "must be a table")
    for k in t:
        if k not in ALLOWED:
            fail(k, t[k], f"unknown key; allowed: {', '.join(sorted(ALLOWED))}")
    for k in REQUIRED:
        if not isinstance(t.get(k), str) or not t[k]:
            fail(k, t.get(k, MISSING), "required text")
    if t["setting"] not in SETTINGS:
        fail("setting", t["setting"], f"must be one of {', '.join(SETTINGS)}")

    def proportion(k, v, allowed="a proportion between 0 and 1"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            fail(k, v, f"must be {allowed}")

    is_hr = t["setting"] == "hazard_ratio"
    if t["setting"] in DESIGN_SETTINGS:
        return _check_design(p, fail, t)
    if "value" in t:
        if is_hr:
            if (
                isinstance(t["value"], bool)
                or not isinstance(t["value"], (int, float))
                or t["value"] <= 0
            ):
                fail("value", t["value"], "must be a hazard ratio > 0")
        else:
            proportion("value", t["value"])
    rng = t.get("range")
    if rng is not None:
        if not isinstance(rng, list) or len(rng) != 2:
            fail("range", rng, "must be [low, high]")
        for j, v in enumerate(rng):
            if is_hr:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                    fail(f"range[{j}]", v, "must be a hazard ratio > 0")
            else:
                proportion(f"range[{j}]", v)
        if rng[0] > rng[1]:
            fail("range", rng, "low must not exceed high")
    elif "value" not in t or "tolerance" not in t:
        fail("value", t.get("value", MISSING), "give value and tolerance, or range = [low, high]")
    if "tolerance" in t:
        tol = t["tolerance"]
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol <= 1:
            fail("tolerance", tol, "must be a number in (0, 1]")
    if ("events" in t) != ("n" in t):
        fail("n" if "events" in t else "events", MISSING, "events and n go together")
    if "n" in t:
        n, ev = t["n"], t["events"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            fail("n", n, "must be a whole number >= 1")
        if not isinstance(ev, int) or isinstance(ev, bool) or not 0 <= ev <= n:
            fail("events", ev, f"must be a whole number between 0 and n ({n})")
    if "overdispersion" in t:
        rho = t["overdispersion"]
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho < 1:
            fail("overdispersion", rho, "must be in (0, 1)")
    known_t = set(scenario.params["treatments"]) if scenario is not None else None
    known_m = set(scenario.params["maintenance"]) if scenario is not None else None
    if t["setting"] == "acute":
        steps = t.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
            fail("steps", steps, "must list the treatment steps")
        for j, s in enumerate(steps):
            if known_t is not None and s not in known_t:
                fail(f"steps[{j}]", s, "unknown treatment in this scenario")
        if t.get("measure") not in MEASURES:
            fail("measure", t.get("measure", MISSING), f"must be one of {', '.join(MEASURES)}")
        cohort = t.get("cohort", {})
        if not isinstance(cohort, dict) or set(cohort) - {"start", "failed_trials"}:
            fail("cohort", cohort, "a table with start and failed_trials")
        failed = cohort.get("failed_trials", 0)
        if not isinstance(failed, int) or isinstance(failed, bool) or not 0 <= failed < len(steps):
            fail("cohort.failed_trials", failed, f"must be a whole number below {len(steps)}")
    else:
        tr = t.get("treatment")
        comps = [tr] if isinstance(tr, str) else tr
        ok = isinstance(comps, list) and comps and all(isinstance(c, str) for c in comps)
        if not ok or (known_t is not None and not set(comps) <= known_t):
            fail(
                "treatment",
                tr if tr is not None else MISSING,
                "a treatment of the scenario, or a list of treatments given together",
            )
        failed = t.get("cohort", {}).get("failed_trials", 0)
        if not isinstance(failed, int) or isinstance(failed, bool) or failed < 0:
            fail("cohort.failed_trials", failed, "must be a whole number, 0 or more")
        week = t.get("week")
        if not isinstance(week, int) or isinstance(week, bool) or week < 1:
            fail("week", week if week is not None else MISSING, "a whole number of weeks >= 1")
        for k in ("maintenance", "versus"):
            lst = t.get(k)
            if lst is None:
                if k == "versus" and is_hr:
                    fail(k, MISSING, "a hazard ratio needs the comparator's maintenance list")
                continue
            if not isinstance(lst, list) or not lst or not all(isinstance(m, str) for m in lst):
                fail(k, lst, "a list of maintenance options")
            for j, m in enumerate(lst):
                if known_m is not None and m not in known_m:
                    fail(f"{k}[{j}]", m, "unknown maintenance in this scenario")
        if t.get("responders", "all") not in RESPONDERS:
            fail("responders", t["responders"], f"must be one of {', '.join(RESPONDERS)}")
    rng_tuple = tuple(float(v) for v in rng) if rng is not None else None
    return Target(
        **{k: v for k, v in t.items() if k != "range"},
        range=rng_tuple,
    )


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_design(p: Path, fail, t: dict) -> Target:
    """A figure of a design scenario (a trial's or an economic evaluation's)."""
    design = t.get("scenario")
    if not isinstance(design, str) or not design:
        fail("scenario", t.get("scenario", MISSING), "the design scenario file")
    path = (p.parent / design) if not Path(design).is_absolute() else Path(design)
    if not path.is_file():
        fail("scenario", design, f"no such file (looked for {path})")
    sc = load_scenario(str(path))
    m = t.get("measure")
    allowed = TRIAL_MEASURES if t["setting"] == "trial" else ECONOMIC_MEASURES
    if m not in allowed:
        fail("measure", m if m is not None else MISSING, f"must be one of {', '.join(allowed)}")
    arm = t.get("arm")
    if arm not in sc.arms:
        fail(
            "arm", arm if arm is not None else MISSING, f"an arm of {design}: {', '.join(sc.arms)}"
        )
    needs_versus = m != "share"
    versus = t.get("versus")
    if needs_versus:
        if not isinstance(versus, str) or versus not in sc.arms or versus == arm:
            fail(
                "versus",
                versus if versus is not None else MISSING,
                f"the comparator arm (another arm of {design}: {', '.join(sc.arms)})",
            )
    elif versus is not None:
        fail("versus", versus, "not used by measure 'share'")
    if t["setting"] == "trial":
        if sc.trial is None:
            fail("scenario", design, "a trial target needs a design with a [trial] section")
        if t.get("outcome") not in sc.trial["outcomes"]:
            fail(
                "outcome",
                t.get("outcome", MISSING),
                f"one of the trial's outcomes: {', '.join(sc.trial['outcomes'])}",
            )
        if t.get("week") not in sc.trial["assess_weeks"]:
            fail(
                "week",
                t.get("week", MISSING),
                f"one of the trial's assessment weeks: {sc.trial['assess_weeks']}",
            )
    if m == "p_ce":
        lam = t.get("threshold")
        if not _number(lam) or lam < 0:
            fail(
                "threshold",
                lam if lam is not None else MISSING,
                "willingness to pay per QALY, >= 0",
            )
        d = t.get("draws", 200)
        if not isinstance(d, int) or isinstance(d, bool) or d < 2:
            fail("draws", d, "a whole number of PSA draws, at least 2")
    if m == "icer" and t.get("quadrant") not in QUADRANTS:
        fail(
            "quadrant",
            t.get("quadrant", MISSING),
            f"the published result's quadrant ({', '.join(QUADRANTS)}: NE = more costly and more effective)",
        )
    rng = t.get("range")
    if m == "odds_ratio":  # an odds ratio is positive: a target at or below 0 cannot agree
        if _number(t.get("value")) and t["value"] <= 0:
            fail("value", t["value"], "must be an odds ratio > 0")
        for j, v in enumerate(rng if isinstance(rng, list) else []):
            if _number(v) and v <= 0:
                fail(f"range[{j}]", v, "must be an odds ratio > 0")
    if rng is not None:
        if not isinstance(rng, list) or len(rng) != 2 or not all(_number(v) for v in rng):
            fail("range", rng, "must be [low, high]")
        if rng[0] > rng[1]:
            fail("range", rng, "low must not exceed high")
    elif not (_number(t.get("value")) and _number(t.get("tolerance")) and t["tolerance"] > 0):
        fail(
            "value", t.get("value", MISSING), "give value and tolerance > 0, or range = [low, high]"
        )
    if "value" in t and not _number(t["value"]):
        fail("value", t["value"], "must be a number")
    if m in ("share", "p_ce"):
        for k, v in [("value", t.get("value"))] + [
            (f"range[{j}]", v) for j, v in enumerate(rng or [])
        ]:
            if v is not None and not 0.0 <= v <= 1.0:
                fail(k, v, "must be a proportion between 0 and 1")
    n = t.get("patients")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        fail("patients", n, "a whole number of patients, at least 1")
    if not isinstance(t.get("dependent", False), bool):
        fail("dependent", t["dependent"], "true or false")
    rng_tuple = tuple(float(v) for v in rng) if rng is not None else None
    return Target(
        **{k: v for k, v in t.items() if k not in ("range", "scenario", "versus")},
        scenario=str(path),
        versus=[versus] if needs_versus else None,
        range=rng_tuple,
    )

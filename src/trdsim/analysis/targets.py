"""Calibration and validation targets as data (see evidence/targets.toml for the format)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from trdsim.errors import MISSING, ScenarioError

SETTINGS = ("acute", "relapse", "hazard_ratio")
MEASURES = ("response", "remission")
RESPONDERS = ("all", "remitters", "partial")
REQUIRED = ("id", "description", "source", "setting")
ALLOWED = {
    *REQUIRED,
    "verified", "cohort", "steps", "measure", "treatment", "maintenance", "versus",
    "responders", "week", "value", "tolerance", "range", "events", "n", "overdispersion",
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

    def agrees(self, model: float) -> bool:
        lo, hi = self.bounds
        return lo <= model <= hi


def default_targets_file() -> Path:
    return Path(str(resources.files("trdsim.evidence").joinpath("targets.toml")))


def load_targets(path: str | Path | None = None, scenario=None) -> list[Target]:
    """Read and check a targets file (default: the bundled one).

    With a scenario, treatment and maintenance names are checked against it too.
    """
    p = Path(path) if path is not None else default_targets_file()
    if not p.is_file():
        raise ScenarioError(str(p), "(file)", MISSING, "no such targets file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(p), "(file)", MISSING, f"not valid TOML: {e}") from None
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

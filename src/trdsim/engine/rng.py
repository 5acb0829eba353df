"""Counter-based random numbers.

Every draw is a pure function of (seed, patient id, week, purpose), built from the
splitmix64 finaliser. Nothing is carried from one draw to the next, so results do not
depend on thread count or chunking, and the same patient meets the same numbers in
every arm (common random numbers).
"""

from dataclasses import dataclass

import numba
import numpy as np

__all__ = [
    "COMPONENT_SLOTS",
    "PURPOSES",
    "P_AGE",
    "P_ARRIVALS",
    "P_CHRONIC",
    "P_DEATH",
    "P_DEATH_CAUSE",
    "P_DEEPEN",
    "P_DROPOUT",
    "P_DROP_WEEK",
    "P_FAILED",
    "P_FLEXIBILITY",
    "P_INFLAMMATION",
    "P_LEAVE",
    "P_MALTREATMENT",
    "P_PSA",
    "P_RELAPSE",
    "P_REMISSION",
    "P_RESPONSE",
    "P_SEVERITY",
    "P_SEX",
    "P_SUDDEN_GAIN",
    "Purpose",
    "standard_normal",
    "uniform",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_WEEK_MUL = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# The one registry of purposes: every stream of random numbers is declared here, by
# name, once: (first purpose, how many it spans, what it draws). A family spans several
# purposes, `first + offset`. Numbers never change (a new purpose takes a free one): a
# renumbering changes results. Two streams may not share a purpose, or the same uniform
# decides two things (the care system's referrals once used patient w's severity redraw).
COMPONENT_SLOTS = 3  # component slots of a step (layout.MAX_COMPONENTS; tested equal)


@dataclass(frozen=True)
class Purpose:
    """A declared stream: purposes first .. first + width - 1, keyed by (pid, week)."""

    name: str
    first: int
    width: int
    what: str

    @property
    def last(self) -> int:
        """The last purpose the stream uses."""
        return self.first + self.width - 1


PURPOSES: tuple[Purpose, ...] = (
    # the clinical model (engine.kernel): pid a patient, week the model week (-1: entry)
    Purpose("P_DEATH", 1, 1, "Exp(1) death budget, drawn at entry"),
    Purpose("P_RESPONSE", 2, 1, "Exp(1) response budget, drawn when a depressive episode starts"),
    Purpose("P_REMISSION", 6, 1, "does a response come as a remission"),
    Purpose("P_SUDDEN_GAIN", 7, 1, "a sudden gain in psychotherapy"),
    Purpose("P_RELAPSE", 8, 1, "Exp(1) relapse budget"),
    Purpose("P_DEEPEN", 9, 1, "Exp(1) budget of a responder deepening into remission"),
    Purpose("P_DROPOUT", 10, COMPONENT_SLOTS, "+ component slot: does it stop for intolerance"),
    Purpose("P_DROP_WEEK", 13, COMPONENT_SLOTS, "+ component slot: the week it stops"),
    Purpose("P_DEATH_CAUSE", 16, 1, "at death while depressed: suicide or another cause"),
    # the cohort (cohort.py): pid a patient, week -1 (and 0: standard_normal's second)
    # (age and severity: one uniform each, by the truncated normal's inverse CDF; 21-35
    # and 61-75 were their rejection attempts' until trdsim 0.3: left free)
    Purpose("P_AGE", 20, 1, "age at entry (truncated normal, inverse CDF)"),
    Purpose("P_SEX", 40, 1, "sex"),
    Purpose("P_SEVERITY", 41, 1, "baseline severity (HRSD-17; truncated normal, inverse CDF)"),
    Purpose("P_MALTREATMENT", 43, 1, "childhood maltreatment"),
    Purpose("P_INFLAMMATION", 44, 1, "raised CRP"),
    Purpose("P_FLEXIBILITY", 45, 1, "psychological flexibility (standard normal)"),
    Purpose("P_CHRONIC", 46, 1, "chronic episode"),
    Purpose("P_FAILED", 47, 1, "failed trials at entry, from the cohort's distribution"),
    # the PSA (analysis/sampling.py): pid the draw, week the parameter's stream code
    Purpose("P_PSA", 60, 1, "a parameter's uniform in a PSA draw"),
    # the care system (care_system.py)
    Purpose("P_ARRIVALS", 80, 1, "referrals in week w (pid w, week -1): a Poisson count"),
    Purpose("P_LEAVE", 81, 1, "does a waiting patient leave care this week"),
)

_BY_NAME = {p.name: p.first for p in PURPOSES}
# module constants, read by numba as compile-time integers
P_DEATH = _BY_NAME["P_DEATH"]
P_RESPONSE = _BY_NAME["P_RESPONSE"]
P_REMISSION = _BY_NAME["P_REMISSION"]
P_SUDDEN_GAIN = _BY_NAME["P_SUDDEN_GAIN"]
P_RELAPSE = _BY_NAME["P_RELAPSE"]
P_DEEPEN = _BY_NAME["P_DEEPEN"]
P_DROPOUT = _BY_NAME["P_DROPOUT"]
P_DROP_WEEK = _BY_NAME["P_DROP_WEEK"]
P_DEATH_CAUSE = _BY_NAME["P_DEATH_CAUSE"]
P_AGE = _BY_NAME["P_AGE"]
P_SEX = _BY_NAME["P_SEX"]
P_SEVERITY = _BY_NAME["P_SEVERITY"]
P_MALTREATMENT = _BY_NAME["P_MALTREATMENT"]
P_INFLAMMATION = _BY_NAME["P_INFLAMMATION"]
P_FLEXIBILITY = _BY_NAME["P_FLEXIBILITY"]
P_CHRONIC = _BY_NAME["P_CHRONIC"]
P_FAILED = _BY_NAME["P_FAILED"]
P_PSA = _BY_NAME["P_PSA"]
P_ARRIVALS = _BY_NAME["P_ARRIVALS"]
P_LEAVE = _BY_NAME["P_LEAVE"]


@numba.njit(inline="always", cache=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(inline="always", cache=True)
def uniform(seed, pid, week, purpose):
    """A uniform number in [0, 1) for (seed, patient, week, purpose); week may be -1."""
    z = _mix(np.uint64(seed) * _GOLDEN + np.uint64(pid))
    z = _mix(z ^ (np.uint64(week + 1) * _WEEK_MUL + np.uint64(purpose)))
    return np.float64(z >> _S11) * _INV53


@numba.njit(inline="always", cache=True)
def standard_normal(seed, pid, purpose):
    """A standard normal number by Box-Muller from two counter-based uniforms."""
    u1 = uniform(seed, pid, -1, purpose)
    u2 = uniform(seed, pid, 0, purpose)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)

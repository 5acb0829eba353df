"""Counter-based random numbers.

Every draw is a pure function of (seed, patient id, week, purpose), built from the
splitmix64 finaliser. Nothing is carried from one draw to the next, so results do not
depend on thread count or chunking, and the same patient meets the same numbers in
every arm (common random numbers).
"""

import numba
import numpy as np

__all__ = [
    "P_AGE",
    "P_CHRONIC",
    "P_DEATH",
    "P_DEATH_CAUSE",
    "P_DEEPEN",
    "P_DROPOUT",
    "P_DROP_WEEK",
    "P_FAILED",
    "P_FLEXIBILITY",
    "P_INFLAMMATION",
    "P_MALTREATMENT",
    "P_RELAPSE",
    "P_REMISSION",
    "P_RESPONSE",
    "P_SEVERITY",
    "P_SEVERITY_RETRY",
    "P_SEX",
    "P_SUDDEN_GAIN",
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

# Purposes: one stream per kind of decision. Never renumber: it changes results.
P_DEATH = 1
P_RESPONSE = 2  # Exp(1) response budget, drawn when a depressive episode starts
P_REMISSION = 6
P_SUDDEN_GAIN = 7
P_RELAPSE = 8
P_DEEPEN = 9  # Exp(1) budget of a responder deepening into remission
P_DROPOUT = 10  # + component slot: does the component stop for intolerance
P_DROP_WEEK = 13  # + component slot: the week it stops
P_DEATH_CAUSE = 16  # at death while depressed: suicide or another cause
P_AGE = 20  # cohort attributes; +k for the k-th rejection attempt
P_SEX = 40
P_SEVERITY = 41
P_MALTREATMENT = 43
P_INFLAMMATION = 44
P_FLEXIBILITY = 45
P_CHRONIC = 46
P_FAILED = 47  # failed trials at entry, drawn from the cohort's distribution
P_SEVERITY_RETRY = 60  # +k for the k-th redraw of a severity outside the cohort's range


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

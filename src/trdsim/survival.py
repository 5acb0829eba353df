"""Kaplan-Meier estimates and cumulative incidence from per-patient event weeks."""

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = [
    "WEEK_COLUMNS",
    "at_risk_at",
    "ever_remitted",
    "greenwood_band",
    "kaplan_meier",
    "relapse_free",
    "with_coded_weeks",
    "with_null_weeks",
]


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Survival S(t) at each distinct time, product-limit estimator.

    time: weeks to event or censoring (>= 0); event: True where the event was observed.
    Returns columns time, at_risk, events, survival, starting at time 0 with S = 1.
    """
    time = np.asarray(time, dtype=np.int64)
    event = np.asarray(event, dtype=bool)
    if time.size == 0:
        return pd.DataFrame({"time": [0], "at_risk": [0], "events": [0], "survival": [1.0]})
    ts, where, leaving = np.unique(time, return_inverse=True, return_counts=True)
    events = np.bincount(where[event], minlength=ts.size)
    at_risk = time.size - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    surv = np.cumprod(1.0 - events / at_risk)
    out = pd.DataFrame({"time": ts, "at_risk": at_risk, "events": events, "survival": surv})
    if ts[0] != 0:
        head = pd.DataFrame({"time": [0], "at_risk": [time.size], "events": [0], "survival": [1.0]})
        out = pd.concat([head, out], ignore_index=True)
    return out


def greenwood_band(km: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Pointwise confidence band of a `kaplan_meier` table: Greenwood's variance on the
    log(-log S) scale (Kalbfleisch & Prentice), so the band stays inside [0, 1].

    Returns columns time, lower, upper (one row per row of `km`). Where S = 1 the band
    is [1, 1]; where S reaches 0 the lower bound is 0 and the upper bound keeps its
    last value (Greenwood's variance is undefined there).
    """
    n = km.at_risk.to_numpy(dtype=float)
    d = km.events.to_numpy(dtype=float)
    s = km.survival.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(d > 0, d / (n * (n - d)), 0.0)
        var = np.cumsum(terms)  # Greenwood: Var(log S) = sum d / (n (n - d))
        z = norm.ppf(0.5 + level / 2)
        inside = (s > 0) & (s < 1) & np.isfinite(var)
        se = np.where(inside, np.sqrt(var) / np.abs(np.log(np.where(inside, s, 0.5))), 0.0)
        lower = np.where(inside, s ** np.exp(z * se), s)
        upper = np.where(inside, s ** np.exp(-z * se), s)
    upper = pd.Series(np.where(s > 0, upper, np.nan)).ffill().fillna(0.0).to_numpy()
    return pd.DataFrame({"time": km.time.to_numpy(), "lower": lower, "upper": upper})


def at_risk_at(km: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Numbers at risk just before each of `times`, from a `kaplan_meier` table."""
    t = km.time.to_numpy()
    n = km.at_risk.to_numpy()
    # last row's at-risk minus its leavers is unknown here; past the last time nobody
    # is counted (every patient has had an event or been censored by then)
    idx = np.searchsorted(t, np.asarray(times), side="left")
    return np.where(idx < len(t), n[np.minimum(idx, len(t) - 1)], 0)


# event weeks of the patient table: null where the event never happened
WEEK_COLUMNS = (
    "first_remission_week",
    "first_response_week",
    "first_followup_week",
    "first_relapse_week",
    "top_step_start_week",
    "death_week",
)


def with_null_weeks(patients: pd.DataFrame) -> pd.DataFrame:
    """The patient table as published: event weeks that never happened are nulls
    (nullable integers), not the kernel's -1."""
    out = patients.copy()
    for c in WEEK_COLUMNS:
        if c in out.columns:
            out[c] = out[c].astype("Int16").mask(out[c] < 0)
    return out


def with_coded_weeks(patients: pd.DataFrame) -> pd.DataFrame:
    """The patient table with missing event weeks as -1 (plain integers), for arithmetic
    on whole columns; the inverse of with_null_weeks."""
    if not any(
        c in patients.columns and isinstance(patients[c].dtype, pd.api.extensions.ExtensionDtype)
        for c in WEEK_COLUMNS
    ):
        return patients
    out = patients.copy()
    for c in WEEK_COLUMNS:
        if c in out.columns:
            out[c] = out[c].fillna(-1).astype(np.int16)
    return out


def relapse_free(patients: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Relapse-free survival of responders from the end of their first responding course.

    Censored at death or the horizon. One block of rows per arm.
    """
    frames = []
    for arm, d in with_coded_weeks(patients).groupby("arm", sort=False, observed=True):
        r = d[d.first_followup_week >= 0]
        relapsed = r.first_relapse_week >= 0
        end = np.where(r.death_week >= 0, r.death_week, horizon)
        t = np.where(relapsed, r.first_relapse_week, end) - r.first_followup_week
        frames.append(kaplan_meier(t.to_numpy(), relapsed.to_numpy()).assign(arm=arm))
    return pd.concat(frames, ignore_index=True)


def ever_remitted(patients: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Cumulative proportion of the cohort ever in remission, by week and arm."""
    frames = []
    for arm, d in with_coded_weeks(patients).groupby("arm", sort=False, observed=True):
        first = d.first_remission_week.to_numpy()
        counts = np.bincount(first[first >= 0], minlength=horizon)[:horizon]
        frames.append(
            pd.DataFrame(
                {"week": np.arange(horizon), "arm": arm, "proportion": np.cumsum(counts) / len(d)}
            )
        )
    return pd.concat(frames, ignore_index=True)

"""Kaplan-Meier estimates and cumulative incidence from per-patient event weeks."""

import numpy as np
import pandas as pd


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


def relapse_free(patients: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Relapse-free survival of responders from the end of their first responding course.

    Censored at death or the horizon. One block of rows per arm.
    """
    frames = []
    for arm, d in patients.groupby("arm", sort=False):
        r = d[d.first_followup_week >= 0]
        relapsed = r.first_relapse_week >= 0
        end = np.where(r.death_week >= 0, r.death_week, horizon)
        t = np.where(relapsed, r.first_relapse_week, end) - r.first_followup_week
        frames.append(kaplan_meier(t.to_numpy(), relapsed.to_numpy()).assign(arm=arm))
    return pd.concat(frames, ignore_index=True)


def ever_remitted(patients: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Cumulative proportion of the cohort ever in remission, by week and arm."""
    frames = []
    for arm, d in patients.groupby("arm", sort=False):
        first = d.first_remission_week.to_numpy()
        counts = np.bincount(first[first >= 0], minlength=horizon)[:horizon]
        frames.append(
            pd.DataFrame(
                {"week": np.arange(horizon), "arm": arm, "proportion": np.cumsum(counts) / len(d)}
            )
        )
    return pd.concat(frames, ignore_index=True)

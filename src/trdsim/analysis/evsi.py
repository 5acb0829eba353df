"""EVSI and ENBS of a proposed study of one parameter, by regression on the PSA sample.

Strong M, Oakley JE, Brennan A, Breeze P. Estimating the expected value of sample
information using the probabilistic sensitivity analysis sample: a fast, nonparametric
regression-based method. Med Decis Making 2015;35(5):570-583.
doi:10.1177/0272989X15575286

For each PSA draw k, a study's summary statistic T_k is simulated given that draw's
value theta_k of the parameter; the incremental costs and QALYs of each arm are
regressed on T (the same smoother as EVPPI, `trdsim.analysis.metamodel`), and

    EVSI(n) = mean_k max_a g_a(T_k) - max_a mean_k g_a(T_k)      (g_0 = 0),

the EVPPI formula with the study's data in place of the parameter. As n grows T_k
tends to (a function of) theta_k and EVSI tends to the parameter's EVPPI; n = 0 is no
study and its EVSI is 0. An estimate above the EVPPI is set to the EVPPI (`clipped`).

Studies (`kind`), with every design number given by the user:

* "proportion": one arm of n; T = X / n, X ~ Binomial(n, theta) (theta a probability).
* "odds-ratio": two arms of n; theta is the odds ratio of the new treatment against a
  control arm whose event rate `control_rate` the design states; X0 ~ Bin(n, p0),
  X1 ~ Bin(n, p1) with odds(p1) = theta odds(p0); T = the estimated log odds ratio
  with 0.5 added to each cell (Haldane-Anscombe).
* "normal": one arm of n observations with SD `sd`; T ~ Normal(theta, sd^2 / n).
* "log-normal": as "normal" on the log scale; T ~ Normal(log theta, sd^2 / n).

ENBS(n) = population EVSI(n) - (fixed_cost + cost_per_patient * arms * n), with the
population factor of `decision.population_factor`; n = 0 (no study) has ENBS 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trdsim.analysis.evppi import (
    POSTERIOR_SAMPLES,
    curve_from_fit,
    increments,
    parameter_matrix,
)
from trdsim.analysis.metamodel import choose_method, one_blas_thread, regress
from trdsim.errors import TrdsimError

__all__ = ["KINDS", "Study", "check_sizes", "enbs", "evsi"]

KINDS = ("proportion", "odds-ratio", "normal", "log-normal")
_CORRECTION = 0.5  # Haldane-Anscombe: keeps the log odds ratio finite at 0 or n events


@dataclass(frozen=True)
class Study:
    """A proposed study of one parameter (see the module doc for each kind)."""

    parameter: str
    kind: str
    control_rate: float | None = None  # odds-ratio: the control arm's event rate
    sd: float | None = None  # normal / log-normal: SD of one observation

    @property
    def arms(self) -> int:
        """Arms of n patients each."""
        return 2 if self.kind == "odds-ratio" else 1

    def check(self, values: np.ndarray) -> None:
        """A clear error unless the design is complete and fits the parameter's draws."""
        where = f"EVSI study of {self.parameter}"
        if self.kind not in KINDS:
            raise TrdsimError(f"{where}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        rate = self.control_rate
        if self.kind == "odds-ratio" and (rate is None or not 0.0 < rate < 1.0):
            raise TrdsimError(
                f"{where}: an odds-ratio trial needs the control arm's event rate "
                f"strictly between 0 and 1 (given {self.control_rate})"
            )
        sd = self.sd
        if self.kind in ("normal", "log-normal") and (sd is None or not np.isfinite(sd) or sd <= 0):
            raise TrdsimError(
                f"{where}: a {self.kind} study needs the SD of one observation > 0 "
                f"(given {self.sd})"
            )
        if self.kind == "proportion" and ((values < 0) | (values > 1)).any():
            raise TrdsimError(f"{where}: a proportion study needs draws in [0, 1]")
        if self.kind in ("odds-ratio", "log-normal") and (values <= 0).any():
            raise TrdsimError(f"{where}: a {self.kind} study needs draws > 0")

    def statistic(self, theta: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """The study's summary statistic for each draw's parameter value."""
        if self.kind == "proportion":
            return rng.binomial(n, theta) / n
        if self.kind == "odds-ratio":
            p0 = self.control_rate
            odds1 = theta * p0 / (1.0 - p0)
            p1 = odds1 / (1.0 + odds1)
            x0 = rng.binomial(n, p0, size=theta.shape)
            x1 = rng.binomial(n, p1)
            c = _CORRECTION
            return np.log((x1 + c) / (n - x1 + c)) - np.log((x0 + c) / (n - x0 + c))
        centre = theta if self.kind == "normal" else np.log(theta)
        return centre + rng.standard_normal(theta.shape) * self.sd / np.sqrt(n)


def check_sizes(sizes: list[int]) -> list[int]:
    """Study sizes per arm: whole numbers >= 1, increasing."""
    if not sizes or any(int(n) != n or n < 1 for n in sizes):
        raise TrdsimError(f"EVSI: study sizes {sizes} must be whole numbers >= 1 per arm")
    return sorted({int(n) for n in sizes})


def evsi(
    draws: pd.DataFrame,
    study: Study,
    sizes: list[int],
    thresholds: list[float],
    method: str = "auto",
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """EVSI per person of `study` for each size n (per arm; 0 allowed: no study) and
    threshold, with its SE and the parameter's EVPPI.

    Columns: parameter, kind, n, threshold, evsi, se, evppi, evppi_se, evpi, clipped,
    method. `draws` is a checked table.
    """
    theta = parameter_matrix(draws, [study.parameter])[:, 0]
    study.check(theta)
    if any(int(n) != n or n < 0 for n in sizes):
        raise TrdsimError(f"EVSI: study sizes {sizes} must be whole numbers >= 0")
    choose_method(method, len(theta))
    dc, dq = increments(draws)
    y = np.column_stack([dc, dq])
    with one_blas_thread():
        full = regress(theta[:, None], y, method, samples, seed)
        ceiling = curve_from_fit(full.fitted, full.sampled, dc, dq, thresholds)
        rows = []
        for n in sizes:
            if n == 0:  # no study: nothing is learnt
                value = ceiling.assign(value=0.0, se=0.0, clipped=False)
                used = full.method
            else:
                rng = np.random.default_rng([seed, int(n)])
                t = study.statistic(theta, int(n), rng)
                reg = regress(t[:, None], y, method, samples, seed)
                value = curve_from_fit(reg.fitted, reg.sampled, dc, dq, thresholds)
                used = reg.method
            for v, c in zip(value.itertuples(), ceiling.itertuples(), strict=True):
                rows.append(
                    {
                        "parameter": study.parameter,
                        "kind": study.kind,
                        "n": int(n),
                        "threshold": v.threshold,
                        "evsi": min(v.value, c.value),
                        "se": v.se,
                        "evppi": c.value,
                        "evppi_se": c.se,
                        "evpi": c.evpi,
                        "clipped": bool(v.value > c.value * (1 + 1e-9) + 1e-12),
                        "method": used,
                    }
                )
    return pd.DataFrame(rows)


def enbs(
    table: pd.DataFrame,
    study: Study,
    population_factor: float,
    fixed_cost: float,
    cost_per_patient: float,
) -> pd.DataFrame:
    """Adds study_patients, study_cost, population_evsi, population_evppi, enbs and
    optimal: the n with the largest ENBS at each threshold, if that ENBS is > 0 (else
    no study is worth its cost and no size is flagged, unless n = 0 is in the table)."""
    if not (np.isfinite(fixed_cost) and fixed_cost >= 0):
        raise TrdsimError(f"ENBS: the fixed cost {fixed_cost} must be >= 0")
    if not (np.isfinite(cost_per_patient) and cost_per_patient >= 0):
        raise TrdsimError(f"ENBS: the cost per patient {cost_per_patient} must be >= 0")
    out = table.copy()
    out["study_patients"] = out.n * study.arms
    out["study_cost"] = np.where(out.n > 0, fixed_cost + cost_per_patient * out.study_patients, 0.0)
    out["population_evsi"] = out.evsi * population_factor
    out["population_evppi"] = out.evppi * population_factor
    out["enbs"] = out.population_evsi - out.study_cost
    out["optimal"] = False
    # rows run by increasing n, so idxmax picks the smallest n among equal ENBS
    best = out.groupby("threshold").enbs.idxmax().to_numpy()
    best = best[(out.loc[best, "enbs"] > 0).to_numpy() | (out.loc[best, "n"] == 0).to_numpy()]
    out.loc[best, "optimal"] = True
    return out

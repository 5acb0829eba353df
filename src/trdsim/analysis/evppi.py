"""EVPPI by Gaussian-process regression on the PSA sample (Strong, Oakley & Brennan 2014).

Strong M, Oakley JE, Brennan A. Estimating multiparameter partial expected value of
perfect information from a probabilistic sensitivity analysis sample: a nonparametric
regression approach. Med Decis Making 2014;34(3):311-326. doi:10.1177/0272989X13505910
(abstract checked: the method needs only the PSA sample, fitted by a GAM or a GP).

For a parameter group phi, the incremental NMB of each arm against the first,
y_a = NMB_a - NMB_0, is regressed on phi over the PSA draws: y_a = g_a(phi) + e, with
g_a a Gaussian process (squared-exponential kernel, one length scale per parameter) and
e the remaining variation (other parameters and patient-level noise). Then

    EVPPI(phi) = mean_k max_a g_a(phi_k) - max_a mean_k g_a(phi_k),   g_0 = 0.

Hyperparameters maximise the marginal likelihood (L-BFGS-B with analytic gradients) on
an evenly spaced subset of draws (at most FIT_POINTS, for speed); the fit then uses all
draws. The standard error samples the fitted values from their GP posterior and
recomputes EVPPI for each sample (the spread of EVPPI due to the regression, not to
the PSA sample's size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

from trdsim.analysis.decision import arms_of, nmb
from trdsim.errors import TrdsimError

FIT_POINTS = 500  # draws used to estimate hyperparameters
POSTERIOR_SAMPLES = 1000  # samples of the fitted values for the standard error
_BOUNDS_LOG_LENGTH = (-4.0, 7.0)  # in standard deviations of each parameter
_BOUNDS_LOG_SIGNAL = (-12.0, 5.0)  # in units of var(y)
_BOUNDS_LOG_NOISE = (-16.0, 3.0)


@dataclass(frozen=True)
class GPFit:
    """Fitted values of one regression and their posterior covariance factor."""

    fitted: np.ndarray  # (draws,)
    root_cov: np.ndarray  # (draws, rank): fitted values' posterior cov = R R^T
    length_scales: np.ndarray
    noise_share: float  # noise variance / var(y)


def _signal_kernel(x: np.ndarray, inv_l: np.ndarray, sf2: float) -> np.ndarray:
    return sf2 * np.exp(-0.5 * cdist(x * inv_l, x * inv_l, "sqeuclidean"))


def _nll_and_grad(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood and its gradient in the log hyperparameters."""
    p = x.shape[1]
    inv_l = np.exp(-theta[:p])
    sf2, sn2 = np.exp(theta[p]), np.exp(theta[p + 1])
    kf = _signal_kernel(x, inv_l, sf2)
    k = kf + sn2 * np.eye(len(y))
    try:
        c = cho_factor(k, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = cho_solve(c, y, check_finite=False)
    nll = 0.5 * y @ alpha + np.sum(np.log(np.diag(c[0]))) + 0.5 * len(y) * np.log(2 * np.pi)
    w = np.outer(alpha, alpha) - cho_solve(c, np.eye(len(y)), check_finite=False)
    wk = w * kf
    grad = np.empty_like(theta)
    for j in range(p):  # dK/dlog l_j = kf * (x_j - x_j')^2 / l_j^2
        d2 = (x[:, j, None] - x[None, :, j]) ** 2
        grad[j] = -0.5 * np.sum(wk * d2) * inv_l[j] ** 2
    grad[p] = -0.5 * np.sum(wk)
    grad[p + 1] = -0.5 * sn2 * np.trace(w)
    return float(nll), grad


def fit_gp(x: np.ndarray, y: np.ndarray, fit_points: int = FIT_POINTS) -> GPFit:
    """GP regression of y on the columns of x (see module doc)."""
    n, p = x.shape
    sd_y = y.std()
    if sd_y == 0.0 or p == 0:
        return GPFit(np.full(n, y.mean()), np.zeros((n, 1)), np.full(p, np.inf), 1.0)
    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    ys = (y - y.mean()) / sd_y
    sub = np.unique(np.linspace(0, n - 1, min(n, fit_points)).round().astype(int))
    bounds = [_BOUNDS_LOG_LENGTH] * p + [_BOUNDS_LOG_SIGNAL, _BOUNDS_LOG_NOISE]
    best = None
    for start_noise in (-1.0, -6.0):  # a noisy and a near-deterministic start
        theta0 = np.r_[np.full(p, 0.5), 0.0, start_noise]
        r = minimize(
            _nll_and_grad, theta0, args=(xs[sub], ys[sub]), jac=True, method="L-BFGS-B",
            bounds=bounds,
        )  # fmt: skip
        if best is None or r.fun < best.fun:
            best = r
    theta = best.x
    sf2, sn2 = np.exp(theta[p]), np.exp(theta[p + 1])
    kf = _signal_kernel(xs, np.exp(-theta[:p]), sf2)
    a = kf + sn2 * np.eye(n)
    chol = np.linalg.cholesky(a)
    fitted_s = kf @ cho_solve((chol, True), ys, check_finite=False)
    # posterior covariance of the fitted values: kf - kf A^-1 kf
    v = solve_triangular(chol, kf, lower=True, check_finite=False)
    cov = kf - v.T @ v
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    keep = vals > vals.max() * 1e-12 if vals.max() > 0 else np.zeros_like(vals, bool)
    root = vecs[:, keep] * np.sqrt(vals[keep])
    return GPFit(
        fitted=y.mean() + sd_y * fitted_s,
        root_cov=sd_y * root if root.size else np.zeros((n, 1)),
        length_scales=np.exp(theta[:p]),
        noise_share=float(sn2 / (sf2 + sn2)),
    )


def _evppi_of(g: np.ndarray) -> float:
    """EVPPI from fitted incremental NMB (draws, arms - 1), the comparator's being 0."""
    return _expected_loss(np.column_stack([np.zeros(len(g)), g]))


def _expected_loss(nmb: np.ndarray) -> float:
    """E[max_a NMB] - max_a E[NMB], as the optimal arm's expected loss (exactly 0 when
    that arm wins in every draw)."""
    best = int(np.argmax(nmb.mean(axis=0)))
    return float((nmb.max(axis=1) - nmb[:, best]).mean())


def parameter_matrix(draws: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """(draws, keys) parameter values, one row per draw, in draw order."""
    missing = [k for k in keys if k not in draws.columns]
    if missing:
        raise TrdsimError(
            f"EVPPI: the table has no column for {', '.join(missing)}; "
            "parameter columns come with `trdsim psa` tables or an imported table"
        )
    first = draws[draws["arm"] == arms_of(draws)[0]].sort_values("draw")
    return first[keys].to_numpy(dtype=np.float64)


def evppi(
    draws: pd.DataFrame,
    keys: list[str],
    threshold: float,
    fit_points: int = FIT_POINTS,
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
) -> dict:
    """EVPPI per person for the parameter group `keys` at one threshold, with its SE.

    `draws` is a checked (draw, arm, cost, qaly, parameter columns...) table.
    """
    x = parameter_matrix(draws, keys)
    varying = x.std(axis=0) > 0
    b = nmb(draws, threshold)
    inc = b[:, 1:] - b[:, :1]
    evpi_value = _expected_loss(np.column_stack([np.zeros(len(b)), inc]))
    if not varying.any() or evpi_value == 0.0:  # 0 <= EVPPI <= EVPI
        return {"evppi": 0.0, "se": 0.0, "evpi": evpi_value, "parameters": len(keys)}
    fits = [fit_gp(x[:, varying], inc[:, a], fit_points) for a in range(inc.shape[1])]
    g = np.column_stack([f.fitted for f in fits])
    rng = np.random.default_rng(seed)
    # (draws, samples) per comparison: fitted values drawn from their posterior
    gs = [
        f.fitted[:, None] + f.root_cov @ rng.standard_normal((f.root_cov.shape[1], samples))
        for f in fits
    ]
    full_s = np.stack([np.zeros_like(gs[0]), *gs])  # (arms, draws, samples)
    sampled = full_s.max(axis=0).mean(axis=0) - full_s.mean(axis=1).max(axis=0)
    return {
        "evppi": _evppi_of(g),
        "se": float(sampled.std(ddof=1)),
        "evpi": evpi_value,
        "parameters": int(len(keys)),
    }


def default_groups(keys: list[str]) -> dict[str, list[str]]:
    """Parameter groups by kind of evidence: each treatment, maintenance, utilities, ..."""
    groups: dict[str, list[str]] = {}
    for k in keys:
        parts = k.split(".")
        if parts[0] == "treatments":
            name = f"treatment: {parts[1]}"
        elif parts[0] == "maintenance":
            name = "maintenance effects and costs"
        elif parts[0] == "unit_costs":
            name = "unit costs"
        else:
            name = parts[0]
        groups.setdefault(name, []).append(k)
    return groups


def evppi_table(
    draws: pd.DataFrame,
    groups: dict[str, list[str]],
    threshold: float,
    progress=None,
    **kwargs,
) -> pd.DataFrame:
    """EVPPI of each named group at one threshold: group, parameters, evppi, se, evpi, share."""
    rows = []
    for name, keys in groups.items():
        r = evppi(draws, keys, threshold, **kwargs)
        rows.append(
            {
                "group": name,
                "threshold": threshold,
                "parameters": r["parameters"],
                "evppi": r["evppi"],
                "se": r["se"],
                "evpi": r["evpi"],
                "share_of_evpi": r["evppi"] / r["evpi"] if r["evpi"] > 0 else np.nan,
                "keys": " ".join(keys),
            }
        )
        if progress is not None:
            progress(1)
    return pd.DataFrame(rows)

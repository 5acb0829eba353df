"""Regression metamodels for value of information: penalised regression splines (GAMs)
fitted from sufficient statistics, and exact Gaussian-process regression.

The regression behind regression-based EVPPI and EVSI: outcomes y over the PSA draws
(incremental costs and QALYs) on a few inputs x (a parameter group, or a study's summary
statistic), y = f(x) + e, with f a generalised additive model

    f(x) = b0 + sum_j s_j(x_j) + sum_{i<j} ti(x_i, x_j) + ti(x_i, x_j, x_k),

the ANOVA decomposition of mgcv's te() (dampack's `calc_evppi(type = "gam")` uses
`s(p1) + ... + s(pn) + ti(p1, ..., pn)`, the highest-order interaction only):

* s_j: a cubic regression spline of SPLINE_BASIS functions with knots at quantiles of
  x_j and the penalty integral f''(x)^2 dx (Wood 2017, section 5.3.1), centred so that
  the intercept is identifiable (sum over draws of s_j = 0);
* ti: the tensor-product interaction of centred marginal cubic splines of
  TENSOR_MARGIN functions each (Wood 2017, section 5.6.3; the marginal constraints make
  it free of the lower-order terms, like mgcv's `ti`), one smoothing parameter per term
  on the sum of its scaled marginal penalties.

Interactions are of at most MAX_TENSOR_PARAMETERS inputs: with more, an additive fit
first ranks the inputs by the variance their s() term explains and the interactions are
of the top three ("gam-screened"); the other inputs enter additively.

Smoothing parameters maximise the restricted likelihood (REML; mgcv's method = "REML")
by Newton's method with exact first and second derivatives (Wood 2011). Everything uses
only the cross products X'X, X'y and y'y, so after one pass over the draws the cost does
not grow with their number. Linear algebra goes through numpy only: alternating numpy
and scipy calls on small matrices makes their two OpenBLAS thread pools wait on each
other (measured 25 times slower), and it runs on one BLAS thread (`one_blas_thread`).

Each outcome gets its own smoothing parameters on a shared basis. The Bayesian
posterior of the coefficients, N(beta, sigma^2 H^-1) with H = X'X + S (Wood 2017,
section 6.10), gives the uncertainty of the fitted values.

References: Wood SN. Generalized Additive Models: an introduction with R, 2nd ed. CRC
2017; Wood SN. Fast stable restricted maximum likelihood and marginal likelihood
estimation of semiparametric generalized linear models. J R Stat Soc B 2011;73:3-36;
Rasmussen CE, Williams CKI. Gaussian Processes for Machine Learning. MIT 2006 (GP);
Strong M, Oakley JE, Brennan A. Med Decis Making 2014;34:311-326 (both for EVPPI).
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy.interpolate import BSpline
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

from trdsim.errors import TrdsimError

__all__ = [
    "AUTO_GP_BELOW",
    "Basis",
    "Fit",
    "Penalty",
    "Regression",
    "choose_method",
    "fit_gp",
    "fit_outcomes",
    "fitted",
    "gam_basis",
    "one_blas_thread",
    "posterior_fitted",
    "regress",
    "term_shares",
]

SPLINE_BASIS = 10  # functions per s() term: mgcv's default k for s()
TENSOR_MARGIN = 5  # functions per ti() margin: mgcv's default k for ti()
MAX_TENSOR_PARAMETERS = 3  # (5 - 1)^3 = 64 interaction columns; 4 would need 256
_LOG_SP_BOUNDS = (-12.0, 18.0)  # log smoothing parameters, penalties scaled to X'X
FIRST_LOG_SP = 0.0  # start: each penalty as strong as its term's share of X'X
MAX_ITERATIONS = 50  # Newton steps; typically 5-15 are needed
MAX_STEP = 5.0  # largest Newton step in a log smoothing parameter
# converged: the REML score (-2 log likelihood) changes by < GRAD_TOLERANCE per unit
# of any log smoothing parameter, or the last step gained < SCORE_TOLERANCE. A term being
# smoothed away has a flat score; chasing its parameter to the bound changes nothing.
GRAD_TOLERANCE = 1e-2
SCORE_TOLERANCE = 1e-6
METHODS = ("auto", "gam", "gp")
# auto takes the exact GP only below 50 draws, where a spline basis of 9 functions per
# parameter is about as large as the table. Above, the GAM is the better regression:
# on the trdsim UK PSA with its rows permuted (true EVPPI 0), 1,000 draws, the GP gave
# 220 (unit costs, 12 parameters) and 70 (effects, 9) per person against an EVPI of 665,
# the GAM 0.6 and 5.6; at 150 draws the GP gave up to the whole EVPI (GAM <= 81).
AUTO_GP_BELOW = 50
MIN_RESIDUAL_DF = 5  # draws beyond the GAM's unpenalised coefficients, for REML's scale
GP_MAX_DRAWS = 3000  # the exact GP holds draws x draws matrices (3,000: 72 MB each)
GP_FIT_POINTS = 500  # draws used to estimate GP hyperparameters
_BOUNDS_LOG_LENGTH = (-1.5, 7.0)  # GP length scales in SDs; shorter ones fit noise
_BOUNDS_LOG_SIGNAL = (-12.0, 5.0)  # in units of var(y)
_BOUNDS_LOG_NOISE = (-16.0, 3.0)
_GAUSS = np.polynomial.legendre.leggauss(3)  # exact for f''g'' of cubic splines


@dataclass(frozen=True)
class Penalty:
    """One quadratic penalty beta[lo:hi]' S beta[lo:hi] on a block of coefficients."""

    lo: int
    hi: int
    matrix: np.ndarray
    rank: int


@dataclass(frozen=True)
class Basis:
    """Centred model matrix (no intercept column), its penalties and its terms."""

    matrix: np.ndarray  # (draws, p); every column sums to zero
    penalties: list[Penalty]
    terms: list[tuple[str, int, int]]  # (name, lo, hi) column blocks


@dataclass(frozen=True)
class Fit:
    """One penalised regression: coefficients and their posterior covariance root."""

    intercept: float
    coef: np.ndarray  # (p,)
    cov_root: np.ndarray  # (p, p) L with posterior covariance of coef = L L'
    intercept_sd: float
    sigma2: float  # residual variance
    edf: float  # effective degrees of freedom, intercept included
    log_sp: np.ndarray


def _spline(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred cubic B-spline basis (n, k' - 1) with knots at quantiles, and its penalty.

    Fewer functions when x has few distinct values (a spline needs distinct knots).
    """
    lo, hi = float(x.min()), float(x.max())
    inner = np.unique(np.quantile(x, np.linspace(0, 1, k - 2)[1:-1]))
    inner = inner[(inner > lo) & (inner < hi)]
    t = np.r_[[lo] * 4, inner, [hi] * 4]
    nb = len(t) - 4
    b = BSpline.design_matrix(np.clip(x, lo, hi), t, 3).toarray()
    # integral of f''^2: Gauss-Legendre on each knot interval (f'' is linear there)
    edges = np.r_[lo, inner, hi]
    a, w = edges[:-1, None], np.diff(edges)[:, None] / 2
    xq = (a + w * (_GAUSS[0] + 1)).ravel()
    wq = (w * _GAUSS[1]).ravel()
    d2 = BSpline(t, np.eye(nb), 3).derivative(2)(xq)
    s = d2.T @ (d2 * wq[:, None])
    return _centre(b, s)


def _centre(b: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absorb the constraint sum_i f(x_i) = 0 (Wood 2017, section 5.4.1)."""
    c = b.sum(axis=0)
    q, _ = np.linalg.qr(c[:, None], mode="complete")
    z = q[:, 1:]  # null space of c'
    return b @ z, z.T @ s @ z


def _scaled(s: np.ndarray, block: np.ndarray) -> np.ndarray:
    """A penalty scaled to its block of X'X, so log smoothing parameters near 0 are
    moderate (mgcv does the same)."""
    ns = np.linalg.norm(s)
    return s * (np.linalg.norm(block) / ns) if ns > 0 else s


def _tensor(x: np.ndarray, cols: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """ti() of some columns: centred marginals, row-wise Kronecker product, and the sum of
    the marginal penalties (each scaled alike), so the term has one smoothing parameter."""
    margins = [_spline(x[:, j], TENSOR_MARGIN) for j in cols]
    t = margins[0][0]
    for b, _ in margins[1:]:
        t = (t[:, :, None] * b[:, None, :]).reshape(len(t), -1)
    t = t - t.mean(axis=0)
    s = np.zeros((t.shape[1], t.shape[1]))
    for i, (_, si) in enumerate(margins):
        full = np.ones((1, 1))
        for j, (b, _) in enumerate(margins):
            full = np.kron(full, si / np.linalg.norm(si) if i == j else np.eye(b.shape[1]))
        s += full
    return t, s


def gam_basis(x: np.ndarray, interaction: list[int] | None = None) -> Basis:
    """s() of every column of x, plus ti() of every pair and of the triple among the
    columns in `interaction` (at most MAX_TENSOR_PARAMETERS), i.e. the ANOVA terms of
    mgcv's te(): main effects plus all their interactions."""
    blocks: list[tuple[str, np.ndarray, np.ndarray]] = []
    for j in range(x.shape[1]):
        b, s = _spline(x[:, j], SPLINE_BASIS)
        blocks.append((f"s({j})", b, s))
    chosen = list(interaction or [])[:MAX_TENSOR_PARAMETERS]
    for size in range(2, len(chosen) + 1):
        for cols in combinations(chosen, size):
            t, s = _tensor(x, cols)
            blocks.append((f"ti({','.join(map(str, cols))})", t, s))
    pens, terms, at = [], [], 0
    for name, b, s in blocks:
        s = _scaled(s, b.T @ b)
        rank = int(np.sum(np.linalg.eigvalsh(s) > 1e-9 * np.abs(s).max()))
        pens.append(Penalty(at, at + b.shape[1], s, rank))
        terms.append((name, at, at + b.shape[1]))
        at += b.shape[1]
    return Basis(np.hstack([b for _, b, _ in blocks]), pens, terms)


def fit_outcomes(basis: Basis, y: np.ndarray) -> list[Fit]:
    """Fit every column of y (draws, outcomes) on the basis, each with its own smoothing
    parameters."""
    x = basis.matrix
    n = x.shape[0]
    g = x.T @ x
    mean = y.mean(axis=0)
    yc = y - mean
    xy = x.T @ yc
    yys = np.einsum("ij,ij->j", yc, yc)
    return [
        _fit_one(g, xy[:, o], float(yys[o]), n, basis.penalties, float(mean[o]))
        for o in range(y.shape[1])
    ]


def _fit_one(g, b, yy, n, pens, mean) -> Fit:
    """Smoothing parameters maximising the restricted likelihood (REML), by Newton's
    method with exact derivatives (Wood 2011, JRSS B 73:3-36; every term here has one
    penalty, so log|S_lambda|+ = sum_j rank_j log lambda_j + constant)."""
    p = len(b)
    if yy <= 0.0:  # a constant outcome: nothing to fit
        z = np.zeros(p)
        return Fit(mean, z, np.zeros((p, p)), 0.0, 0.0, 1.0, np.zeros(len(pens)))
    lo, hi = _LOG_SP_BOUNDS
    rank = np.array([pen.rank for pen in pens], float)
    null = p - rank.sum() + 1.0  # unpenalised dimensions, intercept included
    rho = np.full(len(pens), FIRST_LOG_SP)
    state = _reml(g, b, yy, n, pens, rank, null, rho)
    for _ in range(MAX_ITERATIONS):
        score, grad, hess = state.score, state.grad, state.hess
        vals, vecs = np.linalg.eigh(hess)
        # a flat or concave direction (a term smoothed away) gets a bounded step
        vals = np.maximum(np.abs(vals), max(vals.max(), 1.0) * 1e-6)
        step = np.clip(-(vecs @ ((vecs.T @ grad) / vals)), -MAX_STEP, MAX_STEP)
        step[((rho <= lo) & (step < 0)) | ((rho >= hi) & (step > 0))] = 0.0
        for _half in range(30):
            trial = np.clip(rho + step, lo, hi)
            new = _reml(g, b, yy, n, pens, rank, null, trial)
            if new.score <= score + 1e-12 * abs(score):
                break
            step /= 2.0
        else:
            break
        rho, state = trial, new
        if np.max(np.abs(new.grad)) < GRAD_TOLERANCE or score - new.score < SCORE_TOLERANCE:
            break
    sigma2 = state.rss / max(n - state.edf, 1.0)
    # H^-1/2 from the eigenvectors of H: stable where H^-1 is badly conditioned
    vals, vecs = np.linalg.eigh(state.h)
    root = vecs / np.sqrt(np.clip(vals, vals.max() * 1e-14, None)) * np.sqrt(sigma2)
    return Fit(mean, state.beta, root, float(np.sqrt(sigma2 / n)), sigma2, state.edf, rho)


@dataclass
class _State:
    score: float
    grad: np.ndarray
    hess: np.ndarray
    beta: np.ndarray
    rss: float
    edf: float
    h: np.ndarray


def _reml(g, b, yy, n, pens, rank, null, rho) -> _State:
    """Profiled REML score V = (n - M) log D + log|H| - sum_j r_j rho_j (M unpenalised
    dimensions, D = ||y - X beta||^2 + beta' S_lambda beta), its gradient and Hessian."""
    lam = np.exp(rho)
    h = g.copy()
    for lj, pen in zip(lam, pens, strict=True):
        h[pen.lo : pen.hi, pen.lo : pen.hi] += lj * pen.matrix
    m = len(pens)
    try:
        chol = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return _State(np.inf, np.zeros(m), np.eye(m), b * 0, 0.0, 1.0, h)
    hinv = np.linalg.inv(h)
    beta = hinv @ b
    d = max(yy - beta @ b, yy * 1e-15)  # RSS + beta' S beta at the penalised optimum
    sb = np.zeros((m, len(b)))  # S_j beta, embedded
    q, t = np.empty(m), np.empty(m)
    for j, pen in enumerate(pens):
        sl = slice(pen.lo, pen.hi)
        sb[j, sl] = pen.matrix @ beta[sl]
        q[j] = beta[sl] @ sb[j, sl]
        t[j] = float(np.sum(hinv[sl, sl] * pen.matrix))
    k = n - null
    score = k * np.log(d) + 2.0 * np.sum(np.log(np.diag(chol))) - rank @ rho
    grad = k * lam * q / d + lam * t - rank
    hs = [hinv[:, pen.lo : pen.hi] @ pen.matrix for pen in pens]  # columns of H^-1 S_j
    tt = np.empty((m, m))  # tr(H^-1 S_j H^-1 S_k)
    for j, pj in enumerate(pens):
        for kk, pk in enumerate(pens[: j + 1]):
            tt[j, kk] = tt[kk, j] = np.sum(hs[j][pk.lo : pk.hi, :] * hs[kk][pj.lo : pj.hi, :].T)
    cross = sb @ hinv @ sb.T  # (S_j beta)' H^-1 S_k beta
    ll = np.outer(lam, lam)
    hess = (
        k * (np.diag(lam * q) / d - 2.0 * ll * cross / d - np.outer(lam * q, lam * q) / d**2)
        + np.diag(lam * t) - ll * tt
    )  # fmt: skip
    rss = max(yy - 2 * beta @ b + beta @ g @ beta, 0.0)
    edf = 1.0 + float(np.sum(hinv * g))
    return _State(float(score), grad, (hess + hess.T) / 2, beta, rss, edf, h)


def term_shares(basis: Basis, fits: list[Fit], y: np.ndarray) -> np.ndarray:
    """Per s() term, the largest share of an outcome's variance its fitted term explains."""
    x = basis.matrix
    var = y.var(axis=0)
    shares = np.zeros(len(basis.terms))
    for t, (_, lo, hi) in enumerate(basis.terms):
        for o, f in enumerate(fits):
            if var[o] > 0:
                shares[t] = max(shares[t], float(np.var(x[:, lo:hi] @ f.coef[lo:hi]) / var[o]))
    return shares


def posterior_fitted(
    basis: Basis, fits: list[Fit], correlation: np.ndarray, samples: int, rng
) -> np.ndarray:
    """(outcomes, draws, samples) fitted values drawn from the coefficients' posterior
    (float32).

    Outcomes are fitted apart, so their joint posterior is not available; the standard
    normal deviates of outcomes o and o' are given the correlation of their residuals
    (correlation[o, o']), which is exact when the two share smoothing parameters.
    """
    k = len(fits)
    p = basis.matrix.shape[1]
    z = np.einsum("ij,jps->ips", _root(correlation), rng.standard_normal((k, p + 1, samples)))
    # float32: the SE needs 2-3 digits, and 10,000 draws x 200 samples x 4 outcomes
    # would be 64 MB in float64
    out = np.empty((k, basis.matrix.shape[0], samples), np.float32)
    for o, f in enumerate(fits):
        coefs = f.coef[:, None] + f.cov_root @ z[o, :p]
        out[o] = basis.matrix @ coefs + (f.intercept + f.intercept_sd * z[o, p])[None, :]
    return out


def fitted(basis: Basis, fit: Fit) -> np.ndarray:
    """Fitted values of one outcome over the draws."""
    return fit.intercept + basis.matrix @ fit.coef


# --- BLAS threads ---


@cache
def _openblas_threads():
    """(get, set) of the thread count of numpy's bundled OpenBLAS, or None."""
    here = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(here.glob("*openblas*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    return get, put
    return None


@contextmanager
def one_blas_thread():
    """Run numpy's BLAS on one thread inside the block.

    The regressions make thousands of calls on matrices of ~100 x 100. With OpenBLAS's
    threads on a machine whose cores are busy (another job, or the PSA's own numba
    threads) the threads spin waiting for each other: measured 1.9 s on one thread and
    41 s on two for the 20 default EVPPI groups. Without a bundled OpenBLAS this does
    nothing (set OPENBLAS_NUM_THREADS=1 instead).
    """
    threads = _openblas_threads()
    if threads is None:
        yield
        return
    get, put = threads
    before = get()
    put(1)
    try:
        yield
    finally:
        put(before)


# --- exact Gaussian-process regression (Strong, Oakley & Brennan 2014, section 3.2) ---


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
        c = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    kinv = np.linalg.inv(k)
    alpha = kinv @ y
    nll = 0.5 * y @ alpha + np.sum(np.log(np.diag(c))) + 0.5 * len(y) * np.log(2 * np.pi)
    w = np.outer(alpha, alpha) - kinv
    wk = w * kf
    grad = np.empty_like(theta)
    for j in range(p):  # dK/dlog l_j = kf * (x_j - x_j')^2 / l_j^2
        d2 = (x[:, j, None] - x[None, :, j]) ** 2
        grad[j] = -0.5 * np.sum(wk * d2) * inv_l[j] ** 2
    grad[p] = -0.5 * np.sum(wk)
    grad[p + 1] = -0.5 * sn2 * np.trace(w)
    return float(nll), grad


def fit_gp(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GP regression of y on the columns of x (squared-exponential kernel, one length
    scale per column, hyperparameters by marginal likelihood on at most GP_FIT_POINTS
    draws). Returns fitted values (n,) and R (n, n) with posterior covariance R R'."""
    n, p = x.shape
    sd_y = y.std()
    if sd_y == 0.0:
        return np.full(n, y.mean()), np.zeros((n, n))
    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    ys = (y - y.mean()) / sd_y
    sub = np.unique(np.linspace(0, n - 1, min(n, GP_FIT_POINTS)).round().astype(int))
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
    ainv = np.linalg.inv(kf + sn2 * np.eye(n))
    fitted_s = kf @ (ainv @ ys)
    cov = kf - kf @ ainv @ kf  # posterior covariance of the fitted values
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return y.mean() + sd_y * fitted_s, sd_y * root


# --- one entry point for EVPPI and EVSI ---


@dataclass(frozen=True)
class Regression:
    """Fitted values of several outcomes on one set of inputs, and posterior samples."""

    method: str  # the method used: "gam", "gam-screened" or "gp"
    fitted: np.ndarray  # (draws, outcomes)
    sampled: np.ndarray  # (outcomes, draws, samples)


def choose_method(method: str, draws: int) -> str:
    """The regression for `method` ("auto", "gam" or "gp") on this many draws."""
    if method not in METHODS:
        raise TrdsimError(
            f"EVPPI method {method!r} does not exist; choose one of {', '.join(METHODS)}"
        )
    if method == "auto":
        return "gp" if draws < AUTO_GP_BELOW else "gam"
    if method == "gp" and draws > GP_MAX_DRAWS:
        raise TrdsimError(
            f"EVPPI method 'gp' is exact and needs draws^3 operations; {draws:,} draws is "
            f"more than {GP_MAX_DRAWS:,}: use 'gam' or 'auto'"
        )
    return method


def regress(
    x: np.ndarray, y: np.ndarray, method: str = "auto", samples: int = 200, seed: int = 0
) -> Regression:
    """Regress each column of y (draws, outcomes) on the columns of x (draws, inputs).

    gam: s() of every input plus ti() of every pair and the triple of inputs; with more
    than MAX_TENSOR_PARAMETERS inputs an additive fit first ranks them, and the
    interactions are of the MAX_TENSOR_PARAMETERS whose s() terms explain most of an
    outcome ("gam-screened"). gp: exact GP per outcome.
    """
    n = x.shape[0]
    used = choose_method(method, n)
    x = x[:, x.std(axis=0) > 0]
    rng = np.random.default_rng(seed)
    k = y.shape[1]
    if x.shape[1] == 0:  # nothing varies: the regression is the mean
        return Regression(used, np.tile(y.mean(axis=0), (n, 1)), np.zeros((k, n, samples)))
    if used == "gp":
        pairs = [fit_gp(x, y[:, o]) for o in range(k)]
        fit = np.column_stack([f for f, _ in pairs])
        corr = _correlation(y - fit)
        z = np.einsum("ij,jps->ips", _root(corr), rng.standard_normal((k, n, samples)))
        sampled = np.stack([fit[:, o, None] + r @ z[o] for o, (_, r) in enumerate(pairs)])
        return Regression("gp", fit, sampled)
    chosen = list(range(x.shape[1]))
    if x.shape[1] > MAX_TENSOR_PARAMETERS:
        additive = gam_basis(x)
        shares = term_shares(additive, fit_outcomes(additive, y), y)
        chosen = sorted(np.argsort(-shares, kind="stable")[:MAX_TENSOR_PARAMETERS].tolist())
        used = "gam-screened"
    basis = gam_basis(x, chosen)
    unpenalised = basis.matrix.shape[1] - sum(pen.rank for pen in basis.penalties) + 1
    if n < unpenalised + MIN_RESIDUAL_DF:
        raise TrdsimError(
            f"EVPPI method 'gam': {n} draws are too few for a GAM of {x.shape[1]} "
            f"parameters ({unpenalised} unpenalised coefficients); use 'gp' or more draws"
        )
    fits = fit_outcomes(basis, y)
    fit = np.column_stack([fitted(basis, f) for f in fits])
    sampled = posterior_fitted(basis, fits, _correlation(y - fit), samples, rng)
    return Regression(used, fit, sampled)


def _root(c: np.ndarray) -> np.ndarray:
    """R with R R' = c for a correlation matrix, also when it is singular (|r| = 1)."""
    vals, vecs = np.linalg.eigh(c)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _correlation(r: np.ndarray) -> np.ndarray:
    """Correlation matrix of residual columns (identity where one is constant)."""
    sd = r.std(axis=0)
    ok = sd > 0
    c = np.eye(r.shape[1])
    if ok.sum() > 1:
        c[np.ix_(ok, ok)] = np.corrcoef(r[:, ok], rowvar=False)
    return c

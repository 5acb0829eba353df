"""Figures of decision uncertainty: CE plane, CEAC/CEAF, EVPI, EVPPI, tornado, two-way map."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from trdsim.analysis.decision import arms_of  # noqa: E402
from trdsim.currency import SYMBOLS  # noqa: E402

ARM_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False})


def _money_axis(currency: str):
    symbol = SYMBOLS.get(currency, "")
    return FuncFormatter(lambda v, _: f"{'-' if v < 0 else ''}{symbol}{abs(v):,.0f}")


def _parameter_label(key: str, currency: str) -> str:
    """A parameter key with its unit where the key says it (prices)."""
    return f"{key} ({currency})" if key.startswith("unit_costs.") else key


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=200)
    plt.close(fig)


def ce_plane(draws: pd.DataFrame, thresholds: list[float], currency: str, path: Path) -> None:
    """Incremental cost vs incremental QALYs of each arm against the first, one dot per draw."""
    arms = arms_of(draws)
    base = draws[draws.arm == arms[0]].set_index("draw")
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for k, a in enumerate(arms[1:], start=1):
        d = draws[draws.arm == a].set_index("draw")
        dq, dc = d.qaly - base.qaly, d.cost - base.cost
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        ax.scatter(dq, dc, s=6, alpha=0.35, color=colour, lw=0, label=f"{a} vs {arms[0]}")
        ax.scatter([dq.mean()], [dc.mean()], s=70, marker="X", color=colour, ec="black", lw=0.7)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    x0, x1 = ax.get_xlim()
    xs = np.linspace(min(x0, 0), max(x1, 0), 2)
    for lam, style in zip(thresholds, ("--", ":", "-.", (0, (5, 1))), strict=False):
        ax.plot(
            xs,
            lam * xs,
            ls=style,
            color="black",
            lw=1,
            label=f"{_money_axis(currency)(lam, 0)}/QALY",
        )
    ax.set_xlim(x0, x1)
    ax.set_xlabel("incremental QALYs (discounted)")
    ax.set_ylabel(f"incremental cost ({currency}, discounted)")
    ax.yaxis.set_major_formatter(_money_axis(currency))
    ax.set_title(f"Cost-effectiveness plane ({draws.draw.nunique():,} draws; X = mean)")
    ax.legend(frameon=False, fontsize=8, loc="best")
    _save(fig, path)


def ceac_figure(table: pd.DataFrame, currency: str, path: Path, marks: list[float] = ()) -> None:
    """CEAC per arm with the CEAF (the expected-NMB-optimal arm's probability) on top."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, a in enumerate(dict.fromkeys(table.arm)):
        d = table[table.arm == a]
        ax.plot(d.threshold, d.p_cost_effective, color=ARM_COLOURS[k % len(ARM_COLOURS)], label=a)
    f = table[table.on_ceaf]
    ax.plot(f.threshold, f.p_cost_effective, ls="none", marker="o", ms=3.5, mfc="none",
            color="black", label="CEAF (optimal by expected NMB)")  # fmt: skip
    for lam in marks:
        ax.axvline(lam, color="grey", lw=0.7, ls=":")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"willingness to pay per QALY ({currency})")
    ax.set_ylabel("probability cost-effective")
    ax.xaxis.set_major_formatter(_money_axis(currency))
    ax.set_title("Cost-effectiveness acceptability curves and frontier")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def evpi_figure(
    table: pd.DataFrame, currency: str, path: Path, population: float | None = None
) -> None:
    """EVPI per person over thresholds (and for the population on a second axis)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(table.threshold, table.evpi, color="#1b9e77")
    ax.set_xlabel(f"willingness to pay per QALY ({currency})")
    ax.set_ylabel(f"EVPI per person ({currency})")
    ax.xaxis.set_major_formatter(_money_axis(currency))
    ax.yaxis.set_major_formatter(_money_axis(currency))
    if population:
        right = ax.twinx()
        right.set_ylim(np.array(ax.get_ylim()) * population)
        right.yaxis.set_major_formatter(_money_axis(currency))
        right.set_ylabel(f"population EVPI ({currency})")
        right.spines["right"].set_visible(True)
    ax.set_title("Expected value of perfect information")
    _save(fig, path)


METHOD_NAMES = {
    "gam": "GAM regression",
    "gam-screened": "GAM, screened interactions",
    "gam-some-screened": "GAM; interactions screened if > 3 parameters",
    "gp": "GP regression",
}


def _methods(table: pd.DataFrame) -> str:
    """The regression method(s) behind an EVPPI table, in words."""
    if "method" not in table.columns:
        return "regression"
    used = list(dict.fromkeys(table["method"]))
    if "gam" in used and "gam-screened" in used:  # one GAM, screening only big groups
        used.remove("gam")
        used[used.index("gam-screened")] = "gam-some-screened"
    return " / ".join(METHOD_NAMES.get(m, m) for m in used)


def evppi_figure(table: pd.DataFrame, currency: str, path: Path) -> None:
    """EVPPI per parameter group (bars, ±1.96 SE), with the EVPI as a line."""
    t = table.sort_values("evppi")
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(t) + 1.6))
    ax.barh(t.group, t.evppi, xerr=1.96 * t.se, color="#7570b3", ecolor="black", capsize=2)
    ax.axvline(t.evpi.iloc[0], color="black", ls="--", lw=1, label="EVPI")
    ax.set_xlabel(
        f"EVPPI per person ({currency}) at {_money_axis(currency)(t.threshold.iloc[0], 0)}/QALY"
    )
    ax.xaxis.set_major_formatter(_money_axis(currency))
    ax.set_title(f"Partial EVPI by parameter group, ±1.96 SE\n({_methods(t)})", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def evppi_curve_figure(
    curve: pd.DataFrame, table: pd.DataFrame, currency: str, path: Path, top: int = 6
) -> None:
    """EVPPI against the threshold for the `top` groups with the largest EVPPI at the
    decision thresholds (bands ±1.96 SE), with the EVPI."""
    order = table.groupby("group", sort=False).evppi.max().sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    evpi = curve.drop_duplicates("threshold").sort_values("threshold")
    ax.plot(evpi.threshold, evpi.evpi, color="black", ls="--", lw=1, label="EVPI")
    for i, name in enumerate(order.index[:top]):
        c = curve[curve.group == name].sort_values("threshold")
        colour = ARM_COLOURS[i % len(ARM_COLOURS)]
        ax.plot(c.threshold, c.evppi, color=colour, lw=1.4, label=name)
        ax.fill_between(
            c.threshold, np.maximum(c.evppi - 1.96 * c.se, 0), c.evppi + 1.96 * c.se,
            color=colour, alpha=0.12, lw=0,
        )  # fmt: skip
    for lam in sorted(table.threshold.unique()):
        ax.axvline(lam, color="grey", lw=0.6, ls=":")
    ax.xaxis.set_major_formatter(_money_axis(currency))
    ax.yaxis.set_major_formatter(_money_axis(currency))
    ax.set_xlabel(f"threshold ({currency} per QALY)")
    ax.set_ylabel(f"EVPPI per person ({currency})")
    ax.set_title(f"Partial EVPI by threshold, top {min(top, len(order))} groups\n"
                 f"({_methods(table)}; bands ±1.96 SE)", fontsize=9)  # fmt: skip
    ax.legend(frameon=False, fontsize=7)
    _save(fig, path)


def evsi_figure(table: pd.DataFrame, currency: str, path: Path) -> None:
    """EVSI (per person, or population when given) and ENBS against the sample size,
    with the EVPPI as the ceiling and the ENBS optimum marked."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    pop = "population_evsi" in table.columns
    value = table.population_evsi if pop else table.evsi
    ceiling = table.population_evppi if pop else table.evppi
    ax.plot(table.n, value, "o-", color="#1b9e77", label="EVSI" + (" (population)" if pop else ""))
    ax.axhline(ceiling.iloc[0], color="black", ls="--", lw=1, label="EVPPI (ceiling)")
    if "enbs" in table.columns:
        ax.plot(table.n, table.enbs, "s-", color="#d95f02", label="ENBS")
        best = table[table.optimal]
        if len(best) and best.n.iloc[0] > 0:
            b = best.iloc[0]
            ax.plot([b.n], [b.enbs], "*", ms=14, color="#d95f02")
            ax.annotate(f"optimum n = {b.n:,.0f}", (b.n, b.enbs), textcoords="offset points",
                        xytext=(6, 8), fontsize=8)  # fmt: skip
        else:
            ax.text(0.02, 0.04, "no size has a positive ENBS", transform=ax.transAxes, fontsize=8)
        ax.axhline(0, color="grey", lw=0.6)
    ax.yaxis.set_major_formatter(_money_axis(currency))
    ax.set_xlabel("study size n (per arm)")
    ax.set_ylabel(f"value ({currency})")
    ax.set_title(
        f"EVSI and ENBS of a study of {table.parameter.iloc[0]} at "
        f"{_money_axis(currency)(table.threshold.iloc[0], 0)}/QALY ({_methods(table)})",
        fontsize=8,
    )
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def tornado_figure(table: pd.DataFrame, info: dict, currency: str, path: Path, top: int = 20):
    """Incremental NMB at each end of each parameter's range, largest swing on top."""
    t = table.head(top).iloc[::-1]
    base = info["base_inmb"]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(t) + 2.0))
    y = np.arange(len(t))
    ax.barh(y, t.inmb_low - base, left=base, color="#67a9cf", label="low end of range")
    ax.barh(y, t.inmb_high - base, left=base, color="#ef8a62", label="high end of range")
    ax.axvline(base, color="black", lw=1)
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    labels = [
        f"{k}{f' (+{len(w.split())} linked)' if isinstance(w, str) and w else ''}  [{lo:.3g} – {hi:.3g}]"
        for k, w, lo, hi in zip(t.key, t.moves_with, t.low_value, t.high_value, strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=7)
    fmt = _money_axis(currency)
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel(
        f"incremental NMB of {info['arm']} vs {info['versus']} at {fmt(info['threshold'], 0)}/QALY "
        f"({currency})\nbase {fmt(base, 0)} ± {fmt(info['base_inmb_se'], 0)} (Monte Carlo SE)"
    )
    ax.set_title(f"One-way sensitivity ({int(info['level'] * 100)} % ranges)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    _save(fig, path)


def two_way_figure(table: pd.DataFrame, info: dict, currency: str, path: Path) -> None:
    """Heat map of incremental NMB over two parameters, with the optimal arm marked."""
    kx, ky = [c for c in table.columns if c not in ("inmb", "optimal", "adjusted")][:2]
    wide = table.pivot(index=ky, columns=kx, values="inmb")
    fig, ax = plt.subplots(figsize=(7, 5.5))
    z = wide.to_numpy()
    span = max(abs(np.nanmin(z)), abs(np.nanmax(z)), 1e-9)
    mesh = ax.pcolormesh(
        wide.columns, wide.index, z, shading="nearest", cmap="RdBu",
        norm=TwoSlopeNorm(0.0, -span, span),
    )  # fmt: skip
    if np.nanmin(z) < 0 < np.nanmax(z):
        ax.contour(wide.columns, wide.index, z, levels=[0.0], colors="black", linewidths=1.2)
    arms = sorted(set(table.optimal))
    for _, r in table.iterrows():
        ax.annotate(r.optimal[:3], (r[kx], r[ky]), ha="center", va="center", fontsize=6)
    bar = fig.colorbar(mesh, ax=ax, format=_money_axis(currency))
    fmt = _money_axis(currency)
    bar.set_label(
        f"INMB {info['arm']} vs {info['versus']} at {fmt(info['threshold'], 0)}/QALY ({currency})"
    )
    ax.set_xlabel(_parameter_label(kx, currency))
    ax.set_ylabel(_parameter_label(ky, currency))
    ax.set_title(f"Two-way sensitivity; labels: optimal arm ({', '.join(arms)}); line: INMB = 0")
    _save(fig, path)


def target_figure(outcome, path: Path) -> None:
    """One validation target: the model's number or curve against the published figure."""
    t = outcome.target
    lo, hi = t.bounds
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    verdict = "agrees" if outcome.passed else "DISAGREES"
    if t.setting == "acute":
        ax.axvspan(lo, hi, color="#a6dba0", alpha=0.6, label="interval of agreement")
        if t.value is not None:
            ax.axvline(t.value, color="#1b7837", lw=2, label="published figure")
        if t.n:
            ci = clopper_pearson(t.events, t.n)
            ax.errorbar([t.events / t.n], [0.35], xerr=[[t.events / t.n - ci[0]], [ci[1] - t.events / t.n]],
                        fmt="s", color="#1b7837", capsize=4, label=f"published, 95 % CI (n = {t.n:,})")  # fmt: skip
        ax.plot([outcome.value], [0.6], "o", color="#d95f02", ms=9, label="model")
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_xlim(0, max(1.0, hi))
        ax.set_xlabel(f"{t.measure} at the last step, among patients who started it")
    else:
        for k, (arm, d) in enumerate(outcome.curves.groupby("arm", sort=False)):
            label = {"target": "model: " + ", ".join(t.maintenance or ["reference maintenance"]),
                     "versus": "model: " + ", ".join(t.versus or [])}[arm]  # fmt: skip
            ax.step(d.time, 1 - d.survival, where="post", color=ARM_COLOURS[k], label=label)
        if t.setting == "relapse":
            ax.errorbar([t.week], [t.centre], yerr=[[t.centre - lo], [hi - t.centre]], fmt="s",
                        color="black", capsize=4, label="published (interval of agreement)")  # fmt: skip
            ax.set_ylabel("cumulative relapse among responders")
        else:
            ax.axvline(t.week, color="grey", ls=":", lw=1)
            ax.text(0.02, 0.95, f"HR at week {t.week}: model {outcome.value:.2f}; "
                    f"published {t.centre:.2f} ({lo:.2f}-{hi:.2f})", transform=ax.transAxes,
                    va="top", fontsize=8)  # fmt: skip
            ax.set_ylabel("cumulative relapse")
        ax.set_xlim(0, t.week * 1.15 + 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("weeks since the end of the course")
    ax.set_title(f"{t.id}: model {outcome.value:.3f} — {verdict}", fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    fig.text(0.01, 0.01, t.source[:150], fontsize=6, color="grey")
    _save(fig, path)


def clopper_pearson(events: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95 % interval of a proportion."""
    from scipy.stats import beta

    lo = beta.ppf(0.025, events, n - events + 1) if events > 0 else 0.0
    hi = beta.ppf(0.975, events + 1, n - events) if events < n else 1.0
    return float(lo), float(hi)


def validation_overview(table: pd.DataFrame, path: Path) -> None:
    """Every target: model value against its interval of agreement, on one page."""
    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.34 * len(t) + 1.4))
    y = np.arange(len(t))
    ax.hlines(y, t.low, t.high, color="#a6dba0", lw=7, label="interval of agreement")
    ax.plot(t.target, y, "|", color="#1b7837", ms=12, mew=2, label="published")
    colours = np.where(t.agrees, "#1b9e77", "#d7301f")
    ax.scatter(t.model, y, c=colours, zorder=3, s=30, label="model (red: disagrees)")
    ax.set_yticks(y, t.id, fontsize=7)
    ax.set_xlabel("proportion (hazard ratio for sustain1_*)")
    ax.set_title(f"Validation: {int(t.agrees.sum())} of {len(t)} targets agree")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    _save(fig, path)


def replication_figure(table: pd.DataFrame, path: Path) -> None:
    """Each compared figure of the replications on its own scale: the published value
    and its interval of agreement, and the model's value (red: outside)."""
    n = len(table)
    fig, axes = plt.subplots(n, 1, figsize=(8.5, 0.62 * n + 0.9), squeeze=False)
    for ax, (_, r) in zip(axes[:, 0], table.iterrows(), strict=True):
        lo, hi, pub, mod = float(r.low), float(r.high), float(r.published), float(r.model)
        ok = bool(r.agrees)
        span = [v for v in (lo, hi, pub, mod) if np.isfinite(v)]
        a, b = min(span), max(span)
        pad = 0.08 * (b - a) if b > a else max(abs(a), 1.0) * 0.1
        ax.set_xlim(a - pad, b + pad)
        ax.axvspan(lo, hi, color="#a6dba0", alpha=0.7)
        ax.plot([pub], [0], "|", color="#1b7837", ms=14, mew=2.5)
        if np.isfinite(mod):
            ax.plot([mod], [0], "o", color="#1b9e77" if ok else "#d7301f", ms=7)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=6, pad=1)
        dep = " (dependent)" if bool(r.dependent) else ""
        ax.set_title(
            f"{r.study}: {r.measure}{dep}  —  model {_short(mod)}, published {_short(pub)}"
            f" [{_short(lo)}, {_short(hi)}]: {'agrees' if ok else 'MISSES'}",
            fontsize=7,
            loc="left",
            pad=2,
        )
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.suptitle(
        f"Replications: {int(table.agrees.sum())} of {n} published figures reproduced "
        "(green band: interval of agreement; bar: published; dot: model)",
        fontsize=8,
    )
    _save(fig, path)


def _short(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

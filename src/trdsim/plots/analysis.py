"""Figures of decision uncertainty: CE plane, CEAC/CEAF, EVPI, EVPPI, tornado, two-way map.

Each function returns its matplotlib Figure and also writes it as PNG when given a path.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trdsim.plots.style import (
    OKABE_ITO,
    finish,
    format_money,
    is_zero,
    money_formatter,
    new_figure,
    no_uncertainty,
    parameter_label,
    styled,
    titled,
)
from trdsim.store.tables import arms_of

__all__ = [
    "ARM_COLOURS",
    "METHOD_NAMES",
    "NO_UNCERTAINTY",
    "ce_plane",
    "ceac_figure",
    "clopper_pearson",
    "evpi_figure",
    "evppi_curve_figure",
    "evppi_figure",
    "evsi_figure",
    "replication_figure",
    "short_marks",
    "structural_figure",
    "target_figure",
    "threshold_figure",
    "tornado_figure",
    "two_way_figure",
    "validation_overview",
]

ARM_COLOURS = OKABE_ITO[:7]
AGREE, DISAGREE = OKABE_ITO[3], OKABE_ITO[4]  # blue / vermillion: apart for every colour vision
BAND = "#CFE8F3"  # interval of agreement: a light tint that any colour vision reads as a band
NO_UNCERTAINTY = (
    "No decision uncertainty: the same arm has the highest net benefit in every draw, "
    "so the value of information is zero."
)


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


@styled
def ce_plane(
    draws: pd.DataFrame,
    thresholds: list[float],
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Incremental cost vs incremental QALYs of each arm against the first, one dot per draw."""
    arms = arms_of(draws)
    base = draws[draws.arm == arms[0]].set_index("draw")
    fig, ax = new_figure((6.5, 5))
    for k, a in enumerate(arms[1:]):
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
            label=f"{format_money(lam, currency)}/QALY",
        )
    ax.set_xlim(x0, x1)
    ax.set_xlabel("incremental QALYs (discounted)")
    ax.set_ylabel(f"incremental cost ({currency}, discounted)")
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_title(titled(f"Cost-effectiveness plane ({draws.draw.nunique():,} draws; X = mean)",
                        scenario, price_year))  # fmt: skip
    ax.legend(frameon=False, fontsize=8, loc="best")
    return finish(fig, path)


@styled
def ceac_figure(
    table: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    marks: list[float] = (),
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """CEAC per arm with the CEAF (the expected-NMB-optimal arm's probability) on top."""
    fig, ax = new_figure((6.5, 4.5))
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
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.set_title(titled("Cost-effectiveness acceptability curves and frontier", scenario,
                        price_year))  # fmt: skip
    ax.legend(frameon=False, fontsize=8)
    return finish(fig, path)


@styled
def evpi_figure(
    table: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    population: float | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """EVPI per person over thresholds (and for the population on a second axis); a
    sentence instead of a flat line when there is no decision uncertainty."""
    fig, ax = new_figure((6.5, 4.5))
    title = titled("Expected value of perfect information", scenario, price_year)
    if is_zero(table.evpi):
        no_uncertainty(ax, NO_UNCERTAINTY)
        ax.set_title(title)
        return finish(fig, path)
    ax.plot(table.threshold, table.evpi, color=ARM_COLOURS[2])
    ax.set_xlabel(f"willingness to pay per QALY ({currency})")
    ax.set_ylabel(f"EVPI per person ({currency})")
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.yaxis.set_major_formatter(money_formatter(currency))
    if population:
        right = ax.twinx()
        right.set_ylim(np.array(ax.get_ylim()) * population)
        right.yaxis.set_major_formatter(money_formatter(currency))
        right.set_ylabel(f"population EVPI ({currency})")
        right.spines["right"].set_visible(True)
    ax.set_title(title)
    return finish(fig, path)


@styled
def evppi_figure(
    table: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """EVPPI per parameter group (bars, ±1.96 SE), with the EVPI as a line; a sentence
    instead of zero bars when there is no decision uncertainty."""
    t = table.sort_values("evppi")
    fig, ax = new_figure((7, 0.35 * len(t) + 1.9))
    at = format_money(t.threshold.iloc[0], currency)
    title = titled(f"Partial EVPI by parameter group at {at}/QALY, ±1.96 SE\n({_methods(t)})",
                   scenario, price_year)  # fmt: skip
    ax.set_title(title, fontsize=9)
    if is_zero(t.evppi) and is_zero(t.evpi):
        no_uncertainty(ax, NO_UNCERTAINTY)
        return finish(fig, path)
    ax.barh(t.group, t.evppi, xerr=1.96 * t.se, color=ARM_COLOURS[3], ecolor="black", capsize=2)
    ax.axvline(t.evpi.iloc[0], color="black", ls="--", lw=1, label="EVPI")
    ax.set_xlabel(f"EVPPI per person ({currency}) at {at}/QALY")
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.legend(frameon=False, fontsize=8)
    return finish(fig, path)


@styled
def evppi_curve_figure(
    curve: pd.DataFrame,
    table: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    top: int = 6,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """EVPPI against the threshold for the `top` groups with the largest EVPPI at the
    decision thresholds (bands ±1.96 SE), with the EVPI."""
    order = table.groupby("group", sort=False).evppi.max().sort_values(ascending=False)
    fig, ax = new_figure((7, 4.2))
    ax.set_title(titled(f"Partial EVPI by threshold, top {min(top, len(order))} groups\n"
                        f"({_methods(table)}; bands ±1.96 SE)", scenario, price_year),
                 fontsize=9)  # fmt: skip
    if is_zero(curve.evpi) and is_zero(curve.evppi):
        no_uncertainty(ax, NO_UNCERTAINTY)
        return finish(fig, path)
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
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel(f"threshold ({currency} per QALY)")
    ax.set_ylabel(f"EVPPI per person ({currency})")
    ax.legend(frameon=False, fontsize=7)
    return finish(fig, path)


@styled
def evsi_figure(
    table: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """EVSI (per person, or population when given) and ENBS against the sample size,
    with the EVPPI as the ceiling and the ENBS optimum marked."""
    fig, ax = new_figure((7, 4.2))
    ax.set_title(
        titled(
            f"EVSI and ENBS of a study of {parameter_label(table.parameter.iloc[0], currency)}"
            f" at {format_money(table.threshold.iloc[0], currency)}/QALY ({_methods(table)})",
            scenario,
            price_year,
        ),
        fontsize=8,
    )
    pop = "population_evsi" in table.columns
    value = table.population_evsi if pop else table.evsi
    ceiling = table.population_evppi if pop else table.evppi
    if is_zero(value) and is_zero(ceiling):
        no_uncertainty(ax, NO_UNCERTAINTY)
        return finish(fig, path)
    ax.plot(table.n, value, "o-", color=ARM_COLOURS[2],
            label="EVSI" + (" (population)" if pop else ""))  # fmt: skip
    ax.axhline(ceiling.iloc[0], color="black", ls="--", lw=1, label="EVPPI (ceiling)")
    if "enbs" in table.columns:
        ax.plot(table.n, table.enbs, "s-", color=ARM_COLOURS[4], label="ENBS")
        best = table[table.optimal]
        if len(best) and best.n.iloc[0] > 0:
            b = best.iloc[0]
            ax.plot([b.n], [b.enbs], "*", ms=14, color=ARM_COLOURS[4])
            ax.annotate(f"optimum n = {b.n:,.0f}", (b.n, b.enbs), textcoords="offset points",
                        xytext=(6, 8), fontsize=8)  # fmt: skip
        else:
            ax.text(0.02, 0.04, "no size has a positive ENBS", transform=ax.transAxes, fontsize=8)
        ax.axhline(0, color="grey", lw=0.6)
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel("study size n (per arm)")
    ax.set_ylabel(f"value ({currency})")
    ax.legend(frameon=False, fontsize=8)
    return finish(fig, path)


def _range(key: str, lo: float, hi: float, currency: str) -> str:
    """A parameter's range in its unit: money with its symbol, the rest as numbers."""
    if key.split(".", maxsplit=1)[0] in ("unit_costs", "state_costs"):
        return f"{format_money(lo, currency)} – {format_money(hi, currency)}"
    return f"{lo:.3g} – {hi:.3g}"


@styled
def tornado_figure(
    table: pd.DataFrame,
    info: dict,
    currency: str,
    path: Path | None = None,
    top: int = 20,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Incremental NMB at each end of each parameter's range, largest swing on top."""
    t = table.head(top).iloc[::-1]
    base = info["base_inmb"]
    fig, ax = new_figure((9, 0.32 * len(t) + 2.2))
    y = np.arange(len(t))
    ax.barh(y, t.inmb_low - base, left=base, color=ARM_COLOURS[1], label="low end of range")
    ax.barh(y, t.inmb_high - base, left=base, color=ARM_COLOURS[0], label="high end of range")
    ax.axvline(base, color="black", lw=1)
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    labels = [
        f"{parameter_label(k, currency)}"
        f"{f' (+{len(w.split())} linked)' if isinstance(w, str) and w else ''}"
        f"  [{_range(k, lo, hi, currency)}]"
        for k, w, lo, hi in zip(t.key, t.moves_with, t.low_value, t.high_value, strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=7)
    fmt = money_formatter(currency)
    ax.xaxis.set_major_formatter(fmt)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel(
        f"incremental NMB of {info['arm']} vs {info['versus']} at "
        f"{format_money(info['threshold'], currency)}/QALY ({currency})\n"
        f"base {format_money(base, currency)} ± {format_money(info['base_inmb_se'], currency)}"
        " (Monte Carlo SE)"
    )
    ax.set_title(titled(f"One-way sensitivity ({int(info['level'] * 100)} % ranges)", scenario,
                        price_year))  # fmt: skip
    # beside the bars, not over them (the longest bars reach the corners)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig, path)


def short_marks(names: list[str]) -> dict[str, str]:
    """A short mark per name, different for every name, to write in a map's cells: the
    words' initials ('Sequential care' -> 'SC'), else the shortest prefix that tells the
    names apart, else their numbers in `names`' order."""
    initials = {n: "".join(w[0] for w in re.findall(r"[^\W_]+", n)).upper() for n in names}
    if all(initials.values()) and len(set(initials.values())) == len(names):
        return initials
    for k in range(1, 5):  # longer prefixes would crowd the cell
        prefixes = {n: n[:k] for n in names}
        if len(set(prefixes.values())) == len(names):
            return prefixes
    return {n: str(i + 1) for i, n in enumerate(names)}


@styled
def two_way_figure(
    table: pd.DataFrame,
    info: dict,
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Heat map of incremental NMB over two parameters, the optimal arm marked and the
    INMB = 0 line drawn where the sign changes (the title says when it does not)."""
    kx, ky = str(table.x_parameter.iloc[0]), str(table.y_parameter.iloc[0])
    wide = table.pivot(index="y", columns="x", values="inmb")
    fig, ax = new_figure((7.5, 5.8))
    z = wide.to_numpy()
    span = max(abs(np.nanmin(z)), abs(np.nanmax(z)), 1e-9)
    mesh = ax.pcolormesh(
        wide.columns, wide.index, z, shading="nearest", cmap="RdBu",
        norm=TwoSlopeNorm(0.0, -span, span),
    )  # fmt: skip
    crosses = bool(np.nanmin(z) < 0 < np.nanmax(z)) and min(z.shape) >= 2
    if crosses:
        ax.contour(wide.columns, wide.index, z, levels=[0.0], colors="black", linewidths=1.6)
    arms = sorted(set(table.optimal))
    marks = short_marks(arms)
    for _, r in table.iterrows():
        # white on the map's dark ends, black elsewhere: legible on every cell
        ink = "white" if abs(r.inmb) > 0.6 * span else "black"
        ax.annotate(marks[r.optimal], (r.x, r.y), ha="center", va="center", fontsize=7,
                    color=ink)  # fmt: skip
    bar = fig.colorbar(mesh, ax=ax, format=money_formatter(currency))
    bar.set_label(
        f"INMB {info['arm']} vs {info['versus']} at "
        f"{format_money(info['threshold'], currency)}/QALY ({currency})"
    )
    ax.set_xlabel(parameter_label(kx, currency))
    ax.set_ylabel(parameter_label(ky, currency))
    if crosses:
        line = "black line: INMB = 0"
    else:
        line = f"INMB is {'positive' if np.nanmin(z) >= 0 else 'negative'} everywhere: no INMB = 0 line"
    ax.set_title(
        titled(f"Two-way sensitivity; marks: optimal arm "
               f"({', '.join(f'{marks[a]} = {a}' for a in arms)})\n{line}", scenario, price_year),
        fontsize=9,
    )  # fmt: skip
    return finish(fig, path)


@styled
def threshold_figure(
    info: dict,
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Incremental NMB at the target ICER over the values the threshold search tried,
    with the value where it crosses zero (there the ICER equals the target)."""
    pts = np.asarray(info["search"], dtype=float)
    fig, ax = new_figure((6.5, 4.2))
    ax.plot(pts[:, 0], pts[:, 1], "o-", color=ARM_COLOURS[0], ms=4, label="evaluated")
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.axvline(info["value"], color="black", lw=1.2,
               label=f"threshold value {info['value']:.4g}")  # fmt: skip
    ax.axvline(info["base_value"], color=ARM_COLOURS[1], lw=1, ls="--",
               label=f"base value {info['base_value']:.4g}")  # fmt: skip
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel(parameter_label(info["parameter"], currency))
    ax.set_ylabel(
        f"INMB of {info['arm']} vs {info['versus']} at "
        f"{format_money(info['target_icer'], currency)}/QALY"
    )
    ax.set_title(titled("Threshold analysis", scenario, price_year))
    ax.legend(frameon=False, fontsize=8)
    return finish(fig, path)


@styled
def target_figure(
    outcome,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """One validation target: the model's number or curve against the published figure."""
    t = outcome.target
    lo, hi = t.bounds
    fig, ax = new_figure((6.5, 4.4))
    verdict = "agrees" if outcome.passed else "DISAGREES"
    if t.setting == "acute":
        ax.axvspan(lo, hi, color=BAND, alpha=0.9, label="interval of agreement")
        if t.value is not None:
            ax.axvline(t.value, color="black", lw=2, label="published figure")
        if t.n:
            ci = clopper_pearson(t.events, t.n)
            ax.errorbar([t.events / t.n], [0.35], xerr=[[t.events / t.n - ci[0]], [ci[1] - t.events / t.n]],
                        fmt="s", color="black", capsize=4, label=f"published, 95 % CI (n = {t.n:,})")  # fmt: skip
        ax.plot([outcome.value], [0.6], "o" if outcome.passed else "X",
                color=AGREE if outcome.passed else DISAGREE, ms=9, label="model")  # fmt: skip
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
    ax.set_title(titled(f"{t.id}: model {outcome.value:.3f} — {verdict}", scenario), fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))  # room for the source line
    fig.text(0.01, 0.01, t.source[:150], fontsize=6, color="grey")
    return finish(fig, path)


def clopper_pearson(events: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95 % interval of a proportion."""
    from scipy.stats import beta

    lo = beta.ppf(0.025, events, n - events + 1) if events > 0 else 0.0
    hi = beta.ppf(0.975, events + 1, n - events) if events < n else 1.0
    return float(lo), float(hi)


@styled
def validation_overview(
    table: pd.DataFrame,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Every target: model value against its interval of agreement, on one page
    (agreement by marker shape and colour: blue dot agrees, vermillion cross does not),
    each named by its description in the library (its id if the table has none)."""
    t = table.iloc[::-1]
    names = [
        textwrap.fill(d if isinstance(d, str) and d else i, 55)
        for d, i in zip(t.get("description", t.id), t.id, strict=True)
    ]
    lines = sum(n.count("\n") for n in names)
    fig, ax = new_figure((7.5, 0.34 * len(t) + 0.12 * lines + 1.6))
    y = np.arange(len(t))
    ax.hlines(y, t.low, t.high, color=BAND, lw=7, label="interval of agreement")
    ax.plot(t.target, y, "|", color="black", ms=12, mew=2, label="published")
    ok = t.agrees.to_numpy(dtype=bool)
    ax.scatter(t.model[ok], y[ok], color=AGREE, marker="o", zorder=3, s=30, label="model: agrees")
    if (~ok).any():
        ax.scatter(t.model[~ok], y[~ok], color=DISAGREE, marker="X", zorder=3, s=45,
                   label="model: disagrees")  # fmt: skip
    ax.set_yticks(y, names, fontsize=6)
    ax.set_xlabel("proportion (a hazard ratio for the targets that are one)")
    ax.set_title(titled(f"Validation: {int(t.agrees.sum())} of {len(t)} targets agree", scenario))
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return finish(fig, path)


@styled
def replication_figure(
    table: pd.DataFrame,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
    currency: str | None = None,
) -> Figure:
    """Each compared figure of the replications on its own scale: the published value
    and its interval of agreement, and the model's value (dot: agrees; cross: misses).
    Each panel is named by the figure's description when the table has one; money
    measures (ICERs, incremental costs) are in the row's `currency` and `price_year`
    columns when the table has them, else in `currency`."""
    n = len(table)
    titles = [_replication_title(r) for _, r in table.iterrows()]
    lines = sum(t.count("\n") for t in titles)
    fig, axes = new_figure((8.5, 0.62 * n + 0.12 * lines + 1.0), n, 1, squeeze=False)
    for ax, (_, r), what in zip(axes[:, 0], table.iterrows(), titles, strict=True):
        lo, hi, pub, mod = float(r.low), float(r.high), float(r.published), float(r.model)
        ok = bool(r.agrees)
        span = [v for v in (lo, hi, pub, mod) if np.isfinite(v)]
        a, b = min(span), max(span)
        pad = 0.08 * (b - a) if b > a else max(abs(a), 1.0) * 0.1
        ax.set_xlim(a - pad, b + pad)
        ax.axvspan(lo, hi, color=BAND, alpha=0.9)
        ax.plot([pub], [0], "|", color="black", ms=14, mew=2.5)
        if np.isfinite(mod):
            ax.plot([mod], [0], "o" if ok else "X", color=AGREE if ok else DISAGREE, ms=7)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=6, pad=1)
        cur = r.get("currency", currency)
        cur = cur if isinstance(cur, str) and cur else None
        money = cur is not None and r.measure in MONEY_MEASURES
        show = (lambda x, c=cur: format_money(x, c)) if money else _short
        if money:
            ax.xaxis.set_major_formatter(money_formatter(cur))
            year = r.get("price_year")
            if year is not None and np.isfinite(year):
                what += f" [{cur}, {int(year)} prices]"
        ax.set_title(
            f"{what}\nmodel {show(mod)}, published {show(pub)}"
            f" [{show(lo)}, {show(hi)}]: {'agrees' if ok else 'MISSES'}",
            fontsize=7,
            loc="left",
            pad=2,
        )
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.suptitle(
        titled(
            f"Replications: {int(table.agrees.sum())} of {n} published figures reproduced "
            "(band: interval of agreement; bar: published; dot: model agrees, cross: misses)",
            scenario,
            price_year,
        ),
        fontsize=8,
    )
    return finish(fig, path)


MONEY_MEASURES = ("icer", "inc_cost", "cost")  # replication measures in money


def _replication_title(r: pd.Series) -> str:
    """'Study: what the figure is (dependent)', wrapped to the panel's width."""
    what = r.description if isinstance(r.get("description"), str) else r.measure
    dep = " (dependent)" if bool(r.dependent) else ""
    return textwrap.fill(f"{r.study}: {what}{dep}", 150)


def _short(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


@styled
def structural_figure(
    decisions: pd.DataFrame,
    labels: dict[str, str],
    first_arm: str,
    currency: str,
    z: float,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """One panel per threshold: for each structural variant (a row), every arm's
    incremental NMB against the first arm with +/- z Monte Carlo SE bars; the variant's
    optimal arm drawn filled and ringed, the others hollow."""
    thresholds = list(pd.unique(decisions.threshold))
    variants = list(labels)
    arms = [a for a in arms_of(decisions) if a != first_arm]
    colours = {a: ARM_COLOURS[(i + 1) % len(ARM_COLOURS)] for i, a in enumerate(arms)}
    fig, axes = new_figure((5.0 * len(thresholds) + 1.5, 0.42 * len(variants) + 2.2),
                           ncols=len(thresholds), sharey=True)  # fmt: skip
    axes = np.atleast_1d(axes)
    y0 = {v: len(variants) - 1 - i for i, v in enumerate(variants)}
    step = 0.6 / max(len(arms), 1)
    for ax, lam in zip(axes, thresholds, strict=True):
        at = decisions[decisions.threshold == lam]
        for k, a in enumerate(arms):
            rows = at[at.arm.astype(str) == a]
            if rows.empty:
                continue
            y = np.array([y0[v] for v in rows.variant]) + 0.3 - (k + 0.5) * step
            ax.errorbar(rows.inmb, y, xerr=z * rows.inmb_se.fillna(0), fmt="none",
                        ecolor=colours[a], lw=1)  # fmt: skip
            best = rows.optimal.astype(bool).to_numpy()
            ax.scatter(rows.inmb[best], y[best], s=42, color=colours[a], edgecolor="black",
                       linewidth=1.0, zorder=3, label=f"{a} (optimal: filled)")  # fmt: skip
            ax.scatter(rows.inmb[~best], y[~best], s=30, facecolor="white",
                       edgecolor=colours[a], linewidth=1.2, zorder=3)  # fmt: skip
        first_best = at[(at.arm.astype(str) == first_arm) & at.optimal.astype(bool)]
        for v in first_best.variant:
            ax.annotate("first arm optimal", (0, y0[v]), xytext=(4, 0), textcoords="offset points",
                        fontsize=6, va="center", color="dimgrey")  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        for v in variants[1:]:
            ax.axhline(y0[v] + 0.5, color="0.9", lw=0.5)
        ax.xaxis.set_major_formatter(money_formatter(currency))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel(f"INMB vs {textwrap.shorten(first_arm, 40)} at "
                      f"{format_money(lam, currency)}/QALY ({currency})", fontsize=8)  # fmt: skip
    axes[0].set_yticks([y0[v] for v in variants],
                       [textwrap.shorten(labels[v], 45) for v in variants], fontsize=7)  # fmt: skip
    handles, names = axes[0].get_legend_handles_labels()
    seen = dict(zip(names, handles, strict=True))
    fig.legend(list(seen.values()), [textwrap.shorten(n, 60) for n in seen], frameon=False,
               fontsize=7, loc="outside lower center", ncol=2)  # fmt: skip
    fig.suptitle(titled(f"Structural variants: INMB (bars ± {z:g} MC SE)", scenario, price_year))
    return finish(fig, path)

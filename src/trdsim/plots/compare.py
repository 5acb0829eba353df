"""Figures of a simulation result. Each function returns its matplotlib Figure and
also writes it as PNG when given a path."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from trdsim.economics import ON_FRONTIER, status_label
from trdsim.engine.layout import TRACE_STATES
from trdsim.plots.style import (
    OKABE_ITO,
    finish,
    format_money,
    money_formatter,
    new_figure,
    styled,
    titled,
)
from trdsim.survival import at_risk_at, ever_remitted, greenwood_band, relapse_free

__all__ = [
    "STATE_COLOURS",
    "ever_remitted_figure",
    "frontier_figure",
    "relapse_free_figure",
    "trace_figure",
]

# depressed states warm, well states blue/green, death greys (Okabe-Ito where it can)
STATE_COLOURS = {
    "on_treatment_depressed": "#D55E00",
    "usual_care_depressed": "#E69F00",
    "untreated_depressed": "#8C3B00",
    "response": "#56B4E9",
    "remission": "#009E73",
    "dead": "#7F7F7F",
    "dead_suicide": "#252525",
    "waiting_depressed": "#F0E442",
}


@styled
def trace_figure(
    trace: pd.DataFrame,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Stacked state proportions over time, one panel per arm."""
    arms = list(dict.fromkeys(trace.arm))
    fig, axes = new_figure((5.5 * len(arms) + 2, 4), 1, len(arms), sharey=True, squeeze=False)
    for ax, arm in zip(axes[0], arms, strict=True):
        wide = trace[trace.arm == arm].pivot(index="week", columns="state", values="count")
        wide = wide[list(TRACE_STATES)]
        share = wide.div(wide.sum(axis=1), axis=0)
        ax.stackplot(
            share.index / 52.0,
            share.T.to_numpy(),
            labels=[s.replace("_", " ") for s in TRACE_STATES],
            colors=[STATE_COLOURS[s] for s in TRACE_STATES],
        )
        ax.set_title(arm)
        ax.set_xlabel("years since entry")
        ax.set_xlim(0, share.index.max() / 52.0)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("proportion of cohort")
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle(titled("State trace", scenario))
    return finish(fig, path, dpi=150)


def _finish(fig, ax, path: Path | None, xlabel: str, ylabel: str, title: str) -> Figure:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    ax.set_title(title)
    return finish(fig, path, dpi=150)


@styled
def ever_remitted_figure(
    patients: pd.DataFrame,
    horizon: int,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Cumulative proportion ever in remission, by arm."""
    d = ever_remitted(patients, horizon)
    fig, ax = new_figure((6, 4))
    for arm, g in d.groupby("arm", sort=False):
        ax.step(g.week / 52.0, g.proportion, where="post", label=arm)
    return _finish(
        fig,
        ax,
        path,
        "years since entry",
        "proportion ever in remission",
        titled("Cumulative remission", scenario),
    )


@styled
def relapse_free_figure(
    patients: pd.DataFrame,
    horizon: int,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Kaplan-Meier relapse-free survival of responders after their first course, by
    arm, with 95 % Greenwood bands and the numbers at risk under the axis."""
    d = relapse_free(patients, horizon)
    arms = list(dict.fromkeys(d.arm))
    fig, ax = new_figure((6.5, 4.2 + 0.22 * len(arms)))
    for k, (arm, g) in enumerate(d.groupby("arm", sort=False)):
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        n = int(g.at_risk.iloc[0])
        band = greenwood_band(g)
        ax.fill_between(
            band.time, band.lower, band.upper, step="post", color=colour, alpha=0.2, lw=0
        )
        ax.step(g.time, g.survival, where="post", color=colour, label=f"{arm} (n = {n:,})")
    ax.set_xlim(0, max(float(d.time.max()), 1.0))
    ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
    ax.set_xticks(ticks)
    # numbers at risk: a row per arm under the tick labels, in the arm's colour
    under = blended_transform_factory(ax.transData, ax.transAxes)
    left = blended_transform_factory(ax.transAxes, ax.transAxes)
    ax.text(-0.06, -0.2, "at risk", transform=left, ha="right", va="top", fontsize=7)
    for k, (arm, g) in enumerate(d.groupby("arm", sort=False)):
        y = -0.2 - 0.07 * (k + 1)
        ax.text(-0.06, y, arm, transform=left, ha="right", va="top", fontsize=7,
                color=OKABE_ITO[k % len(OKABE_ITO)])  # fmt: skip
        for t, n in zip(ticks, at_risk_at(g, np.asarray(ticks)), strict=True):
            ax.text(t, y, f"{int(n):,}", transform=under, ha="center", va="top", fontsize=7)
    return _finish(
        fig,
        ax,
        path,
        "weeks since the end of the first responding course",
        "relapse-free",
        titled("Relapse-free survival of responders (Kaplan–Meier, 95 % band)", scenario),
    )


@styled
def frontier_figure(
    incremental: pd.DataFrame,
    currency: str,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
) -> Figure:
    """Mean cost against mean QALYs per arm, the efficiency frontier joined, ICERs on it."""
    fig, ax = new_figure((6.5, 4.5))
    money = money_formatter(currency)
    frontier_colour, off_colour = OKABE_ITO[2], "#7F7F7F"
    on = incremental[incremental.status.astype(str).isin(ON_FRONTIER)]
    on = on.sort_values("cost")
    if len(on) >= 2:  # one arm alone is no line: no legend entry for it either
        ax.plot(on.qaly, on.cost, "-", color=frontier_colour, lw=1.5, zorder=1,
                label="efficiency frontier")  # fmt: skip
    shown = set()
    for _, r in incremental.iterrows():
        dominated = r.status not in ON_FRONTIER
        kind = "dominated or equivalent" if dominated else "on the frontier"
        ax.scatter(
            r.qaly, r.cost, s=60, zorder=2,
            marker="x" if dominated else "o", color=off_colour if dominated else frontier_colour,
            label=None if kind in shown else kind,
        )  # fmt: skip
        shown.add(kind)
    ax.margins(0.25)
    # one label per arm, above its point, with the ICER against the previous frontier arm
    # (segment labels collided with the arm labels on short segments); labels near an
    # edge grow inwards
    x0, x1 = ax.get_xlim()
    for _, r in incremental.iterrows():
        where = (r.qaly - x0) / (x1 - x0)
        ha = "left" if where < 1 / 3 else "right" if where > 2 / 3 else "center"
        icer = r.get("icer")
        text = f"{r.arm}: {status_label(r.status)}"
        if pd.notna(icer) and r.arm in set(on.arm):
            text += f"\nICER {format_money(icer, currency)}/QALY"
        ax.annotate(
            text, (r.qaly, r.cost), textcoords="offset points",
            xytext={"left": (-4, 8), "right": (4, 8), "center": (0, 8)}[ha], fontsize=8,
            ha=ha, va="bottom", annotation_clip=True,
        )  # fmt: skip
    ax.yaxis.set_major_formatter(money)
    ax.set_xlabel("QALYs per patient (discounted)")
    ax.set_ylabel(f"cost per patient ({currency}, discounted)")
    ax.set_title(titled("Cost-effectiveness plane: arms and efficiency frontier", scenario,
                        price_year))  # fmt: skip
    # below the axes: inside, it can sit on an arm's label
    fig.legend(frameon=False, fontsize=8, loc="outside lower center", ncols=3)
    return finish(fig, path, dpi=150)

"""Figures of a simulation result (matplotlib, written as PNG)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from trdsim.currency import SYMBOLS  # noqa: E402
from trdsim.engine.layout import TRACE_STATES  # noqa: E402
from trdsim.survival import ever_remitted, relapse_free  # noqa: E402

STATE_COLOURS = {
    "on_treatment_depressed": "#d95f02",
    "usual_care_depressed": "#b35806",
    "untreated_depressed": "#7f3b08",
    "response": "#7fbf7b",
    "remission": "#1b7837",
    "dead": "#636363",
    "dead_suicide": "#252525",
    "waiting_depressed": "#fdb863",
}


def trace_figure(trace: pd.DataFrame, path: Path) -> None:
    """Stacked state proportions over time, one panel per arm."""
    arms = list(dict.fromkeys(trace.arm))
    fig, axes = plt.subplots(1, len(arms), figsize=(5.5 * len(arms), 4), sharey=True, squeeze=False)
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
    fig.suptitle("State trace")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _finish(fig, ax, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def ever_remitted_figure(patients: pd.DataFrame, horizon: int, path: Path) -> None:
    """Cumulative proportion ever in remission, by arm."""
    d = ever_remitted(patients, horizon)
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, g in d.groupby("arm", sort=False):
        ax.step(g.week / 52.0, g.proportion, where="post", label=arm)
    _finish(
        fig, ax, path, "years since entry", "proportion ever in remission", "Cumulative remission"
    )


def relapse_free_figure(patients: pd.DataFrame, horizon: int, path: Path) -> None:
    """Kaplan-Meier relapse-free survival of responders after their first course, by arm."""
    d = relapse_free(patients, horizon)
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, g in d.groupby("arm", sort=False):
        n = int(g.at_risk.iloc[0])
        ax.step(g.time, g.survival, where="post", label=f"{arm} (n = {n})")
    _finish(
        fig,
        ax,
        path,
        "weeks since the end of the first responding course",
        "relapse-free",
        "Relapse-free survival of responders",
    )


def frontier_figure(incremental: pd.DataFrame, currency: str, path: Path) -> None:
    """Mean cost against mean QALYs per arm, the efficiency frontier joined, ICERs on it."""
    symbol = SYMBOLS.get(currency, "")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    on = incremental[~incremental.status.str.contains("dominated|equivalent")]
    on = on.sort_values("cost")
    ax.plot(on.qaly, on.cost, "-", color="#1b7837", lw=1.5, zorder=1, label="efficiency frontier")
    for _, r in incremental.iterrows():
        dominated = "dominated" in r.status or r.status == "equivalent"
        ax.scatter(
            r.qaly, r.cost, s=60, zorder=2,
            marker="x" if dominated else "o", color="#888888" if dominated else "#1b7837",
        )  # fmt: skip
        ax.annotate(
            f"{r.arm}: {r.status}", (r.qaly, r.cost), textcoords="offset points",
            xytext=(8, 4), fontsize=8,
        )  # fmt: skip
    for prev, (_, r) in zip(on.itertuples(), list(on.iterrows())[1:], strict=False):
        if pd.notna(r.icer):
            ax.annotate(
                f"ICER {symbol}{r.icer:,.0f}/QALY",
                ((prev.qaly + r.qaly) / 2, (prev.cost + r.cost) / 2),
                fontsize=8, color="#1b7837", ha="right",
            )  # fmt: skip
    ax.margins(0.25)
    ax.yaxis.set_major_formatter(lambda v, _: f"{symbol}{v:,.0f}")
    ax.set_xlabel("QALYs per patient (discounted)")
    ax.set_ylabel(f"cost per patient ({currency}, discounted)")
    ax.set_title("Cost-effectiveness plane: arms and efficiency frontier")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)

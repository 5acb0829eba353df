"""Figures of the care-system model: queues, waits, utilisation, outcomes vs capacity."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=200)
    plt.close(fig)


def queues_figure(services: pd.DataFrame, path: Path) -> None:
    """Patients waiting per service, by week."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (name, d) in enumerate(services.groupby("service", sort=False)):
        ax.plot(d.week / 52, d.queue, color=COLOURS[k % 6], label=name)
    ax.set_xlabel("years")
    ax.set_ylabel("patients waiting (end of week)")
    ax.set_title("Queues by service")
    ax.legend(frameon=False)
    _save(fig, path)


def waits_figure(waits: dict[str, np.ndarray], target: int, path: Path) -> None:
    """Distribution of weeks waited before starting, per service, with the target."""
    fig, ax = plt.subplots(figsize=(7, 4))
    top = max([int(w.max()) for w in waits.values() if len(w)] + [target + 1])
    bins = np.arange(0, top + 2) - 0.5
    for k, (name, w) in enumerate(waits.items()):
        if len(w):
            share = (w <= target).mean()
            ax.hist(w, bins=bins, histtype="step", density=True, color=COLOURS[k % 6], lw=1.5,
                    label=f"{name}: {share:.0%} within {target} weeks (n = {len(w):,})")  # fmt: skip
    ax.axvline(target + 0.5, color="black", ls="--", lw=1)
    ax.set_xlabel("weeks waited before the treatment started")
    ax.set_ylabel("share of starts")
    ax.set_title("Waiting times")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def utilisation_figure(services: pd.DataFrame, path: Path) -> None:
    """Share of each service's capacity in use, by week."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (name, d) in enumerate(services.groupby("service", sort=False)):
        ax.plot(
            d.week / 52,
            100 * d.utilisation,
            color=COLOURS[k % 6],
            label=f"{name} (capacity {int(d.capacity.iloc[0])})",
        )
    ax.set_ylim(0, 105)
    ax.set_xlabel("years")
    ax.set_ylabel("capacity in use (%)")
    ax.set_title("Utilisation")
    ax.legend(frameon=False)
    _save(fig, path)


def capacity_curves(table: pd.DataFrame, x: str, outcomes: list[tuple[str, str]], path: Path,
                    by: str | None = None) -> None:  # fmt: skip
    """Outcomes (mean over replications) against one swept capacity, a line per `by` value."""
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes), 4), squeeze=False)
    groups = table.groupby(by, sort=True) if by else [(None, table)]
    for ax, (col, label) in zip(axes[0], outcomes, strict=True):
        for k, (val, d) in enumerate(groups):
            m = d.groupby(x)[col].mean()
            ax.plot(m.index, m.values, "o-", color=COLOURS[k % 6], ms=3,
                    label=f"{by} = {val}" if by else None)  # fmt: skip
        ax.set_xlabel(x)
        ax.set_ylabel(label)
        if by:
            ax.legend(frameon=False, fontsize=7)
    _save(fig, path)

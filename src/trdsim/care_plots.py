"""Figures of the care-system model: queues, waits, utilisation, outcomes vs capacity."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trdsim import schema
from trdsim.care_result import within_target_label, within_target_share
from trdsim.currency import share as pct
from trdsim.plots.style import OKABE_ITO, finish, money_formatter, new_figure, styled, titled

__all__ = [
    "COLOURS",
    "capacity_curves",
    "grid_labels",
    "queues_figure",
    "service_labels",
    "utilisation_figure",
    "waits_figure",
]

COLOURS = OKABE_ITO[:6]


@styled
def queues_figure(
    services: pd.DataFrame,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
    labels: dict[str, str] | None = None,
) -> Figure:
    """Patients waiting per service, by week (labels: each service's name, e.g. the
    scenario's `label`; default its key)."""
    names = labels or {}
    fig, ax = new_figure((7, 4))
    for k, (name, d) in enumerate(services.groupby("service", sort=False)):
        ax.plot(d.week / 52, d.queue, color=COLOURS[k % len(COLOURS)],
                label=names.get(name, name))  # fmt: skip
    ax.set_xlabel("years")
    ax.set_ylabel("patients waiting (end of week)")
    ax.set_title(titled("Queues by service", scenario))
    ax.legend(frameon=False)
    return finish(fig, path)


@styled
def waits_figure(
    waits: dict[str, np.ndarray],
    target: int,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
    labels: dict[str, str] | None = None,
    waiting_past: dict[str, int] | None = None,
) -> Figure:
    """Distribution of weeks waited before starting, per service, with the target
    (labels: as in `queues_figure`). The legend gives each service's share within the
    target, `within_target_share`: those still waiting past it at the end
    (`waiting_past`, per service) count as over, as in every other table."""
    names = labels or {}
    past = waiting_past or {}
    fig, ax = new_figure((7, 4))
    top = max([int(w.max()) for w in waits.values() if len(w)] + [target + 1])
    bins = np.arange(0, top + 2) - 0.5
    for k, (name, w) in enumerate(waits.items()):
        if len(w):
            over = int(past.get(name, 0))
            share = within_target_share(int((w <= target).sum()), len(w), over)
            ax.hist(w, bins=bins, histtype="step", density=True, color=COLOURS[k % len(COLOURS)], lw=1.5,
                    label=f"{names.get(name, name)}: {pct(share)} {within_target_label(target)} "
                          f"({len(w):,} starts, {over:,} still waiting past it)")  # fmt: skip
    ax.axvline(target + 0.5, color="black", ls="--", lw=1)
    ax.set_xlabel("weeks waited before the treatment started")
    ax.set_ylabel("share of starts")
    ax.set_title(titled("Waiting times", scenario))
    ax.legend(frameon=False, fontsize=8)
    return finish(fig, path)


@styled
def utilisation_figure(
    services: pd.DataFrame,
    path: Path | None = None,
    *,
    scenario: str | None = None,
    price_year: int | None = None,
    labels: dict[str, str] | None = None,
) -> Figure:
    """Share of each service's capacity in use, by week (labels: as in `queues_figure`)."""
    names = labels or {}
    fig, ax = new_figure((7, 4))
    for k, (name, d) in enumerate(services.groupby("service", sort=False)):
        ax.plot(
            d.week / 52,
            100 * d.utilisation,
            color=COLOURS[k % len(COLOURS)],
            label=f"{names.get(name, name)} (capacity {int(d.capacity.iloc[0])})",
        )
    ax.set_ylim(0, 105)
    ax.set_xlabel("years")
    ax.set_ylabel("capacity in use (%)")
    ax.set_title(titled("Utilisation", scenario))
    ax.legend(frameon=False)
    return finish(fig, path)


def grid_labels(care_system: dict, keys: list[str]) -> dict[str, str]:
    """Readable names of swept scenario keys: a service's units by the service's own label
    in the scenario's [care_system.services] ('CBT therapists'), others by the schema's
    label of the key."""
    services = care_system.get("services", {})
    out = {}
    for key in keys:
        parts = key.split(".")
        if parts[:2] == ["care_system", "services"] and len(parts) == 4 and parts[3] == "units":
            own = services.get(parts[2], {}).get("label")
            out[key] = own if isinstance(own, str) else f"{schema.words(parts[2])} units"
        elif key == "care_system.years":
            out[key] = "years simulated"
        else:
            out[key] = schema.label(key, with_unit=False)
    return out


@styled
def capacity_curves(
    table: pd.DataFrame,
    x: str,
    outcomes: list[tuple[str, str]],
    path: Path | None = None,
    by: str | None = None,
    *,
    currency: str | None = None,
    scenario: str | None = None,
    price_year: int | None = None,
    labels: dict[str, str] | None = None,
) -> Figure:
    """Outcomes (mean over replications) against one swept capacity, a line per `by` value
    (columns named cost_* on a money axis when `currency` is given); labels: readable
    names of `x` and `by` (`grid_labels`)."""
    names = labels or {}
    fig, axes = new_figure((5.2 * len(outcomes), 4), 1, len(outcomes), squeeze=False)
    groups = table.groupby(by, sort=True) if by else [(None, table)]
    for ax, (col, label) in zip(axes[0], outcomes, strict=True):
        for k, (val, d) in enumerate(groups):
            m = d.groupby(x)[col].mean()
            ax.plot(m.index, m.values, "o-", color=COLOURS[k % len(COLOURS)], ms=3,
                    label=f"{names.get(by, by)}: {val}" if by else None)  # fmt: skip
        ax.set_xlabel(names.get(x, x))
        ax.set_ylabel(label)
        if currency and col.startswith("cost"):
            ax.yaxis.set_major_formatter(money_formatter(currency))
        if by:
            ax.legend(frameon=False, fontsize=7)
    if scenario or price_year:
        fig.suptitle(titled("Outcomes by capacity", scenario, price_year), fontsize=9)
    return finish(fig, path)


def service_labels(care_system: dict) -> dict[str, str]:
    """Each service's label in a scenario's [care_system] section (its key if none)."""
    return {k: str(v.get("label") or k) for k, v in care_system.get("services", {}).items()}

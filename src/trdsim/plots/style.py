"""What every trdsim figure shares: palette, style, money axes, labels, saving.

Figures are built on `matplotlib.figure.Figure` inside a style context, never through
pyplot's global state: importing trdsim or drawing a figure leaves the caller's
backend and rcParams as they were (a notebook keeps its own settings).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from trdsim import schema
from trdsim.currency import SYMBOLS

__all__ = [
    "MINUS",
    "OKABE_ITO",
    "STYLE",
    "MoneyFormatter",
    "finish",
    "format_money",
    "is_zero",
    "money_formatter",
    "new_figure",
    "no_uncertainty",
    "parameter_label",
    "scenario_caption",
    "styled",
    "titled",
]

# Okabe & Ito (2008) colour-blind safe palette; black last (kept for reference lines)
OKABE_ITO = [
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
]
MINUS = "\u2212"  # typographic minus: a hyphen reads as a dash next to a currency sign

STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "axes.unicode_minus": True,
}


def styled[F: Callable[..., Any]](func: F) -> F:
    """Run a plot function inside trdsim's style context (global rcParams untouched)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any):
    """A pyplot-free Figure with constrained layout and its axes (squeezed like
    `plt.subplots`); titles, labels and legends are fitted inside the canvas."""
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kw)


def finish(fig: Figure, path: Path | None, dpi: int = 200) -> Figure:
    """Save `fig` to `path` when given (tight bounding box, nothing clipped); return it."""
    if path is not None:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def _decimals(values: Sequence[float]) -> int:
    """Fewest decimals (0-6) that show each of `values` exactly, e.g. 0, 0.5, 1 -> 1."""
    finite = [float(v) for v in values if np.isfinite(v)]
    for d in range(7):
        if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in finite):
            return d
    return 6


def format_money(value: float, currency: str, decimals: int | None = None) -> str:
    """£12,000 / −£0.25: thousands separators, a true minus sign (U+2212).

    decimals None: whole units from 10 up or for whole numbers, else 2 decimals.
    """
    if not np.isfinite(value):
        return "n/a"
    symbol = SYMBOLS.get(currency, "")
    if decimals is None:
        decimals = 0 if abs(value) >= 10 or float(value).is_integer() else 2
    text = f"{symbol}{abs(value):,.{decimals}f}"
    # no "−£0" for a tiny negative that rounds to zero
    return MINUS + text if value < 0 and round(abs(value), decimals) > 0 else text


class MoneyFormatter(Formatter):
    """Tick labels in money: precision from the ticks' spacing, so an axis from £0 to
    £1.5 reads £0.00, £0.50, ... rather than £0, £0, £1, £1."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self._ticks: list[float] = []

    def set_locs(self, locs: Sequence[float]) -> None:
        """Remember the tick values the axis is about to label (they set the precision)."""
        self._ticks = [float(v) for v in locs]

    def __call__(self, x: float, pos: int | None = None) -> str:
        locs = [v for v in self._ticks if np.isfinite(v)]
        if len(locs) >= 2:
            d = _decimals(locs)
            # whole cents reads better than £0.1 next to £0.15
            d = 2 if d == 1 and max(abs(v) for v in locs) < 10 else d
            return format_money(x, self.currency, d)
        return format_money(x, self.currency)


def money_formatter(currency: str) -> MoneyFormatter:
    """The one money formatter every figure's money axis uses."""
    return MoneyFormatter(currency)


def parameter_label(key: str, currency: str = "") -> str:
    """A readable label with its unit for a dotted parameter key (trdsim.schema.label),
    e.g. `unit_costs.uk.cbt_session` -> "Unit cost: CBT session (GBP)"."""
    return schema.label(key, currency=currency)


def scenario_caption(scenario: str | None = None, price_year: int | None = None) -> str:
    """ "scenario uk_nhs, 2024 prices" from what the caller knows ("" when nothing)."""
    bits = []
    if scenario:
        bits.append(f"scenario {scenario}")
    if price_year:
        bits.append(f"{price_year} prices")
    return ", ".join(bits)


def titled(title: str, scenario: str | None = None, price_year: int | None = None) -> str:
    """`title` with the scenario and price year on a line of its own when known."""
    caption = scenario_caption(scenario, price_year)
    return f"{title}\n{caption}" if caption else title


def no_uncertainty(ax: Axes, sentence: str) -> None:
    """Say in the axes that there is nothing to draw (no decision uncertainty)."""
    ax.text(
        0.5, 0.5, sentence, transform=ax.transAxes, ha="center", va="center", wrap=True,
        fontsize=10,
    )  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def is_zero(values: Any) -> bool:
    """True when every value is (numerically) zero or missing: nothing to draw."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    return a.size == 0 or bool(np.all(np.abs(a) <= 1e-12 * max(1.0, math.fsum(np.abs(a)))))

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


# Readable words for the identifiers inside parameter keys
_WORDS = {
    "ad": "AD",
    "bdi2": "BDI-II",
    "cbt": "CBT",
    "dbs": "DBS",
    "ect": "ECT",
    "gp": "GP",
    "hr": "HR",
    "itbs": "iTBS",
    "logodds": "log-odds",
    "mbct": "MBCT",
    "iv": "IV",
    "or": "OR",
    "rtms": "rTMS",
    "sd": "SD",
    "smd": "SMD",
    "ssri": "SSRI",
    "vns": "VNS",
    "p1": "by time 1",
    "p2": "by time 2",
    "t1": "time 1",
    "t2": "time 2",
}
_SECTIONS = {
    "cohort": "Cohort",
    "effects": "Effect",
    "mortality": "Mortality",
    "self_harm": "Self-harm",
    "natural_history": "Natural history",
    "trial_context": "Trial context",
    "relapse_baseline": "Baseline relapse",
    "interactions": "Interaction",
    "maintenance": "Maintenance",
}
# (label, unit) of the fields of a treatment, maintenance or interaction entry
_FIELDS = {
    "response_effect": ("response effect", "vs control"),
    "remission_share": ("share of responses that are remissions", "proportion"),
    "trial_weeks": ("course length", "weeks"),
    "onset_first_week": ("first week of response", "week"),
    "onset_last_week": ("last week of response", "week"),
    "dropout": ("dropout", "proportion"),
    "relapse_t1": ("relapse curve, first time point", "weeks"),
    "relapse_t2": ("relapse curve, second time point", "weeks"),
    "relapse_p1": ("relapse by the first time point", "proportion"),
    "relapse_p2": ("relapse by the second time point", "proportion"),
    "source_prior_failures": ("prior failures in the source trials", "count"),
    "sessions": ("sessions", "count"),
    "disutility": ("disutility", "QALY weight"),
    "relapse_hr": ("relapse hazard ratio", "HR"),
    "relapse_hr_partial": ("relapse hazard ratio, partial course", "HR"),
    "duration_weeks": ("duration", "weeks"),
    "sessions_per_week": ("sessions per week", "count"),
    "requires_failed_trials": ("failed trials required", "count"),
    "excess_multiplier": ("excess multiplier", "ratio"),
}


def _words(identifier: str) -> str:
    return " ".join(_WORDS.get(w, w) for w in identifier.split("_"))


def _unit(name: str) -> str:
    """The unit a key's last part names, when it names one."""
    tokens = name.split("_")
    if "or" in tokens:
        return "OR"
    if "hr" in tokens:
        return "HR"
    if "logodds" in tokens:
        return "log-odds"
    if "hazard" in tokens:
        return "per week"
    if tokens[-1] in ("share", "probability") or name in ("response", "relapse"):
        return "proportion"
    if tokens[-1] in ("weeks", "week"):
        return "weeks"
    return ""


def parameter_label(key: str, currency: str = "") -> str:
    """A readable label with its unit for a dotted parameter key, e.g.
    `unit_costs.cbt_session` -> "Unit cost: CBT session (GBP)"."""
    parts = key.split(".")
    money_unit = f" ({currency})" if currency else ""
    if len(parts) == 2 and parts[0] == "unit_costs":
        return f"Unit cost: {_words(parts[1])}{money_unit}"
    if len(parts) == 2 and parts[0] == "state_costs":
        state = parts[1].removesuffix("_week")
        return f"Cost per week while {state}{money_unit}"
    if len(parts) == 2 and parts[0] == "utilities":
        return f"Utility: {parts[1]} (QALY weight)"
    if len(parts) == 3 and parts[2] in _FIELDS:
        label, unit = _FIELDS[parts[2]]
        owner = _words(parts[1])
        if parts[0] == "interactions":
            owner = " + ".join(_WORDS.get(w, w) for w in parts[1].split("_"))
        if parts[0] in _SECTIONS:
            owner = f"{_SECTIONS[parts[0]]} ({owner})"
        elif owner[:1].islower() and parts[1].split("_")[0] not in _WORDS:
            owner = owner[:1].upper() + owner[1:]
        return f"{owner}: {label} ({unit})"
    if len(parts) == 2 and parts[0] in _SECTIONS:
        words, unit = _words(parts[1]), _unit(parts[1])
        # "relapse HR per prior failure" names its unit already
        shown = f" ({unit})" if unit and unit not in words.split() else ""
        return f"{_SECTIONS[parts[0]]}: {words}{shown}"
    return key


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

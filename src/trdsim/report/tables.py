"""The report's tables, each kept once and written three ways: HTML, Markdown and CSV.

A table holds numbers as numbers (the CSV, for re-use) and a formatter per column (the
HTML page and the Markdown, for reading and pasting into a manuscript), so the three
always show the same values.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Column", "Table", "missing", "number", "text", "write_exports"]


def missing(x: object) -> bool:
    """None or NaN: shown as an empty cell."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(fmt: str) -> Callable[[object], str]:
    """A formatter for format spec `fmt`, blank for missing values."""
    return lambda x: "" if missing(x) else format(x, fmt)


def text(x: object) -> str:
    """A cell as text; blank when missing."""
    return "" if missing(x) else str(x)


@dataclass(frozen=True)
class Column:
    """One column: CSV name, shown title, values, and how a value is shown."""

    name: str
    title: str
    values: Sequence
    show: Callable[[Any], str] = text
    numeric: bool = False  # right-aligned in HTML and Markdown
    row_show: Sequence[Callable[[Any], str]] | None = None  # per row, when rows differ
    code: bool = False  # identifiers (parameter keys): shown as code in HTML, beside labels
    shown: bool = True  # False: in the CSV only (an identifier for re-use beside its label)

    def cell(self, i: int) -> str:
        show = self.row_show[i] if self.row_show is not None else self.show
        return show(self.values[i])


@dataclass(frozen=True)
class Table:
    """A named table of the report (its id is the HTML anchor and the export's file name)."""

    id: str
    caption: str
    columns: list[Column]
    note: str = ""

    def __post_init__(self) -> None:
        lengths = {len(c.values) for c in self.columns}
        if len(lengths) > 1:
            raise ValueError(f"table {self.id}: columns of different lengths {sorted(lengths)}")

    @property
    def rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def frame(self) -> pd.DataFrame:
        """The values as numbers (CSV)."""
        return pd.DataFrame({c.name: list(c.values) for c in self.columns})

    @property
    def visible(self) -> list[Column]:
        """The columns the page and the Markdown show."""
        return [c for c in self.columns if c.shown]

    def shown(self) -> list[list[str]]:
        """The values as shown, row by row."""
        return [[c.cell(i) for c in self.visible] for i in range(self.rows)]

    def html(self) -> str:
        head = "".join(
            f"<th{' class=num' if c.numeric else ''}>{html.escape(c.title)}</th>"
            for c in self.visible
        )

        def td(c: Column, v: str) -> str:
            shown = f"<code>{html.escape(v)}</code>" if c.code and v else html.escape(v)
            return f"<td{' class=num' if c.numeric else ''}>{shown}</td>"

        body = "".join(
            "<tr>" + "".join(td(c, v) for c, v in zip(self.visible, row, strict=True)) + "</tr>"
            for row in self.shown()
        )
        note = f'<p class="note">{html.escape(self.note)}</p>' if self.note else ""
        return (
            f'<div class="table-wrap"><table id="table-{self.id}" data-table="{self.id}">'
            f"<caption>{html.escape(self.caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"
        )

    def markdown(self) -> str:
        """A pipe table (GitHub / pandoc), caption above and note below."""

        def cell(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")

        lines = [f"**{self.caption}**", ""]
        lines.append("| " + " | ".join(cell(c.title) for c in self.visible) + " |")
        lines.append("|" + "|".join("---:" if c.numeric else ":---" for c in self.visible) + "|")
        for row in self.shown():
            lines.append("| " + " | ".join(cell(v) for v in row) + " |")
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"


def write_exports(tables: list[Table], folder: Path) -> list[Path]:
    """Each table as NAME.csv (numbers) and NAME.md (as shown), plus all.md with every one."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in tables:
        csv, md = folder / f"{t.id}.csv", folder / f"{t.id}.md"
        t.frame().to_csv(csv, index=False)
        md.write_text(t.markdown())
        written += [csv, md]
    everything = folder / "all.md"
    everything.write_text("\n".join(t.markdown() for t in tables))
    return [*written, everything]

"""The CHEERS 2022 checklist mapped to the report: what it answers, what the author must."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Item", "checklist", "load_items"]

CHECKLIST = Path(__file__).with_name("cheers2022.toml")
FILLS = ("report", "partly", "author")
HOW_TO_ADD = {
    "psa": "`trdsim psa` (writes <results>/psa/) and `trdsim dsa` (<results>/dsa/)",
    "dsa": "`trdsim dsa` (writes <results>/dsa/)",
    "validation": "`trdsim validate SCENARIO --out <results>/validation`",
    "subgroups": "`trdsim compare --by ATTRIBUTE` (writes <results>/subgroups.csv)",
    "costs": "`trdsim compare` with this trdsim (writes <results>/costs.csv, costs by category)",
}


@dataclass(frozen=True)
class Item:
    """One checklist item and where this report answers it."""

    number: int
    section: str
    topic: str
    guidance: str
    fill: str  # report | partly | author, for this report
    sections: tuple[str, ...]  # report anchors that answer it (those present)
    author: str  # what the author still has to write ("" when nothing)


def load_items() -> list[dict]:
    """The 28 items as written in cheers2022.toml, checked."""
    items = tomllib.loads(CHECKLIST.read_text())["item"]
    numbers = [i["number"] for i in items]
    if numbers != list(range(1, 29)):
        raise ValueError(f"{CHECKLIST}: items must be 1..28 in order, got {numbers}")
    for i in items:
        if i["fill"] not in FILLS:
            raise ValueError(f"{CHECKLIST}: item {i['number']}: fill {i['fill']!r}")
        if i["fill"] != "report" and not i.get("author"):
            raise ValueError(f"{CHECKLIST}: item {i['number']}: says what the author adds")
    return items


def checklist(present: set[str], analyses: set[str]) -> list[Item]:
    """Each item's status in a report that has the sections `present` and the analyses
    `analyses` (of "psa", "dsa", "validation", "subgroups", "costs")."""
    out = []
    for i in load_items():
        fill, author = i["fill"], i.get("author", "")
        sections = tuple(s for s in i.get("sections", ()) if s in present)
        need = i.get("needs")
        if need and need not in analyses:
            fill = "partly" if fill == "report" else fill
            author = (
                author + " " if author else ""
            ) + f"Not in this report: run {HOW_TO_ADD[need]}."
        if fill != "author" and not sections:
            fill = "author"
        out.append(
            Item(i["number"], i["section"], i["topic"], i["guidance"], fill, sections, author)
        )
    return out

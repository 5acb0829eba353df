"""The HTML report of a results folder, with a CHEERS 2022 map and Markdown/CSV tables."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from trdsim._version import __version__
from trdsim.errors import TrdsimError
from trdsim.report.care import CareFolder, care_sections
from trdsim.report.folder import ResultsFolder, load_results
from trdsim.report.page import render
from trdsim.report.sections import ReportBuilder, Section, arm_labels
from trdsim.report.tables import write_exports

__all__ = ["Report", "write_report"]


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote, and what it found."""

    html: Path
    exports: list[Path]
    sections: list[str]
    notices: list[str]
    results: ResultsFolder | CareFolder


def write_report(results_dir: str | Path, out: str | Path | None = None) -> Report:
    """Read a results folder and write OUT (default RESULTS_DIR/report.html) and, beside it,
    OUT's stem + `_tables/` with every table as CSV and Markdown.

    Raises TrdsimError for a folder that is missing, empty or from an incompatible version.
    """
    r = load_results(results_dir)
    target = Path(out) if out else r.folder / "report.html"
    if target.is_dir():
        raise TrdsimError(f"--out {target}: is a folder; give the HTML file to write")
    if target.suffix.lower() not in (".html", ".htm"):
        raise TrdsimError(f"--out {target}: must end in .html")
    m = r.manifest
    if isinstance(r, CareFolder):
        sections = care_sections(r, Section)
        title = f"The care system under capacity: {m['scenario']}"
    else:
        sections = ReportBuilder(r).sections()
        names = arm_labels(m["pathways"], list(m["arms"]))
        arms = " vs ".join(names[a] for a in m["arms"])
        title = f"Cost-effectiveness of {arms}: {m['scenario']}"
    subtitle = [
        m.get("description", ""),
        f"trdsim {__version__} report of {r.folder} "
        f"(results made {m.get('created_utc', 'at an unknown time')}); "
        f"written {datetime.now(UTC).isoformat(timespec='seconds')}",
    ]
    footer = (
        f"Scenario hash {html.escape(m['scenario_hash'])}, seed {m['seed']}. Every table of this "
        f"report is also in {html.escape(target.stem)}_tables/ as CSV (numbers) and Markdown."
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # whole or not at all: a report stopped while written leaves the previous one
    partial = target.with_name(target.name + ".partial")
    partial.write_text(
        render(title, [s for s in subtitle if s], sections, footer), encoding="utf-8"
    )
    partial.replace(target)
    tables = [t for s in sections for t in s.tables]
    exports = write_exports(tables, target.parent / f"{target.stem}_tables")
    return Report(target, exports, [s.id for s in sections], list(r.notices), r)

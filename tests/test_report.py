"""`trdsim report`: a self-contained page with the right numbers, the CHEERS 2022 map,
Markdown/CSV exports, and one clear message for a folder it cannot report."""

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from trdsim.cli import main
from trdsim.economics import status_label
from trdsim.report import write_report
from trdsim.report.cheers import checklist, load_items
from trdsim.report.diagram import pathway_svg
from trdsim.store.manifest import FORMAT_VERSION, format_of

SECTIONS = ["bottom-line", "scenario", "population", "comparators", "model", "results",
            "costs", "incremental", "subgroups", "uncertainty", "validation", "replications",
            "parameters", "cheers"]  # fmt: skip
AUTHOR_ONLY = {1, 2, 3, 4, 19, 21, 25, 27, 28}


class Page(HTMLParser):
    """What a reader gets from the page: the cell texts of each table (by id), every
    image, every element id, every link and source address."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self.ids: set[str] = set()
        self.addresses: list[str] = []
        self._table = self._row = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("src", "href"):
            if key in a:
                self.addresses.append(a[key])
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(a)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> dict[str, list[str]]:
        """Body rows of a table keyed by their first cell."""
        return {r[0]: r for r in self.tables[f"table-{table}"][1:]}


def arm_name(manifest: dict, arm: str) -> str:
    """What the report calls an arm: its pathway's label up to the first colon or
    parenthesis (the arms of uk_nhs have distinct names so)."""
    return re.split(r":| \(", manifest["pathways"][arm]["label"], maxsplit=1)[0].strip()


def pounds(x: float) -> str:
    """Independent of the report's formatter: whole pounds with thousands separators."""
    return f"\u2212£{-x:,.0f}" if round(x) < 0 else f"£{abs(x):,.0f}"


@pytest.fixture(scope="module")
def report(report_results, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "report.html"
    r = write_report(report_results, out)
    return r, Page(out.read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


def test_page_is_complete_and_needs_no_other_file(report, report_results):
    r, page, text = report
    assert [s for s in r.sections if s != "notices"] == SECTIONS
    assert not [n for n in r.notices if "not included" in n], r.notices
    assert "<script" not in text and "@import" not in text and "url(http" not in text
    # every address on the page is data or an anchor on it: nothing to fetch
    assert page.addresses and all(a.startswith(("data:", "#")) for a in page.addresses)
    for anchor in (a for a in page.addresses if a.startswith("#")):
        assert anchor[1:] in page.ids, anchor
    files = {img["data-file"] for img in page.images}
    assert files == {"trace.png", "ever_remitted.png", "relapse_free.png", "frontier.png", "ce_plane.png",
                     "ceac.png", "evpi.png", "evppi_20000.png", "evppi_30000.png",
                     "tornado.png", "validation.png",
                     "twoway.png"}  # fmt: skip
    for img in page.images:
        head, data = img["src"].split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    # both pathways drawn, every step of each named in its diagram
    m = json.loads((report_results / "manifest.json").read_text())
    assert text.count('<svg class="pathway"') == 3
    words = re.sub(r"<[^>]+>", "", re.sub(r"</tspan><tspan[^>]*>", " ", text))  # wrapped lines
    for arm in m["arms"]:
        for step in m["pathways"][arm]["steps"]:
            for component in step:
                assert m["text_parameters"][f"treatments.{component}.label"] in words


def test_results_and_incremental_tables_show_the_results(report, report_results):
    _, page, _ = report
    summary = pd.read_csv(report_results / "summary.csv")
    m = json.loads((report_results / "manifest.json").read_text())
    rows = page.rows("results")
    assert list(rows) == [arm_name(m, a) for a in summary.arm]
    header = page.tables["table-results"][0]
    for _, s in summary.iterrows():
        row = dict(zip(header, rows[arm_name(m, s.arm)], strict=True))
        assert row["cost (GBP)"] == pounds(s.cost)
        assert row["QALYs"] == f"{s.qaly:.3f}"
        assert row["life-years"] == f"{s.life_years:.2f}"
    inc = pd.read_csv(report_results / "incremental.csv")
    nb = pd.read_csv(report_results / "net_benefit.csv").set_index(["threshold", "arm"])
    header = page.tables["table-incremental"][0]
    for _, s in inc.iterrows():
        row = dict(zip(header, page.rows("incremental")[arm_name(m, s.arm)], strict=True))
        by = arm_name(m, s.comparator) if isinstance(s.comparator, str) else None
        assert row["status"] == status_label(s.status, by)
        key = "INMB vs Sequential care @£20,000"
        assert row[key] == pounds(nb.inc_nmb[(20000, s.arm)])
        assert (row["optimal @£20,000"] == "yes") == bool(nb.optimal[(20000, s.arm)])


def test_parameter_table_has_every_input_with_its_source(report, report_results):
    _, page, _ = report
    params = pd.read_csv(report_results / "parameters.csv")
    rows = page.rows("parameters")
    assert len(rows) == len(params) > 100  # keyed by label: the labels are unique
    by_key = {r[1]: r for r in rows.values()}
    for _, p in params.iterrows():
        assert rows[p.label][1] == p.key
        _, key, value, unit, dist, certainty, source = by_key[p.key]
        assert unit == (p.unit if isinstance(p.unit, str) else "")
        assert float(value) == pytest.approx(p.value, rel=1e-5)
        assert dist == p.distribution
        assert certainty.removeprefix("⚠ ") == p.verified
        assert source == (p.source if isinstance(p.source, str) else "")
    assert by_key["treatments.ssri.response_effect"][2] == "1.37"


def test_uncertainty_and_validation_tables(report, report_results):
    r, page, _ = report
    psa = pd.read_csv(report_results / "psa" / "psa_summary.csv")
    rows = page.tables["table-psa_summary"][1:]
    assert len(rows) == len(psa)
    cost = psa[psa.quantity == "inc_cost"].iloc[0]
    assert [r for r in rows if r[1] == "Δcost"][0][2] == pounds(cost["mean"])
    # parameters by their labels in parameters.csv, validation targets by their own
    # descriptions in the library
    label = pd.read_csv(report_results / "parameters.csv").set_index("key").label
    tornado = pd.read_csv(report_results / "dsa" / "tornado.csv")
    assert list(page.rows("tornado")) == [label[k] for k in tornado.key]
    th = json.loads((report_results / "threshold" / "cbt_session" / "threshold.json").read_text())
    assert page.rows("thresholds")[label["unit_costs.uk.cbt_session"]][2] == f"{th['value']:.4g}"
    v = pd.read_csv(report_results / "validation" / "validation.csv")
    rows = page.rows("validation")
    assert list(rows) == list(v.description)
    for _, t in v.iterrows():
        assert rows[t.description][1] == f"{t.model:.3f}"
        assert rows[t.description][4] == ("yes" if t.agrees else "NO")
    # the export keeps each target's id for re-use; the page shows the description only
    exported = pd.read_csv(r.html.parent / "report_tables" / "validation.csv")
    assert exported.id.tolist() == v.id.tolist()
    assert all(t not in cells for t in v.id for cells in rows.values())


def test_cheers_map(report):
    r, page, _ = report
    items = load_items()
    assert [i["number"] for i in items] == list(range(1, 29))
    assert {i["number"] for i in items if i["fill"] == "author"} == AUTHOR_ONLY
    rows = page.tables["table-cheers"][1:]
    assert [int(row[0]) for row in rows] == list(range(1, 29))
    status = {int(row[0]): row[2] for row in rows}
    assert {n for n, s in status.items() if s == "author only"} == AUTHOR_ONLY
    assert status[20] == "in this report" and status[22] == "in this report"
    assert status[23] == "in this report"  # costs by category are in costs.csv and shown
    # without the analyses, the items that need them say which command adds them
    without = {i.number: i for i in checklist(set(SECTIONS), set())}
    assert without[20].fill == "partly" and "trdsim psa" in without[20].author
    assert without[17].fill == "partly" and "trdsim validate" in without[17].author
    assert without[23].fill == "partly" and "costs.csv" in without[23].author


def test_bottom_line_gives_the_tables_numbers(report, report_results):
    _, page, _ = report
    m = json.loads((report_results / "manifest.json").read_text())
    inc = pd.read_csv(report_results / "incremental.csv").set_index("arm", drop=False)
    nb = pd.read_csv(report_results / "net_benefit.csv")
    ceac = pd.read_csv(report_results / "psa" / "ceac.csv")
    rows = page.tables["table-bottom_line"]
    header, body = rows[0], rows[1:]
    assert len(body) == len(m["thresholds"])
    for lam, cells in zip(m["thresholds"], body, strict=True):
        row = dict(zip(header, cells, strict=True))
        best = inc.loc[nb.arm[(nb.threshold == lam) & nb.optimal].iloc[0]]
        assert row["threshold (per QALY)"] == pounds(lam)
        assert row["optimal arm"] == arm_name(m, best.arm)
        assert row["Δcost"] == pounds(best.inc_cost)
        assert row["ΔQALYs"] == f"{best.inc_qaly:+.3f}"
        assert row["ICER (GBP/QALY)"] == pounds(best.icer)
        p = ceac[(ceac.threshold == lam) & (ceac.arm == best.arm)].p_cost_effective.iloc[0]
        assert row["P(cost-effective), PSA"] == f"{p:.2f}"


def test_costs_by_category_add_up_to_the_results(report, report_results):
    _, page, text = report
    m = json.loads((report_results / "manifest.json").read_text())
    summary = pd.read_csv(report_results / "summary.csv")
    costs = pd.read_csv(report_results / "costs.csv")
    # the folder's table: one row per arm x category x resource, adding up to the summary
    totals = costs.groupby("arm").cost.sum()
    for _, s in summary.iterrows():
        assert totals[s.arm] == pytest.approx(s.cost, rel=1e-9)
    # the page: a column per arm, the last row the total, shown as the results show it
    cost = summary.set_index("arm").cost
    for tid, first in (("table-costs", 2), ("table-costs_by_resource", 3)):
        header, *body = page.tables[tid]
        assert header[first:] == [arm_name(m, a) for a in m["arms"]]
        assert body[-1][0] == "Total"
        for j, a in enumerate(m["arms"]):
            assert body[-1][first + j] == pounds(cost[a])
        shown = {r[1] for r in body}
        assert "Electroconvulsive therapy (acute course)" in shown  # a treatment's label
        assert "State costs while depressed" in shown
    # each category's row is the sum of its resources in costs.csv
    header, *body = page.tables["table-costs"]
    ect = costs[costs.category == "treatment:ect"].groupby("arm").cost.sum()
    row = next(r for r in body if r[1] == "Electroconvulsive therapy (acute course)")
    assert row[2:] == [pounds(ect[a]) for a in m["arms"]]
    # maintenance by option, each by its own label, and by resource
    cbt = costs[costs.category == "maintenance:maintenance_cbt"].groupby("arm").cost.sum()
    assert cbt["integrated"] > 0  # integrated care plans maintenance CBT
    row = next(r for r in body if r[1] == "Maintenance CBT / MBCT (8 sessions)")
    assert row[0] == "Maintenance" and row[2:] == [pounds(cbt[a]) for a in m["arms"]]
    _, *body = page.tables["table-costs_by_resource"]
    ad = [r[2] for r in body if r[1] == "Continuation antidepressant"]
    assert ad == ["Unit cost: medication review", "Unit cost: generic antidepressant week"]
    assert "weekly cost is the same while it runs" in text and "one sum" not in text


def test_costs_of_earlier_folders_with_maintenance_as_one_sum_are_shown(tmp_path, report_results):
    """A costs.csv written before maintenance was split by option: one 'maintenance'
    category without a resource, shown as it was."""
    copy = tmp_path / "uk_nhs"
    shutil.copytree(report_results, copy)
    c = pd.read_csv(copy / "costs.csv")
    maint = c[c.group == "maintenance"].groupby("arm", as_index=False, sort=False).cost.sum()
    old = maint.assign(
        group="maintenance", category="maintenance", label="Maintenance treatment after response",
        resource=None, resource_label=None, se=0.0,
    )  # fmt: skip
    pd.concat([c[c.group != "maintenance"], old[c.columns]]).to_csv(copy / "costs.csv", index=False)
    # an earlier trdsim recorded no file digests
    earlier = json.loads((copy / "manifest.json").read_text())
    earlier.pop("files")
    (copy / "manifest.json").write_text(json.dumps(earlier))
    r = write_report(copy, tmp_path / "old.html")
    text = (tmp_path / "old.html").read_text(encoding="utf-8")
    page = Page(text)
    m = json.loads((copy / "manifest.json").read_text())
    _, *body = page.tables["table-costs"]
    row = next(r for r in body if r[0] == "Maintenance")
    assert row[1] == "Maintenance treatment after response"
    by_arm = maint.set_index("arm").cost
    assert row[2:] == [pounds(by_arm[a]) for a in m["arms"]]
    assert "maintenance is one sum" in text
    assert not [n for n in r.notices if "cost" in n], r.notices


def test_exports_hold_the_same_tables(report, report_results):
    r, page, _ = report
    folder = r.html.parent / "report_tables"
    table_ids = {t.removeprefix("table-") for t in page.tables}
    for name in table_ids:
        assert (folder / f"{name}.csv").is_file() and (folder / f"{name}.md").is_file(), name
    results = pd.read_csv(folder / "results.csv")
    summary = pd.read_csv(report_results / "summary.csv")
    assert results.cost.tolist() == pytest.approx(summary.cost.tolist())
    assert results.qaly.tolist() == pytest.approx(summary.qaly.tolist())
    md = (folder / "results.md").read_text().splitlines()
    table_lines = [line for line in md if line.startswith("|")]
    assert len(table_lines) == 2 + len(summary)  # header, alignment, one per arm
    assert re.fullmatch(r"\|(:---|---:)(\|(:---|---:))*\|", table_lines[1])
    for arm_row in page.rows("results").values():
        assert "| " + " | ".join(arm_row) + " |" in md
    everything = (folder / "all.md").read_text()
    assert everything.count("**") // 2 == len(table_ids)


def test_compare_report_without_figures_or_analyses(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "--patients",
                "300",
                "--force",
                "--out",
                str(out),
                "--no-figures",
                "--report",
            ]
        )
        == 0
    )
    assert "Wrote the report" in capsys.readouterr().out
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    # the figures are drawn afresh from the tables
    assert {i["data-file"] for i in page.images} == {
        "trace.png",
        "ever_remitted.png",
        "relapse_free.png",
        "frontier.png",
    }
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "No uncertainty analysis was found" in text and "trdsim validate" in text
    status = {int(row[0]): row[2] for row in page.tables["table-cheers"][1:]}
    assert status[20] == "partly: author adds"


def test_psa_report_alone_and_beside_its_results(tmp_path, report_results):
    out = tmp_path / "psa"
    assert main(["psa", "--draws", "12", "--patients", "100", "--out", str(out),
                 "--no-evppi", "--report"]) == 0  # fmt: skip
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    frontier = pd.read_csv(out / "frontier.csv")
    m = json.loads((out / "manifest.json").read_text())
    rows = page.rows("results")
    for _, f in frontier.iterrows():
        assert rows[arm_name(m, f.arm)][1] == pounds(f.cost)
    # a PSA folder inside matching compare results reports both, whatever its name
    r = write_report(report_results / "psa", tmp_path / "both.html")
    assert r.results.summary is not None and r.results.psa is not None
    other = tmp_path / "uk_nhs"
    shutil.copytree(report_results, other)
    shutil.copytree(other / "psa", other / "psa_large")
    r = write_report(other / "psa_large", tmp_path / "large.html")
    assert r.results.summary is not None and r.results.psa.folder == other / "psa_large"


def test_analysis_of_another_scenario_is_left_out(tmp_path, report_results):
    copy = tmp_path / "uk_nhs"
    shutil.copytree(report_results, copy)
    path = copy / "psa" / "manifest.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps({**m, "scenario_hash": "0" * 64}))
    for own in (copy / "dsa").glob("twoway_*/manifest.json"):
        own.unlink()
    r = write_report(copy)
    assert r.results.psa is None and r.results.dsa.two_way == []
    assert any("different scenario" in n for n in r.notices)
    assert any(n.startswith("two-way map") and "manifest" in n for n in r.notices)
    text = r.html.read_text(encoding="utf-8")
    assert 'id="table-psa_summary"' not in text and "different scenario" in text


def test_a_figure_that_cannot_be_had_is_a_notice_not_a_failure(tmp_path, report_results):
    copy = tmp_path / "uk_nhs"
    shutil.copytree(report_results, copy)
    (copy / "trace.png").write_bytes(b"not a png")  # and its table cannot be read either
    (copy / "trace.parquet").write_bytes(b"not parquet")
    (copy / "relapse_free.png").unlink()
    (copy / "patients.parquet").unlink()  # nothing to draw it from
    r = write_report(copy)
    page = Page(r.html.read_text(encoding="utf-8"))
    shown = {i["data-file"] for i in page.images}
    assert "trace.png" not in shown and "relapse_free.png" not in shown
    assert "ever_remitted.png" in shown  # its PNG is still there
    assert any("cohort in each state" in n and "drawing it failed" in n for n in r.notices)
    assert any("Relapse-free" in n and "missing" in n for n in r.notices)


def _without_column(folder):
    s = pd.read_csv(folder / "summary.csv")
    s.drop(columns="qaly").to_csv(folder / "summary.csv", index=False)
    m = json.loads((folder / "manifest.json").read_text())
    m.pop("files")  # (its digest would refuse it first: see test_whole_results)
    (folder / "manifest.json").write_text(json.dumps(m))


def _manifest_edit(**change):
    def edit(folder):
        path = folder / "manifest.json"
        m = json.loads(path.read_text())
        for k, v in change.items():
            if v is None:
                m.pop(k)
            else:
                m[k] = v
        path.write_text(json.dumps(m))

    return edit


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such folder"),
        ("empty", "is empty"),
        ("file", "is a file"),
        ("no manifest", "no manifest.json"),
        ("bad json", "cannot read"),
        ("old version", "made by trdsim 0.0.3"),
        ("new format", "results format 3"),
        ("no version", "unknown version"),
        ("no column", "has no column qaly"),
    ],
)
def test_a_folder_it_cannot_report_is_one_message_and_exit_2(
    tmp_path, capsys, report_results, case, message
):
    folder = tmp_path / "results"
    if case == "empty":
        folder.mkdir()
    elif case == "file":
        folder.write_text("x")
    elif case != "missing":
        shutil.copytree(report_results, folder)
        {
            "no manifest": lambda f: (f / "manifest.json").unlink(),
            "bad json": lambda f: (f / "manifest.json").write_text("{not json"),
            "old version": _manifest_edit(trdsim_version="0.0.3", format_version=None),
            "new format": _manifest_edit(format_version=3),
            "no version": _manifest_edit(trdsim_version=None, format_version=None),
            "no column": _without_column,
        }[case](folder)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trdsim: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (folder / "report.html").exists() if folder.is_dir() else True


@pytest.mark.parametrize("out", ["", "report.html"])
def test_bad_report_destination(tmp_path, capsys, report_results, out):
    # --out is a folder, as on every command: an empty name or an existing file is refused
    target = tmp_path / out if out else ""
    if out:
        target.write_text("x")
    assert main(["report", str(report_results), "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("trdsim: --out") and len(err.splitlines()) == 1, err
    assert not out or target.read_text() == "x"


def test_report_out_is_a_folder_for_the_page_and_its_tables(tmp_path, capsys, report_results):
    target = tmp_path / "shared"
    assert main(["report", str(report_results), "--out", str(target)]) == 0
    assert (target / "report.html").stat().st_size > 0
    assert any((target / "report_tables").iterdir())


def test_pathway_diagram():
    pathway = {
        "label": "test",
        "steps": ["a", "b", "c"],
        "maintenance": {"default": ["m1"], "c": ["m1", "m2"]},
        "on_relapse": "retreat",
        "on_exhausted": "restart",
    }
    labels = {"a": "Drug A", "b": "Therapy B", "c": "Device C"}
    upkeep = {"m1": "Pills", "m2": "App"}
    svg = pathway_svg("x", pathway, labels, upkeep, {"a": 8, "b": 12, "c": 6}, entry_step=1)
    assert svg.count('class="step done"') == 1 and svg.count('class="step"') == 2
    assert svg.count("cohort enters here") == 1 and svg.count('class="maint"') == 2
    assert "2. Therapy B" in svg and "course 12 weeks" in svg and "• App" in svg
    assert "re-treat with the step that worked" in svg and "back to the entry step" in svg
    assert svg.index("cohort enters here") < svg.index("2. Therapy B")


def test_format_version():
    assert FORMAT_VERSION == 2
    assert format_of({}) == 1  # trdsim 0.1 wrote none
    assert format_of({"format_version": 2}) == 2 and format_of({"format_version": "x"}) == 0


FORMAT1 = Path(__file__).parent / "data" / "format1" / "uk_nhs"


def test_a_format_1_folder_is_still_reported_with_the_same_numbers(tmp_path):
    """Results written by trdsim 0.1 (wide tables, status labels, no format_version):
    upgraded on reading, not refused, and shown with their own numbers."""
    folder = tmp_path / "uk_nhs"
    shutil.copytree(FORMAT1, folder)
    r = write_report(folder, tmp_path / "old.html")
    assert r.results.format == 1 and r.results.psa is not None
    page = Page((tmp_path / "old.html").read_text(encoding="utf-8"))
    m = json.loads((FORMAT1 / "manifest.json").read_text())
    wide = pd.read_csv(FORMAT1 / "incremental.csv")
    header = page.tables["table-incremental"][0]
    for _, s in wide.iterrows():
        row = dict(zip(header, page.rows("incremental")[arm_name(m, s.arm)], strict=True))
        assert row["status"].startswith(s.status)  # the old label, now from the code
        key = f"INMB vs {arm_name(m, 'sequential')} @£20,000"
        assert row[key] == pounds(s.inc_nmb_20000_vs_sequential)
        assert (row["optimal @£20,000"] == "yes") == bool(s.optimal_at_20000)
    psa = pd.read_csv(FORMAT1 / "psa" / "psa_summary.csv")
    shown = page.tables["table-psa_summary"][1:]
    nmb = psa[psa.quantity == "inc_nmb_20000"].iloc[0]
    assert [r for r in shown if r[1] == "INMB @£20,000"][0][2] == pounds(nmb["mean"])


def test_figure_data_of_another_run_is_a_notice_not_drawn(tmp_path, report_results):
    """A trace.parquet or PNG that is not the one the manifest records (a folder mixed by
    hand) is not drawn as if it were this result's: the figure becomes a notice."""
    copy = tmp_path / "uk_nhs"
    shutil.copytree(report_results, copy)
    t = pd.read_parquet(copy / "trace.parquet")
    t.assign(count=t["count"] * 2).to_parquet(copy / "trace.parquet", index=False)
    (copy / "trace.png").write_bytes((copy / "frontier.png").read_bytes())  # another figure
    r = write_report(copy)
    page = Page(r.html.read_text(encoding="utf-8"))
    assert "trace.png" not in {i["data-file"] for i in page.images}
    assert any("trace.parquet differs from the file manifest.json" in n for n in r.notices)

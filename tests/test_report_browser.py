"""The report in a real browser: headless Debian Chromium driven by selenium through its
ChromeDriver. The page must load with no console errors and no request beyond itself,
render every image and diagram, and show the right numbers. The page and screenshots are
left in test-artifacts/ (or $TRDSIM_TEST_ARTIFACTS) for a person to look at.

This test never skips: without a browser it fails and says how to install one
(`bash tools/setup.sh test`, which `.ci/run` runs, installs it).
"""

import base64
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from browser import chromium

from trdsim.report import write_report

ARTIFACTS = Path(
    os.environ.get("TRDSIM_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)


@pytest.fixture(scope="module")
def browser():
    with chromium((1400, 1000), ("browser", "performance")) as driver:
        yield driver


@pytest.fixture(scope="module")
def opened(browser, report_results):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = write_report(report_results, ARTIFACTS / "report.html")
    browser.get_log("performance")  # drop the start-up page's requests
    browser.get_log("browser")
    url = report.html.resolve().as_uri()
    browser.get(url)  # returns once the page has loaded
    return browser, url


def test_loads_without_console_errors_or_network(opened):
    browser, url = opened
    assert browser.execute_script("return document.readyState") == "complete"
    problems = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requested = [  # by the report (not the browser's own start page)
        e["params"]["request"]["url"]
        for e in events
        if e["method"] == "Network.requestWillBeSent" and e["params"].get("documentURL") == url
    ]
    assert url in requested
    assert all(u == url or u.startswith("data:") for u in requested), requested
    assert not [e for e in events if e["method"] == "Network.loadingFailed"]


def test_every_image_and_diagram_renders(opened, report_results):
    browser, _ = opened
    images = browser.execute_script(
        "return [...document.images].map(i => [i.dataset.file, i.complete, i.naturalWidth,"
        " i.getBoundingClientRect().width])"
    )
    assert len(images) == 12
    for name, complete, natural, shown in images:
        assert complete and natural > 0 and shown > 0, name
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('svg.pathway')].map(s => {"
        " const r = s.getBoundingClientRect(); return [r.width, r.height,"
        " s.querySelectorAll('rect.step').length]; })"
    )
    m = json.loads((report_results / "manifest.json").read_text())
    assert [b[2] for b in boxes] == [len(m["pathways"][a]["steps"]) for a in m["arms"]]
    for width, height, _ in boxes:
        assert width > 300 and height > 300


def test_tables_show_the_results_and_parameters(opened, report_results):
    browser, _ = opened

    def cells(table_id):
        return browser.execute_script(
            f"return [...document.querySelectorAll('#{table_id} tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText.trim()))"
        )

    summary = pd.read_csv(report_results / "summary.csv")
    m = json.loads((report_results / "manifest.json").read_text())
    rows = {r[0]: r for r in cells("table-results")}
    for _, s in summary.iterrows():
        row = rows[_arm_name(m, s.arm)]
        assert row[1] == f"£{s.cost:,.0f}" and row[3] == f"{s.qaly:.3f}"
    params = pd.read_csv(report_results / "parameters.csv")
    rows = {r[1]: r for r in cells("table-parameters")}  # label, key, value, unit, ...
    assert len(rows) == len(params)
    assert rows["treatments.ssri.response_effect"][2] == "1.37"
    assert rows["utilities.remission"][0] == "Utility, in remission"
    assert (
        rows["utilities.remission"][2]
        == f"{params.set_index('key').value['utilities.remission']:g}"
    )
    assert len(cells("table-cheers")) == 28


def test_navigation_and_screenshots(opened):
    browser, _ = opened
    browser.find_element("css selector", 'nav a[href="#cheers"]').click()
    top = browser.execute_script(
        "return document.getElementById('cheers').getBoundingClientRect().top"
    )
    assert 0 <= top < 120  # the section is at the top of the window, below the sticky bar
    browser.execute_script("window.scrollTo(0, 0)")
    shot = ARTIFACTS / "report.png"
    assert browser.save_screenshot(str(shot))
    width, height = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    full = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 0.5}},
    )  # fmt: skip
    (ARTIFACTS / "report_full.png").write_bytes(base64.b64decode(full["data"]))
    for path in (shot, ARTIFACTS / "report_full.png"):
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and path.stat().st_size > 20_000


def _viewport(browser, width: int, height: int) -> None:
    """Lay the page out in a window of exactly width x height CSS pixels, from the top."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    browser.execute_script("window.scrollTo(0, 0)")


def _pounds(x: float) -> str:
    """Whole pounds as a reader writes them (a true minus sign), independent of the report."""
    return f"\u2212£{-x:,.0f}" if round(x) < 0 else f"£{abs(x):,.0f}"


def _arm_name(manifest: dict, arm: str) -> str:
    """The arm's pathway label up to its first colon or parenthesis."""
    return re.split(r":| \(", manifest["pathways"][arm]["label"], maxsplit=1)[0].strip()


def test_bottom_line_is_on_the_first_screen_with_the_tables_numbers(opened, report_results):
    browser, _ = opened
    _viewport(browser, 1280, 800)
    try:
        top, bottom, text = browser.execute_script(
            "const e = document.getElementById('bottom-line'); const r = e.getBoundingClientRect();"
            " return [r.top, r.bottom, e.innerText]"
        )
        first = browser.execute_script(
            "return document.querySelector('main > section').id"
        )  # nothing of the report comes before it
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert first == "bottom-line"
    assert 0 <= top < 800 and bottom <= 800, (top, bottom)  # all of it in one screen
    m = json.loads((report_results / "manifest.json").read_text())
    inc = pd.read_csv(report_results / "incremental.csv").set_index("arm", drop=False)
    nb = pd.read_csv(report_results / "net_benefit.csv")
    ceac = pd.read_csv(report_results / "psa" / "ceac.csv")
    for lam in m["thresholds"]:
        best = inc.loc[nb.arm[(nb.threshold == lam) & nb.optimal].iloc[0]]
        p = ceac[(ceac.threshold == lam) & (ceac.arm == best.arm)].p_cost_effective.iloc[0]
        line = [r for r in text.splitlines() if r.startswith(_pounds(lam))]
        assert len(line) == 1, text
        for shown in (_arm_name(m, best.arm), _pounds(best.inc_cost), f"{best.inc_qaly:+.3f}",
                      _pounds(best.icer), f"{p:.2f}"):  # fmt: skip
            assert shown in line[0], (shown, line[0])
    assert "inputs are unverified" in text  # the main caveat


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_wide_horizontal_scrolling(opened, width):
    browser, _ = opened
    _viewport(browser, width, 800)
    try:
        inner, scroll, scrollers = browser.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth,"
            " [...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth >"
            " w.clientWidth).length]"
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert inner == width
    assert scroll <= inner, f"the page scrolls sideways at {width} px ({scroll} px wide)"
    if width == 390:
        assert scrollers > 0  # wide tables scroll inside their own box instead


def test_no_raw_parameter_key_where_a_label_exists(opened, report_results):
    browser, _ = opened
    # everything a reader can see, with every collapsed part opened; keys shown as code
    # (the parameter table's key column, commands) are identifiers, not labels
    text = browser.execute_script(
        "document.querySelectorAll('details').forEach(d => d.open = true);"
        "const code = [...document.querySelectorAll('code')];"
        "code.forEach(c => c.style.display = 'none');"
        "const t = document.body.innerText;"
        "code.forEach(c => c.style.display = '');"
        "return t;"
    )
    params = pd.read_csv(report_results / "parameters.csv")
    raw = [k for k, lab in zip(params.key, params.label, strict=True) if lab != k and k in text]
    assert raw == [], raw[:10]
    v = pd.read_csv(report_results / "validation" / "validation.csv")
    assert [t for t in v.id if re.search(rf"\b{t}\b", text)] == []
    m = json.loads((report_results / "manifest.json").read_text())
    for arm in m["arms"]:
        assert _arm_name(m, arm) in text

"""The dashboard in a real browser: `trdsim dashboard` served on a free port, opened in
headless Debian Chromium driven by selenium. A slider moved and the model reset must
reach plan B's capacity, steps must redraw the charts, a bad seed typed in must show
the model's message on the page, and the console must hold no error. A screenshot is
left in pytest's tmp_path.

Like the report's browser test, this never skips: without a browser (or solara) it
fails and says how to install them (`bash tools/setup.sh test`).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import chromium

SRC = Path(__file__).resolve().parents[1] / "src"
CHARTS = 5  # queues, waits, utilisation, outcomes, costs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check, seconds: float, what: str):
    """Poll `check` until it returns something true; fail saying what never happened."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="module")
def server():
    try:
        import solara  # noqa: F401
    except ImportError:
        pytest.fail("the dashboard test needs solara: pip install -e '.[test]'")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "trdsim.cli", "dashboard", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"

    def up():
        if proc.poll() is not None:
            pytest.fail(f"the server stopped: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    _until(up, 40, f"the dashboard at {url}")
    yield url
    proc.terminate()  # the trdsim process is the server (it execs solara)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser():
    with chromium((1400, 1100), ("browser",)) as driver:
        yield driver


def _charts(browser) -> list[str]:
    """The pixels of each chart drawn so far, as PNG data URLs (the page shows them as
    blob: URLs, which change on every redraw whether the picture does or not)."""
    return browser.execute_script(
        "return [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth)"
        ".map(i => { const c = document.createElement('canvas'); c.width = i.naturalWidth;"
        " c.height = i.naturalHeight; c.getContext('2d').drawImage(i, 0, 0);"
        " return c.toDataURL('image/png'); })"
    )


def _text(browser) -> str:
    return browser.execute_script("return document.body.innerText")


def _button(browser, label: str):
    return browser.find_element("xpath", f"//button[normalize-space(.)='{label}']")


def _plan_row(browser, plan: str) -> dict[str, str]:
    """The plans table's row of `plan`, by column header."""
    head, rows = browser.execute_script(
        "const t = [...document.querySelectorAll('table')].find(t => t.tHead);"
        "return [[...t.tHead.rows[0].cells].map(c => c.innerText.trim()),"
        " [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))]"
    )
    row = next(r for r in rows if plan in r[:2])
    return dict(zip(head[-len(row) :], row, strict=True))


def test_sliders_steps_charts_errors_and_console(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    _until(lambda: len(_charts(browser)) == CHARTS, 30, f"{CHARTS} charts")
    assert "referrals a year" in _text(browser) and "queue rule" in _text(browser)
    assert (
        _plan_row(browser, "B")["CBT therapists"] == "12 (240 places)"
    )  # the scenario's 12 therapists

    # plan B's therapists: the slider, four steps to the right (12 -> 16), then Reset
    slider = browser.find_element(
        "xpath",
        "//div[contains(@class,'v-input') and .//label[normalize-space(.)='plan B: CBT "
        "therapists']]//*[@role='slider']",
    )
    assert slider.get_attribute("aria-valuemax") == "48"  # 4 x the scenario's 12
    # the thumb has no size of its own: focus it and use the keyboard, as a person can
    browser.execute_script("arguments[0].focus()", slider)
    target = int(slider.get_attribute("aria-valuenow")) + 4
    for _ in range(4):
        ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    assert int(slider.get_attribute("aria-valuenow")) == target

    def reset_shows_target():
        # the slider's value reaches the server over the websocket in its own time; a
        # Reset handled before it rebuilds the old plan, so press again until it shows
        _button(browser, "Reset").click()
        end = time.monotonic() + 2
        while time.monotonic() < end:
            if _plan_row(browser, "B")["CBT therapists"] == f"{target} ({target * 20} places)":
                return True
            time.sleep(0.2)
        return False

    _until(reset_shows_target, 30, "plan B's new capacity in the table")
    assert _plan_row(browser, "A")["CBT therapists"] == "12 (240 places)"
    empty = _charts(browser)

    for week in range(1, 7):
        _button(browser, "Step").click()
        _until(lambda w=week: f"week {w} of" in _text(browser), 20, f"week {week}")
    stepped = _until(
        lambda: (c := _charts(browser)) and len(c) == CHARTS and all(
            a != b for a, b in zip(c, empty, strict=True)) and c, 20, "every chart redrawn",
    )  # fmt: skip
    # referrals arrived in the six weeks, the same in both plans (the same seed)
    assert int(_plan_row(browser, "A")["referred"]) == int(_plan_row(browser, "B")["referred"]) > 0
    _button(browser, "Step").click()
    _until(lambda: "week 7 of" in _text(browser), 20, "week 7")
    _until(lambda: _charts(browser) != stepped, 20, "the charts to move on a week")
    assert browser.save_screenshot(str(tmp_path / "dashboard.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000

    # a bad seed: the model refuses it and the page says why (no traceback)
    seed = browser.find_element(
        "xpath", "//div[contains(@class,'v-input') and .//label[contains(., 'seed')]]//input"
    )
    seed.send_keys("abc", Keys.ENTER)
    _button(browser, "Reset").click()
    shown = _until(
        lambda: "Cannot run this plan" in (t := _text(browser)) and t, 20, "the error message"
    )
    assert "seed: must be a whole number from 0 to" in shown
    assert "Traceback" not in shown
    browser.save_screenshot(str(tmp_path / "dashboard_error.png"))

    problems = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == []

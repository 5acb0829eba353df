"""Headless Debian Chromium driven by selenium, for the report's and the dashboard's
browser tests. They never skip: without chromium and chromedriver they fail and say how
to install them."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# Chromium flags for a closed network: no background connections, a fresh profile.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars"]  # fmt: skip


@contextmanager
def chromium(window: tuple[int, int], logs: tuple[str, ...] = ("browser",)) -> Iterator:
    """A selenium Chrome driver on Debian's Chromium with a window of `window` pixels,
    keeping the `logs` ('browser': the console; 'performance': the network)."""
    if not (CHROMIUM and DRIVER):
        pytest.fail(
            "the browser test needs chromium and chromedriver on PATH: `bash tools/setup.sh "
            "test` installs them (Debian packages chromium and chromium-driver)"
        )
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not try to fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="trdsim-chromium-")
    for flag in [*FLAGS, f"--window-size={window[0]},{window[1]}", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", dict.fromkeys(logs, "ALL"))
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

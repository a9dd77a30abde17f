"""Headless Debian Chromium for the browser tests, one way for every module.

Imported by tests as ``browser_harness`` (tests/python is on sys.path). The
browser resolves no host but 127.0.0.1, starts with a fresh profile and none of
Chromium's background traffic, and records the network in its performance log,
so a test can assert that a page asked for nothing beyond this machine.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from dbt_harness import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# screenshots are build artifacts (git-ignored): CI keeps them, a person looks at them
SCREENSHOTS = Path(
    os.environ.get("PROMETHEUS_SCREENSHOTS_DIR") or REPO_ROOT / "artifacts" / "screenshots"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1920,1080",
    # only 127.0.0.1 resolves: nothing can leave the machine
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


@contextmanager
def chromium(page_load_timeout_s: float) -> Iterator[WebDriver]:
    """A headless Chromium driven by chromedriver, quit on exit."""
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), (
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(page_load_timeout_s)
        try:
            yield driver
        finally:
            driver.quit()


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL asked for since the last call (Network.requestWillBeSent in the log)."""
    found = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(str(message["params"]["request"]["url"]))
    return found

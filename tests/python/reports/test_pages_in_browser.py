"""The pack and a readout in headless Chromium, from file://: figures, charts, no network.

Screenshots go to $PROMETHEUS_SCREENSHOTS_DIR (default artifacts/screenshots/)
as pack.png and readout.png. The browser flags are the report test's
(tests/python/observability/test_browser.py): nothing can leave the machine.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from report_pages import EXPERIMENTS, Pages, mart
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from prometheus.reports.page import fmt

from dbt_harness import REPO_ROOT, Build

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(
    os.environ.get("PROMETHEUS_SCREENSHOTS_DIR") or REPO_ROOT / "artifacts" / "screenshots"
)
WAIT_S = 45


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), (
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for flag in (
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1920,1080",
            # only 127.0.0.1 resolves: nothing can leave the machine
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ):  # fmt: skip
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(WAIT_S)
        try:
            yield driver
        finally:
            driver.quit()


def _open(browser: WebDriver, path: Path, charts: int) -> str:
    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, WAIT_S).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= charts
    )
    return str(browser.find_element(By.TAG_NAME, "body").text)


def _requests(browser: WebDriver) -> list[str]:
    """Every URL the pages asked for (Network.requestWillBeSent in the performance log)."""
    found = []
    for entry in browser.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(str(message["params"]["request"]["url"]))
    return found


# schemes that never leave the browser (chrome://resources: Chromium's built-in files)
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome"}


def test_both_pages_show_their_figures_and_charts_and_call_nothing(
    browser: WebDriver, pages: Pages, clean_build: Build
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get_log("performance")  # type: ignore[attr-defined]  # drop the start page's
    text = _open(browser, pages.pack, charts=1)
    (revenue, contribution, mau), = mart(
        clean_build,
        "select p.net_revenue_usd, p.contribution_profit_usd, g.monthly_active_users "
        "from profit.fct_profit_monthly p join growth.fct_growth_monthly g using (month) "
        "where month = '2024-08-01'",
    )  # fmt: skip
    assert "Investor pack 2024-08" in text
    for shown in (fmt("money", revenue), fmt("money", contribution), fmt("count", mau)):
        assert shown in text
    # twelve trend charts, drawn as plotly's SVG
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trends .main-svg")) >= 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trends .scatterlayer .trace")) == 12
    browser.save_screenshot(str(SCREENSHOTS / "pack.png"))

    experiment = EXPERIMENTS[0]
    text = _open(browser, pages.readouts[experiment], charts=2)
    ((assigned,),) = mart(
        clean_build,
        "select max_by(assigned_users, activity_date) from growth.fct_experiment_growth_daily "
        f"where experiment_id = '{experiment}' and variant = 'control'",
    )
    assert f"({experiment})" in text and "95% CI" in text
    assert fmt("count", assigned) in text
    assert browser.find_elements(By.CSS_SELECTOR, "#active-by-day .main-svg")
    assert browser.find_elements(By.CSS_SELECTOR, "#profit-per-user .main-svg")
    browser.save_screenshot(str(SCREENSHOTS / "readout.png"))

    requested = [urlparse(url) for url in _requests(browser)]
    assert any(url.scheme == "file" for url in requested)
    elsewhere = [
        url.geturl()
        for url in requested
        if url.scheme not in LOCAL_SCHEMES and url.hostname != "127.0.0.1"
    ]
    assert not elsewhere, f"the pages asked for more than file:// and 127.0.0.1: {elsewhere}"

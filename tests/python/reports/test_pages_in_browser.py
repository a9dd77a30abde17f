"""The pack and a readout in headless Chromium, from file://: figures, charts, no network.

Screenshots go to $PROMETHEUS_SCREENSHOTS_DIR (default artifacts/screenshots/)
as pack.png and readout.png. The browser flags are the report test's
(tests/python/observability/test_browser.py): nothing can leave the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from report_pages import EXPERIMENTS, Pages, mart
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from prometheus.reports.page import fmt

from browser_harness import SCREENSHOTS, chromium, requested_urls
from dbt_harness import Build

pytestmark = pytest.mark.slow

WAIT_S = 45


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(WAIT_S) as driver:
        yield driver


def _open(browser: WebDriver, path: Path, charts: int) -> str:
    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, WAIT_S).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= charts
    )
    return str(browser.find_element(By.TAG_NAME, "body").text)


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

    requested = [urlparse(url) for url in requested_urls(browser)]
    assert any(url.scheme == "file" for url in requested)
    elsewhere = [
        url.geturl()
        for url in requested
        if url.scheme not in LOCAL_SCHEMES and url.hostname != "127.0.0.1"
    ]
    assert not elsewhere, f"the pages asked for more than file:// and 127.0.0.1: {elsewhere}"

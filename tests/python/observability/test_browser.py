"""The report, opened in a real headless Chromium (Debian's `chromium` + `chromedriver`).

The project is built twice (the second time with a duplicated order_id,
which fails a test on stg_app__orders and holds back everything built
from it, the investor marts included), its source freshness is checked,
the report is built from the stored history and served by
`prometheus report serve` on 127.0.0.1; Selenium drives Chromium with
name resolution switched off for every host but 127.0.0.1. Screenshots of
each page checked are saved under $PROMETHEUS_SCREENSHOTS_DIR (default
artifacts/screenshots/) for a person to look at.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from tiny_dbt import ProjectRuns

from prometheus.artifacts import Manifest, Node, read_manifest
from prometheus.observability import descriptions

from browser_harness import SCREENSHOTS, chromium, requested_urls

pytestmark = pytest.mark.slow

FAILING_TEST = "unique_stg_app__orders_order_id"
UNIT_TEST = ("int_growth_monthly_audited", "test_growth_rate_only_between_closed_months")
STATUS_SHOWN = {"pass": "Passed", "fail": "Failure", "warn": "Warning", "error": "Error",
                "skipped": "Skipped"}  # fmt: skip
WAIT_S = 45
SERVER_START_S = 30


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(
        condition, message=f"timed out waiting for {what}"
    )


@functools.cache
def _manifest(target_dir: Path) -> Manifest:
    """The project build's manifest, read once for every test of the module."""
    return read_manifest(target_dir / "manifest.json")


def _body(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


@pytest.fixture(scope="module")
def report_url(project_runs: ProjectRuns) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "prometheus.cli", "report", "serve"]
        + ["--dir", str(project_runs.report_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = time.monotonic()
        line = proc.stdout.readline()  # the server prints its address once it listens
        assert time.monotonic() - started < SERVER_START_S
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"report serve printed {line!r}"
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=SERVER_START_S)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(WAIT_S) as driver:
        yield driver


@pytest.fixture(scope="module")
def dashboard(browser: WebDriver, report_url: str) -> str:
    browser.get(report_url)
    _wait(browser, lambda d: "Test results breakdown" in _body(d), "the dashboard")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "report-dashboard.png"))
    return _body(browser)


def _latest_invocation_statuses(db_path: Path) -> dict[str, str]:
    """The latest stored status of each data test and unit test (skipped included)."""
    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            """
            select test_unique_id, status from observability.test_results
            where resource_type in ('test', 'unit_test')
            qualify row_number() over (
                partition by test_unique_id order by coalesce(completed_at, generated_at) desc
            ) = 1
            """
        ).fetchall()
    return dict(rows)


def _latest_freshness(db_path: Path) -> dict[str, str]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            """
            select unique_id, status from observability.source_freshness
            qualify row_number() over (partition by unique_id order by generated_at desc) = 1
            """
        ).fetchall()
    return dict(rows)


def _search(browser: WebDriver, report_url: str, page: str, text: str) -> list[Any]:
    """Open a report page, type `text` in its table's search box; the rows that show it.

    The report is loaded afresh (by way of about:blank): going from one hash of the
    single-page app to another keeps the panel of the test opened before, whose
    "Test Description:" a test would then read as the next test's.
    """
    browser.get("about:blank")
    browser.get(report_url + page)
    box = _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "input[placeholder=Search]")[-1:] or False,
        f"the search box of {page}",
    )[0]
    box.send_keys(text)
    rows: list[Any] = _wait(
        browser,
        lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "tr") if text in r.text] or False,
        f"rows with {text!r} on {page}",
    )
    return rows


def _open_test(browser: WebDriver, report_url: str, table: str, name: str) -> str:
    """Open one test's result on the test results page; the page's text."""
    rows = _search(browser, report_url, "#/report/test-results", table)
    [row] = [r for r in rows if r.text.split("\n")[2:3] == [name]]
    row.click()
    _wait(browser, lambda d: "Test Description:" in _body(d), f"the result of {name}")
    return _body(browser)


def _test_node(manifest: Manifest, name: str) -> Node:
    [test] = [n for n in manifest.of_type("test") if n.name == name]
    return test


def test_both_builds_are_in_the_history(project_runs: ProjectRuns) -> None:
    assert project_runs.clean.returncode == 0, project_runs.clean.stdout[-3000:]
    assert project_runs.defective.returncode == 1, "the duplicated order_id must fail the build"
    with duckdb.connect(str(project_runs.db_path), read_only=True) as conn:
        builds = conn.execute(
            "select success from observability.invocations where command = 'build' "
            "order by generated_at"
        ).fetchall()
    assert builds == [(True,), (False,)]
    (SCREENSHOTS / "report-build.txt").parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report-build.txt").write_text(
        project_runs.report_output + json.dumps(project_runs.seconds, indent=2) + "\n"
    )
    assert project_runs.seconds["report build"] < 60, project_runs.seconds


def test_dashboard_shows_the_expected_number_of_tests(
    dashboard: str, project_runs: ProjectRuns
) -> None:
    manifest = _manifest(project_runs.target_dir)
    data_tests = {n.unique_id for n in manifest.of_type("test")} | set(manifest.unit_tests)
    latest = _latest_invocation_statuses(project_runs.db_path)
    ran = {uid for uid in data_tests & set(latest) if latest[uid] != "skipped"}
    assert len(ran) > 100  # the project's tests, not a handful
    # elementary counts the tests that ran last time and the sources checked for freshness
    freshness = _latest_freshness(project_runs.db_path)
    match = re.search(r"Test results breakdown\n(\d+)\nTests", dashboard)
    assert match, dashboard[:2000]
    assert int(match.group(1)) == len(ran) + len(freshness)


def test_the_failing_test_appears_as_failed(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    statuses = _latest_invocation_statuses(project_runs.db_path)
    failed = sorted(uid for uid, status in statuses.items() if status == "fail")
    assert failed == [t for t in failed if FAILING_TEST in t] and failed
    browser.get(report_url + "#/report/test-results")
    rows = _wait(
        browser,
        lambda d: (
            [r for r in d.find_elements(By.CSS_SELECTOR, "tr") if "stg_app__orders" in r.text]
            or False
        ),
        "the test results table",
    )
    cells = [r.text.split("\n") for r in rows]
    assert ["stg_app__orders", "order_id", "unique"] in [c[:3] for c in cells]
    [failing] = [c for c in cells if c[:3] == ["stg_app__orders", "order_id", "unique"]]
    assert failing[-1] == "Failure"
    shown = [r.text.split("\n") for r in browser.find_elements(By.CSS_SELECTOR, "tr")]
    data_test_rows = [c for c in shown[1:] if c[2:3] != ["source_freshness"]]
    assert [c[-1] for c in data_test_rows].count("Failure") == 1  # the other tests passed
    assert "Passed" in [c[-1] for c in shown]
    stale = sum(
        1 for status in _latest_freshness(project_runs.db_path).values() if status == "error"
    )
    assert re.search(rf"Errors \({1 + stale}\)", _body(browser))
    browser.save_screenshot(str(SCREENSHOTS / "report-test-results.png"))


def test_lineage_graph_renders(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = _manifest(project_runs.target_dir)
    expected = manifest.of_type("model", "source", "seed", "snapshot", "exposure")
    browser.get(report_url + "#/report/lineage")
    nodes = _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".react-flow__node") or False,
        "lineage nodes",
    )
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".react-flow__edge"), "edges")
    assert len(nodes) == len(expected)
    edges = browser.find_elements(By.CSS_SELECTOR, ".react-flow__edge")
    assert len(edges) >= len(manifest.of_type("exposure"))
    shown = " ".join(n.text for n in nodes)
    for exposure in manifest.of_type("exposure"):
        assert exposure.label and exposure.label in shown
    browser.save_screenshot(str(SCREENSHOTS / "report-lineage.png"))


def test_exposures_show_their_owners(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = _manifest(project_runs.target_dir)
    by_owner: dict[str, set[str]] = {}
    for exposure in manifest.of_type("exposure"):
        assert exposure.owner and exposure.owner.name and exposure.label
        by_owner.setdefault(exposure.owner.name, set()).add(exposure.label)
    browser.get(report_url + "#/report/lineage")
    search = _wait(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, "input[placeholder=Search]"), "tree"
    )
    search.find_element(By.XPATH, "following::button[1]").click()  # the tree's grouping menu
    _wait(browser, lambda d: d.find_elements(By.XPATH, "//li[@role='menuitem']"), "menu")
    browser.find_element(By.XPATH, "//li[@role='menuitem' and normalize-space()='Owners']").click()

    def owner_item(d: WebDriver, owner: str) -> Any:
        items = d.find_elements(By.CSS_SELECTOR, "[role=treeitem]")
        return next((i for i in items if i.text.split("\n")[0] == owner), False)

    for owner, labels in sorted(by_owner.items()):
        _wait(browser, lambda d, o=owner: owner_item(d, o), f"owner {owner}").click()
        item = _wait(
            browser,
            lambda d, o=owner: (i := owner_item(d, o)) and "\n" in i.text and i,
            f"{owner}'s assets",
        )
        assert labels <= set(item.text.split("\n")[1:]), (owner, item.text)
    browser.save_screenshot(str(SCREENSHOTS / "report-owners.png"))


def test_the_page_calls_nothing_but_its_server(browser: WebDriver, dashboard: str) -> None:
    requested = set()
    for url in map(urlparse, requested_urls(browser)):
        if url.scheme in ("http", "https", "ws", "wss"):
            requested.add(url.hostname)
    assert requested == {"127.0.0.1"}


# ------------------------------------------------------------------ the report tells the truth


def _held_back(project_runs: ProjectRuns) -> dict[str, str]:
    """Models the defective build skipped: name -> status."""
    with duckdb.connect(str(project_runs.db_path), read_only=True) as conn:
        rows = conn.execute(
            """
            select name, status from observability.model_runs
            where resource_type = 'model' and invocation_id = (
                select invocation_id from observability.invocations
                where command = 'build' order by generated_at desc limit 1
            )
            """
        ).fetchall()
    return dict(rows)


def test_a_held_back_mart_is_shown_skipped_with_its_cause(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    statuses = _held_back(project_runs)
    assert statuses["fct_profit_monthly"] == "skipped"  # an investor mart, held back
    skipped = sum(1 for s in statuses.values() if s == "skipped")
    assert re.search(rf"Model runs\n\d+\nModels\n\d+\n{skipped}\n", dashboard), dashboard
    [row] = _search(browser, report_url, "#/report/model-runs", "fct_profit_monthly")
    assert row.text.split("\n")[:2] == ["profit", "fct_profit_monthly"]
    assert "Skipped" in row.text.split("\n")
    browser.save_screenshot(str(SCREENSHOTS / "report-held-back-model.png"))
    # its tests are skipped too, each naming the failure that held it back
    page = _open_test(browser, report_url, "fct_profit_monthly", "unique")
    assert "Skipped" in page
    assert f"Skipped: held back by {FAILING_TEST} (fail" in page
    browser.save_screenshot(str(SCREENSHOTS / "report-held-back-test.png"))


def test_a_test_description_and_its_failing_rows_are_shown(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = _manifest(project_runs.target_dir)
    test = _test_node(manifest, FAILING_TEST)
    expected = descriptions.test_description(manifest, test)
    assert expected.startswith("What it checks:") and "What to do:" in expected
    page = _open_test(browser, report_url, "stg_app__orders", "unique")
    assert " ".join(expected.split()) in " ".join(page.split())
    assert "No description" not in page
    # the sample: the stored failing rows, as the warehouse holds them
    with duckdb.connect(str(project_runs.db_path), read_only=True) as conn:
        [(key, count)] = conn.execute(
            f"select unique_field, n_records from dq_failures.{FAILING_TEST}"
        ).fetchall()
    assert f"unique_field n_records\n{key} {count}" in page
    browser.save_screenshot(str(SCREENSHOTS / "report-failing-rows-and-description.png"))


def test_a_singular_test_shows_its_yaml_description(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = _manifest(project_runs.target_dir)
    test = _test_node(manifest, "assert_experiment_active_users_within_daily_total")
    assert test.description.startswith("What it checks:")
    tested = manifest.nodes[test.tested_node or ""]  # the table the report files it under
    page = _open_test(browser, report_url, tested.name, test.name)
    assert " ".join(test.description.split()) in " ".join(page.split())
    browser.save_screenshot(str(SCREENSHOTS / "report-singular-test-description.png"))


def test_an_anomaly_test_draws_its_metric_and_band(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    name = "fct_profit_metrics_daily_orders_row_count_is_not_anomalous"
    shown = name.removeprefix("fct_profit_metrics_daily_")
    page = _open_test(browser, report_url, "fct_profit_metrics_daily", shown)
    curves = browser.find_elements(By.CSS_SELECTOR, ".recharts-curve")
    assert len(curves) >= 2, page  # the metric's line and its expected band
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".recharts-text") if t.text]
    # the x axis: days of the series, which ends before the data's last day (2024-06-30)
    assert any(re.fullmatch(r"06/\d\d \d\d?:\d\d [AP]M", t) for t in ticks), ticks
    browser.save_screenshot(str(SCREENSHOTS / "report-anomaly-chart.png"))


def test_source_freshness_is_shown(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    freshness = _latest_freshness(project_runs.db_path)
    manifest = _manifest(project_runs.target_dir)
    with_freshness = {n.unique_id for n in manifest.of_type("source") if n.loaded_at_field}
    assert set(freshness) == with_freshness and freshness
    match = re.search(r"\nFreshness\n(\d+)\n", dashboard)
    assert match and int(match.group(1)) == len(freshness), dashboard
    browser.get(report_url)
    _wait(browser, lambda d: "Test results breakdown" in _body(d), "the dashboard")
    browser.save_screenshot(str(SCREENSHOTS / "report-freshness-dashboard.png"))
    rows = _search(browser, report_url, "#/report/test-results", "orders")
    cells = [r.text.split("\n") for r in rows]
    assert ["orders", "-", "source_freshness", "freshness"] in [c[:4] for c in cells], cells
    browser.save_screenshot(str(SCREENSHOTS / "report-freshness-results.png"))


def test_exposures_show_their_channel_and_on_call(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = _manifest(project_runs.target_dir)
    exposures = manifest.of_type("exposure")
    browser.get(report_url + "#/report/lineage")
    search = _wait(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, "input[placeholder=Search]"), "tree"
    )
    search.find_element(By.XPATH, "following::button[1]").click()
    _wait(browser, lambda d: d.find_elements(By.XPATH, "//li[@role='menuitem']"), "menu")
    browser.find_element(By.XPATH, "//li[@role='menuitem' and normalize-space()='Owners']").click()
    for channel in ("#finance-risk-alerts", "#business-analytics-alerts", "#data-eng-oncall"):
        want = {
            e.label
            for e in exposures
            if channel in descriptions.exposure_contacts(manifest, e, None)
        }
        assert want, channel

        def item(d: WebDriver, c: str = channel) -> Any:
            items = d.find_elements(By.CSS_SELECTOR, "[role=treeitem]")
            return next((i for i in items if i.text.split("\n")[0] == c), False)

        _wait(browser, item, channel).click()
        opened = _wait(browser, lambda d: (i := item(d)) and "\n" in i.text and i, channel)
        assert want <= set(opened.text.split("\n")[1:]), (channel, opened.text)
    on_call = [
        i.text.split("\n")[0]
        for i in browser.find_elements(By.CSS_SELECTOR, "[role=treeitem]")
        if i.text.startswith("on call")
    ]
    assert on_call and all("@prometheus.example" in o for o in on_call), on_call
    browser.save_screenshot(str(SCREENSHOTS / "report-exposure-contacts.png"))


def test_a_unit_test_is_listed_with_its_status(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    model, name = UNIT_TEST
    manifest = _manifest(project_runs.target_dir)
    [unit] = [u for u in manifest.unit_tests.values() if u.name == name]
    assert manifest.nodes[unit.tested_node or ""].name == model
    status = _latest_invocation_statuses(project_runs.db_path)[unit.unique_id]
    rows = _search(browser, report_url, "#/report/test-results", name)
    [row] = [r for r in rows if r.text.split("\n")[:1] == [model]]
    cells = row.text.split("\n")
    assert name in cells and cells[-1] == STATUS_SHOWN[status], cells
    row.click()
    _wait(browser, lambda d: "Test Description:" in _body(d), f"the result of {name}")
    page = " ".join(_body(browser).split())
    assert " ".join(descriptions.test_description(manifest, unit).split()) in page
    browser.save_screenshot(str(SCREENSHOTS / "report-unit-test.png"))

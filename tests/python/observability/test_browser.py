"""The report, opened in a real headless Chromium (Debian's `chromium` + `chromedriver`).

The project is built twice (the second time with a duplicated order_id),
the report is built from the stored history and served by
`prometheus report serve` on 127.0.0.1; Selenium drives Chromium with
name resolution switched off for every host but 127.0.0.1. Screenshots
are saved under artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from tiny_dbt import REPO_ROOT, ProjectRuns

from prometheus.artifacts import read_manifest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
WAIT_S = 45
SERVER_START_S = 30


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(
        condition, message=f"timed out waiting for {what}"
    )


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
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), (
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--window-size=1600,1000",
            # only 127.0.0.1 resolves: nothing can leave the machine
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(WAIT_S)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def dashboard(browser: WebDriver, report_url: str) -> str:
    browser.get(report_url)
    _wait(browser, lambda d: "Test results breakdown" in _body(d), "the dashboard")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "report-dashboard.png"))
    return _body(browser)


def _latest_invocation_statuses(db_path: Path) -> dict[str, str]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            """
            select test_unique_id, status from observability.test_results
            where resource_type = 'test' and status <> 'skipped'
            qualify row_number() over (partition by test_unique_id order by completed_at desc) = 1
            """
        ).fetchall()
    return dict(rows)


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
    manifest = read_manifest(project_runs.target_dir / "manifest.json")
    data_tests = {n.unique_id for n in manifest.of_type("test")}
    with_results = data_tests & set(_latest_invocation_statuses(project_runs.db_path))
    assert len(with_results) > 100  # the project's tests, not a handful
    match = re.search(r"Test results breakdown\n(\d+)\nTests", dashboard)
    assert match, dashboard[:2000]
    assert int(match.group(1)) == len(with_results)


def test_the_failing_test_appears_as_failed(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    statuses = _latest_invocation_statuses(project_runs.db_path)
    failed = sorted(uid for uid, status in statuses.items() if status == "fail")
    assert failed == [t for t in failed if "unique_stg_app__orders_order_id" in t] and failed
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
    assert [c[-1] for c in shown[1:]].count("Failure") == 1  # the other tests passed
    assert "Passed" in [c[-1] for c in shown]
    assert re.search(r"Errors \(1\)", _body(browser))
    browser.save_screenshot(str(SCREENSHOTS / "report-test-results.png"))


def test_lineage_graph_renders(
    browser: WebDriver, report_url: str, project_runs: ProjectRuns, dashboard: str
) -> None:
    manifest = read_manifest(project_runs.target_dir / "manifest.json")
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
    manifest = read_manifest(project_runs.target_dir / "manifest.json")
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
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = urlparse(message["params"]["request"]["url"])
            if url.scheme in ("http", "https", "ws", "wss"):
                requested.add(url.hostname)
    assert requested == {"127.0.0.1"}

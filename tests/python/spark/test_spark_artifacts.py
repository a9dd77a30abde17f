"""The run history, the Elementary report and the notifier work from a Spark build's artifacts.

The tiny dataset's Spark build (tests/python/spark/conftest.py) is stored in a
run history (`prometheus observe ingest`), then `dbt source freshness` runs on
Spark: the data ends in 2024, so every source with a freshness rule is stale
(exit 1), and that is stored too. The report is built from that history and
the Spark manifest, and the notifier reads the freshness run's artifacts (a
dry run): the stale sources reach the pipelines they feed and the people on
call for them, as they would from a DuckDB build.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from prometheus.artifacts import read_manifest, read_run_results

from dbt_harness import REPO_ROOT
from spark_harness import TINY_AS_OF, TinyBuilds, spark_dbt_run, spark_env, tail

pytestmark = pytest.mark.slow

NOTIFY_AT = "2024-10-01T12:00:00Z"
PIPELINES = (
    "unit_level_profit",
    "aggregate_profit",
    "aggregate_growth",
    "daily_growth",
    "aggregate_engagement",
)


@dataclass(frozen=True)
class Stored:
    root: Path
    history: Path
    freshness_target: Path
    outputs: dict[str, str]  # what each command printed


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, tiny_builds: TinyBuilds) -> Stored:
    root = tmp_path_factory.mktemp("spark_artifacts")
    history_db = root / "history.duckdb"
    env = spark_env(tiny_builds.raw_dir, tiny_builds.spark_dir)
    outputs: dict[str, str] = {}

    def prometheus(name: str, *args: str, expect: int = 0) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "prometheus.cli", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == expect, tail(done)
        outputs[name] = done.stdout + done.stderr

    prometheus(
        "ingest build",
        "observe",
        "ingest",
        "--target-dir",
        str(tiny_builds.spark_target),
        "--duckdb-path",
        str(history_db),
    )
    freshness_target = root / "t_freshness"  # dbt writes sources.json (and a manifest) there
    fresh = spark_dbt_run(
        env, freshness_target, "source", "freshness", "--vars", f'{{as_of: "{TINY_AS_OF}"}}'
    )
    assert fresh.returncode == 1, tail(fresh)  # stale: the data ends in 2024
    outputs["freshness"] = fresh.stdout + fresh.stderr
    prometheus(
        "ingest freshness",
        "observe",
        "ingest",
        "--target-dir",
        str(freshness_target),
        "--duckdb-path",
        str(history_db),
    )
    prometheus(
        "report",
        "report",
        "build",
        "--target-dir",
        str(tiny_builds.spark_target),
        "--duckdb-path",
        str(history_db),
        "--out",
        str(root / "report" / "index.html"),
    )
    # as in the main job: freshness checked before the build, read with the build's results
    notify_dir = root / "t_notify"
    notify_dir.mkdir()
    for name in ("manifest.json", "run_results.json"):
        shutil.copy(tiny_builds.spark_target / name, notify_dir / name)
    shutil.copy(freshness_target / "sources.json", notify_dir / "sources.json")
    prometheus(
        "notify",
        "notify",
        "--target-dir",
        str(notify_dir),
        "--at",
        NOTIFY_AT,
        "--state-file",
        str(root / "incidents.sqlite"),
        "--fallback-path",
        str(root / "undelivered.jsonl"),
    )
    return Stored(root, history_db, freshness_target, outputs)


def _report_data(html: str) -> dict[str, Any]:
    match = re.match(r"<script>window\.elementaryData = JSON\.parse\(atob\('([^']*)'\)\);", html)
    assert match, html[:200]
    data: dict[str, Any] = json.loads(base64.b64decode(match.group(1)))
    return data


def test_the_spark_build_and_its_freshness_are_in_the_run_history(
    stored: Stored, tiny_builds: TinyBuilds
) -> None:
    results = read_run_results(tiny_builds.spark_target / "run_results.json")
    tests = {
        r.unique_id for r in results.results if r.unique_id.startswith(("test.", "unit_test."))
    }
    with duckdb.connect(str(stored.history), read_only=True) as conn:
        invocations = conn.execute(
            "select command, adapter_type, success from observability.invocations order by 1"
        ).fetchall()
        stored_tests = {
            uid
            for (uid,) in conn.execute(
                "select test_unique_id from observability.test_results "
                f"where invocation_id = '{results.invocation_id}'"
            ).fetchall()
        }
        stale = conn.execute(
            "select count(*) from observability.source_freshness where status = 'error'"
        ).fetchone()
    assert invocations == [("build", "spark", True), ("source-freshness", "spark", False)]
    assert len(tests) > 100 and stored_tests == tests
    assert stale and stale[0] > 0


def test_the_report_shows_the_spark_builds_tests_and_stale_sources(
    stored: Stored, tiny_builds: TinyBuilds
) -> None:
    html = (stored.root / "report" / "index.html").read_text(encoding="utf-8")
    data = _report_data(html)
    # elementary files each result under the node it tests
    shown = {  # a data test's status is its latest run's; a freshness check's, its result's
        (tested, r["metadata"]["test_unique_id"]): r["test_results"].get("status")
        or r["metadata"]["latest_run_status"]
        for tested, results in data["test_results"].items()
        for r in results
    }
    manifest = read_manifest(tiny_builds.spark_target / "manifest.json")
    data_tests = {n.unique_id for n in manifest.of_type("test")}
    results = read_run_results(tiny_builds.spark_target / "run_results.json")
    passed = {r.unique_id for r in results.results if r.status == "pass"} & data_tests
    assert len(passed) > 100
    by_test = {test: status for (_, test), status in shown.items()}
    assert {by_test.get(test) for test in passed} == {"pass"}
    stale = {tested for (tested, _), status in shown.items() if tested.startswith("source.")
             and status == "fail"}  # fmt: skip
    with duckdb.connect(str(stored.history), read_only=True) as conn:
        stored_stale = {uid for (uid,) in conn.execute(
            "select unique_id from observability.source_freshness where status = 'error'"
        ).fetchall()}  # fmt: skip
    assert stale == stored_stale and stale


def test_the_notifier_routes_the_stale_sources_of_a_spark_run(stored: Stored) -> None:
    out = stored.outputs["notify"]
    # every pipeline fed by a stale source gets an incident, as on DuckDB
    for pipeline in PIPELINES:
        assert f"OPENED [page] {pipeline} / " in out, out[-3000:]
    assert "aggregate_profit / orders" in out and "daily_growth / events" in out
    # nothing read from a DuckDB file for a Spark build
    assert "stored failing rows are spark tables: not sampled" in out
    assert "duckdb -readonly" not in out

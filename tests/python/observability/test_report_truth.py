"""The words and evidence the report adds: descriptions, names, why a node was
skipped, failing-row samples and anomaly series (on the tiny project's real runs)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from tiny_dbt import EXPOSURE, FAILING_TEST, TinyRuns

from prometheus.artifacts import Manifest, Node, read_manifest
from prometheus.observability import descriptions, evidence, history
from prometheus.observability.elementary_adapter import build_report_data

SNAPSHOT = "snapshot.tiny.snap_customers"


@pytest.fixture(scope="module")
def manifest(tiny_runs: TinyRuns) -> Manifest:
    return read_manifest(tiny_runs.failing.target_dir / "manifest.json")


def _problem(invocation: str, uid: str = FAILING_TEST, **extra: Any) -> dict[str, Any]:
    return {
        "invocation_id": invocation,
        "unique_id": uid,
        "resource_type": "test",
        "status": "fail",
        "message": "Got 2 results, configured to fail if != 0",
        "tested_unique_id": "model.tiny.stg_customers",
        **extra,
    }


def test_a_skipped_node_names_the_failure_upstream_in_its_run(manifest: Manifest) -> None:
    problems = [_problem("run-2"), _problem("run-1", "test.tiny.other.123")]
    why = descriptions.held_back_by(manifest, problems, "run-2", SNAPSHOT)
    assert why == (
        "Skipped: held back by assert_no_blocked_customers "
        "(fail: Got 2 results, configured to fail if != 0)."
    )
    # another run's failure, or a failure not upstream, is not a cause
    assert "no failure upstream" in descriptions.held_back_by(manifest, problems, "run-3", SNAPSHOT)
    assert "no failure upstream" in descriptions.held_back_by(
        manifest, problems, "run-2", "model.tiny.stg_customers_unrelated"
    )


def test_the_stored_failing_build_explains_its_skipped_snapshot(tiny_runs: TinyRuns) -> None:
    with history.connect(tiny_runs.db_path, read_only=True) as conn:
        runs = history.read_history(conn, runs=30, days_back=30)
        [(invocation,)] = conn.execute(
            "select invocation_id from observability.model_runs where status = 'skipped'"
        ).fetchall()
    manifest = read_manifest(tiny_runs.failing.target_dir / "manifest.json")
    assert [p["unique_id"] for p in runs.problems if p["invocation_id"] == invocation] == [
        FAILING_TEST
    ]
    why = descriptions.held_back_by(manifest, runs.problems, invocation, SNAPSHOT)
    assert why.startswith("Skipped: held back by assert_no_blocked_customers (fail: Got 2 results")


def test_every_test_has_a_description_saying_what_why_and_what_to_do(manifest: Manifest) -> None:
    tests = manifest.of_type("test")
    assert tests
    for test in tests:
        text = descriptions.test_description(manifest, test)
        assert [line.split(":")[0] for line in text.splitlines()] == [
            "What it checks",
            "Why",
            "What to do",
        ], text
    unique = next(t for t in tests if t.test_short_name == "unique")
    assert descriptions.test_description(manifest, unique).startswith(
        "What it checks: on column customer_id of stg_customers, no value of the column appears"
    )


def test_a_tests_own_description_wins(manifest: Manifest) -> None:
    [singular] = [t for t in manifest.of_type("test") if t.test_kind == "singular"]
    own = Node(**{**singular.__dict__, "description": "What it checks: mine.\n"})
    assert descriptions.test_description(manifest, own) == "What it checks: mine."


def test_readable_names(manifest: Manifest) -> None:
    names = {
        t.test_short_name or t.name: descriptions.test_name(t) for t in manifest.of_type("test")
    }
    assert names["unique"] == "unique"
    assert names["accepted_values"] == 'accepted_values (values=["active", "churned", "blocked"])'
    assert names["assert_no_blocked_customers"] == "assert_no_blocked_customers"
    named = Node(
        unique_id="test.p.fct_m_orders_is_not_anomalous.1", resource_type="test",
        name="fct_m_orders_is_not_anomalous", test_short_name="dq_metric_anomaly",
        depends_on_nodes=("model.p.fct_m",),
    )  # fmt: skip
    assert descriptions.test_name(named) == "orders_is_not_anomalous"


def test_the_report_shows_descriptions_names_and_exposure_contacts(
    manifest: Manifest, tiny_runs: TinyRuns
) -> None:
    with history.connect(tiny_runs.db_path, read_only=True) as conn:
        runs = history.read_history(conn, runs=30, days_back=30)
    data = build_report_data(manifest, runs, runs=30, days_back=30)
    for test in data["tests"].values():
        assert test["description"] and test["description"].startswith("What it checks:")
    results = [r for rs in data["test_results"].values() for r in rs]
    assert {r["metadata"]["test_name"] for r in results} >= {
        'accepted_values (values=["active", "churned", "blocked"])'
    }
    assert data["models"][EXPOSURE]["owners"][0] == "Finance/Risk"


def test_failures_relation_drops_the_database() -> None:
    node = Node(
        unique_id="test.p.t.1", resource_type="test", name="t",
        relation_name='"wh"."dq_failures"."unique_x"',
    )  # fmt: skip
    assert evidence.failures_relation(node) == '"dq_failures"."unique_x"'
    assert evidence.failures_relation(Node(unique_id="t", resource_type="test", name="t")) is None


ANOMALY_SQL = """
with
trained as (
    select * from (values
        (date '2024-01-01', 10.0, null, null, 0),
        (date '2024-01-02', 12.0, 10.0, 1.0, 1),
        (date '2024-01-03', 30.0, 11.0, 1.0, 2)
    ) as t(metric_date, metric_value, baseline, spread, training_count)
    where metric_value is not null
),
graded as (select *, 1 as severity_level from trained)
select
    dimension, dimension_value,
    metric_date,
    metric_value,
    baseline
from graded
where severity_level > 0
"""


def test_anomaly_series_is_every_day_with_its_band() -> None:
    sql = evidence.series_sql(ANOMALY_SQL)
    assert sql is not None and "from graded\nwhere" not in sql
    # a copy of the warehouse has another catalog name: references lose theirs
    three_part = evidence.series_sql(ANOMALY_SQL.replace("from trained)", 'from "wh"."s"."t")'))
    assert three_part is not None and 'from "s"."t")' in three_part
    test = Node(
        unique_id="test.p.m.1", resource_type="test", name="m", test_short_name="dq_metric_anomaly",
        test_kwargs={"row_condition": "metric_name = 'orders'", "sensitivity": 3,
                     "min_training_points": 1},
    )  # fmt: skip
    with duckdb.connect() as conn:
        series = evidence.metric_series(conn, test, ANOMALY_SQL)
    assert series is not None
    assert [(m["start_time"], m["value"], m["min_value"], m["max_value"]) for m in series] == [
        ("2024-01-02T00:00:00", 12.0, 7.0, 13.0),
        ("2024-01-03T00:00:00", 30.0, 8.0, 14.0),
    ]
    assert [m["is_anomalous"] for m in series] == [False, True]
    assert {m["metric_name"] for m in series} == {"orders"}
    assert evidence.series_sql("select 1") is None

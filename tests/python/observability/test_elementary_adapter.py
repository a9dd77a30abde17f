"""The offline Elementary report: elementary's own ReportAPI fed from dbt artifacts + run history.

The shape tests fail loudly when a new elementary-data version asks for
other macros, renames or adds required fields, or changes its page.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

import pytest
from elementary.monitor.api.lineage.schema import NodeDependsOnNodesSchema
from elementary.monitor.api.report.report import ReportAPI
from elementary.monitor.api.report.schema import ReportDataSchema
from elementary.monitor.data_monitoring.schema import SelectorFilterSchema
from elementary.monitor.fetchers.invocations.schema import DbtInvocationSchema
from elementary.monitor.fetchers.models.schema import (
    ExposureSchema,
    ModelRunSchema,
    ModelSchema,
    ModelTestCoverage,
    SeedSchema,
    SnapshotSchema,
    SourceSchema,
)
from elementary.monitor.fetchers.source_freshnesses.schema import (
    SourceFreshnessResultDBRowSchema,
)
from elementary.monitor.fetchers.tests.schema import TestDBRowSchema as DbtTestRowSchema
from elementary.monitor.fetchers.tests.schema import TestResultDBRowSchema
from tiny_dbt import DATA_TESTS, EXPOSURE, FAILING_TEST, TinyRuns

from prometheus.artifacts import Manifest, Node, read_manifest
from prometheus.observability import history
from prometheus.observability.elementary_adapter import (
    ELEMENTARY_VERSION,
    EXTERNAL_FONT_LINK,
    MACROS,
    ArtifactDbtRunner,
    UnsupportedMacroError,
    build_report_data,
    render_html,
    template_path,
)

MODEL = "model.tiny.stg_customers"
SOURCE = "source.tiny.raw.customers"
SEED = "seed.tiny.customers"
SNAPSHOT = "snapshot.tiny.snap_customers"

# What each macro's rows are parsed into by elementary (None: plain dicts),
# and the keys elementary's own macro returns beyond that class's fields.
ANSWER_SHAPES: dict[str, tuple[Any, set[str]]] = {
    "elementary_cli.get_seeds": (SeedSchema, set()),
    "elementary_cli.get_snapshots": (SnapshotSchema, set()),
    "elementary_cli.get_models": (ModelSchema, set()),
    "elementary_cli.get_sources": (SourceSchema, set()),
    "elementary_cli.get_exposures": (ExposureSchema, {"owner_email", "depends_on_columns"}),
    "elementary_cli.get_singular_tests": (None, {"unique_id", "name", "original_path",
                                                 "package_name", "tags"}),
    "elementary_cli.get_models_runs": (ModelRunSchema, set()),
    "elementary_cli.get_dbt_models_test_coverage": (ModelTestCoverage, set()),
    "elementary_cli.get_tests": (DbtTestRowSchema, {"model_name"}),
    "elementary_cli.get_test_results": (TestResultDBRowSchema, set()),
    "elementary_cli.get_source_freshness_results": (SourceFreshnessResultDBRowSchema, set()),
    "elementary_cli.get_nodes_depends_on_nodes": (NodeDependsOnNodesSchema, {"materialization"}),
    "elementary_cli.get_models_latest_invocation": (None, {"unique_id", "invocation_id"}),
    "elementary_cli.get_models_latest_invocations_data": (DbtInvocationSchema, set()),
    "elementary_cli.get_test_last_invocation": (DbtInvocationSchema, set()),
}  # fmt: skip

# Required fields of elementary-data 0.26.1's classes, as the adapter was written for them.
REQUIRED_FIELDS = {
    ModelRunSchema: {"execution_time", "generated_at", "invocation_id", "name", "status",
                     "unique_id"},
    ModelSchema: {"schema_name", "table_name"},
    SeedSchema: {"schema_name", "table_name"},
    SnapshotSchema: {"depends_on_macros", "depends_on_nodes", "generated_at", "path",
                     "schema_name", "table_name"},
    SourceSchema: {"schema_name", "table_name"},
    ExposureSchema: set(),
    ModelTestCoverage: set(),
    TestResultDBRowSchema: {"days_diff", "detected_at", "elementary_unique_id", "id",
                            "invocations_rank_index", "meta", "model_meta", "original_path",
                            "schema_name", "status", "test_name", "test_params", "test_sub_type",
                            "test_type", "test_unique_id"},
    DbtTestRowSchema: {"meta", "model_meta", "name", "schema_name", "test_params", "type",
                      "unique_id"},
    DbtInvocationSchema: set(),
    SourceFreshnessResultDBRowSchema: {"generated_at", "invocation_id", "invocations_rank_index",
                                       "meta", "original_status", "relation_name", "schema_name",
                                       "source_freshness_execution_id", "source_name", "status",
                                       "table_name", "test_sub_type", "test_type", "unique_id"},
    NodeDependsOnNodesSchema: {"type", "unique_id"},
}  # fmt: skip

REPORT_DATA_FIELDS = {
    "coverages", "creation_time", "days_back", "env", "filters", "groups", "invocation",
    "invocations", "invocations_job_identification", "lineage", "model_runs",
    "model_runs_totals", "models", "resources_latest_invocation", "test_results",
    "test_results_totals", "test_runs", "test_runs_totals", "tests", "tracking",
}  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tiny_runs: TinyRuns) -> tuple[Manifest, history.History]:
    manifest = read_manifest(tiny_runs.failing.target_dir / "manifest.json")
    with history.connect(tiny_runs.db_path, read_only=True) as conn:
        runs = history.read_history(conn, runs=30, days_back=30)
    return manifest, runs


@pytest.fixture(scope="module")
def report(inputs: tuple[Manifest, history.History]) -> dict[str, Any]:
    manifest, runs = inputs
    return build_report_data(manifest, runs, runs=30, days_back=30, env="test")


# ----------------------------------------------------------------------------- shape


def test_elementary_is_the_pinned_version() -> None:
    assert version("elementary-data") == ELEMENTARY_VERSION


def _fields(schema: Any) -> set[str]:
    return {f.alias for f in schema.__fields__.values()} | set(schema.__fields__)


@pytest.mark.parametrize("schema", list(REQUIRED_FIELDS), ids=lambda s: s.__name__)
def test_required_fields_of_elementary_classes_are_unchanged(schema: Any) -> None:
    required = {name for name, f in schema.__fields__.items() if f.required}
    assert required == REQUIRED_FIELDS[schema], (
        f"elementary's {schema.__name__} changed its required fields: adapt elementary_adapter"
    )


def test_report_data_fields_are_unchanged() -> None:
    assert set(ReportDataSchema.__fields__) == REPORT_DATA_FIELDS


def test_report_api_asks_exactly_the_known_macros(inputs: tuple[Manifest, history.History]) -> None:
    runner = ArtifactDbtRunner(*inputs)
    data, error = ReportAPI(runner).get_report_data(days_back=30, test_runs_amount=30)
    assert error is None
    assert set(runner.calls) == set(MACROS) - {"elementary_cli.get_test_last_invocation"}
    # with an invocation filter it also asks for the last test invocation
    runner = ArtifactDbtRunner(*inputs)
    data, error = ReportAPI(runner).get_report_data(
        filter=SelectorFilterSchema(last_invocation=True)
    )
    assert error is None
    assert "elementary_cli.get_test_last_invocation" in runner.calls
    assert data.invocation["invocation_id"]  # the failing build's


@pytest.mark.parametrize("macro", MACROS)
def test_answers_fit_elementary_classes(
    inputs: tuple[Manifest, history.History], macro: str
) -> None:
    runner = ArtifactDbtRunner(*inputs)
    [text] = runner.run_operation(macro_name=macro, macro_args={})
    rows = json.loads(text)
    assert rows, f"{macro} answered nothing on the tiny project"
    schema, extra = ANSWER_SHAPES[macro]
    known = (_fields(schema) if schema else set()) | extra
    for row in rows:
        assert set(row) <= known, f"{macro}: keys elementary does not know: {set(row) - known}"
        if schema is not None:
            missing = {
                name for name, f in schema.__fields__.items() if f.required and f.alias not in row
            }
            assert not missing, f"{macro}: missing required {missing}"
            schema(**{k: v for k, v in row.items() if k not in extra})


def test_unknown_macros_fail_loudly(inputs: tuple[Manifest, history.History]) -> None:
    runner = ArtifactDbtRunner(*inputs)
    with pytest.raises(UnsupportedMacroError, match="get_pending_alerts"):
        runner.run_operation(macro_name="elementary_cli.get_pending_alerts")
    with pytest.raises(NotImplementedError):
        runner.run()


def test_template_is_elementarys_page_reading_window_elementary_data() -> None:
    page = template_path().read_text(encoding="utf-8")
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert "window.elementaryData" in page or "elementaryData" in page
    assert "window.elementaryData = JSON.parse" not in page  # no data baked in


def test_html_is_injected_like_edr_report(report: dict[str, Any]) -> None:
    html = render_html(report)
    match = re.match(
        r"<script>window\.elementaryData = JSON\.parse\(atob\('([^']*)'\)\);</script>", html
    )
    assert match
    assert json.loads(base64.b64decode(match.group(1))) == json.loads(json.dumps(report))
    template = template_path().read_text(encoding="utf-8")
    assert html[match.end() :] == EXTERNAL_FONT_LINK.sub("", template)


def test_only_the_font_links_are_taken_out_of_the_page() -> None:
    template = template_path().read_text(encoding="utf-8")
    removed = EXTERNAL_FONT_LINK.findall(template)
    assert len(removed) == 4  # two stylesheets, two preconnects
    assert all("<link" in link and "fonts.g" in link for link in removed)
    kept = EXTERNAL_FONT_LINK.sub("", template)
    assert "https://fonts.googleapis.com/css" not in kept
    assert len(template) - len(kept) < 600


# ----------------------------------------------------------------------------- content


def test_tracking_is_off_and_env_is_set(report: dict[str, Any]) -> None:
    assert report["tracking"] is None
    assert report["env"] == {"project_name": "tiny", "env": "test", "warehouse_type": "duckdb"}


def test_every_resource_is_shown_with_its_owners(report: dict[str, Any]) -> None:
    models = report["models"]
    assert {uid: a["artifact_type"] for uid, a in models.items()} == {
        MODEL: "model",
        SOURCE: "source",
        SEED: "seed",
        SNAPSHOT: "snapshot",
        EXPOSURE: "exposure",
    }
    assert models[EXPOSURE]["owners"] == ["Finance/Risk"]
    assert models[EXPOSURE]["owner"] == {
        "name": "Finance/Risk",
        "email": "finance-risk@example.com",
    }
    assert models[MODEL]["owners"] == ["Finance Team"]  # from its group


def test_tests_and_the_failure_are_shown(report: dict[str, Any]) -> None:
    assert len(report["tests"]) == DATA_TESTS
    failing = [
        r for r in report["test_results"][MODEL] if r["metadata"]["test_unique_id"] == FAILING_TEST
    ]
    [result] = failing
    assert result["metadata"]["latest_run_status"] == "fail"
    assert result["test_results"]["failed_rows_count"] == 2
    assert result["test_results"]["error_message"].startswith("Got 2 results")
    assert "status = 'blocked'" in result["metadata"]["test_query"]
    assert report["test_results_totals"][MODEL] == {
        "errors": 0,
        "warnings": 0,
        "passed": 3,
        "failures": 1,
    }


def test_test_history_shows_both_runs(report: dict[str, Any]) -> None:
    [run] = [
        r for r in report["test_runs"][MODEL] if r["metadata"]["test_unique_id"] == FAILING_TEST
    ]
    assert [i["status"] for i in run["test_runs"]["invocations"]] == ["pass", "fail"]
    assert run["test_runs"]["totals"] == {"errors": 0, "warnings": 0, "passed": 1, "failures": 1}


def test_last_n_runs_only(inputs: tuple[Manifest, history.History], tiny_runs: TinyRuns) -> None:
    manifest, _ = inputs
    with history.connect(tiny_runs.db_path, read_only=True) as conn:
        last = history.read_history(conn, runs=1, days_back=30)
    data = build_report_data(manifest, last, runs=1, days_back=30)
    [run] = [r for r in data["test_runs"][MODEL] if r["metadata"]["test_unique_id"] == FAILING_TEST]
    assert [i["status"] for i in run["test_runs"]["invocations"]] == ["fail"]


def test_old_runs_fall_out_of_days_back(inputs: tuple[Manifest, history.History]) -> None:
    manifest, runs = inputs
    later = datetime.now(UTC).replace(tzinfo=None).replace(year=datetime.now(UTC).year + 1)
    data = build_report_data(manifest, runs, runs=30, days_back=30, now=later)
    assert data["test_results"] == {} and data["model_runs"] == []


def test_source_freshness_is_a_test_of_the_source(report: dict[str, Any]) -> None:
    [result] = report["test_results"][SOURCE]
    assert result["metadata"]["test_type"] == "source_freshness"
    assert result["test_results"]["status"] == "fail"  # stale: dbt's 'error'


def test_model_run_times(report: dict[str, Any]) -> None:
    [runs] = [r for r in report["model_runs"] if r["unique_id"] == MODEL]
    assert len(runs["runs"]) == 2
    assert all(r["status"] == "success" and r["execution_time"] >= 0 for r in runs["runs"])
    assert runs["compiled_code"] and "customers" in runs["compiled_code"]
    assert report["model_runs_totals"][MODEL]["passed"] == 2


def test_lineage_and_coverage(report: dict[str, Any]) -> None:
    nodes = {n["id"]: n["type"] for n in report["lineage"]["nodes"]}
    assert nodes == {
        MODEL: "model",
        SOURCE: "source",
        SEED: "seed",
        SNAPSHOT: "snapshot",
        EXPOSURE: "exposure",
    }
    edges = sorted(map(tuple, report["lineage"]["edges"]))
    assert edges == [(EXPOSURE, MODEL), (MODEL, SEED), (SNAPSHOT, MODEL)]
    assert report["coverages"][MODEL] == {"table_tests": 1, "column_tests": 3}


# ----------------------------------------------------------------------------- unit tests

UNIT_TEST = "unit_test.tiny.stg_customers.test_status_is_kept"
DOCUMENTED_UNIT_TEST = "unit_test.tiny.stg_customers.test_ids_are_kept"
# dbt's run_results message of a failed unit test: the diff
UNIT_DIFF = (
    "\n\nactual differs from expected:\n\n@@,customer_id,status\r\n"
    "→ ,1          ,churned→active\r\n\n"
)


def _with_unit_tests(
    inputs: tuple[Manifest, history.History],
) -> tuple[Manifest, history.History]:
    """The tiny project's manifest and history, plus two unit tests of stg_customers
    (one documented) and their stored results: both passed, then one failed."""
    manifest, runs = inputs

    def unit(unique_id: str, description: str = "") -> Node:
        return Node.from_raw(
            {"unique_id": unique_id, "resource_type": "unit_test",
             "name": unique_id.rsplit(".", 1)[-1], "model": "stg_customers",
             "package_name": "tiny", "original_file_path": "models/stg_customers.yml",
             "description": description, "depends_on": {"nodes": [MODEL]}}
        )  # fmt: skip

    unit_tests = {
        UNIT_TEST: unit(UNIT_TEST),
        DOCUMENTED_UNIT_TEST: unit(DOCUMENTED_UNIT_TEST, "Every customer id is kept."),
    }
    template = runs.test_results[-1]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {**template, "invocation_id": invocation, "test_unique_id": uid,
         "resource_type": "unit_test", "test_kind": "unit", "tested_unique_id": MODEL,
         "status": status, "message": message, "failures": 1 if message else 0,
         "completed_at": now.replace(microsecond=0) - timedelta(hours=hours_ago),
         "column_name": None, "severity": None}
        for invocation, hours_ago in (("unit-1", 2), ("unit-2", 1))
        for uid in unit_tests
        for status, message in [
            ("fail", UNIT_DIFF) if uid == UNIT_TEST and invocation == "unit-2" else ("pass", None)
        ]
    ]  # fmt: skip
    return (
        dataclasses.replace(manifest, unit_tests=unit_tests),
        dataclasses.replace(runs, test_results=[*runs.test_results, *rows]),
    )


def test_unit_tests_are_shown_with_status_model_and_description(
    inputs: tuple[Manifest, history.History],
) -> None:
    manifest, runs = _with_unit_tests(inputs)
    data = build_report_data(manifest, runs, runs=30, days_back=30)
    assert len(data["tests"]) == DATA_TESTS + 2
    test = data["tests"][UNIT_TEST]
    assert (test["name"], test["model_unique_id"], test["table_name"]) == (
        "test_status_is_kept", MODEL, "stg_customers")  # fmt: skip
    assert (test["test_type"], test["test_sub_type"], test["latest_run_status"]) == (
        "dbt_test", "unit", "fail")  # fmt: skip
    composed = test["description"]
    assert composed.startswith("What it checks: status is kept (a dbt unit test of stg_customers")
    assert "Why: One row per customer. The marts depend on this calculation" in composed
    assert "`.venv/bin/dbt test -s stg_customers,test_type:unit` and read the diff" in composed
    assert data["tests"][DOCUMENTED_UNIT_TEST]["description"] == "Every customer id is kept."
    # the latest result, filed under its model: failed, with dbt's diff
    results = {r["metadata"]["test_unique_id"]: r for r in data["test_results"][MODEL]}
    failed = results[UNIT_TEST]
    assert failed["metadata"]["latest_run_status"] == "fail"
    assert failed["metadata"]["description"] == composed
    assert "actual differs from expected" in failed["test_results"]["error_message"]
    assert "churned→active" in failed["test_results"]["error_message"]
    assert results[DOCUMENTED_UNIT_TEST]["metadata"]["latest_run_status"] == "pass"
    assert data["test_results_totals"][MODEL]["failures"] == 2  # the data test's and this one
    [history_of] = [
        r for r in data["test_runs"][MODEL] if r["metadata"]["test_unique_id"] == UNIT_TEST
    ]
    assert [i["status"] for i in history_of["test_runs"]["invocations"]] == ["pass", "fail"]
    # coverage counts data tests on tables and columns only
    assert data["coverages"][MODEL] == {"table_tests": 1, "column_tests": 3}

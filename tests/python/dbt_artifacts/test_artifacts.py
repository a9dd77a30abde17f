"""The artifact reader on small hand-written artifacts shaped like dbt's, and damaged ones.

The notifier's and the observability tests read real dbt artifacts through it too
(tests/python/notifier/test_routing.py, tests/python/observability/test_history.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prometheus import artifacts
from prometheus.artifacts import MANIFEST, RUN_RESULTS, SOURCES, ArtifactError

MODEL = "model.shop.orders"
DOWNSTREAM = "model.shop.order_totals"
SOURCE = "source.shop.app.orders"
GENERIC = "test.shop.not_null_orders_user_id.1a2b3c"
SINGULAR = "test.shop.assert_no_negative_totals"
EXPOSURE = "exposure.shop.weekly_revenue"
GROUP = "group.shop.finance"

BUILD_ID = "build-1"
STARTED = "2024-07-01T06:00:00Z"  # the build's invocation_started_at
GENERATED = "2024-07-01T06:10:00Z"  # its run_results.json's generated_at


def metadata(kind: str, version: int, **extra: Any) -> dict[str, Any]:
    return {
        "dbt_schema_version": f"https://schemas.getdbt.com/dbt/{kind}/v{version}.json",
        "dbt_version": "1.11.16",
        "invocation_id": BUILD_ID,
        "generated_at": GENERATED,
        "invocation_started_at": STARTED,
        **extra,
    }


def entry(unique_id: str, name: str, **keys: Any) -> dict[str, Any]:
    """A manifest entry; its resource type is the start of its unique id."""
    return {"unique_id": unique_id, "resource_type": unique_id.split(".")[0], "name": name, **keys}


def manifest_json() -> dict[str, Any]:
    model = entry(
        MODEL, "orders", package_name="shop", original_file_path="models/orders.sql",
        path="orders.sql", patch_path="shop://models/orders.yml", database="wh",
        schema="marts", alias="orders_v2", relation_name='"wh"."marts"."orders_v2"',
        tags=["daily"], description="One row per order.", meta={"owner": "nobody", "tier": 2},
        config={"materialized": "incremental", "unique_key": ["order_id"], "strategy": None,
                "meta": {"owner": "finance"}},
        depends_on={"nodes": [SOURCE], "macros": ["macro.dbt.is_incremental"]},
    )  # fmt: skip
    generic = entry(
        GENERIC, "not_null_orders_user_id", column_name="user_id", attached_node=MODEL,
        config={"severity": "ERROR"},
        test_metadata={"name": "not_null", "namespace": None, "kwargs": {
            "column_name": "user_id", "model": "{{ get_where_subquery(ref('orders')) }}"}},
        depends_on={"nodes": [MODEL], "macros": ["macro.dbt.test_not_null"]},
    )  # fmt: skip
    singular = entry(
        SINGULAR, "assert_no_negative_totals",
        original_file_path="tests/assert_no_negative_totals.sql",
        depends_on={"nodes": [MODEL, DOWNSTREAM]},
    )  # fmt: skip
    downstream = entry(DOWNSTREAM, "order_totals", group="finance", depends_on={"nodes": [MODEL]})
    source = entry(
        SOURCE, "orders", source_name="app", identifier="raw_orders",
        loaded_at_field="_loaded_at", freshness={"error_after": {"count": 24, "period": "hour"}},
    )  # fmt: skip
    exposure = entry(
        EXPOSURE, "weekly_revenue", type="dashboard", maturity="high",
        url="https://bi.example.com/weekly", original_file_path="models/_exposures.yml",
        owner={"name": "Revenue BI", "email": "bi@example.com"},
        config={"meta": {"pipeline": "weekly_revenue"}}, depends_on={"nodes": [DOWNSTREAM]},
    )  # fmt: skip
    group = entry(
        GROUP, "finance", original_file_path="models/_groups.yml",
        owner={"name": "Finance Team", "email": "finance@example.com"},
        config={"meta": {"rotation": {"handoff_weekday": "monday"}}},
    )  # fmt: skip
    return {
        "metadata": metadata("manifest", 12, project_name="shop"),
        "nodes": {MODEL: model, DOWNSTREAM: downstream, GENERIC: generic, SINGULAR: singular},
        "sources": {SOURCE: source},
        "exposures": {EXPOSURE: exposure},
        "groups": {GROUP: group},
        "parent_map": {MODEL: [SOURCE], DOWNSTREAM: [MODEL], EXPOSURE: [DOWNSTREAM]},
        "child_map": {SOURCE: [MODEL], MODEL: [DOWNSTREAM, GENERIC, SINGULAR]},
    }


def run_results_json(version: int = 6) -> dict[str, Any]:
    timing = [
        {
            "name": "compile",
            "started_at": "2024-07-01T06:01:00Z",
            "completed_at": "2024-07-01T06:01:01Z",
        },
        {
            "name": "execute",
            "started_at": "2024-07-01T06:01:01Z",
            "completed_at": "2024-07-01T06:01:03.500000Z",
        },
    ]
    return {
        "metadata": metadata("run-results", version),
        "elapsed_time": 420.0,
        "args": {"which": "build", "select": ["orders+"], "full_refresh": False,
                 "invocation_command": "dbt build -s orders+", "target": "dev"},
        "results": [
            {"unique_id": MODEL, "status": "success", "message": "OK", "execution_time": 2.5,
             "timing": timing, "compiled_code": "select 1", "failures": None,
             "adapter_response": {"rows_affected": 10, "_message": "INSERT 10"},
             "relation_name": '"wh"."marts"."orders_v2"'},
            {"unique_id": GENERIC, "status": "fail", "failures": 2,
             "message": "Got 2 results, configured to fail if != 0"},
            {"unique_id": SINGULAR, "status": "pass", "failures": 0, "message": None},
            {"unique_id": DOWNSTREAM, "status": "skipped"},
        ],
    }  # fmt: skip


def sources_json(
    version: int = 3, generated_at: str = GENERATED, invocation_id: str = BUILD_ID
) -> dict[str, Any]:
    return {
        "metadata": metadata("sources", version, generated_at=generated_at,
                             invocation_id=invocation_id, invocation_started_at=None),
        "elapsed_time": 1.0,
        "results": [{
            "unique_id": SOURCE, "status": "error", "execution_time": 0.25,
            "max_loaded_at": "2024-06-30T20:00:00+02:00",
            "snapshotted_at": "2024-07-01T06:00:00Z", "max_loaded_at_time_ago_in_s": 43200.0,
            "criteria": {"warn_after": {"count": 12, "period": "hour"},
                         "error_after": {"count": 24, "period": "hour"}, "filter": None},
            "timing": [{"name": "execute", "started_at": "2024-07-01T05:59:59Z",
                        "completed_at": "2024-07-01T06:00:00Z"}],
        }],
    }  # fmt: skip


def write_target(tmp_path: Path, files: dict[str, Any]) -> Path:
    target = tmp_path / "target"
    target.mkdir(parents=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (target / name).write_text(text, encoding="utf-8")
    return target


def build_target(tmp_path: Path, **more: Any) -> Path:
    return write_target(tmp_path, {MANIFEST: manifest_json(), RUN_RESULTS: run_results_json(),
                                   **more})  # fmt: skip


@pytest.fixture(scope="module")
def manifest() -> artifacts.Manifest:
    return artifacts.parse_manifest(manifest_json(), Path(MANIFEST))


# --------------------------------------------------------------------------- one build


def test_reads_a_build(tmp_path: Path) -> None:
    target = build_target(tmp_path)
    run = artifacts.load_run(target)
    assert run.manifest.schema_version == 12
    assert run.run_results is not None and run.run_results.schema_version == 6
    assert run.run_results.command == "build"
    assert run.sources is None and run.notes == ()
    assert run.invocation_id == BUILD_ID
    assert {r.status for r in run.run_results.results} == {"pass", "fail", "skipped", "success"}
    group = run.manifest.groups_by_name["finance"]
    assert group.original_file_path == "models/_groups.yml"
    assert group.meta["rotation"]["handoff_weekday"] == "monday"
    assert group.owner == artifacts.Owner("Finance Team", "finance@example.com")
    assert EXPOSURE in run.manifest.exposures and EXPOSURE not in run.manifest.nodes
    assert SOURCE in run.manifest.nodes
    assert run.manifest.child_map[MODEL] == (DOWNSTREAM, GENERIC, SINGULAR)
    assert (run.manifest.project_name, run.manifest.dbt_version) == ("shop", "1.11.16")
    assert run.manifest.path == target / MANIFEST


def test_nodes_carry_what_the_notifier_and_the_report_read(manifest: artifacts.Manifest) -> None:
    model = manifest.nodes[MODEL]
    assert model.meta == {"owner": "finance", "tier": 2}  # config.meta wins
    assert (model.relation, model.materialization, model.unique_key) == (
        "orders_v2", "incremental", ["order_id"])  # fmt: skip
    assert (model.tags, model.depends_on_nodes, model.depends_on_macros) == (
        ("daily",), (SOURCE,), ("macro.dbt.is_incremental",))  # fmt: skip
    assert (model.original_file_path, model.path, model.patch_path) == (
        "models/orders.sql", "orders.sql", "shop://models/orders.yml")  # fmt: skip
    assert model.test_kind is None and model.owner is None and model.strategy is None
    source = manifest.nodes[SOURCE]
    assert (source.relation, source.source_name, source.loaded_at_field) == (
        "raw_orders", "app", "_loaded_at")  # fmt: skip
    assert source.freshness["error_after"] == {"count": 24, "period": "hour"}
    generic, singular = manifest.nodes[GENERIC], manifest.nodes[SINGULAR]
    assert (generic.test_kind, generic.test_short_name, generic.severity) == (
        "generic", "not_null", "ERROR")  # fmt: skip
    assert generic.test_kwargs == {"column_name": "user_id"}  # without `model`
    assert (generic.tested_node, generic.column_name) == (MODEL, "user_id")
    assert (singular.test_kind, singular.tested_node) == ("singular", DOWNSTREAM)
    exposure = manifest.exposures[EXPOSURE]
    assert (exposure.exposure_type, exposure.maturity, exposure.label) == (
        "dashboard", "high", None)  # fmt: skip
    assert exposure.owner == artifacts.Owner("Revenue BI", "bi@example.com")
    assert exposure.meta == {"pipeline": "weekly_revenue"}


def test_owners_and_types(manifest: artifacts.Manifest) -> None:
    # meta.owner naming a group shows the group's owner; else the group; else the exposure's
    assert manifest.owners(manifest.nodes[MODEL]) == ["Finance Team"]
    assert manifest.owners(manifest.nodes[DOWNSTREAM]) == ["Finance Team"]
    assert manifest.owners(manifest.exposures[EXPOSURE]) == ["Revenue BI"]
    assert manifest.owners(manifest.nodes[SOURCE]) == []
    assert [n.unique_id for n in manifest.of_type("exposure", "source")] == [EXPOSURE, SOURCE]
    assert manifest.node(GENERIC) is manifest.nodes[GENERIC] and manifest.node("x.y") is None


UNIT_TEST = "unit_test.shop.orders.test_refunds_are_netted"
UNDOCUMENTED_UNIT_TEST = "unit_test.shop.orders.test_totals_round_to_cents"


def unit_test_entry(unique_id: str, name: str, **keys: Any) -> dict[str, Any]:
    """A `unit_tests` entry as dbt 1.11 writes it (given/expect shortened)."""
    return entry(
        unique_id, name, model="orders", package_name="shop", path="orders.yml",
        original_file_path="models/orders.yml", schema="marts",
        fqn=["shop", "orders", name], checksum={"name": "sha256", "checksum": "0f"},
        given=[{"input": "ref('raw_orders')", "rows": [{"order_id": 1}], "format": "dict"}],
        expect={"rows": [{"order_id": 1}], "format": "dict"}, overrides=None,
        depends_on={"macros": ["macro.dbt.get_where_subquery"], "nodes": [MODEL]},
        config={"tags": ["unit"], "meta": {"owner": "finance"}, "enabled": True},
        tags=["unit"], versions=None, version=None, **keys,
    )  # fmt: skip


def test_unit_tests_are_kept_apart_from_the_nodes() -> None:
    data = manifest_json()
    data["unit_tests"] = {
        UNIT_TEST: unit_test_entry(
            UNIT_TEST, "test_refunds_are_netted", description="Refunds are netted."
        ),
        UNDOCUMENTED_UNIT_TEST: unit_test_entry(
            UNDOCUMENTED_UNIT_TEST, "test_totals_round_to_cents"
        ),
    }
    manifest = artifacts.parse_manifest(data, Path(MANIFEST))
    assert set(manifest.unit_tests) == {UNIT_TEST, UNDOCUMENTED_UNIT_TEST}
    assert UNIT_TEST not in manifest.nodes and manifest.of_type("unit_test") == []
    unit = manifest.unit_tests[UNIT_TEST]
    assert (unit.resource_type, unit.name, unit.model, unit.tested_node) == (
        "unit_test", "test_refunds_are_netted", "orders", MODEL)  # fmt: skip
    assert (unit.description, unit.original_file_path, unit.package_name) == (
        "Refunds are netted.", "models/orders.yml", "shop")  # fmt: skip
    assert (unit.test_kind, unit.column_name, unit.test_short_name) == ("unit", None, None)
    assert (unit.tags, unit.meta) == (("unit",), {"owner": "finance"})
    assert manifest.unit_tests[UNDOCUMENTED_UNIT_TEST].description == ""
    # without depends_on (an older or damaged manifest), the `model` key names the model
    bare = artifacts.Node.from_raw(
        {"unique_id": UNIT_TEST, "resource_type": "unit_test", "name": "x", "model": "orders",
         "package_name": "shop"}
    )  # fmt: skip
    assert bare.tested_node == MODEL
    # a manifest without the section (dbt before 1.8) has none
    assert artifacts.parse_manifest(manifest_json(), Path(MANIFEST)).unit_tests == {}


def test_run_results(tmp_path: Path) -> None:
    results = artifacts.read_run_results(build_target(tmp_path) / RUN_RESULTS)
    assert (results.invocation_id, results.elapsed_time) == (BUILD_ID, 420.0)
    assert results.started_at == datetime(2024, 7, 1, 6, 0)
    assert results.generated_at == datetime(2024, 7, 1, 6, 10)
    assert (results.selected, results.full_refresh, results.target) == (("orders+",), False, "dev")
    assert results.invocation_command == "dbt build -s orders+"
    model, generic, singular, skipped = results.results
    # the execute step, in naive UTC
    assert (model.started_at, model.completed_at) == (
        datetime(2024, 7, 1, 6, 1, 1), datetime(2024, 7, 1, 6, 1, 3, 500000))  # fmt: skip
    assert (model.rows_affected, model.adapter_message, model.execution_time) == (
        10, "INSERT 10", 2.5)  # fmt: skip
    assert (model.compiled_code, model.relation_name) == ("select 1", '"wh"."marts"."orders_v2"')
    assert (generic.failures, generic.is_problem, generic.is_skipped) == (2, True, False)
    assert (singular.failures, singular.message, singular.is_problem) == (0, None, False)
    assert skipped.is_skipped and not skipped.is_problem and skipped.started_at is None


def test_start_without_invocation_started_at_is_generated_minus_elapsed() -> None:
    data = run_results_json()
    del data["metadata"]["invocation_started_at"]
    results = artifacts.parse_run_results(data, Path(RUN_RESULTS))
    assert results.started_at == datetime(2024, 7, 1, 6, 3)  # 06:10 - 420 s


def test_source_freshness() -> None:
    sources = artifacts.parse_sources(sources_json(), Path(SOURCES))
    [fresh] = sources.results
    assert (fresh.status, fresh.is_problem, fresh.error) == ("error", True, None)
    assert fresh.max_loaded_at == datetime(2024, 6, 30, 18, 0)  # +02:00 -> UTC
    assert (fresh.warn_after, fresh.error_after, fresh.filter) == (
        {"count": 12, "period": "hour"}, {"count": 24, "period": "hour"}, None)  # fmt: skip
    assert (fresh.max_loaded_at_time_ago_in_s, fresh.execution_time) == (43200.0, 0.25)
    assert fresh.completed_at == datetime(2024, 7, 1, 6, 0)
    assert sources.started_at == datetime(2024, 7, 1, 6, 9, 59)  # 06:10 - 1 s


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-30T18:00:00Z", datetime(2024, 6, 30, 18, 0)),
        ("2024-06-30T18:00:00.250000+00:00", datetime(2024, 6, 30, 18, 0, 0, 250000)),
        ("2024-06-30T20:00:00+02:00", datetime(2024, 6, 30, 18, 0)),
        ("2024-06-30T18:00:00", datetime(2024, 6, 30, 18, 0)),  # no offset: UTC already
        ("yesterday", None),
        ("", None),
        (None, None),
        (1719770400, None),
    ],
)
def test_times_are_naive_utc(value: Any, expected: datetime | None) -> None:
    assert artifacts.parse_time(value) == expected


# --------------------------------------------------------------------------- target directories


@pytest.mark.parametrize(
    ("offset", "same_invocation", "used"),
    [
        (timedelta(minutes=-30), False, True),  # freshness just before the build
        (timedelta(hours=-3), False, False),  # an old freshness check
        (timedelta(hours=-3), True, True),
        (timedelta(days=2), False, False),
    ],
)
def test_sources_json_only_when_it_belongs_to_the_run(
    tmp_path: Path, offset: timedelta, same_invocation: bool, used: bool
) -> None:
    when = (datetime(2024, 7, 1, 6, 0) + offset).isoformat()  # from the build's start
    invocation = BUILD_ID if same_invocation else "another-run"
    target = build_target(tmp_path, **{SOURCES: sources_json(3, when, invocation)})
    run = artifacts.load_run(target)
    assert (run.sources is not None) is used
    assert bool(run.notes) is not used
    if not used:
        assert run.notes == (f"{target / SOURCES}: ignored, written by another run",)


def test_a_target_holds_sources_of_any_run(tmp_path: Path) -> None:
    old = sources_json(3, "2024-06-01T00:00:00Z", "freshness-1")
    both = artifacts.load_target(build_target(tmp_path, **{SOURCES: old}))
    assert both.sources is not None and both.sources.invocation_id == "freshness-1"
    assert both.run_results is not None and both.notes == ()
    only = artifacts.load_target(write_target(tmp_path / "f", {MANIFEST: manifest_json(),
                                                               SOURCES: old}))  # fmt: skip
    assert only.run_results is None and only.invocation_id == "freshness-1"


def test_a_target_without_results_is_refused(tmp_path: Path) -> None:
    target = write_target(tmp_path, {MANIFEST: manifest_json()})
    with pytest.raises(ArtifactError, match="neither run_results.json nor sources.json"):
        artifacts.load_target(target)
    with pytest.raises(ArtifactError, match="run_results.json: not found"):
        artifacts.load_run(target)


@pytest.mark.parametrize("load", [artifacts.load_run, artifacts.load_target])
def test_missing_target_dir(tmp_path: Path, load: Any) -> None:
    with pytest.raises(ArtifactError, match="nope: target directory not found"):
        load(tmp_path / "nope")


# --------------------------------------------------------------------------- refusals


def with_schema(data: dict[str, Any], url: str | None) -> dict[str, Any]:
    if url is None:
        del data["metadata"]["dbt_schema_version"]
    else:
        data["metadata"]["dbt_schema_version"] = url
    return data


DBT_SCHEMAS = "https://schemas.getdbt.com/dbt"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (MANIFEST, {"metadata": {}}, "manifest.json: metadata.dbt_schema_version is missing"),
        (MANIFEST, {"metadata": {"dbt_schema_version": f"{DBT_SCHEMAS}/catalog/v1.json"}},
         "is not a manifest schema"),
        (MANIFEST, {}, "manifest.json: metadata is missing or not a dict"),
        (MANIFEST, with_schema(manifest_json(), f"{DBT_SCHEMAS}/manifest/v11.json"),
         r"manifest v11 is not supported \(supported: v12\)"),
        (RUN_RESULTS, with_schema(run_results_json(), f"{DBT_SCHEMAS}/run-results/v5.json"),
         r"run-results v5 is not supported \(supported: v6\)"),
        (RUN_RESULTS, with_schema(run_results_json(), f"{DBT_SCHEMAS}/manifest/v12.json"),
         "run_results.json: metadata.dbt_schema_version '.*' is not a run-results schema"),
        (RUN_RESULTS, with_schema(run_results_json(), ""), "'' is not a run-results schema"),
        (SOURCES, sources_json(1), r"sources v1 is not supported \(supported: v3\)"),
    ],
)  # fmt: skip
def test_schema_versions_are_checked(
    tmp_path: Path, name: str, data: dict[str, Any], message: str
) -> None:
    target = build_target(tmp_path, **{name: data})
    with pytest.raises(ArtifactError, match=message):
        artifacts.load_run(target)
    with pytest.raises(ArtifactError, match=message):
        artifacts.load_target(target)


def without(data: dict[str, Any], *keys: Any) -> dict[str, Any]:
    section = data
    for key in keys[:-1]:
        section = section[key]
    del section[keys[-1]]
    return data


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (MANIFEST, '{"metadata": {"dbt_schema_version": ',
         r"manifest.json: not valid JSON \(truncated\?\): Expecting value at line 1"),
        (RUN_RESULTS, "[]", "run_results.json: expected a JSON object at the top level"),
        (RUN_RESULTS, b"\xff\xfe{}", "run_results.json: cannot read"),
        (RUN_RESULTS, without(run_results_json(), "results", 1, "unique_id"),
         r"run_results.json: results\[1\].unique_id is missing"),
        (RUN_RESULTS, without(run_results_json(), "metadata", "invocation_id"),
         "run_results.json: metadata.invocation_id is missing"),
        (MANIFEST, without(manifest_json(), "groups"),
         "manifest.json: groups is missing or not a JSON object or array"),
        (MANIFEST, without(manifest_json(), "nodes", MODEL, "unique_id"),
         rf"manifest.json: nodes\[{MODEL}\].unique_id is missing"),
        (MANIFEST, without(manifest_json(), "child_map"),
         "manifest.json: child_map is missing or not a dict"),
    ],
)  # fmt: skip
def test_damaged_artifacts_name_the_file_and_the_problem(
    tmp_path: Path, name: str, content: Any, message: str
) -> None:
    target = build_target(tmp_path)
    path = target / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ArtifactError, match=message):
        artifacts.load_run(target)


@pytest.mark.parametrize("name", [MANIFEST, RUN_RESULTS])
def test_missing_artifacts_are_named(tmp_path: Path, name: str) -> None:
    target = build_target(tmp_path)
    (target / name).unlink()
    with pytest.raises(ArtifactError, match=f"{name}: not found"):
        artifacts.load_run(target)


def test_saved_queries_are_known_results_of_a_build() -> None:
    """`dbt build` runs the semantic layer's saved queries: their results are not strangers."""
    data = manifest_json()
    saved = "saved_query.shop.monthly_pack"
    data["saved_queries"] = {saved: {"unique_id": saved, "name": "monthly_pack"}}
    manifest = artifacts.parse_manifest(data, Path(MANIFEST))
    assert manifest.saved_queries == {saved}
    assert manifest.knows(saved) and manifest.knows(MODEL) and manifest.knows(EXPOSURE)
    assert not manifest.knows("saved_query.shop.elsewhere")
    assert not artifacts.parse_manifest(manifest_json(), Path(MANIFEST)).knows(saved)

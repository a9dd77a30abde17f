"""The Elementary report without Elementary's dbt package: the one module that knows its internals.

elementary-data's ``ReportAPI`` assembles the report's data from the
answers of a few ``elementary_cli`` macros that it asks a dbt runner to run
(``BaseDbtRunner.run_operation``); those macros read tables that
Elementary's dbt package fills. ``ArtifactDbtRunner`` answers the same
macros, with the same columns, from dbt's ``manifest.json`` and the run
history stored by :mod:`prometheus.observability.history`. ``ReportAPI``
and its pydantic classes then do all the rest, and :func:`render_html`
injects the result into Elementary's own ``index.html`` exactly as
``edr report`` does (``DataMonitoringReport.generate_report``).

Written against elementary-data ``ELEMENTARY_VERSION``; the tests pin the
set of macros ``ReportAPI`` calls and the required fields of the classes
the answers are parsed into, so a new version fails them loudly.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import elementary
from elementary.clients.dbt.base_dbt_runner import BaseDbtRunner
from elementary.monitor.api.report.report import ReportAPI
from elementary.utils import json_utils

from prometheus.artifacts import Manifest, Node
from prometheus.observability import descriptions
from prometheus.observability.evidence import Evidence, is_anomaly_test
from prometheus.observability.history import History

ELEMENTARY_VERSION = "0.26.1"

# Every macro ReportAPI.get_report_data may ask for, and what answers it.
MACROS = (
    "elementary_cli.get_seeds",
    "elementary_cli.get_snapshots",
    "elementary_cli.get_models",
    "elementary_cli.get_sources",
    "elementary_cli.get_exposures",
    "elementary_cli.get_singular_tests",
    "elementary_cli.get_models_runs",
    "elementary_cli.get_dbt_models_test_coverage",
    "elementary_cli.get_tests",
    "elementary_cli.get_test_results",
    "elementary_cli.get_source_freshness_results",
    "elementary_cli.get_nodes_depends_on_nodes",
    "elementary_cli.get_models_latest_invocation",
    "elementary_cli.get_models_latest_invocations_data",
    # only with an invocation filter, which this project's report does not use
    "elementary_cli.get_test_last_invocation",
)

FRESHNESS_DESCRIPTION = (
    "dbt source freshness validates if the data in a table is not updated by calculating "
    "if the time elapsed between the test execution to the latest record is above an "
    "acceptable SLA threshold."
)


# Elementary's page links Google Fonts; offline the page must call nothing but
# its own server, so these links are dropped (the page falls back to system fonts).
EXTERNAL_FONT_LINK = re.compile(
    r"\s*<link\b[^>]*href=\"https://fonts\.(?:googleapis|gstatic)\.com[^\"]*\"[^>]*/?>"
)


class ReportError(Exception):
    """The report data could not be built."""


class UnsupportedMacroError(ReportError):
    """ReportAPI asked for a macro this adapter does not answer (a new elementary version?)."""


def template_path() -> Path:
    """Elementary's report page, shipped inside the elementary-data package."""
    return (
        Path(elementary.__file__).parent / "monitor" / "data_monitoring" / "report" / "index.html"
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


class ArtifactDbtRunner(BaseDbtRunner):
    """A dbt runner that runs nothing: it answers ReportAPI's macros from the artifacts."""

    def __init__(
        self,
        manifest: Manifest,
        history: History,
        *,
        now: datetime | None = None,
        evidence: Evidence | None = None,
    ):
        super().__init__(project_dir="", allow_macros_without_package_prefix=False)
        self.manifest = manifest
        self.history = history
        self.evidence = evidence or Evidence()
        self.now = now or datetime.now(UTC).replace(tzinfo=None)
        self.calls: list[str] = []
        self._answers: dict[str, Callable[..., list[dict[str, Any]]]] = {
            "elementary_cli.get_seeds": self._seeds,
            "elementary_cli.get_snapshots": self._snapshots,
            "elementary_cli.get_models": self._models,
            "elementary_cli.get_sources": self._sources,
            "elementary_cli.get_exposures": self._exposures,
            "elementary_cli.get_singular_tests": self._singular_tests,
            "elementary_cli.get_models_runs": self._models_runs,
            "elementary_cli.get_dbt_models_test_coverage": self._coverage,
            "elementary_cli.get_tests": self._tests,
            "elementary_cli.get_test_results": self._test_results,
            "elementary_cli.get_source_freshness_results": self._source_freshness_results,
            "elementary_cli.get_nodes_depends_on_nodes": self._nodes_depends_on_nodes,
            "elementary_cli.get_models_latest_invocation": self._models_latest_invocation,
            "elementary_cli.get_models_latest_invocations_data": self._latest_invocations_data,
            "elementary_cli.get_test_last_invocation": self._test_last_invocation,
        }
        assert set(self._answers) == set(MACROS)

    # ------------------------------------------------------------------ BaseDbtRunner

    def run_operation(
        self,
        macro_name: str,
        capture_output: bool = True,
        macro_args: dict[str, Any] | None = None,
        **_: Any,
    ) -> list[str]:
        self.calls.append(macro_name)
        answer = self._answers.get(macro_name)
        if answer is None:
            raise UnsupportedMacroError(
                f"elementary asked for macro {macro_name!r}, which this adapter does not answer "
                f"(written for elementary-data {ELEMENTARY_VERSION})"
            )
        return [json.dumps(answer(**(macro_args or {})), default=str)]

    def _offline(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ArtifactDbtRunner only answers run_operation")

    deps = seed = snapshot = run = test = debug = ls = source_freshness = _offline

    # ------------------------------------------------------------------ helpers

    def _owners(self, node: Node) -> list[str]:
        return self.manifest.owners(node)

    def _artifact(self, node: Node) -> dict[str, Any]:
        return {
            "name": node.name,
            "unique_id": node.unique_id,
            "database_name": node.database,
            "schema_name": node.schema,
            "table_name": node.relation or node.name,
            "owners": self._owners(node),
            "tags": node.tags,
            "package_name": node.package_name,
            "description": node.description,
            "full_path": node.original_file_path,
            "meta": node.meta,
        }

    def _all_tests(self) -> list[Node]:
        """The data tests, then the unit tests, each by unique id."""
        units = sorted(self.manifest.unit_tests.values(), key=lambda n: n.unique_id)
        return [*self.manifest.of_type("test"), *units]

    def _test_node(self, unique_id: str) -> Node | None:
        """A data test or a unit test of the current manifest."""
        node = self.manifest.nodes.get(unique_id) or self.manifest.unit_tests.get(unique_id)
        return node if node is not None and node.resource_type in ("test", "unit_test") else None

    def _tested(self, test: Node) -> Node | None:
        parent = test.tested_node
        return self.manifest.nodes.get(parent) if parent else None

    def _latest_test_results(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for row in self.history.test_results:  # ordered by time within each test
            latest[row["test_unique_id"]] = row
        return latest

    def _held_back_by(self, invocation_id: str, unique_id: str) -> str:
        """Why a node was skipped: the errors and failures upstream in the same run."""
        return descriptions.held_back_by(
            self.manifest, self.history.problems, invocation_id, unique_id
        )

    def _latest_model_statuses(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for row in self.history.model_runs:  # ordered by generated_at
            latest[row["unique_id"]] = row
        return latest

    @staticmethod
    def _detected_at(row: dict[str, Any]) -> datetime:
        at: datetime = row.get("completed_at") or row["generated_at"]
        return at

    def _days_diff(self, when: datetime) -> float:
        return float((self.now - when).days)

    # ------------------------------------------------------------------ resources

    def _seeds(self) -> list[dict[str, Any]]:
        return [self._artifact(n) for n in self.manifest.of_type("seed")]

    def _snapshots(self) -> list[dict[str, Any]]:
        rows = []
        for node in self.manifest.of_type("snapshot"):
            unique_key = node.unique_key
            rows.append(
                {
                    **self._artifact(node),
                    "materialization": node.materialization,
                    "depends_on_macros": json.dumps(node.depends_on_macros),
                    "depends_on_nodes": json.dumps(node.depends_on_nodes),
                    "path": node.path,
                    "patch_path": node.patch_path,
                    "generated_at": self.now.isoformat(),
                    "unique_key": unique_key
                    if unique_key is None or isinstance(unique_key, str)
                    else json.dumps(unique_key),
                    "incremental_strategy": node.strategy,
                }
            )
        return rows

    def _models(self, exclude_elementary: bool = False) -> list[dict[str, Any]]:
        latest = self._latest_model_statuses()
        rows = []
        for n in self.manifest.of_type("model"):
            if exclude_elementary and n.package_name == "elementary":
                continue
            row = {**self._artifact(n), "materialization": n.materialization}
            last = latest.get(n.unique_id)
            if last and last["status"] == "skipped":
                why = self._held_back_by(last["invocation_id"], n.unique_id)
                row["description"] = f"{why}\n\n{n.description}".strip()
            rows.append({**row, "patch_path": n.patch_path})
        return rows

    def _sources(self) -> list[dict[str, Any]]:
        return [
            {**self._artifact(n), "source_name": n.source_name}
            for n in self.manifest.of_type("source")
        ]

    def _exposures(self) -> list[dict[str, Any]]:
        rows = []
        for node in self.manifest.of_type("exposure"):
            owner = node.owner
            rows.append(
                {
                    "name": node.name,
                    "label": node.label,
                    "unique_id": node.unique_id,
                    "url": node.url,
                    "type": node.exposure_type,
                    "maturity": node.maturity,
                    "owner_email": owner.email if owner else None,
                    "owners": descriptions.exposure_contacts(self.manifest, node, self.now),
                    "owner": {"name": owner.name, "email": owner.email} if owner else None,
                    "tags": node.tags,
                    "package_name": node.package_name,
                    "description": descriptions.exposure_report_description(
                        self.manifest, node, self.now
                    ),
                    "meta": node.meta,
                    "full_path": node.original_file_path,
                    "raw_queries": None,
                    "depends_on_nodes": node.depends_on_nodes,
                    "depends_on_columns": None,
                }
            )
        return rows

    def _nodes_depends_on_nodes(self, exclude_elementary: bool = False) -> list[dict[str, Any]]:
        rows = []
        for node in self.manifest.of_type("seed", "snapshot", "model", "source", "exposure"):
            if exclude_elementary and node.package_name == "elementary":
                continue
            with_deps = node.resource_type in ("snapshot", "model", "exposure")
            rows.append(
                {
                    "unique_id": node.unique_id,
                    "depends_on_nodes": json.dumps(node.depends_on_nodes) if with_deps else None,
                    "materialization": node.materialization
                    if node.resource_type in ("snapshot", "model")
                    else None,
                    "type": node.resource_type,
                }
            )
        return rows

    # ------------------------------------------------------------------ tests

    def _singular_tests(self) -> list[dict[str, Any]]:
        return [
            {
                "unique_id": n.unique_id,
                "name": n.name,
                "original_path": n.original_file_path,
                "package_name": n.package_name,
                "tags": n.tags,
            }
            for n in self.manifest.of_type("test")
            if n.test_kind == "singular"
        ]

    def _tests(self) -> list[dict[str, Any]]:
        latest = self._latest_test_results()
        first: dict[str, datetime] = {}
        for row in self.history.test_results:
            first.setdefault(row["test_unique_id"], self._detected_at(row))
        rows = []
        for test in self._all_tests():
            parent = self._tested(test)
            last = latest.get(test.unique_id)
            test_type = "anomaly_detection" if is_anomaly_test(test) else "dbt_test"
            description = descriptions.test_description(self.manifest, test)
            rows.append(
                {
                    "unique_id": test.unique_id,
                    "model_unique_id": test.tested_node,
                    "database_name": parent.database if parent else test.database,
                    "schema_name": parent.schema if parent else test.schema,
                    "table_name": (parent.relation or parent.name) if parent else None,
                    "model_name": parent.name if parent else None,
                    "column_name": test.column_name,
                    "name": descriptions.test_name(test),
                    "description": description,
                    "package_name": test.package_name,
                    "original_path": test.original_file_path,
                    "test_params": test.test_kwargs,
                    # elementary's test list reads the description from meta
                    "meta": {**test.meta, "description": description},
                    "model_meta": parent.meta if parent else {},
                    "tags": test.tags,
                    "model_tags": parent.tags if parent else [],
                    "type": test.test_kind,
                    "test_type": test_type if last else None,
                    "test_sub_type": _sub_type(test) if last else None,
                    "created_at": _iso(first.get(test.unique_id)),
                    "latest_run_time": _iso(self._detected_at(last)) if last else None,
                    "latest_run_status": last["status"] if last else None,
                }
            )
        return rows

    def _coverage(self) -> list[dict[str, Any]]:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"column": 0, "table": 0})
        for test in self.manifest.of_type("test"):
            if test.tested_node:
                counts[test.tested_node]["column" if test.column_name else "table"] += 1
        return [
            {"model_unique_id": uid, "column_tests": c["column"], "table_tests": c["table"]}
            for uid, c in sorted(counts.items())
        ]

    def _test_results(
        self,
        days_back: int = 7,
        invocations_per_test: int = 720,
        disable_passed_test_metrics: bool = False,
        skip_test_result_rows: bool = False,
    ) -> list[dict[str, Any]]:
        rows = []
        for row in self.history.test_results:
            test = self._test_node(row["test_unique_id"])
            if test is None:
                continue  # elementary joins results with the current tests
            if not (test.meta.get("elementary") or {}).get("include", True):
                continue
            detected_at = self._detected_at(row)
            if self._days_diff(detected_at) >= days_back:
                continue
            parent = self._tested(test)
            kind = test.test_kind or "generic"
            status = row["status"]
            owners = self._owners(parent) if parent else []
            description = descriptions.test_description(self.manifest, test)
            if status == "skipped":
                outcome: str | None = self._held_back_by(row["invocation_id"], test.unique_id)
            else:
                outcome = row["message"] if status != "pass" else None
            rows.append(
                {
                    "id": f"{row['invocation_id']}.{test.unique_id}",
                    "invocation_id": row["invocation_id"],
                    "test_execution_id": f"{test.unique_id}.{row['invocation_id']}",
                    "model_unique_id": test.tested_node,
                    "test_unique_id": test.unique_id,
                    "elementary_unique_id": f"{test.unique_id}.{test.column_name or 'None'}.{kind}",
                    "detected_at": detected_at.isoformat(),
                    "database_name": parent.database if parent else test.database,
                    "schema_name": (parent.schema if parent else test.schema) or "",
                    "table_name": (parent.relation or parent.name) if parent else None,
                    "column_name": test.column_name,
                    "test_type": "anomaly_detection" if is_anomaly_test(test) else "dbt_test",
                    "test_sub_type": _sub_type(test),
                    "test_results_description": outcome,
                    "test_description": description,
                    "original_path": test.original_file_path,
                    "package_name": test.package_name,
                    "owners": owners,
                    "model_owner": owners,
                    "tags": sorted(set(test.tags) | set(parent.tags if parent else [])),
                    "test_tags": test.tags,
                    "model_tags": parent.tags if parent else [],
                    "meta": {**test.meta, "description": description},
                    "model_meta": parent.meta if parent else {},
                    "test_results_query": row["compiled_code"],
                    "other": None,
                    "test_name": descriptions.test_name(test),
                    "test_params": test.test_kwargs,
                    "severity": test.severity or row["severity"],
                    "status": status,
                    "execution_time": row["execution_time"],
                    "days_diff": self._days_diff(detected_at),
                    "failures": row["failures"],
                    "sample_data": None,
                }
            )
        by_test: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_test[r["elementary_unique_id"]].append(r)
        kept = []
        for results in by_test.values():
            results.sort(key=lambda r: r["detected_at"], reverse=True)
            for rank, r in enumerate(results, start=1):
                if rank > invocations_per_test:
                    break
                r["invocations_rank_index"] = rank
                if rank > 1:
                    r["test_results_query"] = None
                else:
                    r["sample_data"] = self._sample_data(r)
                kept.append(r)
        kept.sort(key=lambda r: (r["elementary_unique_id"], -r["invocations_rank_index"]))
        return kept

    def _sample_data(self, row: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The latest result's evidence: the metric series of an anomaly test, the
        stored failing rows of a failed test."""
        uid = row["test_unique_id"]
        if row["test_type"] == "anomaly_detection":
            return self.evidence.metrics.get(uid)
        if row["status"] in ("fail", "warn", "error"):
            return self.evidence.samples.get(uid)
        return None

    # ------------------------------------------------------------------ runs

    def _models_runs(
        self, days_back: int = 7, exclude_elementary: bool = False
    ) -> list[dict[str, Any]]:
        latest: dict[str, str] = {}
        runs = []
        for row in self.history.model_runs:  # ordered by generated_at
            node = self.manifest.nodes.get(row["unique_id"])
            if node is None or node.resource_type != "model":
                continue
            if exclude_elementary and node.package_name == "elementary":
                continue
            if self._days_diff(row["generated_at"]) >= days_back:
                continue
            latest[row["unique_id"]] = row["invocation_id"]
            runs.append(row)
        return [
            {
                "unique_id": row["unique_id"],
                "invocation_id": row["invocation_id"],
                "name": row["name"],
                "schema": row["schema_name"],
                "status": row["status"],
                "execution_time": round(row["execution_time"] or 0.0, 1)
                if row["status"] == "success"
                else 0,
                "full_refresh": row["full_refresh"],
                "materialization": row["materialization"],
                "compiled_code": row["compiled_code"]
                if latest[row["unique_id"]] == row["invocation_id"]
                else None,
                "generated_at": row["generated_at"].isoformat(),
            }
            for row in runs
        ]

    def _models_latest_invocation(self) -> list[dict[str, Any]]:
        latest: dict[str, str] = {}
        for row in self.history.model_runs:
            node = self.manifest.nodes.get(row["unique_id"])
            if node is not None and node.resource_type == "model":
                latest[row["unique_id"]] = row["invocation_id"]
        return [{"unique_id": uid, "invocation_id": inv} for uid, inv in sorted(latest.items())]

    def _invocation(self, invocation_id: str) -> dict[str, Any]:
        for row in self.history.invocations:
            if row["invocation_id"] == invocation_id:
                return row
        return {"invocation_id": invocation_id}

    def _latest_invocations_data(self) -> list[dict[str, Any]]:
        ids = sorted({r["invocation_id"] for r in self._models_latest_invocation()})
        rows = []
        for invocation_id in ids:
            inv = self._invocation(invocation_id)
            rows.append(
                {
                    "invocation_id": invocation_id,
                    "command": inv.get("command"),
                    "selected": inv.get("selected"),
                    "full_refresh": inv.get("full_refresh"),
                    "job_url": None,
                    "job_name": None,
                    "job_id": None,
                    "job_run_id": None,
                    "job_run_url": None,
                    "orchestrator": None,
                }
            )
        return rows

    def _test_last_invocation(
        self, invocation_id: str | None = None, invocation_max_time: str | None = None
    ) -> list[dict[str, Any]]:
        candidates = [(self._detected_at(r), r["invocation_id"]) for r in self.history.test_results]
        if invocation_id:
            candidates = [c for c in candidates if c[1] == invocation_id]
        elif invocation_max_time:
            limit = datetime.fromisoformat(invocation_max_time.replace("Z", "+00:00"))
            limit = limit.astimezone(UTC).replace(tzinfo=None) if limit.tzinfo else limit
            candidates = [c for c in candidates if c[0] < limit]
        if not candidates:
            return []
        detected_at, chosen = max(candidates)
        inv = self._invocation(chosen)
        return [
            {
                "invocation_id": chosen,
                "detected_at": detected_at.isoformat(),
                "command": inv.get("command"),
                "selected": inv.get("selected"),
                "full_refresh": inv.get("full_refresh"),
                "job_run_id": None,
                "job_run_url": None,
            }
        ]

    # ------------------------------------------------------------------ source freshness

    def _source_freshness_results(
        self, days_back: int = 7, invocations_per_test: int = 720
    ) -> list[dict[str, Any]]:
        by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.history.source_freshness:
            node = self.manifest.nodes.get(row["unique_id"])
            if node is None or self._days_diff(row["generated_at"]) >= days_back:
                continue
            by_source[row["unique_id"]].append(row)
        results = []
        for unique_id, rows in sorted(by_source.items()):
            node = self.manifest.nodes[unique_id]
            rows.sort(key=lambda r: r["generated_at"], reverse=True)
            for rank, row in enumerate(rows, start=1):
                if rank > invocations_per_test:
                    break
                status = {"error": "fail", "runtime error": "error"}.get(
                    row["status"], row["status"]
                )
                results.append(
                    {
                        "source_freshness_execution_id": f"{row['invocation_id']}.{unique_id}",
                        "unique_id": unique_id,
                        "max_loaded_at": _iso(row["max_loaded_at"]),
                        "generated_at": row["generated_at"].isoformat(),
                        "status": status,
                        "original_status": row["status"],
                        "error": row["error"],
                        "invocation_id": row["invocation_id"],
                        "database_name": node.database,
                        "schema_name": node.schema or "",
                        "source_name": node.source_name or "",
                        "table_name": node.name,
                        "test_type": "source_freshness",
                        "test_sub_type": "freshness",
                        "loaded_at_field": node.loaded_at_field,
                        "meta": node.meta,
                        "owners": self._owners(node),
                        "tags": node.tags,
                        "error_after": json.loads(row["error_after"])
                        if row["error_after"]
                        else None,
                        "warn_after": json.loads(row["warn_after"]) if row["warn_after"] else None,
                        "filter": row["filter"],
                        "relation_name": node.relation_name or unique_id,
                        "invocations_rank_index": rank,
                        "max_loaded_at_time_ago_in_s": row["max_loaded_at_time_ago_in_s"],
                        "snapshotted_at": _iso(row["snapshotted_at"]),
                        "freshness_description": FRESHNESS_DESCRIPTION,
                    }
                )
        return results


def _sub_type(test: Node) -> str:
    """Elementary's sub type: an anomaly test's metric (its chart's title), else its kind
    (generic, singular; unit for a dbt unit test)."""
    if is_anomaly_test(test):
        return descriptions.anomaly_metric(test)
    return test.test_kind or "generic"


def build_report_data(
    manifest: Manifest,
    history: History,
    *,
    runs: int = 30,
    days_back: int = 30,
    env: str | None = None,
    now: datetime | None = None,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """Elementary's report data (``window.elementaryData``), built by its own ReportAPI."""
    runner = ArtifactDbtRunner(manifest, history, now=now, evidence=evidence)
    report_data, error = ReportAPI(runner).get_report_data(
        days_back=days_back,
        test_runs_amount=runs,
        project_name=manifest.project_name,
        env=env,
        warehouse_type="duckdb",
    )
    if error is not None:
        raise ReportError(f"elementary's ReportAPI failed: {error}") from error
    report_data.tracking = None  # the page sends nothing anywhere
    return dict(report_data.dict())


def render_html(report_data: dict[str, Any], template: Path | None = None) -> str:
    """Inject the data into Elementary's index.html the way `edr report` does.

    The one difference: the page's Google Fonts links are removed, so that
    opening the report calls nothing outside the server it comes from.
    """
    template_html = (template or template_path()).read_text(encoding="utf-8")
    template_html = EXTERNAL_FONT_LINK.sub("", template_html)
    dumped = json.dumps(json_utils.inf_and_nan_to_str(report_data))
    encoded = base64.b64encode(dumped.encode("utf-8")).decode("utf-8")
    return f"<script>window.elementaryData = JSON.parse(atob('{encoded}'));</script>{template_html}"

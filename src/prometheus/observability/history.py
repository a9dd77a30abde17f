"""Run history: dbt's results stored append-only in the warehouse's `observability` schema.

Tables (all timestamps are UTC, without time zone):

- ``invocations``       one row per dbt invocation (build, run, test, source freshness ...)
- ``model_runs``        one row per model, seed or snapshot executed by an invocation
- ``test_results``      one row per data test or unit test executed by an invocation
- ``source_freshness``  one row per source checked by ``dbt source freshness``

An invocation is stored once: ingesting the same artifacts again adds
nothing. Each invocation is stored in one transaction, so a failure leaves
nothing partial behind; rows are never updated or deleted.

Rows are typed (one dataclass per table, field = column) and inserted with
an explicit column list. ``schema_version`` records which migrations a
warehouse has had; :func:`ensure_schema` applies the missing ones, so a
warehouse written by an older version gains the new columns (NULL in its
old rows) instead of failing the next ingest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from prometheus import settings
from prometheus.artifacts import Manifest, NodeResult, RunResults, Sources, TargetArtifacts

log = logging.getLogger(__name__)

SCHEMA = "observability"

DDL = f"""
create schema if not exists {SCHEMA};

create table if not exists {SCHEMA}.invocations (
    invocation_id varchar primary key,
    command varchar not null,            -- build, run, test, seed, snapshot, source-freshness
    invocation_command varchar,          -- the command line as typed
    dbt_version varchar,
    project_name varchar,
    target_name varchar,
    selected varchar,                    -- JSON list of --select arguments
    full_refresh boolean,
    started_at timestamp,
    generated_at timestamp,
    elapsed_time double,                 -- seconds
    results_total integer,
    results_error integer,
    results_fail integer,
    results_warn integer,
    results_skipped integer,
    success boolean,                     -- no error and no failure
    ingested_at timestamp not null
);

create table if not exists {SCHEMA}.model_runs (
    invocation_id varchar not null,
    unique_id varchar not null,
    resource_type varchar not null,      -- model, seed, snapshot
    name varchar,
    package_name varchar,
    database_name varchar,
    schema_name varchar,
    relation_name varchar,
    materialization varchar,
    status varchar not null,             -- success, error, skipped
    message varchar,
    execution_time double,               -- seconds
    started_at timestamp,
    completed_at timestamp,
    rows_affected bigint,
    compiled_code varchar,
    full_refresh boolean,
    generated_at timestamp,
    primary key (invocation_id, unique_id)
);

create table if not exists {SCHEMA}.test_results (
    invocation_id varchar not null,
    test_unique_id varchar not null,
    resource_type varchar not null,      -- test, unit_test
    test_name varchar,                   -- the node's name
    short_name varchar,                  -- unique, not_null ..., or the singular test's name
    test_kind varchar,                   -- generic, singular, unit
    tested_unique_id varchar,            -- the model/source/seed/snapshot under test
    column_name varchar,
    severity varchar,
    status varchar not null,             -- pass, fail, warn, error, skipped
    failures bigint,                     -- rows returned by the test
    message varchar,
    execution_time double,
    started_at timestamp,
    completed_at timestamp,
    compiled_code varchar,
    test_params varchar,                 -- JSON of the generic test's arguments
    original_path varchar,
    generated_at timestamp,
    primary key (invocation_id, test_unique_id)
);

create table if not exists {SCHEMA}.source_freshness (
    invocation_id varchar not null,
    unique_id varchar not null,
    source_name varchar,
    table_name varchar,
    status varchar not null,             -- pass, warn, error (stale), runtime error
    max_loaded_at timestamp,
    snapshotted_at timestamp,
    max_loaded_at_time_ago_in_s double,
    warn_after varchar,                  -- JSON {{count, period}}
    error_after varchar,
    filter varchar,
    error varchar,
    execution_time double,
    generated_at timestamp,
    primary key (invocation_id, unique_id)
);
"""

# (version, what it does, statements); version 1 is the layout before versioning
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "the four tables", (DDL,)),
    (
        2,
        "test_results.failures_relation: where the test's failing rows are stored",
        (f"alter table {SCHEMA}.test_results add column if not exists failures_relation varchar",),
    ),
    (
        3,
        "invocations.adapter_type: the engine the run was on (duckdb, spark)",
        (f"alter table {SCHEMA}.invocations add column if not exists adapter_type varchar",),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

_MODEL_TYPES = {"model", "seed", "snapshot"}
_TEST_TYPES = {"test", "unit_test"}


class HistoryError(Exception):
    """The history could not be read or written."""


def duckdb_path(explicit: str | None = None) -> Path:
    return Path(explicit) if explicit else settings.load().duckdb_path


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not path.exists():
        raise HistoryError(f"{path} does not exist: build the warehouse and ingest a run first")
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(path), read_only=read_only)
    except (OSError, duckdb.Error) as exc:
        raise HistoryError(f"cannot open {path}: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's history layout: 0 none yet, 1 before versioning, else as recorded."""
    tables = {
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
        ).fetchall()
    }
    if "schema_version" in tables:
        row = conn.execute(f"select max(version) from {SCHEMA}.schema_version").fetchone()
        if row and row[0] is not None:
            return int(row[0])
    return 1 if "invocations" in tables else 0


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the history's tables, or bring an older layout up to date, in one transaction."""
    conn.begin()
    try:
        conn.execute(f"create schema if not exists {SCHEMA}")
        current = schema_version(conn)
        conn.execute(
            f"create table if not exists {SCHEMA}.schema_version ("
            "version integer primary key, description varchar, applied_at timestamp)"
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        for version, description, statements in MIGRATIONS:
            if version <= current and current > 0:
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                f"insert into {SCHEMA}.schema_version values (?, ?, ?) on conflict do nothing",
                [version, description, now],
            )
            if current:
                log.info(
                    "run history in %s: migrated to layout %d (%s)", SCHEMA, version, description
                )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


# --------------------------------------------------------------------------- rows


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _kind(unique_id: str) -> str:
    return unique_id.split(".", 1)[0]


@dataclass(frozen=True)
class InvocationRow:
    invocation_id: str
    command: str
    invocation_command: str | None
    dbt_version: str | None
    project_name: str | None
    target_name: str | None
    selected: str | None
    full_refresh: bool | None
    started_at: datetime | None
    generated_at: datetime | None
    elapsed_time: float | None
    results_total: int
    results_error: int
    results_fail: int
    results_warn: int
    results_skipped: int
    success: bool
    ingested_at: datetime
    adapter_type: str | None  # the manifest's: duckdb, spark


@dataclass(frozen=True)
class ModelRunRow:
    invocation_id: str
    unique_id: str
    resource_type: str
    name: str | None
    package_name: str | None
    database_name: str | None
    schema_name: str | None
    relation_name: str | None
    materialization: str | None
    status: str
    message: str | None
    execution_time: float | None
    started_at: datetime | None
    completed_at: datetime | None
    rows_affected: int | None
    compiled_code: str | None
    full_refresh: bool | None
    generated_at: datetime | None


@dataclass(frozen=True)
class TestResultRow:
    __test__ = False  # not a pytest class

    invocation_id: str
    test_unique_id: str
    resource_type: str
    test_name: str | None
    short_name: str | None
    test_kind: str | None
    tested_unique_id: str | None
    column_name: str | None
    severity: str | None
    status: str
    failures: int | None
    message: str | None
    execution_time: float | None
    started_at: datetime | None
    completed_at: datetime | None
    compiled_code: str | None
    test_params: str | None
    original_path: str | None
    generated_at: datetime | None
    failures_relation: str | None  # layout 2


@dataclass(frozen=True)
class SourceFreshnessRow:
    invocation_id: str
    unique_id: str
    source_name: str | None
    table_name: str | None
    status: str
    max_loaded_at: datetime | None
    snapshotted_at: datetime | None
    max_loaded_at_time_ago_in_s: float | None
    warn_after: str | None
    error_after: str | None
    filter: str | None
    error: str | None
    execution_time: float | None
    generated_at: datetime | None


Row = InvocationRow | ModelRunRow | TestResultRow | SourceFreshnessRow


def _invocation_row(
    *,
    invocation_id: str,
    command: str,
    invocation_command: str | None,
    dbt_version: str,
    manifest: Manifest,
    target: str | None,
    selected: Sequence[str],
    full_refresh: bool,
    started_at: datetime | None,
    generated_at: datetime | None,
    elapsed_time: float | None,
    statuses: list[str],
    ingested_at: datetime,
) -> InvocationRow:
    counts = {s: statuses.count(s) for s in ("error", "runtime error", "fail", "warn", "skipped")}
    errors = counts["error"] + counts["runtime error"]
    return InvocationRow(
        invocation_id=invocation_id,
        command=command,
        invocation_command=invocation_command,
        dbt_version=dbt_version,
        project_name=manifest.project_name,
        adapter_type=manifest.adapter_type,
        target_name=target,
        selected=_json(selected),
        full_refresh=full_refresh,
        started_at=started_at,
        generated_at=generated_at,
        elapsed_time=elapsed_time,
        results_total=len(statuses),
        results_error=errors,
        results_fail=counts["fail"],
        results_warn=counts["warn"],
        results_skipped=counts["skipped"],
        success=errors + counts["fail"] == 0,
        ingested_at=ingested_at,
    )


def _model_run_row(run: RunResults, manifest: Manifest, result: NodeResult) -> ModelRunRow:
    node = manifest.nodes.get(result.unique_id)
    return ModelRunRow(
        invocation_id=run.invocation_id,
        unique_id=result.unique_id,
        resource_type=_kind(result.unique_id),
        name=node.name if node else result.unique_id.rsplit(".", 1)[-1],
        package_name=node.package_name if node else None,
        database_name=node.database if node else None,
        schema_name=node.schema if node else None,
        relation_name=node.relation if node else None,
        materialization=node.materialization if node else None,
        status=result.status,
        message=result.message,
        execution_time=result.execution_time,
        started_at=result.started_at,
        completed_at=result.completed_at,
        rows_affected=result.rows_affected,
        compiled_code=result.compiled_code,
        full_refresh=run.full_refresh,
        generated_at=run.generated_at,
    )


def _test_row(run: RunResults, manifest: Manifest, result: NodeResult) -> TestResultRow:
    node = manifest.nodes.get(result.unique_id) or manifest.unit_tests.get(result.unique_id)
    resource_type = _kind(result.unique_id)
    kind = "unit" if resource_type == "unit_test" else (node.test_kind if node else None)
    return TestResultRow(
        invocation_id=run.invocation_id,
        test_unique_id=result.unique_id,
        resource_type=resource_type,
        test_name=node.name if node else None,
        short_name=(node.test_short_name or node.name) if node else None,
        test_kind=kind,
        tested_unique_id=node.tested_node if node else None,
        column_name=node.column_name if node else None,
        severity=node.severity if node else None,
        status=result.status,
        failures=result.failures,
        message=result.message,
        execution_time=result.execution_time,
        started_at=result.started_at,
        completed_at=result.completed_at,
        compiled_code=result.compiled_code,
        test_params=_json(node.test_kwargs) if node and node.test_kwargs else None,
        original_path=node.original_file_path if node else None,
        generated_at=run.generated_at,
        failures_relation=(result.relation_name or (node.relation_name if node else None))
        if resource_type == "test"
        else None,
    )


@dataclass(frozen=True)
class IngestOutcome:
    invocation_id: str
    command: str
    stored: bool  # False: it was already in the history
    model_runs: int = 0
    test_results: int = 0
    source_freshness: int = 0

    def describe(self) -> str:
        if not self.stored:
            return f"{self.command} {self.invocation_id}: already stored, nothing added"
        parts = [
            f"{self.model_runs} model runs" if self.model_runs else "",
            f"{self.test_results} test results" if self.test_results else "",
            f"{self.source_freshness} freshness results" if self.source_freshness else "",
        ]
        return f"{self.command} {self.invocation_id}: stored " + (
            ", ".join(p for p in parts if p) or "no results"
        )


def _already_stored(conn: duckdb.DuckDBPyConnection, invocation_id: str) -> bool:
    row = conn.execute(
        f"select count(*) from {SCHEMA}.invocations where invocation_id = ?", [invocation_id]
    ).fetchone()
    return bool(row and row[0])


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Row]) -> None:
    """Insert typed rows by column name: the table may have more columns (NULL here)."""
    if rows:
        columns = [f.name for f in fields(rows[0])]
        marks = ", ".join("?" * len(columns))
        conn.executemany(
            f"insert into {SCHEMA}.{table} ({', '.join(columns)}) values ({marks})",
            [astuple(r) for r in rows],
        )


def _store(
    conn: duckdb.DuckDBPyConnection,
    invocation_id: str,
    tables: dict[str, Sequence[Row]],
) -> bool:
    """Insert one invocation's rows in one transaction; False if it was already there."""
    conn.begin()
    try:
        if _already_stored(conn, invocation_id):
            conn.rollback()
            return False
        for table, rows in tables.items():
            _insert(conn, table, rows)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return True


def ingest_run_results(
    conn: duckdb.DuckDBPyConnection, run: RunResults, manifest: Manifest, now: datetime
) -> IngestOutcome:
    results = [r for r in run.results if _kind(r.unique_id) in _MODEL_TYPES | _TEST_TYPES]
    model_rows = [
        _model_run_row(run, manifest, r) for r in results if _kind(r.unique_id) in _MODEL_TYPES
    ]
    test_rows = [_test_row(run, manifest, r) for r in results if _kind(r.unique_id) in _TEST_TYPES]
    invocation = _invocation_row(
        invocation_id=run.invocation_id,
        command=run.command,
        invocation_command=run.invocation_command,
        dbt_version=run.dbt_version,
        manifest=manifest,
        target=run.target,
        selected=run.selected,
        full_refresh=run.full_refresh,
        started_at=run.started_at,
        generated_at=run.generated_at,
        elapsed_time=run.elapsed_time,
        statuses=[r.status for r in run.results],
        ingested_at=now,
    )
    stored = _store(
        conn,
        run.invocation_id,
        {"invocations": [invocation], "model_runs": model_rows, "test_results": test_rows},
    )
    return IngestOutcome(
        run.invocation_id,
        run.command,
        stored,
        model_runs=len(model_rows) if stored else 0,
        test_results=len(test_rows) if stored else 0,
    )


def ingest_sources(
    conn: duckdb.DuckDBPyConnection, sources: Sources, manifest: Manifest, now: datetime
) -> IngestOutcome:
    rows = []
    for r in sources.results:
        node = manifest.nodes.get(r.unique_id)
        rows.append(
            SourceFreshnessRow(
                invocation_id=sources.invocation_id,
                unique_id=r.unique_id,
                source_name=node.source_name if node else None,
                table_name=node.name if node else None,
                status=r.status,
                max_loaded_at=r.max_loaded_at,
                snapshotted_at=r.snapshotted_at,
                max_loaded_at_time_ago_in_s=r.max_loaded_at_time_ago_in_s,
                warn_after=_json(r.warn_after),
                error_after=_json(r.error_after),
                filter=r.filter,
                error=r.error,
                execution_time=r.execution_time,
                generated_at=sources.generated_at,
            )
        )
    invocation = _invocation_row(
        invocation_id=sources.invocation_id,
        command="source-freshness",
        invocation_command=None,
        dbt_version=sources.dbt_version,
        manifest=manifest,
        target=None,
        selected=[],
        full_refresh=False,
        started_at=sources.started_at,
        generated_at=sources.generated_at,
        elapsed_time=sources.elapsed_time,
        # a stale source ('error') is a failure of the check, not of dbt
        statuses=["fail" if r.status == "error" else r.status for r in sources.results],
        ingested_at=now,
    )
    stored = _store(
        conn, sources.invocation_id, {"invocations": [invocation], "source_freshness": rows}
    )
    return IngestOutcome(
        sources.invocation_id,
        "source-freshness",
        stored,
        source_freshness=len(rows) if stored else 0,
    )


def ingest(
    conn: duckdb.DuckDBPyConnection, artifacts: TargetArtifacts, now: datetime | None = None
) -> list[IngestOutcome]:
    """Store what a target directory holds; each invocation at most once."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    ensure_schema(conn)
    outcomes = []
    if artifacts.run_results is not None:
        outcomes.append(ingest_run_results(conn, artifacts.run_results, artifacts.manifest, now))
    if artifacts.sources is not None and (
        artifacts.run_results is None
        or artifacts.sources.invocation_id != artifacts.run_results.invocation_id
    ):
        outcomes.append(ingest_sources(conn, artifacts.sources, artifacts.manifest, now))
    return outcomes


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class History:
    """The part of the history a report shows: the last N runs of each thing."""

    test_results: list[dict[str, Any]]
    model_runs: list[dict[str, Any]]
    source_freshness: list[dict[str, Any]]
    invocations: list[dict[str, Any]]
    # every error and failure of a model, test or unit test in the window:
    # what a skipped node was held back by
    problems: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> History:
        return cls([], [], [], [])


def _dicts(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_history(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = 'invocations'",
        [SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def _last_runs(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    at: str,
    condition: str,
    order_by: str,
    since: datetime,
    runs: int,
) -> list[dict[str, Any]]:
    """The latest `runs` rows of each `key` in `table` at or after `since` (by `at`)."""
    return _dicts(
        conn,
        f"""
        select * exclude (rn) from (
            select *,
                row_number() over (partition by {key} order by {at} desc, invocation_id) as rn
            from {SCHEMA}.{table}
            where {condition} and {at} >= ?
        )
        where rn <= ?
        order by {order_by}
        """,
        [since, runs],
    )


def read_history(
    conn: duckdb.DuckDBPyConnection, *, runs: int, days_back: int, now: datetime | None = None
) -> History:
    """The last `runs` results of each test (unit tests too), model and source within
    `days_back` days.

    Skipped tests and models are kept: a node held back by a failure
    upstream is shown as skipped, with that failure (``problems``).
    """
    if not has_history(conn):
        return History.empty()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    since = now - timedelta(days=days_back)
    at = "coalesce(completed_at, generated_at)"
    tests = _last_runs(
        conn, "test_results", "test_unique_id", at,
        "resource_type in ('test', 'unit_test')", f"test_unique_id, {at}", since, runs,
    )  # fmt: skip
    models = _last_runs(
        conn, "model_runs", "unique_id", "generated_at",
        "resource_type = 'model'", "generated_at, unique_id", since, runs,
    )  # fmt: skip
    freshness = _last_runs(
        conn, "source_freshness", "unique_id", "generated_at", "true",
        "unique_id, generated_at", since, runs,
    )  # fmt: skip
    invocations = _dicts(
        conn,
        f"select * from {SCHEMA}.invocations where generated_at >= ? order by generated_at",
        [since],
    )
    problems = _dicts(
        conn,
        f"""
        select invocation_id, test_unique_id as unique_id, resource_type, status, message,
            tested_unique_id
        from {SCHEMA}.test_results
        where status in ('fail', 'error', 'runtime error') and {at} >= ?
        union all
        select invocation_id, unique_id, resource_type, status, message, null
        from {SCHEMA}.model_runs
        where status in ('error', 'runtime error') and generated_at >= ?
        order by invocation_id, unique_id
        """,
        [since, since],
    )
    return History(tests, models, freshness, invocations, problems)

"""What the pack and the readout read: the marts, the as-reported snapshots, the build's status.

The figures come from the published copy (``prometheus publish``) when it
exists, else from the build file. Which marts the build held back and which
tests on their lineage warned or failed come from the build that produced the
figures: the published copy's ``main.publication`` names it, and its run
history (observability.test_results) holds its tests when the build ran
through ``prometheus observe``; otherwise the target directory's
run_results.json says it. The lineage (which tests sit upstream of a mart) is
the manifest's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from prometheus import artifacts, settings
from prometheus.errors import CliError
from prometheus.reports.figures import MARTS, BuildStatus, Row

PROBLEM_TEST_STATUSES = ("warn", "fail", "error")


def default_duckdb(env: Mapping[str, str] | None = None) -> Path:
    """The published copy when it exists, else the build file."""
    found = settings.load(env)
    return found.published_path if found.published_path.is_file() else found.duckdb_path


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.is_file():
        raise CliError(f"{path}: no DuckDB file there: run the build (and publish) first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise CliError(f"cannot open {path} read-only: {exc}") from None
    try:
        yield con
    finally:
        con.close()


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable[Any] = ()) -> list[Row]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def read_monthly_marts(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for schema, model in MARTS.items():  # each mart's key is its schema
        if not _has_table(con, schema, model):
            raise CliError(f"{path} has no {schema}.{model}: run the build (and publish) first")
        found[schema] = rows(con, f"select * from {schema}.{model} order by month")
    return found


def restated_months(
    con: duckdb.DuckDBPyConnection, fallback: Path | None
) -> dict[str, frozenset[date]] | None:
    """Mart key -> months with more than one as-reported version; None when no file at hand
    has the snapshots (the published copy has none: then the build file's are read)."""
    if not _has_table(con, "snapshots", "snap_profit_monthly_as_reported"):
        if fallback is None or not fallback.is_file():
            return None
        try:
            other = duckdb.connect(str(fallback), read_only=True)
        except duckdb.Error:  # a build holds the file: no snapshots to read now
            return None
        try:
            return restated_months(other, None)
        finally:
            other.close()
    found = {}
    for key in MARTS:
        months = con.execute(
            f"select month from snapshots.snap_{key}_monthly_as_reported "
            "group by month having count(*) > 1"
        ).fetchall()
        found[key] = frozenset(m for (m,) in months)
    return found


@dataclass(frozen=True)
class _Build:
    invocation_id: str | None
    held_back: frozenset[str] | None  # unique ids, when the published copy says
    source: str


def _publication(con: duckdb.DuckDBPyConnection) -> _Build | None:
    if not _has_table(con, "main", "publication"):
        return None
    found = con.execute(
        "select build_invocation_id, held_back_models from main.publication"
    ).fetchone()
    if found is None:
        return None
    return _Build(str(found[0]), frozenset(found[1] or ()), f"publication of build {found[0]}")


def _history_tests(con: duckdb.DuckDBPyConnection, invocation_id: str) -> dict[str, str] | None:
    if not _has_table(con, "observability", "test_results"):
        return None
    found = con.execute(
        "select test_unique_id, status from observability.test_results where invocation_id = ?",
        [invocation_id],
    ).fetchall()
    return {str(uid): str(status) for uid, status in found} or None


def _ancestors(manifest: artifacts.Manifest, unique_id: str) -> set[str]:
    seen, todo = {unique_id}, [unique_id]
    while todo:
        for parent in manifest.parent_map.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def lineage_tests(manifest: artifacts.Manifest, model: str) -> dict[str, str]:
    """Test unique id -> test name, for every test on a model's lineage (it and upstream)."""
    model_ids = [n.unique_id for n in manifest.of_type("model", "snapshot") if n.name == model]
    lineage = set().union(*(_ancestors(manifest, uid) for uid in model_ids))
    return {
        test.unique_id: test.name
        for test in manifest.of_type("test")
        if lineage & set(test.depends_on_nodes)
    }


def build_status(
    con: duckdb.DuckDBPyConnection, target_dir: Path, models: Iterable[str]
) -> BuildStatus:
    """Held-back models and the warned/failed tests on ``models``' lineage, for the build
    that produced the figures in ``con``."""
    try:
        manifest = artifacts.read_manifest(target_dir / artifacts.MANIFEST)
    except artifacts.ArtifactError as exc:
        raise CliError(f"the build's lineage is needed: {exc}") from None
    publication = _publication(con)
    statuses = _history_tests(con, publication.invocation_id or "") if publication else None
    held_ids = publication.held_back if publication else None
    source = publication.source if publication else ""
    if statuses is None or held_ids is None:
        try:
            run = artifacts.read_run_results(target_dir / artifacts.RUN_RESULTS)
        except artifacts.ArtifactError as exc:
            raise CliError(f"the build's results are needed: {exc}") from None
        if publication and run.invocation_id != publication.invocation_id:
            raise CliError(
                f"{target_dir}/run_results.json is from build {run.invocation_id}, the figures "
                f"from build {publication.invocation_id}, and the run history does not have "
                "its tests: publish again, or point --target-dir at that build's artifacts"
            )
        if run.command not in ("build", "run"):
            raise CliError(
                f"{target_dir}/run_results.json is from `dbt {run.command}`, not from a build"
            )
        statuses = statuses or {r.unique_id: r.status for r in run.results}
        if held_ids is None:
            held_ids = frozenset(r.unique_id for r in run.results if r.is_skipped)
        source = (
            f"{source}, tests from its run_results.json"
            if source
            else f"run_results.json of build {run.invocation_id}"
        )
    else:
        source = f"{source}, tests from the run history"
    held_names = frozenset(
        node.name for uid in held_ids if (node := manifest.node(uid)) is not None
    )
    problems = {}
    for model in models:
        tests = lineage_tests(manifest, model)
        problems[model] = tuple(
            sorted(
                (name, statuses[uid])
                for uid, name in tests.items()
                if statuses.get(uid) in PROBLEM_TEST_STATUSES
            )
        )
    return BuildStatus(source=source, held_back=held_names, lineage_problems=problems)


def held_back_days(con: duckdb.DuckDBPyConnection, models: Iterable[str]) -> list[Row] | None:
    """Each stored build that held one of ``models`` back: when, and which; None without
    a run history in the file."""
    if not _has_table(con, "observability", "model_runs"):
        return None
    names = list(models)
    return rows(
        con,
        "select cast(coalesce(i.started_at, m.generated_at) as date) as day, "
        "string_agg(distinct m.name, ', ' order by m.name) as models, "
        "count(distinct m.invocation_id) as builds "
        "from observability.model_runs m "
        "left join observability.invocations i using (invocation_id) "
        f"where m.status = 'skipped' and m.name in ({', '.join('?' for _ in names)}) "
        "group by all order by day",
        names,
    )

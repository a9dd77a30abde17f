"""`prometheus publish`: copy the public marts to the analysts' read-only file, atomically.

    prometheus publish --target-dir target

DuckDB lets one process write a file and nobody else open it meanwhile, so
analysts never read the file dbt builds. After a build, this command copies
the public marts (schemas profit, growth, engagement) and the run history
(observability) into a new DuckDB file beside the published one, then renames
it over the old one. A reader that has the old file open keeps reading the
last publication; the next connection sees the new one. The build never waits
for a reader, and a reader never waits for the build.

When is a build good enough to publish? The build's ``run_results.json``
decides:

- a model, seed or snapshot ended in ``error``: not published (exit 1); the
  published file stays at the last good publication;
- tests failed and investor marts were held back (``skipped``): published
  (exit 0). A held-back mart kept its last good rows in the build file, and
  those are what is published; the other marts are new. The held-back marts
  are listed in the ``main.publication`` table of the published file;
- a table the last publication has is missing from the build file (a new,
  empty build file whose first build held marts back): not published (exit 1),
  since a publication never takes a table away from its readers.

Exit codes: 0 published, 1 not published because the build failed, 2 bad
arguments or unreadable artifacts (no publication either).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from prometheus import logs, settings
from prometheus.errors import CliError

# the schemas analysts read: the public marts and the run history
PUBLISHED_SCHEMAS: tuple[str, ...] = ("profit", "growth", "engagement", "observability")
EXIT_BUILD_FAILED = 1
_BUILT_KINDS = ("model.", "seed.", "snapshot.")

log = logs.get(__name__)


@dataclass(frozen=True)
class Verdict:
    """What a build's results say about publishing it."""

    publish: bool
    invocation_id: str
    generated_at: str
    errored: tuple[str, ...]  # models, seeds, snapshots in error: nothing is published
    held_back: tuple[str, ...]  # models skipped (a blocking test failed): last good rows
    failed_tests: int
    # models, seeds, snapshots whose relation is in a published schema
    published_schema_nodes: frozenset[str] = frozenset()


class NotPublished(Exception):
    """The build may not replace the last publication (exit 1; the reason is the message)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=None,
        help="dbt target folder whose run_results.json decides (default: $PROMETHEUS_TARGET_DIR "
        f"or {settings.DEFAULTS['PROMETHEUS_TARGET_DIR']})",
    )
    parser.add_argument(
        "--duckdb-path",
        type=Path,
        default=None,
        help="the file dbt built (default: $PROMETHEUS_DUCKDB_PATH or "
        f"{settings.DEFAULTS['PROMETHEUS_DUCKDB_PATH']})",
    )
    parser.add_argument(
        "--published-path",
        type=Path,
        default=None,
        help="the analysts' read-only copy (default: $PROMETHEUS_PUBLISHED_PATH or "
        f"{settings.DEFAULTS['PROMETHEUS_PUBLISHED_PATH']})",
    )


def verdict(run_results: dict[str, Any]) -> Verdict:
    """Whether the build that wrote ``run_results`` may be published, and why."""
    errored: list[str] = []
    held_back: list[str] = []
    failed_tests = 0
    published_nodes: set[str] = set()
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        status = str(result.get("status", ""))
        relation = str(result.get("relation_name") or "").replace('"', "").split(".")
        if len(relation) >= 2 and relation[-2] in PUBLISHED_SCHEMAS:
            published_nodes.add(unique_id)
        if unique_id.startswith(_BUILT_KINDS):
            if status == "error":
                errored.append(unique_id)
            elif status == "skipped":
                held_back.append(unique_id)
        elif unique_id.startswith(("test.", "unit_test.")) and status in ("fail", "error"):
            failed_tests += 1
    metadata = run_results.get("metadata", {})
    return Verdict(
        publish=not errored,
        invocation_id=str(metadata.get("invocation_id", "")),
        generated_at=str(metadata.get("generated_at", "")),
        errored=tuple(sorted(errored)),
        held_back=tuple(sorted(held_back)),
        failed_tests=failed_tests,
        published_schema_nodes=frozenset(published_nodes),
    )


def read_run_results(target_dir: Path) -> dict[str, Any]:
    path = target_dir / "run_results.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"{path} not found: run the build (dbt build) first") from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    which = data.get("args", {}).get("which")
    if which not in ("build", "run"):
        command = {"generate": "docs generate"}.get(str(which), str(which))
        raise CliError(
            f"{path} is from `dbt {command}`, not from a build: publish right after `dbt build`"
        )
    return dict(data)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(conn: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    schemas = ", ".join(_quote(s) for s in PUBLISHED_SCHEMAS)
    rows = conn.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where database_name = ? and schema_name in ({schemas}) "
        "union all select schema_name, view_name from duckdb_views() "
        f"where database_name = ? and schema_name in ({schemas}) "
        "and not internal order by 1, 2",
        [database, database],
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def publish(
    build_path: Path, published_path: Path, found: Verdict, config: dict[str, str | bool]
) -> tuple[int, list[str]]:
    """Copy the published schemas of ``build_path`` to ``published_path``, atomically.

    Returns the number of tables published and the held-back ones among them
    (``schema.table``). Raises :class:`NotPublished` when the last publication
    has a table the build file lacks.
    """
    if not build_path.exists():
        raise CliError(f"{build_path} not found: nothing built to publish")
    published_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = published_path.with_name(f".{published_path.name}.{os.getpid()}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        conn = duckdb.connect(str(tmp), config=dict(config))
        try:
            try:
                conn.execute(f"attach {_quote(str(build_path))} as build (read_only)")
            except duckdb.Error as exc:
                raise CliError(f"cannot open {build_path} to publish it: {exc}") from None
            relations = _relations(conn, "build")
            if published_path.exists():
                try:
                    conn.execute(f"attach {_quote(str(published_path))} as previous (read_only)")
                    previous = _relations(conn, "previous")
                    conn.execute("detach previous")
                except duckdb.Error as exc:
                    # e.g. someone opened it read-write: the rename still works, so a
                    # reader's mistake never holds the publication back
                    log.warning(
                        "cannot read the last publication %s (%s): publishing without "
                        "comparing its tables",
                        published_path,
                        exc,
                    )
                    previous = []
                lost = sorted(set(previous) - set(relations))
                if lost:
                    names = ", ".join(f"{s}.{n}" for s, n in lost)
                    raise NotPublished(
                        f"{build_path} lacks {names}, which the last publication has "
                        "(held back before they were ever built?)"
                    )
            by_name = {name: schema for schema, name in relations}
            held = sorted(
                f"{by_name[name]}.{name}"
                for name in (uid.rsplit(".", 1)[-1] for uid in found.held_back)
                if name in by_name
            )
            for schema in PUBLISHED_SCHEMAS:
                conn.execute(f"create schema if not exists {_ident(schema)}")
            for schema, name in relations:
                # a view of the build file becomes a table: the copy must not read the build file
                conn.execute(
                    f"create table {_ident(schema)}.{_ident(name)} as "
                    f"select * from build.{_ident(schema)}.{_ident(name)}"
                )
            conn.execute(
                "create table main.publication as select ?::timestamp as published_at, "
                "? as build_invocation_id, ? as build_generated_at, ? as tables_published, "
                "?::varchar[] as held_back_models",
                [
                    datetime.now(UTC).replace(tzinfo=None),
                    found.invocation_id,
                    found.generated_at,
                    len(relations),
                    held,
                ],
            )
            conn.execute("detach build")
            conn.execute("checkpoint")
        finally:
            conn.close()
        _fsync(tmp)
        os.replace(tmp, published_path)  # atomic: a reader sees the old file or the new one
        _fsync(published_path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(relations), held


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run(args: argparse.Namespace) -> int:
    current = settings.load()
    target_dir = args.target_dir or current.target_dir
    build_path = args.duckdb_path or current.duckdb_path
    published_path = args.published_path or current.published_path
    if build_path.resolve() == published_path.resolve():
        raise CliError(f"the published copy must not be the build file ({build_path})")
    found = verdict(read_run_results(target_dir))
    if not found.publish:
        log.error(
            "not published: the build failed (%s); %s keeps the last good publication",
            ", ".join(found.errored),
            published_path,
        )
        return EXIT_BUILD_FAILED
    started = time.monotonic()
    try:
        tables, held = publish(build_path, published_path, found, current.duckdb_config())
        never_built = _never_built(found, published_path)
    except NotPublished as exc:
        log.error("not published: %s; %s keeps the last good publication", exc, published_path)
        return EXIT_BUILD_FAILED
    log.info(
        "published %d tables of %s to %s in %.1f s%s",
        tables,
        ", ".join(PUBLISHED_SCHEMAS),
        published_path,
        time.monotonic() - started,
        f"; held back, with their last good rows: {', '.join(held)}" if held else "",
    )
    if never_built:
        log.warning(
            "held back before they were ever built, so not in the publication yet: %s",
            ", ".join(never_built),
        )
    return 0


def _never_built(found: Verdict, published_path: Path) -> list[str]:
    """Skipped models of the published schemas that the new publication does not hold."""
    conn = duckdb.connect(str(published_path), read_only=True)
    try:
        have = {name for _, name in _relations(conn, published_path.stem)}
    finally:
        conn.close()
    return sorted(
        uid.rsplit(".", 1)[-1]
        for uid in found.held_back
        if uid.startswith("model.")
        and uid in found.published_schema_nodes
        and uid.rsplit(".", 1)[-1] not in have
    )

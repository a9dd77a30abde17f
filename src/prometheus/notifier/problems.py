"""Finding problems in a run's results: pure functions, no I/O.

Problems are results with status fail, warn, error or runtime error (and source
freshness warn/error). A skipped node is folded under the failures that caused it:
a failing test on, or an error of, one of its ancestors. Each problem's impact is
the set of exposures downstream of what it checks (a test: the node it is attached
to, else everything it depends on; a model or a source: itself), walking the
manifest's ``child_map``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

from prometheus.artifacts import Manifest, Node, TargetArtifacts

# statuses that stop downstream nodes in `dbt build` (a warning does not)
BLOCKING = frozenset({"fail", "error", "runtime error"})
SEVERITY = {"warn": 1, "skipped": 1, "fail": 2, "error": 3, "runtime error": 3}
PASSED = frozenset({"pass", "success"})


@dataclass(frozen=True)
class Problem:
    unique_id: str
    name: str
    resource_type: str
    status: str
    original_file_path: str
    failures: int | None = None
    message: str | None = None
    relation_name: str | None = None
    checks: tuple[str, ...] = ()  # the nodes a test checks (or the node itself)
    column_name: str | None = None
    skipped: tuple[str, ...] = ()  # unique ids of nodes skipped because of it
    exposures: tuple[str, ...] = ()  # impacted exposure unique ids
    sample_rows: tuple[Mapping[str, Any], ...] = ()
    stored_row_count: int | None = None  # rows in the test's store_failures table

    @property
    def failing_rows(self) -> int | None:
        """The one failing-row count used everywhere: the stored rows when the test
        stored them (dbt's ``failures`` is a severity level for tiered tests), else
        dbt's ``failures``."""
        return self.failures if self.stored_row_count is None else self.stored_row_count

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING

    def to_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "name": self.name,
            "resource_type": self.resource_type,
            "status": self.status,
            "file": self.original_file_path,
            "failures": self.failures,
            "message": self.message,
            "relation_name": self.relation_name,
            "checks": list(self.checks),
            "column_name": self.column_name,
            "skipped": list(self.skipped),
            "exposures": list(self.exposures),
            "sample_rows": [dict(r) for r in self.sample_rows],
            "stored_row_count": self.stored_row_count,
            "failing_rows": self.failing_rows,
        }


def _problem(node: Node | None, unique_id: str, status: str, **extra: Any) -> Problem:
    if node is None:
        return Problem(
            unique_id,
            unique_id.split(".")[-1],
            unique_id.split(".")[0],
            status,
            "",
            checks=(unique_id,),
            **extra,
        )
    if node.resource_type in ("test", "unit_test"):
        checks = (node.attached_node,) if node.attached_node else node.depends_on_nodes
    else:
        checks = (node.unique_id,)
    return Problem(
        unique_id=unique_id,
        name=node.name,
        resource_type=node.resource_type,
        status=status,
        original_file_path=node.original_file_path,
        # a data test's relation is its stored failing rows; a model's or a source's is
        # the table itself, which holds no failing rows
        relation_name=node.relation_name if node.resource_type == "test" else None,
        checks=tuple(checks),
        column_name=node.column_name,
        **extra,
    )


def ancestors(manifest: Manifest, unique_id: str) -> set[str]:
    seen: set[str] = set()
    queue = deque(manifest.parent_map.get(unique_id, ()))
    while queue:
        uid = queue.popleft()
        if uid not in seen:
            seen.add(uid)
            queue.extend(manifest.parent_map.get(uid, ()))
    return seen


def descendants(manifest: Manifest, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    queue = deque(roots)
    while queue:
        uid = queue.popleft()
        if uid not in seen:
            seen.add(uid)
            queue.extend(manifest.child_map.get(uid, ()))
    return seen


def find_problems(run: TargetArtifacts) -> list[Problem]:
    """Every problem of the run, with skipped nodes folded under their causes and
    the impacted exposures filled in; sorted by unique id."""
    manifest = run.manifest
    problems: list[Problem] = []
    skipped: list[str] = []
    for result in run.run_results.results if run.run_results else ():
        if result.is_problem:
            problems.append(
                _problem(
                    manifest.node(result.unique_id),
                    result.unique_id,
                    result.status,
                    failures=result.failures,
                    message=result.message,
                )
            )
            if (
                result.relation_name
                and problems[-1].resource_type == "test"
                and problems[-1].relation_name is None
            ):
                problems[-1] = _replace(problems[-1], relation_name=result.relation_name)
        elif result.is_skipped:
            skipped.append(result.unique_id)
    if run.sources is not None:
        for fresh in run.sources.results:
            if fresh.is_problem:
                detail = fresh.error or (
                    f"max loaded at {fresh.max_loaded_at.replace(tzinfo=UTC).isoformat()}"
                    if fresh.max_loaded_at
                    else None
                )
                problems.append(
                    _problem(
                        manifest.node(fresh.unique_id),
                        fresh.unique_id,
                        fresh.status,
                        message=f"source freshness {fresh.status}: {detail}",
                    )
                )

    folded: dict[str, list[str]] = {p.unique_id: [] for p in problems}
    for uid in skipped:
        up = ancestors(manifest, uid)
        causes = [
            p
            for p in problems
            if p.status in BLOCKING and (p.unique_id in up or up & set(p.checks))
        ]
        if causes:
            for cause in causes:
                folded[cause.unique_id].append(uid)
        else:  # skipped for a reason the run does not show (e.g. --fail-fast)
            problems.append(_problem(manifest.node(uid), uid, "skipped"))
            folded[uid] = []

    out = []
    for p in problems:
        impacted = descendants(manifest, (*p.checks, *folded[p.unique_id]))
        exposures = tuple(sorted(uid for uid in impacted if uid in manifest.exposures))
        out.append(_replace(p, skipped=tuple(sorted(folded[p.unique_id])), exposures=exposures))
    return sorted(out, key=lambda p: p.unique_id)


def _replace(problem: Problem, **changes: Any) -> Problem:
    return replace(problem, **changes)


def passed(run: TargetArtifacts) -> frozenset[str]:
    """Unique ids of nodes and sources that ran and passed in this run."""
    ok = {
        r.unique_id
        for r in (run.run_results.results if run.run_results else ())
        if r.status in PASSED
    }
    if run.sources is not None:
        ok |= {f.unique_id for f in run.sources.results if f.status == "pass"}
    return frozenset(ok)


def attach_samples(
    problems: Sequence[Problem],
    samples: Mapping[str, Sequence[Mapping[str, Any]]],
    row_counts: Mapping[str, int] | None = None,
) -> list[Problem]:
    counts = row_counts or {}
    return [
        _replace(
            p,
            sample_rows=tuple(samples.get(p.unique_id, ())),
            stored_row_count=counts.get(p.unique_id, p.stored_row_count),
        )
        for p in problems
    ]

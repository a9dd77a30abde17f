"""Small typed readers of dbt artifacts (manifest, run results, source freshness).

They take only the keys the notifier needs, check ``metadata.dbt_schema_version``
against the versions they were written for, and never import dbt-core.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# artifact kind -> schema versions this reader understands
SUPPORTED_VERSIONS: dict[str, frozenset[int]] = {
    "manifest": frozenset({12}),
    "run-results": frozenset({5, 6}),
    "sources": frozenset({3}),
}

_SCHEMA_URL = re.compile(r"/dbt/(?P<kind>[a-z-]+)/v(?P<version>\d+)\.json$")

# statuses that make a node worth a message (tests: fail/warn/error; models,
# seeds, snapshots: error; source freshness: warn/error/runtime error)
PROBLEM_STATUSES = frozenset({"fail", "warn", "error", "runtime error"})


class ArtifactError(Exception):
    """An artifact is missing, unreadable or of a version we do not read."""


def _load(path: Path, kind: str) -> dict[str, Any]:
    if not path.is_file():
        raise ArtifactError(f"{path}: not found (did `dbt build` write it to this target dir?)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"{path}: not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column "
            f"{exc.colno}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: expected a JSON object at the top level")
    _check_version(data, path, kind)
    return data


def _check_version(data: Mapping[str, Any], path: Path, kind: str) -> int:
    url = _get(data, "metadata", path, dict).get("dbt_schema_version")
    if not isinstance(url, str):
        raise ArtifactError(f"{path}: metadata.dbt_schema_version is missing")
    match = _SCHEMA_URL.search(url)
    if match is None or match["kind"] != kind:
        raise ArtifactError(f"{path}: metadata.dbt_schema_version {url!r} is not a {kind} schema")
    version = int(match["version"])
    supported = SUPPORTED_VERSIONS[kind]
    if version not in supported:
        wanted = ", ".join(f"v{v}" for v in sorted(supported))
        raise ArtifactError(
            f"{path}: metadata.dbt_schema_version: {kind} v{version} is not supported "
            f"(supported: {wanted})"
        )
    return version


def _get(data: Mapping[str, Any], key: str, path: Path, kind: type, where: str = "") -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        place = f"{where}.{key}" if where else key
        raise ArtifactError(f"{path}: {place} is missing or not a {kind.__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """config.meta wins over the (older) top-level meta."""
    meta: dict[str, Any] = {}
    if isinstance(raw.get("meta"), dict):
        meta.update(raw["meta"])
    config = raw.get("config")
    if isinstance(config, dict) and isinstance(config.get("meta"), dict):
        meta.update(config["meta"])
    return meta


@dataclass(frozen=True)
class Node:
    """A model, test, seed, snapshot or source: only what routing needs."""

    unique_id: str
    resource_type: str
    name: str
    original_file_path: str
    group: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    relation_name: str | None = None
    depends_on: tuple[str, ...] = ()
    attached_node: str | None = None
    test_name: str | None = None
    column_name: str | None = None
    description: str = ""

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Node:
        depends = raw.get("depends_on") or {}
        test_metadata = raw.get("test_metadata") or {}
        config = raw.get("config") or {}
        return cls(
            unique_id=str(raw["unique_id"]),
            resource_type=str(raw.get("resource_type", "")),
            name=str(raw.get("name", "")),
            original_file_path=str(raw.get("original_file_path", "")),
            group=_opt_str(raw.get("group")) or _opt_str(config.get("group")),
            meta=_meta(raw),
            relation_name=_opt_str(raw.get("relation_name")),
            depends_on=tuple(depends.get("nodes") or ()),
            attached_node=_opt_str(raw.get("attached_node")),
            test_name=_opt_str(test_metadata.get("name")),
            column_name=_opt_str(raw.get("column_name")),
            description=str(raw.get("description") or ""),
        )


@dataclass(frozen=True)
class Owner:
    name: str | None
    email: str | None

    @classmethod
    def from_raw(cls, raw: Any) -> Owner:
        raw = raw if isinstance(raw, dict) else {}
        return cls(name=_opt_str(raw.get("name")), email=_opt_str(raw.get("email")))


@dataclass(frozen=True)
class Exposure:
    unique_id: str
    name: str
    label: str
    original_file_path: str
    owner: Owner
    meta: Mapping[str, Any]
    depends_on: tuple[str, ...]

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Exposure:
        depends = raw.get("depends_on") or {}
        name = str(raw.get("name", ""))
        return cls(
            unique_id=str(raw["unique_id"]),
            name=name,
            label=str(raw.get("label") or name),
            original_file_path=str(raw.get("original_file_path", "")),
            owner=Owner.from_raw(raw.get("owner")),
            meta=_meta(raw),
            depends_on=tuple(depends.get("nodes") or ()),
        )


@dataclass(frozen=True)
class Group:
    unique_id: str
    name: str
    original_file_path: str
    owner: Owner
    meta: Mapping[str, Any]
    description: str = ""

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Group:
        return cls(
            unique_id=str(raw["unique_id"]),
            name=str(raw.get("name", "")),
            original_file_path=str(raw.get("original_file_path", "")),
            owner=Owner.from_raw(raw.get("owner")),
            meta=_meta(raw),
            description=str(raw.get("description") or ""),
        )


@dataclass(frozen=True)
class Manifest:
    path: Path
    schema_version: int
    invocation_id: str | None
    generated_at: datetime | None
    nodes: Mapping[str, Node]
    exposures: Mapping[str, Exposure]
    groups: Mapping[str, Group]
    parent_map: Mapping[str, tuple[str, ...]]
    child_map: Mapping[str, tuple[str, ...]]

    def node(self, unique_id: str) -> Node | None:
        return self.nodes.get(unique_id)


def _node_map(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Node]:
    raw = _get(data, key, path, dict)
    try:
        return {uid: Node.from_raw(node) for uid, node in raw.items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{path}: {key}: malformed entry ({exc})") from None


def _edge_map(data: Mapping[str, Any], key: str, path: Path) -> dict[str, tuple[str, ...]]:
    raw = _get(data, key, path, dict)
    return {uid: tuple(edges) for uid, edges in raw.items() if isinstance(edges, list)}


def read_manifest(path: Path | str) -> Manifest:
    path = Path(path)
    data = _load(path, "manifest")
    nodes = _node_map(data, "nodes", path)
    nodes.update(_node_map(data, "sources", path))
    try:
        exposures = {
            uid: Exposure.from_raw(raw) for uid, raw in _get(data, "exposures", path, dict).items()
        }
        groups = {uid: Group.from_raw(raw) for uid, raw in _get(data, "groups", path, dict).items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{path}: exposures/groups: malformed entry ({exc})") from None
    metadata = data["metadata"]
    return Manifest(
        path=path,
        schema_version=_check_version(data, path, "manifest"),
        invocation_id=_opt_str(metadata.get("invocation_id")),
        generated_at=_parse_time(metadata.get("generated_at")),
        nodes=nodes,
        exposures=exposures,
        groups=groups,
        parent_map=_edge_map(data, "parent_map", path),
        child_map=_edge_map(data, "child_map", path),
    )


@dataclass(frozen=True)
class RunResult:
    unique_id: str
    status: str
    failures: int | None = None
    message: str | None = None
    relation_name: str | None = None
    execution_time: float = 0.0

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEM_STATUSES

    @property
    def is_skipped(self) -> bool:
        return self.status == "skipped"


@dataclass(frozen=True)
class RunResults:
    path: Path
    schema_version: int
    invocation_id: str | None
    generated_at: datetime | None
    elapsed_time: float
    command: str | None
    results: tuple[RunResult, ...]

    @property
    def started_at(self) -> datetime | None:
        if self.generated_at is None:
            return None
        return self.generated_at - timedelta(seconds=self.elapsed_time)


def read_run_results(path: Path | str) -> RunResults:
    path = Path(path)
    data = _load(path, "run-results")
    results = []
    for index, raw in enumerate(_get(data, "results", path, list)):
        if not isinstance(raw, dict) or not isinstance(raw.get("unique_id"), str):
            raise ArtifactError(f"{path}: results[{index}].unique_id is missing")
        failures = raw.get("failures")
        results.append(
            RunResult(
                unique_id=raw["unique_id"],
                status=str(raw.get("status", "")),
                failures=failures if isinstance(failures, int) else None,
                message=_opt_str(raw.get("message")),
                relation_name=_opt_str(raw.get("relation_name")),
                execution_time=float(raw.get("execution_time") or 0.0),
            )
        )
    metadata = data["metadata"]
    args = data["args"] if isinstance(data.get("args"), dict) else {}
    return RunResults(
        path=path,
        schema_version=_check_version(data, path, "run-results"),
        invocation_id=_opt_str(metadata.get("invocation_id")),
        generated_at=_parse_time(metadata.get("generated_at")),
        elapsed_time=float(data.get("elapsed_time") or 0.0),
        command=_opt_str(args.get("which")),
        results=tuple(results),
    )


@dataclass(frozen=True)
class FreshnessResult:
    unique_id: str
    status: str
    max_loaded_at: datetime | None = None
    error: str | None = None

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEM_STATUSES


@dataclass(frozen=True)
class Sources:
    path: Path
    schema_version: int
    invocation_id: str | None
    generated_at: datetime | None
    results: tuple[FreshnessResult, ...]


def read_sources(path: Path | str) -> Sources:
    path = Path(path)
    data = _load(path, "sources")
    results = []
    for index, raw in enumerate(_get(data, "results", path, list)):
        if not isinstance(raw, dict) or not isinstance(raw.get("unique_id"), str):
            raise ArtifactError(f"{path}: results[{index}].unique_id is missing")
        error = raw.get("error")
        results.append(
            FreshnessResult(
                unique_id=raw["unique_id"],
                status=str(raw.get("status", "")),
                max_loaded_at=_parse_time(raw.get("max_loaded_at")),
                error=str(error) if error is not None else None,
            )
        )
    metadata = data["metadata"]
    return Sources(
        path=path,
        schema_version=_check_version(data, path, "sources"),
        invocation_id=_opt_str(metadata.get("invocation_id")),
        generated_at=_parse_time(metadata.get("generated_at")),
        results=tuple(results),
    )


# sources.json belongs to "the same run" when it was written no earlier than this
# long before the build started (a freshness check run just before `dbt build`).
SAME_RUN_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Run:
    manifest: Manifest
    run_results: RunResults
    sources: Sources | None
    notes: tuple[str, ...] = ()


def sources_belong_to_run(sources: Sources, run_results: RunResults) -> bool:
    """Same invocation, or written within SAME_RUN_WINDOW before the build started
    and not after it ended."""
    if sources.invocation_id and sources.invocation_id == run_results.invocation_id:
        return True
    started, ended = run_results.started_at, run_results.generated_at
    if sources.generated_at is None or started is None or ended is None:
        return False
    return started - SAME_RUN_WINDOW <= sources.generated_at <= ended + SAME_RUN_WINDOW


def load_run(target_dir: Path | str) -> Run:
    """Read the artifacts of one `dbt build` from its target directory."""
    target = Path(target_dir)
    if not target.is_dir():
        raise ArtifactError(f"{target}: target directory not found")
    manifest = read_manifest(target / "manifest.json")
    run_results = read_run_results(target / "run_results.json")
    sources: Sources | None = None
    notes: list[str] = []
    sources_path = target / "sources.json"
    if sources_path.is_file():
        candidate = read_sources(sources_path)
        if sources_belong_to_run(candidate, run_results):
            sources = candidate
        else:
            notes.append(f"{sources_path}: ignored, written by another run")
    return Run(manifest=manifest, run_results=run_results, sources=sources, notes=tuple(notes))

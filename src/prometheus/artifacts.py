"""Typed readers of dbt's artifacts: manifest.json, run_results.json and sources.json.

One reader for the notifier and the run history. It takes only the keys they
use, refuses artifact schema versions it was not written for (so a dbt upgrade
fails here, loudly, instead of being misread) and never imports dbt-core.

``parse_*`` are pure: they turn decoded JSON into frozen dataclasses.
``read_*`` add reading one file, ``load_run`` and ``load_target`` reading a
target directory. Every problem is an :class:`ArtifactError` whose message
starts with the file (or directory) and says what is wrong.

All times are naive datetimes in UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from prometheus.errors import PrometheusError

# artifact kind -> schema versions this reader understands
SUPPORTED_VERSIONS: dict[str, frozenset[int]] = {
    "manifest": frozenset({12}),
    "run-results": frozenset({6}),
    "sources": frozenset({3}),
}

MANIFEST, RUN_RESULTS, SOURCES = "manifest.json", "run_results.json", "sources.json"

# statuses that make a node worth a message (tests: fail/warn/error; models,
# seeds, snapshots: error; source freshness: warn/error/runtime error)
PROBLEM_STATUSES = frozenset({"fail", "warn", "error", "runtime error"})

# sources.json belongs to "the same run" when it was written no earlier than this
# long before the build started (a freshness check run just before `dbt build`).
SAME_RUN_WINDOW = timedelta(hours=1)

_SCHEMA_URL = re.compile(r"/dbt/(?P<kind>[a-z-]+)/v(?P<version>\d+)\.json$")


class ArtifactError(PrometheusError):
    """An artifact is missing, unreadable, malformed or of a version we do not read."""


# --------------------------------------------------------------------------- values


def parse_time(value: Any) -> datetime | None:
    """A timestamp as dbt writes it ('...Z', '+00:00'; no offset: UTC) -> naive UTC.

    None when absent or not a timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_strs(raw: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Each key's value, a non-empty string or None, by the same name."""
    return {key: _opt_str(raw.get(key)) for key in keys}


def _texts(raw: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Each key's value as a string, "" when absent, by the same name."""
    return {key: str(raw.get(key) or "") for key in keys}


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """config.meta wins over the (older) top-level meta."""
    return {**_dict(raw.get("meta")), **_dict(_dict(raw.get("config")).get("meta"))}


def _timing(raw: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Start and end of a result: its execute step, else its whole timing span."""
    timing = [t for t in raw.get("timing") or () if isinstance(t, dict)]
    chosen = [t for t in timing if t.get("name") == "execute"] or timing
    if not chosen:
        return None, None
    return parse_time(chosen[0].get("started_at")), parse_time(chosen[-1].get("completed_at"))


# --------------------------------------------------------------------------- checks


def _get(data: Mapping[str, Any], key: str, path: Path, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ArtifactError(f"{path}: {key} is missing or not a {kind.__name__}")
    return value


def _records(data: Mapping[str, Any], key: str, path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a section (a list, or a dict by unique id), each with a unique_id."""
    section = data.get(key)
    if isinstance(section, dict):
        entries: Iterator[tuple[Any, Any]] = iter(section.items())
    elif isinstance(section, list):
        entries = enumerate(section)
    else:
        raise ArtifactError(f"{path}: {key} is missing or not a JSON object or array")
    for where, raw in entries:
        if not isinstance(raw, dict) or not isinstance(raw.get("unique_id"), str):
            raise ArtifactError(f"{path}: {key}[{where}].unique_id is missing")
        yield raw


def check_version(data: Mapping[str, Any], path: Path, kind: str) -> int:
    """The schema version of an artifact of ``kind`` ('manifest', 'run-results',
    'sources'); ArtifactError unless this reader understands it."""
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


@dataclass(frozen=True)
class Artifact:
    """What every artifact says about itself, and where it was read from."""

    path: Path
    schema_version: int
    dbt_version: str
    invocation_id: str
    generated_at: datetime | None


def _artifact(data: Mapping[str, Any], path: Path, kind: str) -> dict[str, Any]:
    """The keyword arguments of :class:`Artifact`, checked."""
    version = check_version(data, path, kind)
    metadata = data["metadata"]
    invocation_id = _opt_str(metadata.get("invocation_id"))
    if invocation_id is None:
        raise ArtifactError(f"{path}: metadata.invocation_id is missing")
    return {
        "path": path,
        "schema_version": version,
        "dbt_version": str(metadata.get("dbt_version") or ""),
        "invocation_id": invocation_id,
        "generated_at": parse_time(metadata.get("generated_at")),
    }


def _invocation(data: Mapping[str, Any], path: Path, kind: str) -> dict[str, Any]:
    """:func:`_artifact` plus the elapsed time and start of a results artifact."""
    header = _artifact(data, path, kind)
    elapsed = _opt_float(data.get("elapsed_time"))
    started = parse_time(data["metadata"].get("invocation_started_at"))
    if started is None and header["generated_at"] is not None:  # older dbt does not write it
        started = header["generated_at"] - timedelta(seconds=elapsed or 0.0)
    return {**header, "elapsed_time": elapsed, "started_at": started}


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Owner:
    name: str | None
    email: str | None

    @classmethod
    def from_raw(cls, raw: Any) -> Owner:
        raw = _dict(raw)
        return cls(name=_opt_str(raw.get("name")), email=_opt_str(raw.get("email")))


# Node fields read as they are named in the manifest: a string, or None
_NODE_OPTIONAL_STRINGS = (
    "patch_path", "database", "schema", "relation_name", "attached_node", "column_name",
    "source_name", "loaded_at_field", "label", "url", "maturity",
)  # fmt: skip


@dataclass(frozen=True)
class Node:
    """A model, test, unit test, seed, snapshot, source or exposure of the manifest."""

    unique_id: str
    resource_type: str
    name: str
    original_file_path: str = ""
    package_name: str = ""
    path: str = ""
    patch_path: str | None = None
    description: str = ""
    database: str | None = None
    schema: str | None = None
    relation: str | None = None  # alias; a source's identifier
    relation_name: str | None = None
    materialization: str | None = None
    group: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    depends_on_nodes: tuple[str, ...] = ()
    depends_on_macros: tuple[str, ...] = ()
    # data tests
    attached_node: str | None = None
    column_name: str | None = None
    test_short_name: str | None = None  # test_metadata.name: unique, not_null, ...
    test_namespace: str | None = None
    test_kwargs: Mapping[str, Any] = field(default_factory=dict)  # without `model`
    severity: str | None = None
    # unit tests: the name of the model under test (the `model` key)
    model: str | None = None
    # snapshots and incremental models
    unique_key: Any = None
    strategy: str | None = None
    # sources
    source_name: str | None = None
    loaded_at_field: str | None = None
    freshness: Mapping[str, Any] = field(default_factory=dict)
    # exposures
    owner: Owner | None = None  # exposures always have one
    label: str | None = None
    url: str | None = None
    exposure_type: str | None = None
    maturity: str | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Node:
        config = _dict(raw.get("config"))
        depends_on = _dict(raw.get("depends_on"))
        test_metadata = _dict(raw.get("test_metadata"))
        resource_type = str(raw.get("resource_type") or "")
        is_exposure = resource_type == "exposure"
        return cls(
            unique_id=str(raw["unique_id"]),
            resource_type=resource_type,
            **_texts(raw, "name", "original_file_path", "package_name", "path", "description"),
            **_opt_strs(raw, *_NODE_OPTIONAL_STRINGS),
            relation=_opt_str(raw.get("identifier" if resource_type == "source" else "alias")),
            materialization=_opt_str(config.get("materialized")),
            group=_opt_str(raw.get("group")) or _opt_str(config.get("group")),
            meta=_meta(raw),
            tags=_strs(raw.get("tags") or config.get("tags")),
            depends_on_nodes=_strs(depends_on.get("nodes")),
            depends_on_macros=_strs(depends_on.get("macros")),
            test_short_name=_opt_str(test_metadata.get("name")),
            test_namespace=_opt_str(test_metadata.get("namespace")),
            test_kwargs={
                k: v for k, v in _dict(test_metadata.get("kwargs")).items() if k != "model"
            },
            **_opt_strs(config, "severity", "strategy"),
            unique_key=config.get("unique_key"),
            freshness=_dict(raw.get("freshness")),
            owner=Owner.from_raw(raw.get("owner")) if is_exposure else None,
            exposure_type=_opt_str(raw.get("type")) if is_exposure else None,
            model=_opt_str(raw.get("model")) if resource_type == "unit_test" else None,
        )

    @property
    def test_kind(self) -> str | None:
        """'generic' or 'singular' for data tests, 'unit' for unit tests, None otherwise."""
        if self.resource_type == "unit_test":
            return "unit"
        if self.resource_type != "test":
            return None
        return "generic" if self.test_short_name else "singular"

    @property
    def tested_node(self) -> str | None:
        """The model/source/seed/snapshot a data test is about; a unit test's model."""
        if self.attached_node:
            return self.attached_node
        candidates = [n for n in self.depends_on_nodes if not n.startswith("test.")]
        if self.model:  # a unit test: the dependency named by its `model` key
            named = [n for n in candidates if n.split(".")[2:3] == [self.model]]
            return (named or candidates or [f"model.{self.package_name}.{self.model}"])[-1]
        return candidates[-1] if candidates else None


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
            name=str(raw.get("name") or ""),
            original_file_path=str(raw.get("original_file_path") or ""),
            owner=Owner.from_raw(raw.get("owner")),
            meta=_meta(raw),
            description=str(raw.get("description") or ""),
        )


@dataclass(frozen=True)
class MacroDoc:
    """A generic test's documentation: its description and meta from its properties YAML."""

    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest(Artifact):
    project_name: str
    nodes: Mapping[str, Node]  # models, tests, seeds, snapshots and sources
    exposures: Mapping[str, Node]
    groups: Mapping[str, Group]  # by unique id
    parent_map: Mapping[str, tuple[str, ...]]
    child_map: Mapping[str, tuple[str, ...]]
    # the project's generic tests (macros named test_*), by test name
    test_macros: Mapping[str, MacroDoc] = field(default_factory=dict)
    # dbt unit tests (the manifest's `unit_tests`), by unique id; not in `nodes`
    unit_tests: Mapping[str, Node] = field(default_factory=dict)
    # the semantic layer's saved queries, which `dbt build` runs too: unique ids only
    saved_queries: frozenset[str] = frozenset()
    # the engine the build ran on (metadata.adapter_type): duckdb, spark, ...
    adapter_type: str = "duckdb"

    def knows(self, unique_id: str) -> bool:
        """Whether a run result's unique id is a node, exposure, unit test or saved query here."""
        return (
            unique_id in self.nodes
            or unique_id in self.exposures
            or unique_id in self.unit_tests
            or unique_id in self.saved_queries
        )

    def node(self, unique_id: str) -> Node | None:
        return self.nodes.get(unique_id)

    def of_type(self, *resource_types: str) -> list[Node]:
        """Nodes and exposures of these resource types, by unique id."""
        found = [*self.nodes.values(), *self.exposures.values()]
        return sorted(
            (n for n in found if n.resource_type in resource_types), key=lambda n: n.unique_id
        )

    @cached_property
    def groups_by_name(self) -> dict[str, Group]:
        return {g.name: g for g in self.groups.values()}

    def owners(self, node: Node) -> list[str]:
        """Who owns a node, as people read it: the meta `owner` (a group name is
        shown as the group's owner name), else the node's group owner, else the
        exposure's owner."""
        raw = node.meta.get("owner")
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        owners = []
        for value in values:
            group = self.groups_by_name.get(str(value))
            owners.append(group.owner.name if group and group.owner.name else str(value))
        group = self.groups_by_name.get(node.group) if node.group else None
        if not owners and group and group.owner.name:
            owners.append(group.owner.name)
        if not owners and node.owner and (node.owner.name or node.owner.email):
            owners.append(node.owner.name or node.owner.email or "")
        return owners


def _edges(data: Mapping[str, Any], key: str, path: Path) -> dict[str, tuple[str, ...]]:
    raw = _get(data, key, path, dict)
    return {uid: _strs(edges) for uid, edges in raw.items() if isinstance(edges, list)}


def parse_manifest(data: Mapping[str, Any], path: Path) -> Manifest:
    header = _artifact(data, path, "manifest")
    nodes = {
        raw["unique_id"]: Node.from_raw(raw)
        for key in ("nodes", "sources")
        for raw in _records(data, key, path)
    }
    return Manifest(
        **header,
        project_name=str(data["metadata"].get("project_name") or ""),
        nodes=nodes,
        exposures={r["unique_id"]: Node.from_raw(r) for r in _records(data, "exposures", path)},
        groups={r["unique_id"]: Group.from_raw(r) for r in _records(data, "groups", path)},
        parent_map=_edges(data, "parent_map", path),
        child_map=_edges(data, "child_map", path),
        test_macros={
            str(raw["name"])[len("test_") :]: MacroDoc(
                str(raw.get("description") or ""), _dict(raw.get("meta"))
            )
            for raw in _dict(data.get("macros")).values()
            if isinstance(raw, dict)
            and str(raw.get("name") or "").startswith("test_")
            and raw.get("package_name") == data["metadata"].get("project_name")
        },
        unit_tests={
            r["unique_id"]: Node.from_raw({"resource_type": "unit_test", **r})
            for r in (_records(data, "unit_tests", path) if "unit_tests" in data else ())
        },
        saved_queries=frozenset(_dict(data.get("saved_queries"))),
        adapter_type=str(data["metadata"].get("adapter_type") or "duckdb"),
    )


# --------------------------------------------------------------------------- run results


@dataclass(frozen=True)
class Result:
    """What a result in run_results.json and one in sources.json have in common."""

    unique_id: str
    status: str
    execution_time: float | None = None
    started_at: datetime | None = None  # the execute step, else the whole timing span
    completed_at: datetime | None = None

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEM_STATUSES

    @staticmethod
    def common(raw: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of :class:`Result` from a raw result."""
        started, completed = _timing(raw)
        return {
            "unique_id": str(raw["unique_id"]),
            "status": str(raw.get("status") or ""),
            "execution_time": _opt_float(raw.get("execution_time")),
            "started_at": started,
            "completed_at": completed,
        }


@dataclass(frozen=True)
class NodeResult(Result):
    """One node's result in run_results.json: status success, error or skipped;
    a test's pass, fail, warn or error."""

    message: str | None = None
    failures: int | None = None
    compiled_code: str | None = None
    relation_name: str | None = None
    rows_affected: int | None = None
    adapter_message: str | None = None

    @property
    def is_skipped(self) -> bool:
        return self.status == "skipped"

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> NodeResult:
        response = _dict(raw.get("adapter_response"))
        return cls(
            **cls.common(raw),
            **_opt_strs(raw, "message", "compiled_code", "relation_name"),
            failures=_opt_int(raw.get("failures")),
            rows_affected=_opt_int(response.get("rows_affected")),
            adapter_message=_opt_str(response.get("_message")),
        )


@dataclass(frozen=True)
class RunResults(Artifact):
    elapsed_time: float | None
    started_at: datetime | None  # invocation_started_at, else generated_at - elapsed_time
    command: str  # args.which: build, run, test, seed, ...
    invocation_command: str | None
    selected: tuple[str, ...]
    full_refresh: bool
    target: str | None
    results: tuple[NodeResult, ...]


def parse_run_results(data: Mapping[str, Any], path: Path) -> RunResults:
    header = _invocation(data, path, "run-results")
    args = _dict(data.get("args"))
    return RunResults(
        **header,
        command=str(args.get("which") or ""),
        invocation_command=_opt_str(args.get("invocation_command")),
        selected=_strs(args.get("select")),
        full_refresh=bool(args.get("full_refresh")),
        target=_opt_str(args.get("target")),
        results=tuple(NodeResult.from_raw(raw) for raw in _records(data, "results", path)),
    )


# --------------------------------------------------------------------------- source freshness


@dataclass(frozen=True)
class FreshnessResult(Result):
    """One source's result in sources.json: status pass, warn, error (stale) or
    runtime error."""

    max_loaded_at: datetime | None = None
    snapshotted_at: datetime | None = None
    max_loaded_at_time_ago_in_s: float | None = None
    warn_after: Mapping[str, Any] | None = None
    error_after: Mapping[str, Any] | None = None
    filter: str | None = None
    error: str | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> FreshnessResult:
        criteria = _dict(raw.get("criteria"))
        error = raw.get("error")
        return cls(
            **cls.common(raw),
            max_loaded_at=parse_time(raw.get("max_loaded_at")),
            snapshotted_at=parse_time(raw.get("snapshotted_at")),
            max_loaded_at_time_ago_in_s=_opt_float(raw.get("max_loaded_at_time_ago_in_s")),
            warn_after=_dict(criteria.get("warn_after")) or None,
            error_after=_dict(criteria.get("error_after")) or None,
            filter=_opt_str(criteria.get("filter")),
            error=str(error) if error is not None else None,
        )


@dataclass(frozen=True)
class Sources(Artifact):
    elapsed_time: float | None
    started_at: datetime | None  # invocation_started_at, else generated_at - elapsed_time
    results: tuple[FreshnessResult, ...]


def parse_sources(data: Mapping[str, Any], path: Path) -> Sources:
    header = _invocation(data, path, "sources")
    results = tuple(FreshnessResult.from_raw(raw) for raw in _records(data, "results", path))
    return Sources(**header, results=results)


# --------------------------------------------------------------------------- files

T = TypeVar("T")


def read_json(path: Path | str) -> dict[str, Any]:
    """A JSON object from a file; ArtifactError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: not found")
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
    return data


def _read(parse: Callable[[Mapping[str, Any], Path], T], path: Path | str) -> T:
    return parse(read_json(path), Path(path))


def read_manifest(path: Path | str) -> Manifest:
    return _read(parse_manifest, path)


def read_run_results(path: Path | str) -> RunResults:
    return _read(parse_run_results, path)


def read_sources(path: Path | str) -> Sources:
    return _read(parse_sources, path)


@dataclass(frozen=True)
class TargetArtifacts:
    """The artifacts of one target directory: the manifest and the results beside it."""

    manifest: Manifest
    run_results: RunResults | None
    sources: Sources | None
    notes: tuple[str, ...] = ()  # what was left out, and why

    @property
    def invocation_id(self) -> str | None:
        """The run's invocation: its run results', else its source freshness check's."""
        found = self.run_results or self.sources
        return found.invocation_id if found else None


def sources_belong_to_run(sources: Sources, run_results: RunResults) -> bool:
    """Same invocation, or written within SAME_RUN_WINDOW before the build started
    and not after it ended."""
    if sources.invocation_id == run_results.invocation_id:
        return True
    started, ended = run_results.started_at, run_results.generated_at
    if sources.generated_at is None or started is None or ended is None:
        return False
    return started - SAME_RUN_WINDOW <= sources.generated_at <= ended + SAME_RUN_WINDOW


def _target_dir(target_dir: Path | str) -> Path:
    target = Path(target_dir)
    if not target.is_dir():
        raise ArtifactError(f"{target}: target directory not found")
    return target


def load_run(target_dir: Path | str) -> TargetArtifacts:
    """One `dbt build`: its manifest and run results (both required), and its
    sources.json only when the same run wrote it (else a note says so)."""
    target = _target_dir(target_dir)
    manifest = read_manifest(target / MANIFEST)
    run_results = read_run_results(target / RUN_RESULTS)
    sources_path = target / SOURCES
    if not sources_path.is_file():
        return TargetArtifacts(manifest, run_results, None)
    sources = read_sources(sources_path)
    if sources_belong_to_run(sources, run_results):
        return TargetArtifacts(manifest, run_results, sources)
    return TargetArtifacts(
        manifest, run_results, None, (f"{sources_path}: ignored, written by another run",)
    )


def load_target(target_dir: Path | str) -> TargetArtifacts:
    """Whatever a target directory holds: the manifest (required) and the latest
    run results and source freshness results, whichever are there (one at least)."""
    target = _target_dir(target_dir)
    manifest = read_manifest(target / MANIFEST)
    run_path, sources_path = target / RUN_RESULTS, target / SOURCES
    run_results = read_run_results(run_path) if run_path.is_file() else None
    sources = read_sources(sources_path) if sources_path.is_file() else None
    if run_results is None and sources is None:
        raise ArtifactError(
            f"{target} holds neither {RUN_RESULTS} nor {SOURCES}: "
            "run `dbt build` or `dbt source freshness` first"
        )
    return TargetArtifacts(manifest, run_results, sources)

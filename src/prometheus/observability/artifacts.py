"""Small typed readers for the dbt artifacts the history and the report need.

They take only the keys they use and refuse artifact schema versions they
were not written for, so a dbt upgrade fails here, loudly, instead of storing
wrong history. No dbt-core import: plain JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUPPORTED_SCHEMAS = {
    "manifest": {"v12"},
    "run-results": {"v6"},
    "sources": {"v3"},
}


class ArtifactError(Exception):
    """An artifact is missing, unreadable or of an unsupported schema version."""


def parse_ts(value: str | None) -> datetime | None:
    """ISO timestamp from dbt ('...Z' or '+00:00') -> naive UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _load(path: Path, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path} not found") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read {path}: {exc}") from exc
    url = str(data.get("metadata", {}).get("dbt_schema_version", ""))
    # https://schemas.getdbt.com/dbt/<kind>/<version>.json
    parts = url.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != kind:
        raise ArtifactError(f"{path} is not a dbt {kind} artifact (schema {url!r})")
    version = parts[-1].removesuffix(".json")
    if version not in SUPPORTED_SCHEMAS[kind]:
        supported = ", ".join(sorted(SUPPORTED_SCHEMAS[kind]))
        raise ArtifactError(f"{path}: unsupported {kind} schema {version} (supported: {supported})")
    return data


def _timing(entry: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Start and end of a result: the execute step, else the whole timing span."""
    timing = entry.get("timing") or []
    execute = [t for t in timing if t.get("name") == "execute"]
    chosen = execute or timing
    if not chosen:
        return None, None
    return parse_ts(chosen[0].get("started_at")), parse_ts(chosen[-1].get("completed_at"))


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Owner:
    name: str | None
    email: str | None


@dataclass(frozen=True)
class Node:
    """One manifest node, source or exposure, with the keys the report uses."""

    unique_id: str
    resource_type: str
    name: str
    package_name: str
    original_path: str
    path: str
    database: str | None
    schema: str | None
    relation: str | None  # alias / identifier
    materialization: str | None
    description: str
    tags: list[str]
    meta: dict[str, Any]
    group: str | None
    depends_on_nodes: list[str]
    depends_on_macros: list[str]
    patch_path: str | None = None
    column_name: str | None = None
    attached_node: str | None = None
    test_short_name: str | None = None
    test_namespace: str | None = None
    test_kwargs: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None
    source_name: str | None = None
    loaded_at_field: str | None = None
    freshness: dict[str, Any] = field(default_factory=dict)
    relation_name: str | None = None
    owner: Owner | None = None  # exposures
    label: str | None = None
    url: str | None = None
    exposure_type: str | None = None
    maturity: str | None = None
    unique_key: Any = None
    strategy: str | None = None

    @property
    def test_kind(self) -> str | None:
        """'generic' or 'singular' for data tests, None otherwise."""
        if self.resource_type != "test":
            return None
        return "generic" if self.test_short_name else "singular"

    @property
    def tested_node(self) -> str | None:
        """The model/source/seed/snapshot a data test is about."""
        if self.attached_node:
            return self.attached_node
        candidates = [n for n in self.depends_on_nodes if not n.startswith("test.")]
        return candidates[-1] if candidates else None


def _node(raw: dict[str, Any]) -> Node:
    config = raw.get("config") or {}
    meta = {**(raw.get("meta") or {}), **(config.get("meta") or {})}
    test_metadata = raw.get("test_metadata") or {}
    kwargs = {k: v for k, v in (test_metadata.get("kwargs") or {}).items() if k != "model"}
    owner = raw.get("owner")
    depends_on = raw.get("depends_on") or {}
    resource_type = raw["resource_type"]
    return Node(
        unique_id=raw["unique_id"],
        resource_type=resource_type,
        name=raw["name"],
        package_name=raw.get("package_name") or "",
        original_path=raw.get("original_file_path") or "",
        path=raw.get("path") or "",
        database=raw.get("database"),
        schema=raw.get("schema"),
        relation=raw.get("identifier") if resource_type == "source" else raw.get("alias"),
        materialization=config.get("materialized"),
        description=raw.get("description") or "",
        tags=list(raw.get("tags") or config.get("tags") or []),
        meta=meta,
        group=raw.get("group") or config.get("group"),
        depends_on_nodes=list(depends_on.get("nodes") or []),
        depends_on_macros=list(depends_on.get("macros") or []),
        patch_path=raw.get("patch_path"),
        column_name=raw.get("column_name"),
        attached_node=raw.get("attached_node"),
        test_short_name=test_metadata.get("name"),
        test_namespace=test_metadata.get("namespace"),
        test_kwargs=kwargs,
        severity=config.get("severity"),
        source_name=raw.get("source_name"),
        loaded_at_field=raw.get("loaded_at_field"),
        freshness=raw.get("freshness") or {},
        relation_name=raw.get("relation_name"),
        owner=Owner(owner.get("name"), owner.get("email")) if isinstance(owner, dict) else None,
        label=raw.get("label"),
        url=raw.get("url"),
        exposure_type=raw.get("type") if resource_type == "exposure" else None,
        maturity=raw.get("maturity"),
        unique_key=config.get("unique_key"),
        strategy=config.get("strategy"),
    )


@dataclass(frozen=True)
class Manifest:
    project_name: str
    invocation_id: str
    dbt_version: str
    nodes: dict[str, Node]
    group_owners: dict[str, Owner]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = _load(path, "manifest")
        metadata = data["metadata"]
        nodes: dict[str, Node] = {}
        for section in ("nodes", "sources", "exposures"):
            for raw in (data.get(section) or {}).values():
                node = _node(raw)
                nodes[node.unique_id] = node
        groups = {
            g["name"]: Owner(
                (g.get("owner") or {}).get("name"), (g.get("owner") or {}).get("email")
            )
            for g in (data.get("groups") or {}).values()
        }
        return cls(
            project_name=metadata.get("project_name") or "",
            invocation_id=metadata.get("invocation_id") or "",
            dbt_version=metadata.get("dbt_version") or "",
            nodes=nodes,
            group_owners=groups,
        )

    def of_type(self, *resource_types: str) -> list[Node]:
        return sorted(
            (n for n in self.nodes.values() if n.resource_type in resource_types),
            key=lambda n: n.unique_id,
        )

    def owners(self, node: Node) -> list[str]:
        """Who owns a node, as people read it: the meta `owner` (a group name is
        shown as the group's owner name), else the node's group owner, else the
        exposure's owner."""
        raw = node.meta.get("owner")
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        owners = []
        for value in values:
            group = self.group_owners.get(str(value))
            owners.append(group.name if group and group.name else str(value))
        if not owners and node.group and node.group in self.group_owners:
            name = self.group_owners[node.group].name
            if name:
                owners.append(name)
        if not owners and node.owner and (node.owner.name or node.owner.email):
            owners.append(node.owner.name or node.owner.email or "")
        return owners


# --------------------------------------------------------------------------- run results


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    message: str | None
    failures: int | None
    execution_time: float | None
    started_at: datetime | None
    completed_at: datetime | None
    compiled_code: str | None
    rows_affected: int | None
    adapter_message: str | None


@dataclass(frozen=True)
class RunResults:
    invocation_id: str
    dbt_version: str
    command: str
    invocation_command: str | None
    selected: list[str]
    full_refresh: bool
    target: str | None
    started_at: datetime | None
    generated_at: datetime | None
    elapsed_time: float | None
    results: list[NodeResult]

    @classmethod
    def load(cls, path: Path) -> RunResults:
        data = _load(path, "run-results")
        metadata = data["metadata"]
        args = data.get("args") or {}
        results = []
        for entry in data.get("results") or []:
            started, completed = _timing(entry)
            response = entry.get("adapter_response") or {}
            results.append(
                NodeResult(
                    unique_id=entry["unique_id"],
                    status=str(entry.get("status")),
                    message=entry.get("message"),
                    failures=entry.get("failures"),
                    execution_time=entry.get("execution_time"),
                    started_at=started,
                    completed_at=completed,
                    compiled_code=entry.get("compiled_code"),
                    rows_affected=response.get("rows_affected"),
                    adapter_message=response.get("_message"),
                )
            )
        selected = args.get("select") or []
        return cls(
            invocation_id=metadata["invocation_id"],
            dbt_version=metadata.get("dbt_version") or "",
            command=str(args.get("which") or ""),
            invocation_command=args.get("invocation_command"),
            selected=list(selected) if isinstance(selected, list) else [str(selected)],
            full_refresh=bool(args.get("full_refresh")),
            target=args.get("target"),
            started_at=parse_ts(metadata.get("invocation_started_at")),
            generated_at=parse_ts(metadata.get("generated_at")),
            elapsed_time=data.get("elapsed_time"),
            results=results,
        )


# --------------------------------------------------------------------------- source freshness


@dataclass(frozen=True)
class FreshnessResult:
    unique_id: str
    status: str  # pass / warn / error (stale) / runtime error
    max_loaded_at: datetime | None
    snapshotted_at: datetime | None
    max_loaded_at_time_ago_in_s: float | None
    warn_after: dict[str, Any] | None
    error_after: dict[str, Any] | None
    filter: str | None
    error: str | None
    execution_time: float | None
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class SourcesResults:
    invocation_id: str
    dbt_version: str
    started_at: datetime | None
    generated_at: datetime | None
    elapsed_time: float | None
    results: list[FreshnessResult]

    @classmethod
    def load(cls, path: Path) -> SourcesResults:
        data = _load(path, "sources")
        metadata = data["metadata"]
        results = []
        for entry in data.get("results") or []:
            criteria = entry.get("criteria") or {}
            started, completed = _timing(entry)
            results.append(
                FreshnessResult(
                    unique_id=entry["unique_id"],
                    status=str(entry.get("status")),
                    max_loaded_at=parse_ts(entry.get("max_loaded_at")),
                    snapshotted_at=parse_ts(entry.get("snapshotted_at")),
                    max_loaded_at_time_ago_in_s=entry.get("max_loaded_at_time_ago_in_s"),
                    warn_after=criteria.get("warn_after"),
                    error_after=criteria.get("error_after"),
                    filter=criteria.get("filter"),
                    error=entry.get("error"),
                    execution_time=entry.get("execution_time"),
                    started_at=started,
                    completed_at=completed,
                )
            )
        return cls(
            invocation_id=metadata["invocation_id"],
            dbt_version=metadata.get("dbt_version") or "",
            started_at=parse_ts(metadata.get("invocation_started_at")),
            generated_at=parse_ts(metadata.get("generated_at")),
            elapsed_time=data.get("elapsed_time"),
            results=results,
        )


@dataclass(frozen=True)
class TargetArtifacts:
    """What one target directory holds: the manifest and the latest results."""

    manifest: Manifest
    run_results: RunResults | None
    sources: SourcesResults | None

    @classmethod
    def load(cls, target_dir: Path) -> TargetArtifacts:
        manifest = Manifest.load(target_dir / "manifest.json")
        run_path, sources_path = target_dir / "run_results.json", target_dir / "sources.json"
        run_results = RunResults.load(run_path) if run_path.exists() else None
        sources = SourcesResults.load(sources_path) if sources_path.exists() else None
        if run_results is None and sources is None:
            raise ArtifactError(
                f"{target_dir} holds neither run_results.json nor sources.json: "
                "run `dbt build` or `dbt source freshness` first"
            )
        return cls(manifest=manifest, run_results=run_results, sources=sources)

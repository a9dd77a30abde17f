"""Artifact readers on the real build's artifacts, and on damaged copies."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest

from prometheus.notifier import artifacts


def test_reads_the_real_build(fixtures):
    run = fixtures.run()
    assert run.manifest.schema_version == 12
    assert run.run_results.schema_version in (5, 6)
    assert run.run_results.command == "build"
    assert run.sources is None
    statuses = {r.status for r in run.run_results.results}
    assert {"pass", "fail", "skipped", "success"} <= statuses
    group = next(g for g in run.manifest.groups.values() if g.name == "data_engineering")
    assert group.original_file_path == "models/_groups.yml"
    assert group.meta["rotation"]["handoff_weekday"] == "monday"
    assert "exposure.prometheus.unit_level_profit_experiments" in run.manifest.exposures
    assert "source.prometheus.app.orders" in run.manifest.nodes


def sources_json(version: int, generated_at: str, invocation_id: str = "other") -> dict:
    return {
        "metadata": {"dbt_schema_version": f"https://schemas.getdbt.com/dbt/sources/v{version}.json",
                     "generated_at": generated_at, "invocation_id": invocation_id},
        "results": [{"unique_id": "source.prometheus.app.orders", "status": "error",
                     "max_loaded_at": "2024-06-30T18:00:00Z"}],
        "elapsed_time": 1.0,
    }  # fmt: skip


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
    fixtures, tmp_path, offset, same_invocation, used
):
    target = tmp_path / "target"
    shutil.copytree(fixtures.target, target, ignore=shutil.ignore_patterns("compiled", "run"))
    results = artifacts.read_run_results(target / "run_results.json")
    assert results.started_at is not None
    when = (results.started_at + offset).isoformat()
    invocation = results.invocation_id if same_invocation else "another-run"
    (target / "sources.json").write_text(json.dumps(sources_json(3, when, invocation or "")))
    run = artifacts.load_run(target)
    assert (run.sources is not None) is used
    assert bool(run.notes) is not used
    if used:
        from prometheus.notifier import routing

        problems = routing.find_problems(run)
        fresh = next(p for p in problems if p.unique_id == "source.prometheus.app.orders")
        assert fresh.message and "source freshness error" in fresh.message
        assert "exposure.prometheus.unit_level_profit_experiments" in fresh.exposures


def test_sources_json_of_an_unsupported_version_is_refused(fixtures, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    for name in ("manifest.json", "run_results.json"):
        shutil.copy(fixtures.target / name, target / name)
    (target / "sources.json").write_text(json.dumps(sources_json(1, "2024-01-01T00:00:00Z")))
    with pytest.raises(artifacts.ArtifactError, match="sources v1 is not supported"):
        artifacts.load_run(target)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "metadata.dbt_schema_version is missing"),
        ({"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
         "is not a manifest schema"),
    ],
)  # fmt: skip
def test_schema_version_is_checked(tmp_path, metadata, message):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"metadata": metadata}))
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.read_manifest(path)


def test_missing_target_dir(tmp_path):
    with pytest.raises(artifacts.ArtifactError, match="target directory not found"):
        artifacts.load_run(tmp_path / "nope")

"""dbt docs a newcomer can start from: the project's overview page, and each
exposure's description ending with its owners, watchers and common issues as
written from its meta (docs/dbt/exposures.md is checked against the YAML here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prometheus.artifacts import Manifest, read_manifest
from prometheus.observability.descriptions import exposure_meta_markdown

from dbt_harness import dbt, dbt_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, dict[str, Any]]:
    root = tmp_path_factory.mktemp("parse")
    target = root / "target"
    done = dbt(["parse", "--quiet"], dbt_env(root / "raw", root / "wh.duckdb"), target)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    path = Path(target) / "manifest.json"
    return read_manifest(path), json.loads(path.read_text(encoding="utf-8"))


def test_the_overview_is_the_projects(parsed: tuple[Manifest, dict[str, Any]]) -> None:
    _, raw = parsed
    overview = raw["docs"]["doc.prometheus.__overview__"]["block_contents"]
    for needed in (
        "The five pipelines",
        "On call",
        "Following one pipeline",
        "#data-eng-oncall",
        "+exposure:aggregate_profit_investors",
    ):
        assert needed in overview
    manifest, _ = parsed
    for exposure in manifest.of_type("exposure"):
        assert exposure.label and exposure.label in overview  # every pipeline is listed


def test_every_exposure_description_renders_its_meta(
    parsed: tuple[Manifest, dict[str, Any]],
) -> None:
    manifest, _ = parsed
    exposures = manifest.of_type("exposure")
    assert len(exposures) == 5
    for exposure in exposures:
        meta = exposure_meta_markdown(manifest, exposure)
        assert "**Owner:**" in meta and "**Watchers:**" in meta and "**Common issues:**" in meta
        assert exposure.description.strip().endswith(meta), (
            f"{exposure.name}: docs/dbt/exposures.md no longer matches its config.meta; "
            "regenerate the block from exposure_meta_markdown"
        )
        assert "{" not in exposure.description  # no raw JSON, no unrendered jinja


def test_every_test_of_the_project_says_what_why_and_what_to_do(
    parsed: tuple[Manifest, dict[str, Any]],
) -> None:
    from prometheus.observability.descriptions import BUILTIN_TESTS, test_description

    manifest, _ = parsed
    tests = manifest.of_type("test")
    assert len(tests) > 150
    used = {t.test_short_name for t in tests if t.test_short_name}
    assert used <= set(manifest.test_macros) | set(BUILTIN_TESTS)  # every generic test known
    for name, macro in manifest.test_macros.items():
        assert macro.description and macro.meta.get("what_to_do"), name
    for test in tests:
        text = test_description(manifest, test)
        assert text.startswith("What it checks:") and "Why:" in text, test.name
        assert "What to do:" in text, test.name
        macro = manifest.test_macros.get(test.test_short_name or "")
        if macro is not None and not test.description:
            assert str(macro.meta["what_to_do"]) in text
    own = [t for t in tests if t.description]
    assert {t.name for t in own if t.test_kind == "singular"} == {
        t.name for t in tests if t.test_kind == "singular"
    }

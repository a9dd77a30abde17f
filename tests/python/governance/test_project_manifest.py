"""Rules checked on the real project's manifest (`dbt parse`, no build).

- the publication gate holds: every blocking test on an audited model's
  inputs holds back the marts built from it (prometheus.governance.gates);
- every data test that Python code or the docs name has an explicit
  `name:` (or is a singular test, named by its file), so changing a threshold
  cannot silently rename it.
"""

from __future__ import annotations

import re

import pytest

from prometheus.artifacts import Manifest, read_manifest
from prometheus.governance import gates

from dbt_harness import REPO_ROOT, dbt, dbt_env

# where people and code refer to tests by name
REFERRING = ["src", "tests/python", "docs", "README.md", "scripts"]
DECLARING = ["models", "snapshots", "seeds", "data-tests"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    root = tmp_path_factory.mktemp("parse")
    result = dbt(["parse"], dbt_env(root / "raw", root / "p.duckdb"), root / "target")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return read_manifest(root / "target" / "manifest.json")


def _texts(paths: list[str], suffixes: tuple[str, ...]) -> str:
    found = []
    for name in paths:
        path = REPO_ROOT / name
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        found += [f.read_text() for f in files if f.is_file() and f.suffix in suffixes]
    return "\n".join(found)


def explicit_names(yaml_text: str) -> set[str]:
    """Every `name: <identifier>` line of YAML text (models' and tests' names)."""
    return set(re.findall(r"^\s*-?\s*name:\s*([A-Za-z0-9_]+)\s*$", yaml_text, re.MULTILINE))


def test_the_publication_gate_holds_for_every_investor_mart(manifest: Manifest) -> None:
    protected = gates.protected_marts(manifest)
    assert len(protected) >= 4, sorted(protected)
    gaps = [g.describe() for g in gates.gate_gaps(manifest)]
    assert not gaps, "\n".join(gaps)
    assert not gates.unexplained_partials(manifest)


def test_tests_named_in_code_and_docs_have_explicit_names(manifest: Manifest) -> None:
    referring = _texts(REFERRING, (".py", ".md", ".sh", ".yml"))
    declaring = _texts(DECLARING, (".yml",))
    explicit = explicit_names(declaring)
    tests = [t for t in manifest.of_type("test") if t.package_name == "prometheus"]
    assert len(tests) > 100
    referred = [t for t in tests if re.search(rf"\b{re.escape(t.name)}\b", referring)]
    assert referred, "no test is named anywhere: the search is broken"
    generated = sorted(
        t.name for t in referred if t.test_kind == "generic" and t.name not in explicit
    )
    assert not generated, (
        "give these tests an explicit `name:` in their YAML (their generated names "
        f"change with their arguments): {generated}"
    )


def test_explicit_names_are_the_name_lines_only() -> None:
    declaring = "data_tests:\n  - not_null\n  - unique:\n      name: unique_orders_id\n"
    assert explicit_names(declaring) == {"unique_orders_id"}


def test_contract_and_seed_types_are_accepted_by_both_engines() -> None:
    """Spark 4 refuses `varchar` without a length; `string` works on DuckDB and Spark."""
    declaring = _texts(["models", "seeds", "snapshots"], (".yml",))
    bare = re.findall(r"^\s*(?:data_type|[a-z_]+):\s*varchar\s*$", declaring, re.MULTILINE)
    assert not bare, f"use `string`, not a bare varchar: {bare[:5]}"

"""Every generic test in data-tests/generic/ against literal rows, with known outcomes.

`project/` is a tiny dbt project whose models are literal rows and whose
YAML applies the generic tests in named cases: `expect_pass__...`,
`expect_fail__...` and `expect_warn__...`. It lies outside the main
project's `test-paths` (`data-tests/`), so the main project never reads it.

The fixture mirrors the repository layout in a temporary directory (the
project copied; `data-tests/generic` and `macros` linked to the real ones,
so the project's `macro-paths` of `../../../../data-tests/generic` and
`../../../../macros` resolve), runs one `dbt build`, and the tests read its
run_results.json and manifest.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PROJECT_SRC = HERE / "project"
PROJECT_REL = PROJECT_SRC.relative_to(REPO_ROOT)
GENERIC_DIR = REPO_ROOT / "data-tests" / "generic"
DBT_TIMEOUT_S = 300

# prefix of a case's name -> the status run_results.json must report
EXPECTED_STATUS = {"expect_pass": "pass", "expect_fail": "fail", "expect_warn": "warn"}


@dataclass(frozen=True)
class Case:
    name: str  # expect_<outcome>__<generic test>__<what>
    generic_test: str  # test_metadata.name from the manifest
    status: str  # from run_results.json
    message: str | None

    @property
    def expected_status(self) -> str:
        return EXPECTED_STATUS[self.name.split("__", 1)[0]]


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    cases: dict[str, Case]
    model_statuses: dict[str, str]


def mirror_project(root: Path) -> Path:
    """Copy project/ under root at its repo path; link the generic tests and macros."""
    project = root / PROJECT_REL
    for source in PROJECT_SRC.rglob("*"):
        if source.is_dir():
            continue
        target = project / source.relative_to(PROJECT_SRC)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (root / "data-tests").mkdir()
    (root / "data-tests" / "generic").symlink_to(GENERIC_DIR, target_is_directory=True)
    (root / "macros").symlink_to(REPO_ROOT / "macros", target_is_directory=True)
    return project


def read_build(target_dir: Path) -> tuple[dict[str, Case], dict[str, str]]:
    manifest = json.loads((target_dir / "manifest.json").read_text())
    run_results = json.loads((target_dir / "run_results.json").read_text())
    cases: dict[str, Case] = {}
    models: dict[str, str] = {}
    for result in run_results["results"]:
        node = manifest["nodes"][result["unique_id"]]
        if node["resource_type"] == "test":
            cases[node["name"]] = Case(
                name=node["name"],
                generic_test=(node.get("test_metadata") or {}).get("name", ""),
                status=result["status"],
                message=result.get("message"),
            )
        else:
            models[node["name"]] = result["status"]
    return cases, models


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = tmp_path_factory.mktemp("generic_tests")
    project = mirror_project(root / "repo")
    target_dir = root / "target"
    env = dict(os.environ)
    env.update(
        {
            "GENERIC_TESTS_DUCKDB_PATH": str(root / "generic_tests.duckdb"),
            "DBT_PROFILES_DIR": str(project),
            "DO_NOT_TRACK": "1",
        }
    )
    dbt_bin = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [
            str(dbt_bin),
            "build",
            "--project-dir",
            str(project),
            "--target-path",
            str(target_dir),
            "--log-path",
            str(root / "logs"),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=DBT_TIMEOUT_S,
    )
    output = completed.stdout + completed.stderr
    if not (target_dir / "run_results.json").exists():
        pytest.fail(f"dbt build wrote no run_results.json:\n{output[-5000:]}")
    cases, models = read_build(target_dir)
    return Build(completed.returncode, output, cases, models)


def generic_test_names() -> list[str]:
    return sorted(path.stem for path in GENERIC_DIR.glob("*.sql"))


def test_every_literal_model_builds(build: Build) -> None:
    broken = {name: status for name, status in build.model_statuses.items() if status != "success"}
    assert build.model_statuses, "no models ran"
    assert not broken, broken


def test_every_test_is_a_named_case(build: Build) -> None:
    unnamed = [name for name in build.cases if name.split("__", 1)[0] not in EXPECTED_STATUS]
    assert build.cases, "no tests ran"
    assert not unnamed, f"tests without an expect_pass/fail/warn name: {unnamed}"


def test_case_names_match_their_generic_test(build: Build) -> None:
    mismatched = {
        case.name: case.generic_test
        for case in build.cases.values()
        if case.name.split("__")[1] != case.generic_test
    }
    assert not mismatched, mismatched


def test_every_case_has_its_expected_outcome(build: Build) -> None:
    wrong = [
        f"{case.name}: expected {case.expected_status}, got {case.status} ({case.message})"
        for case in sorted(build.cases.values(), key=lambda case: case.name)
        if case.status != case.expected_status
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("generic_test", generic_test_names())
def test_generic_test_has_pass_and_fail_cases(build: Build, generic_test: str) -> None:
    outcomes: dict[str, set[str]] = defaultdict(set)
    for case in build.cases.values():
        outcomes[case.generic_test].add(case.name.split("__", 1)[0])
    assert {"expect_pass", "expect_fail"} <= outcomes[generic_test], (
        f"{generic_test} needs at least one expect_pass and one expect_fail case "
        f"in {PROJECT_REL}/models/_cases.yml (has {sorted(outcomes[generic_test])})"
    )


def test_generic_tests_are_documented() -> None:
    documented = (GENERIC_DIR / "_generic_tests.yml").read_text()
    missing = [name for name in generic_test_names() if f"name: test_{name}\n" not in documented]
    assert not missing, f"no entry in data-tests/generic/_generic_tests.yml for {missing}"

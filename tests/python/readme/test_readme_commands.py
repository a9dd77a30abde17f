"""The commands README.md and the main job print run as printed, from a fresh clone.

The commands come from the README code block marked
``<!-- readme-commands: after-main -->``, so the test follows the README: a
changed command is run as changed, a removed block fails. They run in a copy
of the project's files (what a clone has: nothing beside it, no warehouse),
whose warehouse is the session's clean build published with
``prometheus publish``, with no PROMETHEUS_* variable set and nothing added to
the PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dbt_harness import REPO_ROOT, Build

pytestmark = pytest.mark.slow

MARKER = "<!-- readme-commands: after-main -->"


def readme_commands(text: str) -> list[str]:
    """The lines of the bash block right after the marker."""
    match = re.search(re.escape(MARKER) + r"\s*```bash\n(.*?)```", text, re.S)
    assert match, f"README.md has no ```bash block after {MARKER}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def main_job_commands(script: str) -> list[str]:
    """The `.venv/bin/...` commands the main job's summary prints."""
    summary = script[script.index("cat <<TXT") : script.index("\nTXT\n")]
    return [m.group(0).strip() for m in re.finditer(r"\.venv/bin/.*$", summary, re.M)]


def test_the_main_job_prints_only_commands_the_readme_has() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    printed = main_job_commands((REPO_ROOT / "scripts/main.sh").read_text())
    assert len(printed) >= 5
    for command in printed:
        assert command in readme, f"main.sh prints a command README.md lacks: {command}"


@pytest.fixture(scope="module")
def clone(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files as a clone has them, with the main job's outputs in place."""
    assert clean_build.returncode == 0, clean_build.output[-3000:]
    root = tmp_path_factory.mktemp("fresh") / "prometheus"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, files):
        source = REPO_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    # what the main job leaves: the environment, the build's manifest, the publication
    (root / ".venv").symlink_to(Path(sys.executable).parents[1])
    (root / "target").mkdir()
    shutil.copy2(clean_build.target_dir / "manifest.json", root / "target/manifest.json")
    published = subprocess.run(
        [str(root / ".venv/bin/prometheus"), "publish", "--target-dir",
         str(clean_build.target_dir), "--duckdb-path", str(clean_build.duckdb_path)],
        cwd=root, env=_plain_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    assert (root / "warehouse/published.duckdb").is_file()
    assert not (root.parent / "shared").exists()
    return root


def _plain_env() -> dict[str, str]:
    """A login shell's environment: no project variable, no .venv or .tools on the PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p and ".tools" not in p
    )
    return env


COMMANDS = readme_commands((REPO_ROOT / "README.md").read_text())


def test_the_readme_block_has_the_analyst_commands() -> None:
    assert len(COMMANDS) >= 4
    assert any(c.startswith(".venv/bin/duckdb") for c in COMMANDS)
    assert any(c.startswith(".venv/bin/dbt show") for c in COMMANDS)
    assert any(c.startswith(".venv/bin/python -c") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_as_printed(clone: Path, command: str) -> None:
    result = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=_plain_env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Error" not in output and "command not found" not in output, output[-3000:]
    if "fct_growth_monthly" in command or "fct_profit_monthly" in command:
        # the clean build's last month (its data ends 2024-09-30) is in what was printed
        assert "2024-09-01" in result.stdout, output[-3000:]
    if "oncall" in command:
        assert result.stdout.count("on call now:") == 5, output[-3000:]


def test_the_make_targets_the_main_job_prints_exist(clone: Path) -> None:
    """`make lint` and `make docs`: the targets exist and call the project's scripts, not a
    bare `uv` (which a fresh machine's PATH lacks); running them is the lint job's part."""
    summary = (REPO_ROOT / "scripts/main.sh").read_text()
    targets = re.findall(r"\bmake (\w+)", summary[summary.index("cat <<TXT") :])
    assert set(targets) == {"lint", "docs"}
    result = subprocess.run(
        ["make", "-n", *targets], cwd=clone, env=_plain_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    recipes = result.stdout.splitlines()
    assert recipes == ["bash scripts/lint.sh", "bash scripts/uv run dbt docs generate --static"]

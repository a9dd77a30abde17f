"""One default for the published copy: settings, dbt's `published` target, the main job, README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from prometheus import settings

from dbt_harness import REPO_ROOT

DEFAULT = settings.DEFAULTS["PROMETHEUS_PUBLISHED_PATH"]


def test_settings_reads_the_variable() -> None:
    assert settings.load({}).published_path.as_posix() == DEFAULT
    assert settings.load(
        {"PROMETHEUS_PUBLISHED_PATH": "/x/p.duckdb"}
    ).published_path.as_posix() == ("/x/p.duckdb")


def test_dbt_main_job_and_readme_agree_with_settings() -> None:
    profiles = (REPO_ROOT / "profiles.yml").read_text()
    assert re.findall(r"env_var\('PROMETHEUS_PUBLISHED_PATH', '([^']+)'\)", profiles) == [DEFAULT]
    published = profiles[profiles.index("    published:") :]
    assert "access_mode: READ_ONLY" in published
    main = (REPO_ROOT / "scripts/main.sh").read_text()
    assert f'PROMETHEUS_PUBLISHED_PATH="${{PROMETHEUS_PUBLISHED_PATH:-{DEFAULT}}}"' in main
    assert f"| `PROMETHEUS_PUBLISHED_PATH` | `{DEFAULT}` |" in (REPO_ROOT / "README.md").read_text()


def test_the_analysts_shell_is_the_builds_duckdb() -> None:
    """duckdb-cli from PyPI is pinned to the Python package's version: same storage format."""
    shell = Path(sys.executable).with_name("duckdb")
    version = subprocess.run([str(shell), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith(f"v{duckdb.__version__} ")

"""One default for the published copy: settings, dbt's `published` target, the main job, README."""

from __future__ import annotations

import re

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

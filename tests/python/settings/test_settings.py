"""prometheus.settings against the dbt side: the defaults cannot drift from profiles.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from prometheus import logs, settings
from prometheus.bench.floor import profile_settings
from prometheus.errors import CliError, SettingsError

REPO_ROOT = Path(__file__).resolve().parents[3]
# {{ env_var('NAME', 'default') }}, with either quote
ENV_VAR = re.compile(r"""env_var\(\s*(['"])(\w+)\1\s*,\s*(['"])(.*?)\3\s*\)""")


def env_var_defaults(text: str) -> list[tuple[str, str]]:
    return [(m.group(2), m.group(4)) for m in ENV_VAR.finditer(text)]


def dbt_yaml_files() -> list[Path]:
    return [REPO_ROOT / "profiles.yml", *sorted((REPO_ROOT / "models").rglob("*.yml"))]


def test_the_pattern_reads_env_var_defaults() -> None:
    text = """path: "{{ env_var('A_B', 'x/y.duckdb') }}" t: "{{ env_var("C", '2') | int }}" """
    assert env_var_defaults(text) == [("A_B", "x/y.duckdb"), ("C", "2")]


def test_profiles_yml_defaults_are_the_settings_defaults() -> None:
    found = env_var_defaults((REPO_ROOT / "profiles.yml").read_text())
    # the profile reads the warehouse path, the threads and both DuckDB settings
    assert {name for name, _ in found} >= {
        "PROMETHEUS_DUCKDB_PATH",
        "PROMETHEUS_DBT_THREADS",
        "PROMETHEUS_DUCKDB_MEMORY_LIMIT",
        "PROMETHEUS_DUCKDB_TEMP_DIR",
    }
    for name, default in found:
        assert name in settings.DEFAULTS, f"profiles.yml reads {name}, settings.py does not"
        assert settings.DEFAULTS[name] == default, (
            f"{name}: profiles.yml says {default!r}, settings.py {settings.DEFAULTS[name]!r}"
        )


def test_every_dbt_yaml_env_var_default_is_the_settings_default() -> None:
    found = {
        (path.name, *pair)
        for path in dbt_yaml_files()
        for pair in env_var_defaults(path.read_text())
    }
    assert any(name == "PROMETHEUS_RAW_DIR" for _, name, _ in found)  # the sources' location
    drifted = sorted(
        (file, name, default)
        for file, name, default in found
        if name.startswith("PROMETHEUS_") and settings.DEFAULTS.get(name) != default
    )
    assert drifted == []


def test_duckdb_config_is_what_the_profile_gives_duckdb() -> None:
    profile = yaml.safe_load((REPO_ROOT / "profiles.yml").read_text())
    options = profile["prometheus"]["outputs"]["dev"]["config_options"]
    config = settings.load({}).duckdb_config()
    assert set(config) == set(options)
    assert config["preserve_insertion_order"] is options["preserve_insertion_order"]
    # the floor benchmark opens DuckDB with exactly these
    assert profile_settings({}) == config


def test_defaults_and_overrides() -> None:
    default = settings.load({})
    assert default.duckdb_path == Path(settings.DEFAULTS["PROMETHEUS_DUCKDB_PATH"])
    assert default.dbt_threads == int(settings.DEFAULTS["PROMETHEUS_DBT_THREADS"])
    given = settings.load(
        {
            "PROMETHEUS_DUCKDB_TEMP_DIR": "/scratch",
            "PROMETHEUS_DBT_THREADS": "4",
            "PROMETHEUS_DUCKDB_MEMORY_LIMIT": "1GB",
        }
    )
    assert given.dbt_threads == 4
    assert given.duckdb_config() == {
        "memory_limit": "1GB",
        "temp_directory": "/scratch",
        "preserve_insertion_order": False,
    }


@pytest.mark.parametrize("value", ["abc", "2.5", "0", "-1"])
def test_bad_threads_name_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="PROMETHEUS_DBT_THREADS") as error:
        settings.load({"PROMETHEUS_DBT_THREADS": value})
    assert value.lstrip("-") in str(error.value)
    assert isinstance(error.value, CliError)  # printed without a traceback, exit code 2


def test_a_bad_setting_stops_a_command_with_exit_2(monkeypatch, capsys, tmp_path) -> None:
    from prometheus.cli import main

    monkeypatch.setenv("PROMETHEUS_DBT_THREADS", "abc")
    monkeypatch.chdir(tmp_path)
    assert main(["daily", "--target-dir", str(tmp_path / "target")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prometheus daily: error: PROMETHEUS_DBT_THREADS")
    assert "abc" in err


def test_daily_state_dir_defaults_to_the_setting(monkeypatch, capsys, tmp_path) -> None:
    from prometheus.cli import main

    not_a_dir = tmp_path / "state-file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("PROMETHEUS_STATE_DIR", str(not_a_dir))
    # stops before dbt: the state directory in force is a file
    assert main(["daily", "--target-dir", str(tmp_path / "target")]) == 2
    assert f"--state-dir {not_a_dir} exists and is not a directory" in capsys.readouterr().err


def test_log_level_from_the_setting(monkeypatch, capsys, tmp_path) -> None:
    from prometheus.cli import main

    assert settings.log_level({}) == "INFO"
    assert settings.log_level({"PROMETHEUS_LOG_LEVEL": "debug"}) == "DEBUG"
    monkeypatch.setenv("PROMETHEUS_LOG_LEVEL", "loud")
    assert main(["daily", "--target-dir", str(tmp_path / "target")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prometheus daily: error: PROMETHEUS_LOG_LEVEL must be one of")
    assert "'LOUD'" in err
    # one format; WARNING hides the info lines
    monkeypatch.setenv("PROMETHEUS_LOG_LEVEL", "warning")
    logs.setup("bench")
    log = logs.get("prometheus.bench.cli")
    log.info("hidden")
    log.warning("shown %s", 1)
    assert capsys.readouterr().err == "prometheus bench: warning: shown 1\n"

"""One settings module: every path and engine setting, from the environment with its default.

dbt reads the same variables in ``profiles.yml``; the defaults here and there
are checked against each other by a test (tests/python/settings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus.errors import SettingsError

# variable -> default; profiles.yml repeats only what dbt must read itself
DEFAULTS: dict[str, str] = {
    "PROMETHEUS_TARGET": "dev",
    "PROMETHEUS_RAW_DIR": "data/raw",
    "PROMETHEUS_DUCKDB_PATH": "warehouse/prometheus.duckdb",
    # the analysts' read-only copy of the public marts (`prometheus publish`)
    "PROMETHEUS_PUBLISHED_PATH": "warehouse/published.duckdb",
    "PROMETHEUS_DUCKDB_MEMORY_LIMIT": "4GB",
    "PROMETHEUS_DUCKDB_TEMP_DIR": "warehouse/tmp",
    "PROMETHEUS_DBT_THREADS": "2",
    "PROMETHEUS_STATE_DIR": "warehouse/state",
    "PROMETHEUS_TARGET_DIR": "target",
    "PROMETHEUS_LOG_LEVEL": "INFO",
    # the spark target (profiles.yml, docs/spark.md)
    "PROMETHEUS_SPARK_DIR": "warehouse/spark",
    "PROMETHEUS_SPARK_CORES": "2",
    "PROMETHEUS_SPARK_DRIVER_MEMORY": "2g",
    "PROMETHEUS_SPARK_SHUFFLE_PARTITIONS": "4",
    "PROMETHEUS_SPARK_FILE_FORMAT": "parquet",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    target: str
    raw_dir: Path
    duckdb_path: Path
    published_path: Path
    duckdb_memory_limit: str
    duckdb_temp_dir: Path
    dbt_threads: int
    state_dir: Path
    target_dir: Path
    log_level: str
    spark_dir: Path
    spark_cores: str
    spark_driver_memory: str
    spark_shuffle_partitions: str

    def duckdb_config(self) -> dict[str, str | bool]:
        """What dbt's profile gives DuckDB at connect, for code that opens the file itself."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "temp_directory": str(self.duckdb_temp_dir),
            "preserve_insertion_order": False,
        }


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name) or DEFAULTS[name]


def log_level(env: Mapping[str, str] | None = None) -> str:
    """PROMETHEUS_LOG_LEVEL, upper case; read alone, as logging is set up before the rest."""
    env = os.environ if env is None else env
    level = _get(env, "PROMETHEUS_LOG_LEVEL").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"PROMETHEUS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}"
        )
    return level


def load(env: Mapping[str, str] | None = None) -> Settings:
    """The settings in force, from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    threads_text = _get(env, "PROMETHEUS_DBT_THREADS")
    try:
        threads = int(threads_text)
    except ValueError:
        raise SettingsError(
            f"PROMETHEUS_DBT_THREADS must be a whole number, got {threads_text!r}"
        ) from None
    if threads < 1:
        raise SettingsError(f"PROMETHEUS_DBT_THREADS must be at least 1, got {threads}")
    return Settings(
        target=_get(env, "PROMETHEUS_TARGET"),
        raw_dir=Path(_get(env, "PROMETHEUS_RAW_DIR")),
        duckdb_path=Path(_get(env, "PROMETHEUS_DUCKDB_PATH")),
        published_path=Path(_get(env, "PROMETHEUS_PUBLISHED_PATH")),
        duckdb_memory_limit=_get(env, "PROMETHEUS_DUCKDB_MEMORY_LIMIT"),
        duckdb_temp_dir=Path(_get(env, "PROMETHEUS_DUCKDB_TEMP_DIR")),
        dbt_threads=threads,
        state_dir=Path(_get(env, "PROMETHEUS_STATE_DIR")),
        target_dir=Path(_get(env, "PROMETHEUS_TARGET_DIR")),
        log_level=log_level(env),
        spark_dir=Path(_get(env, "PROMETHEUS_SPARK_DIR")),
        spark_cores=_get(env, "PROMETHEUS_SPARK_CORES"),
        spark_driver_memory=_get(env, "PROMETHEUS_SPARK_DRIVER_MEMORY"),
        spark_shuffle_partitions=_get(env, "PROMETHEUS_SPARK_SHUFFLE_PARTITIONS"),
    )

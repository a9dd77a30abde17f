"""Helpers to generate data and run the real dbt project from tests.

Imported by tests as ``dbt_harness`` (tests/python is on sys.path).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# small but complete: two calendar quarters filed, refunds crossing months
CLEAN_ARGS = ["--scale", "0.01", "--seed", "11", "--start", "2024-01-01", "--end", "2024-09-30"]
CLEAN_AS_OF = "2024-10-01T06:00:00"


LOOPBACK_ONLY = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}


@dataclass(frozen=True)
class Build:
    raw_dir: Path
    duckdb_path: Path
    target_dir: Path
    returncode: int
    output: str

    def env(self) -> dict[str, str]:
        return dbt_env(self.raw_dir, self.duckdb_path)


def dbt_env(raw_dir: Path, duckdb_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PROMETHEUS_RAW_DIR": str(raw_dir),
            "PROMETHEUS_DUCKDB_PATH": str(duckdb_path),
            "PROMETHEUS_DUCKDB_TEMP_DIR": str(duckdb_path.parent / "tmp"),
            "DO_NOT_TRACK": "1",
            # nothing a test runs may reach past this machine: `mf` asks PyPI for a
            # newer version on every run, so a proxy on a closed loopback port
            # refuses that at once (connection refused, the check gives up quietly)
            **LOOPBACK_ONLY,
        }
    )
    return env


def generate(raw_dir: Path, args: list[str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "prometheus.cli", "generate", *args, "--out", str(raw_dir)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def dbt(
    command: list[str], env: dict[str, str], target_dir: Path, timeout: int = 900
) -> subprocess.CompletedProcess:
    dbt_bin = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt_bin), *command, "--target-path", str(target_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

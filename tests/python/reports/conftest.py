"""The pack and the readouts, written once per session from the clean build."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dbt_harness import REPO_ROOT, Build

EXPERIMENTS = ("exp_checkout_redesign", "exp_free_shipping_banner", "exp_search_ranking_v2")
CLEAN_LAST_CLOSED = "2024-08"


def prometheus(build: Build, *args: str) -> subprocess.CompletedProcess[str]:
    """A `prometheus` command on the clean build's file and artifacts."""
    return subprocess.run(
        [sys.executable, "-m", "prometheus.cli", *args],
        cwd=REPO_ROOT,
        env=build.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def on_build(build: Build) -> list[str]:
    return ["--duckdb", str(build.duckdb_path), "--target-dir", str(build.target_dir)]


@dataclass(frozen=True)
class Pages:
    pack: Path
    readouts: dict[str, Path]
    pack_stdout: str


@pytest.fixture(scope="session")
def pages(clean_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Pages:
    out = tmp_path_factory.mktemp("report_pages")
    pack = out / "pack.html"
    done = prometheus(clean_build, "pack", *on_build(clean_build), "--out", str(pack))
    assert done.returncode == 0, done.stderr
    readouts = {}
    for experiment in EXPERIMENTS:
        path = out / f"readout-{experiment}.html"
        ran = prometheus(
            clean_build, "readout", "--experiment", experiment, *on_build(clean_build),
            "--out", str(path),
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        readouts[experiment] = path
    return Pages(pack, readouts, done.stdout)


def cells(html: str, row_attr: str) -> dict[str, dict[str, str]]:
    """Row key -> column -> the exact value a page's table carries (data-value)."""
    found: dict[str, dict[str, str]] = {}
    for key, row in re.findall(rf'<tr {row_attr}="([^"]+)">(.*?)</tr>', html, re.S):
        found[key] = dict(re.findall(r'<td data-col="(\w+)"[^>]*data-value="([^"]*)"', row))
    return found


def mart(build: Build, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(build.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()

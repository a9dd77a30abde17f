"""Helpers of the pack and readout tests: run `prometheus` on a build, read a page's cells.

Imported as ``report_pages`` (each test folder is on sys.path, like ``tiny_dbt``)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dbt_harness import REPO_ROOT, Build

EXPERIMENTS = ("exp_checkout_redesign", "exp_free_shipping_banner", "exp_search_ranking_v2")
CLEAN_LAST_CLOSED = "2024-08"


def prometheus(build: Build, *args: str) -> subprocess.CompletedProcess[str]:
    """A `prometheus` command on the clean build's file and artifacts."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("prometheus")), *args],
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


def cells(html: str, row_attr: str) -> dict[str, dict[str, str]]:
    """Row key -> column -> the exact value a page's table carries (data-value)."""
    found: dict[str, dict[str, str]] = {}
    for key, row in re.findall(rf'<tr {row_attr}="([^"]+)">(.*?)</tr>', html, re.S):
        found[key] = dict(re.findall(r'<td data-col="(\w+)"[^>]*data-value="([^"]*)"', row))
    return found


def mart(build: Build, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(build.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()

"""`prometheus report build` and `prometheus report serve` on the tiny project's history."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tiny_dbt import DATA_TESTS, TinyRuns

from prometheus.cli import main

HTTP_TIMEOUT_S = 10


def _data(html: str) -> dict:
    match = re.search(r"atob\('([^']*)'\)", html)
    assert match
    return json.loads(base64.b64decode(match.group(1)))


def build(tiny_runs: TinyRuns, out: Path, *extra: str) -> int:
    return main(
        [
            "report",
            "build",
            "--target-dir",
            str(tiny_runs.failing.target_dir),
            "--duckdb-path",
            str(tiny_runs.db_path),
            "--out",
            str(out),
            *extra,
        ]
    )


def test_build_writes_the_report_and_says_where(
    tiny_runs: TinyRuns, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "report" / "index.html"
    assert build(tiny_runs, out, "--runs", "1") == 0
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed
    assert f"{DATA_TESTS} tests" in printed
    data = _data(out.read_text(encoding="utf-8"))
    assert len(data["tests"]) == DATA_TESTS
    assert data["env"]["env"] == "dev"
    test_runs = [run for runs in data["test_runs"].values() for run in runs]
    assert test_runs
    # --runs 1: each test shows its latest run only
    assert all(len(run["test_runs"]["invocations"]) == 1 for run in test_runs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "report.txt"], "--out must end with .html"),
        (["--runs", "0"], "at least 1"),
        (["--target-dir", "/nonexistent"], "manifest.json: not found"),
        (["--duckdb-path", "/nonexistent/wh.duckdb"], "does not exist"),
    ],
)
def test_build_errors_are_user_errors(
    tiny_runs: TinyRuns,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    args: list[str],
    message: str,
) -> None:
    base = {
        "--target-dir": str(tiny_runs.failing.target_dir),
        "--duckdb-path": str(tiny_runs.db_path),
        "--out": str(tmp_path / "index.html"),
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code = main(["report", "build", *[x for kv in base.items() for x in kv]])
    assert code == 2
    assert message in capsys.readouterr().err


def test_serve_refuses_a_directory_without_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["report", "serve", "--dir", str(tmp_path), "--port", "0"]) == 2
    assert "report build" in capsys.readouterr().err


def test_serve_serves_the_report_on_localhost_only(tiny_runs: TinyRuns, tmp_path: Path) -> None:
    out = tmp_path / "index.html"
    assert build(tiny_runs, out) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "prometheus.cli", "report", "serve", "--dir", str(tmp_path)]
        + ["--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:(\d+)/)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1), timeout=HTTP_TIMEOUT_S) as response:
            page = response.read().decode("utf-8")
            assert response.headers["Cache-Control"] == "no-store"
        assert page == out.read_text(encoding="utf-8")
        # bound to 127.0.0.1: nothing listens on the machine's other addresses
        port_hex = f"{int(match.group(2)):04X}"
        sockets = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        listening = [s[1] for s in sockets if s[1].endswith(":" + port_hex) and s[3] == "0A"]
        assert listening == ["0100007F:" + port_hex]  # 0A: LISTEN, on 127.0.0.1 only
    finally:
        proc.terminate()
        proc.wait(timeout=HTTP_TIMEOUT_S)

"""The probe measures a real child process: time, peak memory, exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prometheus.bench.probe import max_rss_mb


def test_max_rss_is_in_megabytes() -> None:
    expected = 2.0 if sys.platform != "darwin" else 2048 / 1024 / 1024
    assert max_rss_mb(2048) == round(expected, 1)


def probe(tmp_path: Path, *command: str) -> dict:
    result, log = tmp_path / "r.json", tmp_path / "r.log"
    subprocess.run(
        [sys.executable, "-m", "prometheus.bench.probe", str(result), str(log), "--", *command],
        check=True,
    )
    return json.loads(result.read_text())


def test_probe_sees_the_childs_memory_and_exit_code(tmp_path: Path) -> None:
    # 200 MB held by the child: its peak resident set is at least that
    grab = (
        "x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); raise SystemExit(3)"
    )
    figures = probe(tmp_path, sys.executable, "-c", grab)
    assert figures["returncode"] == 3
    assert figures["max_rss_mb"] >= 200
    assert figures["wall_s"] > 0


def test_probe_rejects_a_bad_call(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prometheus.bench.probe", "only-one"], capture_output=True
    )
    assert done.returncode == 2

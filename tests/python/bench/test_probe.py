"""The probe measures a real child process: time, peak memory, exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prometheus.bench.probe import descendants, max_rss_mb, parse_rss_kb, parse_stat, peak_by_kind


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


STAT = "4242 (java) S 4100 4242 4100 0 -1 4194560 73 0 0 0 5 1 0 0 20 0 41 0 9999 123 456"
STATUS = "Name:\tjava\nVmPeak:\t 999 kB\nVmRSS:\t  204800 kB\nThreads:\t41\n"


def test_proc_files_are_read_for_parent_name_and_memory() -> None:
    assert parse_stat(STAT) == (4100, "java")
    # a command name with spaces and parentheses is read to its last ')'
    assert parse_stat("7 (a (b) c) R 3 7 7 0") == (3, "a (b) c")
    assert parse_rss_kb(STATUS) == 204800
    assert parse_rss_kb("Name:\tzombie\nState:\tZ\n") == 0


def test_descendants_follow_the_parent_chain() -> None:
    parents = {10: 1, 11: 10, 12: 11, 13: 1, 14: 13}
    assert descendants(10, parents) == {10, 11, 12}
    assert descendants(13, parents) == {13, 14}


def test_peaks_are_kept_per_kind() -> None:
    peaks: dict[str, float] = {}
    peak_by_kind([("java", 2048), ("python3", 1024)], peaks)
    peak_by_kind([("java", 1024), ("dbt", 4096)], peaks)
    assert peaks == {"jvm": 2.0, "python": 4.0}


def test_an_orphan_is_waited_for_and_its_memory_counted(tmp_path: Path) -> None:
    # the child starts a grandchild holding 150 MB and exits at once, without waiting
    # for it (as dbt leaves pyspark's JVM): the probe adopts, samples and reaps it
    grandchild = (
        "import time; x = bytearray(150 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); "
        "time.sleep(1.5)"
    )
    parent = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {grandchild!r}])"
    figures = probe(tmp_path, sys.executable, "-c", parent)
    assert figures["returncode"] == 0
    assert figures["wall_s"] >= 1.5  # the orphan was waited for
    assert figures["max_rss_mb"] >= 150  # and its rusage counted
    assert figures["peak_mb_by_kind"]["python"] >= 150  # and sampled

"""Run one command and measure it: wall time and peak memory.

``python -m prometheus.bench.probe RESULT.json LOG -- COMMAND ...`` runs the
command (output to LOG), waits for it, and writes ``{"wall_s", "max_rss_mb",
"returncode", "cpu_s", "peak_mb_by_kind"}`` to RESULT.json. The probe is a
fresh process per step, so ``getrusage(RUSAGE_CHILDREN)`` holds only this
command's tree: the peak resident set of its largest process (dbt and DuckDB
share one process).

A process its parent never waits for (the JVM that pyspark starts for
dbt-spark's ``session`` method outlives dbt by a moment) would be missing from
``RUSAGE_CHILDREN``: on Linux the probe is a child subreaper, so such orphans
become its children and are waited for (``ORPHAN_WAIT_S`` at most, then
killed), and their CPU time and memory count. The probe also samples the
command's process tree in /proc every ``SAMPLE_INTERVAL_S`` and keeps each
kind's peak resident set: ``jvm`` (the Spark driver) and ``python`` (dbt and
everything else), in MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from prometheus import logs

log = logs.get(__name__)


def max_rss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux (bytes on macOS)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(ru_maxrss / scale, 1)


SAMPLE_INTERVAL_S = 0.2
ORPHAN_WAIT_S = 60.0
PROC = Path("/proc")
_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def _reap_orphans(timeout_s: float, peaks: dict[str, float]) -> None:
    """Wait for the orphans adopted meanwhile (sampled until they end); kill what is
    left after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        processes = _processes()
        peak_by_kind(_tree_rss(os.getpid(), processes), peaks)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if time.monotonic() > deadline:
            for orphan, (ppid, _) in processes.items():
                if ppid == os.getpid():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(orphan, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(SAMPLE_INTERVAL_S)


def parse_stat(stat: str) -> tuple[int, str]:
    """(parent pid, command name) from the text of /proc/<pid>/stat."""
    name_start, name_end = stat.index("("), stat.rindex(")")
    return int(stat[name_end + 2 :].split()[1]), stat[name_start + 1 : name_end]


def parse_rss_kb(status: str) -> int:
    """VmRSS in KiB from the text of /proc/<pid>/status (0 for a zombie)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(root: int, parents: Mapping[int, int]) -> set[int]:
    """root and every process whose chain of parents leads to it."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def kind(command_name: str) -> str:
    return "jvm" if command_name == "java" else "python"


def peak_by_kind(samples: Iterable[tuple[str, int]], peaks: dict[str, float]) -> None:
    """Fold (command name, RSS KiB) samples of one moment into each kind's peak (MB)."""
    for name, rss_kb in samples:
        k = kind(name)
        peaks[k] = max(peaks.get(k, 0.0), round(rss_kb / 1024, 1))


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) of every live process, from /proc."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return found


def _tree_rss(root: int, processes: Mapping[int, tuple[int, str]]) -> list[tuple[str, int]]:
    """(command name, RSS KiB) of every process in root's tree, root excluded."""
    parents = {pid: ppid for pid, (ppid, _) in processes.items()}
    out = []
    for pid in descendants(root, parents) - {root}:
        try:
            out.append((processes[pid][1], parse_rss_kb((PROC / str(pid) / "status").read_text())))
        except (OSError, ValueError):
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or args[2] != "--":
        logs.setup("bench probe")
        log.error("usage: python -m prometheus.bench.probe RESULT.json LOG -- COMMAND ...")
        return 2
    result_path, log_path, command = Path(args[0]), Path(args[1]), args[3:]
    start = time.perf_counter()
    peaks: dict[str, float] = {}
    sample = _become_subreaper() and PROC.is_dir()
    with log_path.open("w") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        while child.poll() is None:
            if sample:
                # rooted at the probe: orphans adopted by it are sampled too
                peak_by_kind(_tree_rss(os.getpid(), _processes()), peaks)
            time.sleep(SAMPLE_INTERVAL_S)
        returncode = child.returncode
        if sample:
            _reap_orphans(ORPHAN_WAIT_S, peaks)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "wall_s": round(wall, 3),
        "max_rss_mb": max_rss_mb(usage.ru_maxrss),
        "returncode": returncode,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mb_by_kind": peaks,
    }
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run one command and measure it: wall time and peak memory.

``python -m prometheus.bench.probe RESULT.json LOG -- COMMAND ...`` runs the
command (output to LOG), waits for it, and writes ``{"wall_s", "max_rss_mb",
"returncode"}`` to RESULT.json. The probe is a fresh process per step, so
``getrusage(RUSAGE_CHILDREN)`` holds only this command's tree: the peak
resident set of its largest process (dbt and DuckDB share one process).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from prometheus import logs

log = logs.get(__name__)


def max_rss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux (bytes on macOS)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(ru_maxrss / scale, 1)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or args[2] != "--":
        logs.setup("bench probe")
        log.error("usage: python -m prometheus.bench.probe RESULT.json LOG -- COMMAND ...")
        return 2
    result_path, log_path, command = Path(args[0]), Path(args[1]), args[3:]
    start = time.perf_counter()
    with log_path.open("w") as out:
        returncode = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "wall_s": round(wall, 3),
        "max_rss_mb": max_rss_mb(usage.ru_maxrss),
        "returncode": returncode,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
    }
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

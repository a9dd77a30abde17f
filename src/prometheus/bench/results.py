"""Benchmark figures: steps, ratios, the issue's targets, the printed table.

Pure functions over plain data, so the benchmark's arithmetic and its
output are tested without running dbt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

# step names, in the order the benchmark runs them
GENERATE = "generate"
SPLIT = "split last day"
COMPILE = "dbt compile"
REGISTER = "register raw sources"  # Spark only: views over the raw files
BUILD = "dbt build (full)"
FLOOR = "floor: SQL on DuckDB"
TEST = "dbt test"
NOTIFY = "notify (dry run)"
REPORT = "report build"
INCREMENTAL = "incremental run (1 day)"

GB = 1024.0  # MB
_CLOCK = re.compile(r"(\d\d):(\d\d):(\d\d)")


def dbt_parse_seconds(log: str) -> float | None:
    """Seconds from dbt's first log line to "Found N models" (load and parse)."""
    first = found = None
    for line in log.splitlines():
        match = _CLOCK.search(line)
        if not match:
            continue
        h, m, s = (int(g) for g in match.groups())
        clock = h * 3600 + m * 60 + s
        if first is None and "Running with dbt" in line:
            first = clock
        if first is not None and "Found " in line:
            found = clock
            break
    if first is None or found is None:
        return None
    return float((found - first) % 86400)


@dataclass(frozen=True)
class Step:
    name: str
    wall_s: float
    max_rss_mb: float
    returncode: int
    cpu_s: float = 0.0
    note: str = ""
    # peak resident set per kind of process in the step's tree (probe's sampling):
    # the Spark driver's JVM, and Python (dbt, DuckDB, the CLI)
    jvm_mb: float = 0.0
    python_mb: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class Target:
    name: str
    limit: str
    measured: str
    met: bool | None  # None: not measured


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def by_name(steps: Sequence[Step]) -> dict[str, Step]:
    return {step.name: step for step in steps}


def ratios(steps: Sequence[Step]) -> dict[str, float | None]:
    """build/floor and incremental/build, from wall times."""
    named = by_name(steps)

    def wall(name: str) -> float | None:
        step = named.get(name)
        return step.wall_s if step is not None else None

    return {
        "build_over_floor": ratio(wall(BUILD), wall(FLOOR)),
        "incremental_over_build": ratio(wall(INCREMENTAL), wall(BUILD)),
    }


def targets(steps: Sequence[Step], scale: float) -> list[Target]:
    """The issue's targets (stated for scale 10; checked at any scale, labelled)."""
    named = by_name(steps)
    r = ratios(steps)
    out: list[Target] = []

    def check(name: str, limit: str, value: float | None, bound: float, fmt: str) -> None:
        measured = "-" if value is None else fmt.format(value)
        out.append(Target(name, limit, measured, None if value is None else value <= bound))

    check("build within 1.3x of the floor", "<= 1.30x", r["build_over_floor"], 1.3, "{:.2f}x")
    check(
        "one-day incremental vs full build",
        "<= 5 %",
        r["incremental_over_build"],
        0.05,
        "{:.1%}",
    )
    build = named.get(BUILD)
    check(
        "peak memory of the build",
        "< 6 GB",
        None if build is None else build.max_rss_mb / GB,
        6.0,
        "{:.2f} GB",
    )
    gen = named.get(GENERATE)
    check(
        "generator",
        "< 180 s",
        None if gen is None else gen.wall_s,
        180.0,
        "{:.0f} s",
    )
    if scale != 10:
        out = [
            Target(t.name + f" (stated for scale 10; here {scale:g})", t.limit, t.measured, t.met)
            for t in out
        ]
    return out


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def steps_table(steps: Sequence[Step]) -> str:
    r = ratios(steps)
    labels = {
        BUILD: "" if r["build_over_floor"] is None else f"{r['build_over_floor']:.2f}x floor",
        INCREMENTAL: ""
        if r["incremental_over_build"] is None
        else f"{r['incremental_over_build']:.1%} of build",
    }
    with_jvm = any(step.jvm_mb for step in steps)  # Spark: the driver and Python apart
    rows = []
    for step in steps:
        memory = [f"{step.max_rss_mb:.0f}"]
        if with_jvm:
            memory += [f"{step.jvm_mb:.0f}" if step.jvm_mb else "-", f"{step.python_mb:.0f}"]
        rows.append(
            [
                step.name,
                f"{step.wall_s:.1f}",
                f"{step.cpu_s:.1f}",
                *memory,
                labels.get(step.name, ""),
                "ok" if step.ok else f"exit {step.returncode}",
                step.note,
            ]
        )
    memory_header = ["peak MB", "JVM MB", "Python MB"] if with_jvm else ["peak MB"]
    header = ["step", "wall s", "cpu s", *memory_header, "ratio", "status", "note"]
    return format_table(rows, header)


def targets_table(items: Sequence[Target]) -> str:
    rows = [
        [t.name, t.limit, t.measured, {True: "met", False: "NOT met", None: "-"}[t.met]]
        for t in items
    ]
    return format_table(rows, ["target", "limit", "measured", ""])


def to_record(steps: Sequence[Step], scale: float, meta: Mapping[str, object]) -> dict[str, object]:
    """The JSON written per run (and appended to the history)."""
    return {
        **meta,
        "scale": scale,
        "steps": [asdict(step) for step in steps],
        "ratios": ratios(steps),
        "targets": [asdict(t) for t in targets(steps, scale)],
    }

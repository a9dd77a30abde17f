"""``prometheus bench``: one benchmark run at a scale, figures printed and kept.

Every step runs in a fresh process under ``prometheus.bench.probe`` (wall
time, CPU time, peak resident memory of the step's largest process):

1. generate the two years of upstream data at ``--scale``;
2. hold back the clickstream received on the last day (a day file for step 9);
3. ``dbt compile`` on an empty warehouse (the floor's SQL; full-refresh form);
4. ``dbt build``: the full build, seeds to tests;
5. the floor: the same compiled SQL straight on DuckDB, no dbt;
6. ``prometheus notify`` (dry run) and 7. ``prometheus report build`` on the
   build's artifacts;
8. ``dbt test`` alone;
9. the held-back day file is delivered and ``prometheus daily`` runs: source
   freshness, then ``dbt build`` of the sources loaded since the full build and
   everything downstream (incremental models merge the new rows), tests included.

The table goes to stdout, the figures to ``--out`` (JSON) and one line per
run to ``--history`` (JSON lines) to compare runs over time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from prometheus import settings
from prometheus.bench import results
from prometheus.bench.results import Step
from prometheus.errors import CliError
from prometheus.generator.params import ParamError, add_date_arguments, resolve_dates

DEFAULT_ROOT = Path("build/bench")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale", type=float, required=True, help="generator scale (1: ~10M events)"
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    # the generator's own --start/--end: one default range (two years up to yesterday)
    add_date_arguments(parser)
    parser.add_argument(
        "--work-dir",
        type=Path,
        help=f"data, warehouse, logs of this run (default {DEFAULT_ROOT}/scale-<S>)",
    )
    parser.add_argument("--out", type=Path, help="figures as JSON (default <work-dir>/bench.json)")
    parser.add_argument(
        "--history",
        type=Path,
        default=DEFAULT_ROOT / "history.jsonl",
        help=f"one JSON line appended per run (default {DEFAULT_ROOT}/history.jsonl)",
    )
    parser.add_argument(
        "--target",
        choices=("dev", "spark"),
        default="dev",
        help="dev: the embedded DuckDB (default); spark: local Spark in dbt's process "
        "(needs Java and `uv sync --group spark`; no floor step, docs/spark.md)",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="skip the generator when <work-dir>/raw exists (its figures are then missing)",
    )


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _memory_gb() -> float | None:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * page_size / 1024**3, 1)


class Runner:
    """Runs steps under the probe and collects their figures."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.steps: list[Step] = []

    def step(self, name: str, command: list[str], note: str = "") -> Step:
        slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
        result_path, log_path = self.logs / f"{slug}.json", self.logs / f"{slug}.log"
        probe = [sys.executable, "-m", "prometheus.bench.probe", str(result_path), str(log_path)]
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        subprocess.run([*probe, "--", *command], env=self.env, check=True)
        figures = json.loads(result_path.read_text())
        step = Step(
            name=name,
            wall_s=figures["wall_s"],
            max_rss_mb=figures["max_rss_mb"],
            returncode=figures["returncode"],
            cpu_s=figures["cpu_s"],
            note=note,
            jvm_mb=figures.get("peak_mb_by_kind", {}).get("jvm", 0.0),
            python_mb=figures.get("peak_mb_by_kind", {}).get("python", 0.0),
        )
        parse = results.dbt_parse_seconds(log_path.read_text(errors="replace"))
        if parse is not None:
            note = f"{note}; parse {parse:.0f} s" if note else f"parse {parse:.0f} s"
            step = Step(**{**step.__dict__, "note": note})
        status = "ok" if step.ok else f"exit {step.returncode}, see {log_path}"
        print(f"bench: {name}: {step.wall_s:.1f} s, {status}", file=sys.stderr, flush=True)
        self.steps.append(step)
        return step


def run(args: argparse.Namespace) -> int:
    if args.scale <= 0:
        raise CliError("--scale must be positive")
    try:
        start, end = resolve_dates(args.start, args.end, dt.datetime.now(dt.UTC).date())
    except ParamError as exc:
        raise CliError(f"--start/--end: {exc}") from None
    args.start, args.end = start.isoformat(), end.isoformat()
    # the build sees the data up to the day before `--end` (the last day is held
    # back), so its "now" is that morning; the incremental run's is the next one
    as_of, next_as_of = f"{end}T06:00:00", f"{end + dt.timedelta(days=1)}T06:00:00"
    spark = args.target == "spark"
    if spark and importlib.util.find_spec("pyspark") is None:
        raise CliError("--target spark needs pyspark: uv sync --group spark (scripts/spark.sh)")
    if spark and shutil.which("java") is None:
        raise CliError("--target spark needs Java: apt-get install openjdk-17-jre-headless")
    suffix = "-spark" if spark else ""
    work = args.work_dir or DEFAULT_ROOT / f"scale-{args.scale:g}{suffix}"
    raw, parked = work / "raw", work / "parked"
    warehouse, floor_dir = work / "warehouse", work / "floor"
    duckdb_path, floor_path = warehouse / "bench.duckdb", floor_dir / "bench.duckdb"
    target, compile_target = work / "target", work / "target-compile"
    spark_dir = work / "spark"
    fresh = (warehouse, floor_dir, parked, work / "tmp", target, compile_target)
    for path in (*fresh, spark_dir) if spark else fresh:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        {
            "PROMETHEUS_RAW_DIR": str(raw),
            "PROMETHEUS_DUCKDB_PATH": str(duckdb_path),
            "PROMETHEUS_DUCKDB_TEMP_DIR": env.get("PROMETHEUS_BENCH_TEMP_DIR", str(work / "tmp")),
            "DO_NOT_TRACK": "1",
        }
    )
    if spark:
        # absolute: the raw views keep the path they read, the metastore its directory
        env.update(
            {
                "PROMETHEUS_TARGET": "spark",
                "PROMETHEUS_SPARK_DIR": str(spark_dir.resolve()),
                "PROMETHEUS_RAW_DIR": str(raw.resolve()),
            }
        )
    in_force = settings.load(env)  # a bad PROMETHEUS_* value stops the run here
    python, dbt = sys.executable, str(Path(sys.executable).with_name("dbt"))
    prometheus = [python, "-m", "prometheus.cli"]
    # The held-back day of receipts holds events up to 5 days late (the
    # generator's late deliveries), which the official DAU counts already
    # include: those days stay open (not reconciled exactly) in the benchmark.
    held_back_open_days = {"late_data_days": 5}
    dbt_vars = ["--vars", json.dumps({"as_of": as_of, **held_back_open_days})]
    runner = Runner(work, env)

    if not (args.reuse_data and (raw / "events").is_dir()):
        shutil.rmtree(raw, ignore_errors=True)
        gen = runner.step(
            results.GENERATE,
            [*prometheus, "generate", "--scale", f"{args.scale:g}", "--seed", str(args.seed)]
            + ["--start", args.start, "--end", args.end, "--out", str(raw)],
        )
        if not gen.ok:
            raise CliError(f"the generator failed: {work / 'logs'}")
    split = runner.step(
        results.SPLIT, [python, "-m", "prometheus.bench.split", str(raw), str(parked), args.end]
    )
    if not split.ok:
        raise CliError(f"could not hold back the last day: {work / 'logs'}")
    if spark:
        register = runner.step(
            results.REGISTER,
            [dbt, "run-operation", "register_raw_sources", "--target-path", str(target)],
            note="views over the raw Parquet files",
        )
        if not register.ok:
            raise CliError(f"could not register the raw files on Spark: {work / 'logs'}")
    else:
        runner.step(
            results.COMPILE,
            [dbt, "compile", "--target-path", str(target), *dbt_vars],
            note="on an empty warehouse",
        )
        # the floor's SQL; the build then reuses the parse (partial parsing, as daily)
        if (target / "manifest.json").is_file():
            shutil.copy(target / "manifest.json", compile_target / "manifest.json")
    runner.step(results.BUILD, [dbt, "build", "--target-path", str(target), *dbt_vars])
    if not spark:  # the floor is DuckDB SQL run without dbt
        runner.step(
            results.FLOOR,
            [python, "-m", "prometheus.bench.floor"]
            + ["--manifest", str(compile_target / "manifest.json")]
            + ["--duckdb-path", str(floor_path)]
            + ["--timings", str(work / "logs" / "floor-timings.json")],
            note="seeds, models, snapshots, data tests",
        )
    # (on a Spark build the notifier reads no failing rows from a DuckDB file itself)
    runner.step(
        results.NOTIFY,
        [*prometheus, "notify", "--target-dir", str(target), "--at", as_of]
        + ["--state-file", str(work / "notify-state.json")]
        + ["--fallback-path", str(work / "undelivered.jsonl"), "--duckdb-path", str(duckdb_path)],
    )
    if spark:  # the report reads a run history: on Spark no DuckDB file exists to hold one
        stored = subprocess.run(
            [*prometheus, "observe", "ingest", "--target-dir", str(target)]
            + ["--duckdb-path", str(duckdb_path)],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        if stored.returncode != 0:
            raise CliError(f"could not store the Spark build's run history: {stored.stderr}")
    runner.step(
        results.REPORT,
        [*prometheus, "report", "build", "--target-dir", str(target)]
        + ["--out", str(work / "report" / "index.html"), "--duckdb-path", str(duckdb_path)],
    )
    runner.step(results.TEST, [dbt, "test", "--target-path", str(target), *dbt_vars])
    # the daily run's state: what the sources held when the full build ran
    state, state_target = work / "state", work / "target-state"
    subprocess.run(  # stale sources make it exit 1: only its sources.json is needed
        [dbt, "source", "freshness", "--target-path", str(state_target), *dbt_vars],
        env=env,
        check=False,
        capture_output=True,
    )
    if not (state_target / "sources.json").is_file():
        raise CliError(f"dbt source freshness wrote no {state_target / 'sources.json'}")
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    shutil.copy(state_target / "sources.json", state / "sources.json")
    for day_file in sorted(parked.glob("events-*.parquet")):
        shutil.move(str(day_file), raw / "events" / day_file.name)
    runner.step(
        results.INCREMENTAL,
        [*prometheus, "daily", "--no-history", "--state-dir", str(state)]
        + ["--target-dir", str(target)]
        + ["--vars", json.dumps({"as_of": next_as_of, **held_back_open_days})],
        note="prometheus daily after one day file",
    )

    meta = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "host": {
            "cpus": os.cpu_count(),
            "memory_gb": _memory_gb(),
            "python": platform.python_version(),
        },
        "target": args.target,
        "settings": {
            "memory_limit": in_force.duckdb_memory_limit,
            "threads": str(in_force.dbt_threads),
            "events_lookback_days": 3,
            **(
                {
                    "spark_cores": in_force.spark_cores,
                    "spark_driver_memory": in_force.spark_driver_memory,
                    "spark_shuffle_partitions": in_force.spark_shuffle_partitions,
                }
                if spark
                else {}
            ),
        },
        "as_of": as_of,
    }
    record = results.to_record(runner.steps, args.scale, meta)
    out = args.out or work / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    args.history.parent.mkdir(parents=True, exist_ok=True)
    with args.history.open("a") as history:
        history.write(json.dumps(record) + "\n")

    print(f"prometheus bench, scale {args.scale:g}, target {args.target} ({meta['git_commit']})\n")
    print(results.steps_table(runner.steps))
    print()
    print(results.targets_table(results.targets(runner.steps, args.scale)))
    print(f"\nfigures: {out}; history: {args.history}; logs: {work / 'logs'}")
    return 0 if all(step.ok for step in runner.steps) else 1

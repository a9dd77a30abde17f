"""Hold back the clickstream's last day of receipts, for the incremental step.

``python -m prometheus.bench.split RAW_DIR PARKED_DIR [DAY]`` rewrites
``RAW_DIR/events/events*.parquet`` into ``events.parquet`` with every
delivery received before DAY (default: the last UTC day of receipt), and
writes the deliveries received on or after it to
``PARKED_DIR/events-<DAY>.parquet``. Moving that file into ``RAW_DIR/events/``
later is one day of delivery (docs/raw-contract-delivery.md). The benchmark
passes the generator's last day, so the few receipts after midnight (before
the extraction) travel with it.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from prometheus import logs, settings

log = logs.get(__name__)


def split(raw_dir: Path, parked_dir: Path, day: dt.date | None = None) -> Path:
    import duckdb  # noqa: PLC0415 - keeps `prometheus --help` light

    events_dir = raw_dir / "events"
    files = sorted(events_dir.glob("events*.parquet"))
    if not files:
        raise FileNotFoundError(f"no events*.parquet in {events_dir}")
    parked_dir.mkdir(parents=True, exist_ok=True)
    source = f"read_parquet([{', '.join(repr(str(f)) for f in files)}])"
    temp_dir = str(settings.load().duckdb_temp_dir)
    config: dict[str, str | bool | int | float | list[str]] = {"temp_directory": temp_dir}
    with duckdb.connect(config=config) as con:
        if day is None:
            last = con.sql(f"select max(cast(received_at as date)) from {source}").fetchone()
            if not last or last[0] is None:
                raise ValueError(f"{events_dir}: no received_at")
            day = last[0]
        held_back = parked_dir / f"events-{day.isoformat()}.parquet"
        base = events_dir / "events.parquet.tmp"
        con.execute(
            f"copy (select * from {source} where cast(received_at as date) >= date '{day}') "
            f"to '{held_back}' (format parquet)"
        )
        con.execute(
            f"copy (select * from {source} "
            f"where coalesce(cast(received_at as date) < date '{day}', true)) "
            f"to '{base}' (format parquet)"
        )
    for path in files:
        path.unlink()
    base.rename(events_dir / "events.parquet")
    return held_back


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        logs.setup("bench split")
        log.error("usage: python -m prometheus.bench.split RAW_DIR PARKED_DIR [DAY]")
        return 2
    day = dt.date.fromisoformat(args[2]) if len(args) == 3 else None
    print(split(Path(args[0]), Path(args[1]), day))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`prometheus pack`: the monthly investor pack as one self-contained HTML page.

    prometheus pack [--month YYYY-MM] [--duckdb FILE] [--target-dir DIR] [--out FILE]

Headline figures of the investor marts for a closed month (default: the last
closed one), the previous month, the same month last year and the quarter to
date, with each figure's caveats and trend charts. Refuses (exit 2) an open
month, a month without data, and figures the build held back.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prometheus import logs, settings
from prometheus.errors import CliError
from prometheus.reports import figures, warehouse

log = logs.get(__name__)
DEFAULT_DIR = Path("artifacts/pack")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=None,
        help="the DuckDB file to read (default: the published copy, $PROMETHEUS_PUBLISHED_PATH "
        f"or {settings.DEFAULTS['PROMETHEUS_PUBLISHED_PATH']}, when it exists, else the build "
        "file, $PROMETHEUS_DUCKDB_PATH)",
    )
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=None,
        help="dbt target folder of the build (manifest.json: the lineage; run_results.json: "
        "held-back marts and test results when the run history lacks them; default: "
        f"$PROMETHEUS_TARGET_DIR or {settings.DEFAULTS['PROMETHEUS_TARGET_DIR']})",
    )
    parser.add_argument("--out", type=Path, default=None, help="the HTML file to write")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--month", default=None, help="the closed month, YYYY-MM (default: the last closed one)"
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    found = settings.load()
    month = figures.parse_month(args.month) if args.month is not None else None
    path = args.duckdb or warehouse.default_duckdb()
    target_dir = args.target_dir or found.target_dir
    with warehouse.connect(path) as con:
        marts = warehouse.read_monthly_marts(con, path)
        if month is None:
            month = figures.last_closed_month(marts)
            if month is None:
                raise CliError(f"{path}: no month is closed in every investor mart yet")
        figures.check_month(marts, month)  # before the artifacts: the plainer reason first
        status = warehouse.build_status(con, target_dir, figures.MARTS.values())
        fallback = found.duckdb_path if path.resolve() != found.duckdb_path.resolve() else None
        restated = warehouse.restated_months(con, fallback)
    pack = figures.assemble(marts, month, restated, status)
    from prometheus.reports import page  # plotly: imported only when there is a page to write

    out = args.out or DEFAULT_DIR / f"investor-pack-{figures.month_text(month)}.html"
    page.write_atomically(out, page.render_pack(pack))
    log.info("investor pack for %s from %s (%s)", figures.month_text(month), path, status.source)
    print(out)
    return 0

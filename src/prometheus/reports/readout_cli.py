"""`prometheus readout`: one experiment's readout as one self-contained HTML page.

    prometheus readout --experiment ID [--duckdb FILE] [--target-dir DIR] [--out FILE]

Per variant: assigned users, active users per day, contribution profit per
assigned user, each against control with a confidence interval, and the days
the experiment marts were held back. Refuses (exit 2) an unknown experiment and
figures the build held back.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus import logs, settings
from prometheus.reports import figures, readout, warehouse
from prometheus.reports.pack_cli import add_common

log = logs.get(__name__)
DEFAULT_DIR = Path("artifacts/readout")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--experiment", required=True, help="the experiment's id (seeds/experiments.csv)"
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    found = settings.load()
    path = args.duckdb or warehouse.default_duckdb()
    target_dir = args.target_dir or found.target_dir
    experiment_id = str(args.experiment)
    with warehouse.connect(path) as con:
        experiments = {
            str(r["experiment_id"]): str(r["experiment_name"] or r["experiment_id"])
            for r in warehouse.rows(
                con,
                "select distinct experiment_id, experiment_name "
                "from growth.dim_experiment_variants",
            )
        }
        if experiment_id not in experiments:
            readout.assemble(experiment_id, experiments, [], {})  # raises: unknown experiment
        status = warehouse.build_status(con, target_dir, readout.EXPERIMENT_MARTS)
        figures.refuse_held_back(
            status, readout.EXPERIMENT_MARTS, f"the readout of {experiment_id}"
        )
        growth = warehouse.rows(
            con,
            "select * from growth.fct_experiment_growth_daily where experiment_id = ? "
            "order by activity_date, variant",
            [experiment_id],
        )
        profit: dict[str, dict[Any, Decimal]] = {}
        for r in warehouse.rows(
            con,
            "select variant, user_id, sum(contribution_profit_usd) as profit "
            "from profit.fct_experiment_order_item_profit where experiment_id = ? group by all",
            [experiment_id],
        ):
            profit.setdefault(str(r["variant"]), {})[r["user_id"]] = r["profit"]
        held: list[Mapping[str, Any]] | None = warehouse.held_back_days(
            con, readout.EXPERIMENT_MARTS
        )
    result = readout.assemble(experiment_id, experiments, growth, profit)
    from prometheus.reports import page  # plotly: imported only when there is a page to write

    out = args.out or DEFAULT_DIR / f"readout-{experiment_id}.html"
    page.write_atomically(out, page.render_readout(result, held))
    log.info("readout of %s from %s (%s)", experiment_id, path, status.source)
    print(out)
    return 0

#!/usr/bin/env bash
# Build the notifier's test fixtures: real dbt artifacts from a `dbt build` of this
# project on small generated data, corrupted so that some tests fail.
#
#   scripts/build_notifier_fixtures.sh OUT_DIR
#
# Writes OUT_DIR/raw (generated Parquet, corrupted), OUT_DIR/wh.duckdb (warehouse,
# with the failing rows stored by --store-failures) and OUT_DIR/target (manifest.json,
# run_results.json). Corruptions (each makes named tests fail):
#   app/orders:        two user_id set to NULL      -> not_null_stg_app__orders_user_id
#                      one order duplicated         -> unique_stg_app__orders_order_id
#   finance/filings:   one reported_usd set to NULL -> not_null_stg_finance__filings_reported_usd
# `dbt build` exits 1 when tests fail, which is the point; any other failure stops here.
set -euo pipefail

out="${1:?usage: $0 OUT_DIR}"
cd "$(dirname "$0")/.."
# uv is on the PATH inside the project's scripts only: outside them (pytest run by
# hand), install or find it the way they do
command -v uv >/dev/null 2>&1 || source scripts/bootstrap.sh >&2
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/raw" "$out/target" "$out/logs" "$out/wh.duckdb" "$out/tmp"

# = `uv run prometheus generate ...`, calling the generator's module directly so a
# half-registered sub-command elsewhere in the shared dispatcher cannot break this
uv run python -c '
import argparse, sys
from prometheus.generator import cli
parser = argparse.ArgumentParser(prog="prometheus generate")
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args(sys.argv[1:])))
' --scale 0.01 --seed 7 --start 2024-01-01 --end 2024-06-30 --out "$out/raw"

uv run python - "$out/raw" <<'PY'
import sys
from pathlib import Path

import duckdb

raw = Path(sys.argv[1])
con = duckdb.connect()


def rewrite(path: Path, sql: str) -> None:
    tmp = path.with_suffix(".tmp.parquet")
    con.execute(f"copy ({sql.format(src=path)}) to '{tmp}' (format parquet)")
    tmp.replace(path)


orders = raw / "app" / "orders.parquet"
rewrite(
    orders,
    """
    with numbered as (select *, row_number() over (order by order_id) as rn from '{src}')
    select * exclude (rn, user_id),
        case when rn in (3, 4) then null else user_id end as user_id
    from numbered
    union all
    select * exclude (rn, user_id), user_id from numbered where rn = 10
    """,
)
filings = raw / "finance" / "filings.parquet"
rewrite(
    filings,
    """
    with numbered as (select *, row_number() over (order by fiscal_quarter, metric) as rn
                      from '{src}')
    select * exclude (rn, reported_usd),
        case when rn = 1 then null else reported_usd end as reported_usd
    from numbered
    """,
)
print("corrupted:", orders, filings)
PY

set +e
PROMETHEUS_RAW_DIR="$out/raw" \
PROMETHEUS_DUCKDB_PATH="$out/wh.duckdb" \
PROMETHEUS_DUCKDB_TEMP_DIR="$out/tmp" \
    uv run dbt build --store-failures --target-path "$out/target" --log-path "$out/logs" \
    --vars '{as_of: "2024-07-01T06:00:00"}' >"$out/build.log" 2>&1
status=$?
set -e
if [ "$status" -gt 1 ]; then
    tail -n 40 "$out/build.log" >&2
    echo "dbt build failed to run (exit $status)" >&2
    exit "$status"
fi
test -s "$out/target/manifest.json"
test -s "$out/target/run_results.json"
grep -E "^.*Done\." "$out/build.log" || true
echo "fixtures in $out"

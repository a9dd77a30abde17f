#!/usr/bin/env bash
# The whole project on Apache Spark, in this process (dbt-spark `session`,
# local[N], Parquet tables): installs Java (Debian) and the spark dependency
# group if missing, generates upstream data unless PROMETHEUS_RAW_DIR already
# holds some, registers the raw files as Spark views, runs dbt build, and says
# where the tables are. docs/spark.md
#   SCALE=0.01 (default) | SEED=7 | START/END (default 2024-01-01..2024-09-30)
#   AS_OF (default: the day after END, 06:00)   extra arguments go to dbt build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

if ! command -v java >/dev/null 2>&1; then
    echo "==> installing openjdk-17-jre-headless (Debian)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

echo "==> syncing the spark dependency group (uv sync --frozen --group spark)"
uv sync --frozen --group spark --quiet

SCALE="${SCALE:-0.01}"
SEED="${SEED:-7}"
START="${START:-2024-01-01}"
END="${END:-2024-09-30}"
AS_OF="${AS_OF:-$(date -u -d "$END + 1 day" +%Y-%m-%dT06:00:00)}"
export PROMETHEUS_TARGET=spark
export PROMETHEUS_RAW_DIR="${PROMETHEUS_RAW_DIR:-data/raw-spark}"
export PROMETHEUS_SPARK_DIR="${PROMETHEUS_SPARK_DIR:-warehouse/spark}"
mkdir -p "$PROMETHEUS_SPARK_DIR"

if [ ! -e "$PROMETHEUS_RAW_DIR/_generation.json" ]; then
    echo "==> generating upstream data (scale ${SCALE}) into ${PROMETHEUS_RAW_DIR}"
    uv run --no-sync prometheus generate --scale "$SCALE" --seed "$SEED" \
        --start "$START" --end "$END" --out "$PROMETHEUS_RAW_DIR"
fi
# the views keep the absolute path of the files they read
PROMETHEUS_RAW_DIR="$(realpath "$PROMETHEUS_RAW_DIR")"

echo "==> registering the raw files as Spark views (dbt run-operation register_raw_sources)"
uv run --no-sync dbt run-operation register_raw_sources

echo "==> dbt build on Spark (as_of ${AS_OF})"
uv run --no-sync dbt build --vars "{as_of: \"${AS_OF}\"}" "$@"

cat <<TXT

Spark tables   : $(realpath "$PROMETHEUS_SPARK_DIR")/tables/<schema>.db/<table> (Parquet)
Metastore      : $(realpath "$PROMETHEUS_SPARK_DIR")/metastore_db (Derby; schemas staging, intermediate, profit, growth, engagement, ...)
Raw files      : ${PROMETHEUS_RAW_DIR}
Read them      : PROMETHEUS_TARGET=spark PROMETHEUS_SPARK_DIR=$(realpath "$PROMETHEUS_SPARK_DIR") uv run --no-sync dbt show --inline 'select * from profit.fct_profit_monthly'
TXT

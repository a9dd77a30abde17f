#!/usr/bin/env bash
# The main job, on the embedded DuckDB default: install, generate upstream
# data, dbt build (seeds, models, snapshots, tests), docs, and say where
# everything is.
#   SCALE=1 (default) | START/END (default: the two years up to yesterday)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

SCALE="${SCALE:-1}"
SEED="${SEED:-7}"
export PROMETHEUS_RAW_DIR="${PROMETHEUS_RAW_DIR:-data/raw}"
export PROMETHEUS_DUCKDB_PATH="${PROMETHEUS_DUCKDB_PATH:-warehouse/prometheus.duckdb}"
mkdir -p "$(dirname "$PROMETHEUS_DUCKDB_PATH")"

date_args=()
[ -n "${START:-}" ] && date_args+=(--start "$START")
[ -n "${END:-}" ] && date_args+=(--end "$END")

echo "==> generating upstream data (scale ${SCALE}) into ${PROMETHEUS_RAW_DIR}"
uv run prometheus generate --scale "$SCALE" --seed "$SEED" "${date_args[@]}" --out "$PROMETHEUS_RAW_DIR"

echo "==> dbt source freshness (stored for the report's freshness tiles; a stale source is reported, the job goes on)"
uv run prometheus observe dbt -- source freshness || echo "==> some sources are stale or could not be checked (see above)"

echo "==> dbt build (its results are stored in the warehouse's observability schema)"
build_status=0
uv run prometheus observe dbt -- build || build_status=$?

echo "==> Elementary report (offline, from the artifacts and the stored run history)"
uv run prometheus report build --target-dir target --out artifacts/report/index.html

echo "==> notifier, dry run: what it would send to whom, on call now"
dry_run_state="$(mktemp -d)/state.json"   # a dry run remembers nothing
uv run prometheus notify --target-dir target --state-file "$dry_run_state"

echo "==> dbt docs generate --static"
uv run dbt docs generate --static --quiet


cat <<TXT

DuckDB file : $(realpath "$PROMETHEUS_DUCKDB_PATH")
dbt docs    : $(realpath target/static_index.html)   (open it in a browser; it is self-contained)
Report      : $(realpath artifacts/report/index.html)
              serve it (lineage needs http): uv run prometheus report serve --dir artifacts/report --port 8080
              then open http://127.0.0.1:8080/
Query a mart, for example:
  uv run python -c "import duckdb; print(duckdb.connect('$PROMETHEUS_DUCKDB_PATH', read_only=True).sql('select * from growth.fct_growth_monthly order by month'))"
Schemas: profit, growth, engagement (public marts), staging, intermediate, reference (seeds), snapshots.
TXT
exit "$build_status"

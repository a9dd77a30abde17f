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
export PROMETHEUS_PUBLISHED_PATH="${PROMETHEUS_PUBLISHED_PATH:-warehouse/published.duckdb}"
mkdir -p "$(dirname "$PROMETHEUS_DUCKDB_PATH")"
# plain logs when the output is not a terminal (a file, CI): no ANSI colours from dbt
[ -t 1 ] || export DBT_USE_COLORS=false

date_args=()
[ -n "${START:-}" ] && date_args+=(--start "$START")
[ -n "${END:-}" ] && date_args+=(--end "$END")

# phase "what" command...: a progress line, the command, then how long it took
phase() {
    local what="$1" started=$SECONDS status=0
    shift
    echo "==> ${what}"
    "$@" || status=$?
    local outcome="done"
    [ "$status" -eq 0 ] || outcome="failed (exit ${status})"
    echo "    ${outcome} in $((SECONDS - started)) s (main job: $((SECONDS - job_started)) s so far)"
    return "$status"
}
job_started=$SECONDS

phase "generating upstream data (scale ${SCALE}) into ${PROMETHEUS_RAW_DIR}" \
    uv run prometheus generate --scale "$SCALE" --seed "$SEED" "${date_args[@]}" --out "$PROMETHEUS_RAW_DIR"

phase "dbt source freshness (stored for the report's freshness tiles; a stale source is reported, the job goes on)" \
    uv run prometheus observe dbt -- source freshness \
    || echo "    some sources are stale or could not be checked (see above)"

build_status=0
phase "dbt build (its results are stored in the warehouse's observability schema)" \
    uv run prometheus observe dbt -- build || build_status=$?

# before anything else rewrites target/run_results.json: publish reads the build's verdict
# (a model in error: not published; held-back investor marts keep their last good rows)
publish_status=0
phase "publishing the public marts and the run history to ${PROMETHEUS_PUBLISHED_PATH} (read-only copy for analysts)" \
    uv run prometheus publish --target-dir target || publish_status=$?

# after a green build: the investor pack (last closed month) and a readout per experiment, from
# the publication; a refusal (exit 2: an open month, figures held back) prints its reason and
# the job goes on
refusal_is_a_reason() {
    local status=0
    "$@" || status=$?
    [ "$status" -ne 2 ] || { echo "    not written: refused, for the reason above"; status=0; }
    return "$status"
}
if [ "$build_status" -eq 0 ]; then
    phase "investor pack for the last closed month (artifacts/pack/)" \
        refusal_is_a_reason uv run prometheus pack
    for experiment in $(tail -n +2 seeds/experiments.csv | cut -d, -f1); do
        phase "experiment readout of ${experiment} (artifacts/readout/)" \
            refusal_is_a_reason uv run prometheus readout --experiment "$experiment"
    done
fi

phase "Elementary report (offline, from the artifacts and the stored run history)" \
    uv run prometheus report build --target-dir target --out artifacts/report/index.html

dry_run_state="$(mktemp -d)/incidents.sqlite"   # a dry run remembers nothing
phase "notifier, dry run: what it would send to whom" \
    uv run prometheus notify --target-dir target --state-file "$dry_run_state"

# two stored builds of a corrupted day and the next one (tests/python/notifier/fixtures):
# the incident lifecycle, opened, then updated, worse and resolved, as the on-call engineer sees it
demo_state="$(mktemp -d)/incidents.sqlite"
notifier_demo() {
    uv run prometheus notify --target-dir tests/python/notifier/fixtures/first \
        --at 2026-01-28T12:00:00Z --state-file "$demo_state" --sample-rows 0 | grep '^notify: '
    uv run prometheus notify --target-dir tests/python/notifier/fixtures/second \
        --at 2026-01-29T06:00:00Z --state-file "$demo_state" --sample-rows 0
}
phase "notifier, dry run over two stored builds: incidents opened, updated, worse, resolved" \
    notifier_demo

phase "who is on call now, per pipeline" \
    uv run prometheus oncall --manifest target/manifest.json --now

phase "dbt docs generate --static" \
    uv run dbt docs generate --static --quiet

published_line="$(realpath "$PROMETHEUS_PUBLISHED_PATH")"
[ "$publish_status" -eq 0 ] || published_line="${published_line}   (NOT updated by this run: the build failed; it holds the last good publication)"

# the commands below are README.md's "after the main job" block, which a test runs as printed
cat <<TXT

Main job    : $((SECONDS - job_started)) s
Build file  : $(realpath "$PROMETHEUS_DUCKDB_PATH")   (dbt's; held alone while a build runs)
Published   : ${published_line}
dbt docs    : $(realpath target/static_index.html)   (open it in a browser; it is self-contained)
Report      : $(realpath artifacts/report/index.html)
Pack        : $(realpath artifacts/pack)/   (investor-pack-YYYY-MM.html; readouts: $(realpath artifacts/readout)/)
              serve it (lineage needs http): .venv/bin/prometheus report serve --dir artifacts/report --port 8080
              then open http://127.0.0.1:8080/
Query the published marts (a reader never blocks the build, nor the build a reader):
  .venv/bin/duckdb -readonly warehouse/published.duckdb
  .venv/bin/duckdb -readonly warehouse/published.duckdb -c "select * from growth.fct_growth_monthly order by month"
  .venv/bin/python -c "import duckdb; con = duckdb.connect('warehouse/published.duckdb', read_only=True); con.sql('select * from growth.fct_growth_monthly order by month').show()"
  .venv/bin/dbt show --target published --target-path target/analyst --inline "select * from {{ ref('fct_profit_monthly') }} order by month" --limit 12
Who is on call: .venv/bin/prometheus oncall --now
Lint as CI does: make lint      Docs again: make docs
Build file schemas: profit, growth, engagement (public marts), observability (run history, key
  metrics per day), dq_failures (failing test rows), staging, intermediate, reference (seeds), snapshots.
Published schemas: profit, growth, engagement, observability (and main.publication: when, which build).
TXT
# the build's status; when the build passed, the publication's (analysts would read stale marts)
[ "$build_status" -ne 0 ] || build_status="$publish_status"
exit "$build_status"

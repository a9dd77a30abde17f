#!/usr/bin/env bash
# Every check: lint (scripts/lint.sh), a dbt build on a small generated
# dataset, and pytest. Installs what it needs itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

# the report's browser test drives Debian's Chromium (Playwright's own browser
# download cannot work here); installed once, as root, in CI too
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "==> installing chromium and chromium-driver (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

CI_DIR="${CI_DIR:-build/ci}"
rm -rf "$CI_DIR" && mkdir -p "$CI_DIR"
export PROMETHEUS_RAW_DIR="$CI_DIR/raw"
export PROMETHEUS_DUCKDB_PATH="$CI_DIR/prometheus.duckdb"
export PROMETHEUS_DUCKDB_TEMP_DIR="$CI_DIR/tmp"

bash scripts/lint.sh  # ruff, mypy, sqlfluff: the same as `make lint`

echo "==> dbt build on a small generated dataset"
uv run prometheus generate --scale 0.02 --seed 7 --start 2024-01-01 --end 2024-12-31 --out "$PROMETHEUS_RAW_DIR"
uv run dbt build --vars '{as_of: "2025-01-01T06:00:00"}'

echo "==> governance on the built manifest: dbt-bouncer, the on-call configuration, the publication gate"
uv run dbt-bouncer --config-file dbt-bouncer.yml
uv run prometheus validate-oncall --manifest target/manifest.json
uv run prometheus check-gates --manifest target/manifest.json

echo "==> semantic layer: mf validate-configs (the metrics, then their queries against the build above)"
# mf asks PyPI for a newer version on every run: a proxy on a closed loopback port refuses it
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
    .venv/bin/mf validate-configs

echo "==> pytest, fast tier: pure logic, literal rows, small committed fixtures"
uv run pytest -m "not slow"

# the slow tier's DuckDB/Spark equality test (tests/python/spark) needs Java
# (Debian) and the spark dependency group, synced after lint.sh's bootstrap
if ! command -v java >/dev/null 2>&1; then
    echo "==> installing openjdk-17-jre-headless (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
uv sync --frozen --group spark --quiet

echo "==> pytest, slow tier: one shared dataset and clean build, the defect matrix, browsers"
uv run pytest -m slow --durations=15

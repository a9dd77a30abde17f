#!/usr/bin/env bash
# Every check: lint (ruff, sqlfluff), a dbt build on a small generated
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

# the same file as `make lint`: ruff, ruff format, mypy, sqlfluff
bash scripts/lint.sh

echo "==> dbt build on a small generated dataset"
uv run prometheus generate --scale 0.02 --seed 7 --start 2024-01-01 --end 2024-12-31 --out "$PROMETHEUS_RAW_DIR"
uv run dbt build --vars '{as_of: "2025-01-01T06:00:00"}'

echo "==> governance on the built manifest (dbt-bouncer) and the on-call configuration"
uv run dbt-bouncer --config-file dbt-bouncer.yml
uv run prometheus validate-oncall --manifest target/manifest.json

echo "==> pytest"
uv run pytest

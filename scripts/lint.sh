#!/usr/bin/env bash
# The lint CI runs (scripts/test.sh calls this file; so does `make lint`):
# ruff check, ruff format --check, mypy (pyproject settings), sqlfluff lint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

# sqlfluff's dbt templater compiles against a database: always a new, empty one,
# as in CI (whose warehouse does not exist yet when it lints). Against a built
# warehouse, is_incremental() would be true and other SQL would be linted, and
# a running build's lock would stop the lint.
lint_dir="$(mktemp -d)"
trap 'rm -rf "$lint_dir"' EXIT
export PROMETHEUS_DUCKDB_PATH="$lint_dir/lint.duckdb"
export PROMETHEUS_DUCKDB_TEMP_DIR="$lint_dir/tmp"

echo "==> ruff, mypy"
uv run ruff check src tests/python
uv run ruff format --check src tests/python
uv run mypy src

echo "==> sqlfluff lint (dbt templater, duckdb dialect)"
uv run sqlfluff lint models analyses snapshots data-tests --processes 2

#!/usr/bin/env bash
# Every lint check, one list: CI runs it from scripts/test.sh, `make lint` runs it alone.
# Python: ruff (lint and format), mypy (strict, pyproject.toml); SQL: sqlfluff with the
# dbt templater on the dbt resources (data tests live in data-tests/, pytest in tests/python).
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

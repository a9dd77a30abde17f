#!/usr/bin/env bash
# The lint CI runs (scripts/test.sh calls this file; so does `make lint`):
# ruff check, ruff format --check, mypy (pyproject settings), sqlfluff lint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

echo "==> ruff, mypy"
uv run ruff check src tests/python
uv run ruff format --check src tests/python
uv run mypy src

echo "==> sqlfluff lint (dbt templater, duckdb dialect)"
uv run sqlfluff lint models analyses snapshots data-tests --processes 2

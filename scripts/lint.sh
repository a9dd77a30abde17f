#!/usr/bin/env bash
# Every lint check, one list: CI runs it from scripts/test.sh, `make lint` runs it alone.
# Python: ruff (lint and format), mypy (strict, pyproject.toml); SQL: sqlfluff with the
# dbt templater on the dbt resources (data tests live in data-tests/, pytest in tests/python).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

echo "==> ruff, mypy"
uv run ruff check src tests/python
uv run ruff format --check src tests/python
uv run mypy src

echo "==> sqlfluff lint (dbt templater, duckdb dialect)"
uv run sqlfluff lint models analyses snapshots data-tests --processes 2

"""A tiny DuckDB dbt project and the wrapper that builds it, for the observability tests.

The project is written from the strings below into a temporary directory
(not kept as files here: the main project's `tests/` is a dbt test path,
and dbt would read them as the project's own tests). It has a seed, a
source on it (with freshness), a model owned by a group, a snapshot,
generic and singular tests, and an exposure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DBT_TIMEOUT_S = 180

TINY_PROJECT = {
    "dbt_project.yml": """
name: tiny
version: "1.0.0"
config-version: 2
profile: tiny
flags:
  send_anonymous_usage_stats: false
  partial_parse: true
seeds:
  tiny:
    customers:
      +column_types: {customer_id: integer, status: varchar, loaded_at: timestamp}
""",
    "profiles.yml": """
tiny:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('PROMETHEUS_DUCKDB_PATH') }}"
      schema: main
      threads: 1
""",
    "seeds/customers.csv": """customer_id,status,loaded_at
1,active,2024-01-01 00:00:00
2,active,2024-01-02 00:00:00
3,churned,2024-01-03 00:00:00
""",
    "models/_groups.yml": """
groups:
  - name: finance
    owner: {name: Finance Team, email: finance@example.com}
""",
    "models/_sources.yml": """
sources:
  - name: raw
    schema: main
    tables:
      - name: customers
        description: Customers as loaded.
        config:
          loaded_at_field: loaded_at
          freshness:
            warn_after: {count: 12, period: hour}
            error_after: {count: 24, period: hour}
""",
    "models/stg_customers.sql": """
select customer_id, status, loaded_at from {{ ref('customers') }}
""",
    "models/stg_customers.yml": """
models:
  - name: stg_customers
    description: One row per customer.
    config:
      group: finance
    columns:
      - name: customer_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: [active, churned, blocked]
exposures:
  - name: customer_dashboard
    label: Customer dashboard
    type: dashboard
    owner: {name: Finance/Risk, email: finance-risk@example.com}
    depends_on: [ref('stg_customers')]
""",
    "snapshots/snap_customers.yml": """
snapshots:
  - name: snap_customers
    relation: ref('stg_customers')
    config:
      unique_key: customer_id
      strategy: check
      check_cols: [status]
""",
    "tests/assert_no_blocked_customers.sql": """
-- No customer is blocked.
select * from {{ ref('stg_customers') }} where status = 'blocked'
""",
}

# the defect of the second build: two blocked customers
DEFECT_SEED = TINY_PROJECT["seeds/customers.csv"] + (
    "4,blocked,2024-01-04 00:00:00\n5,blocked,2024-01-05 00:00:00\n"
)

FAILING_TEST = "test.tiny.assert_no_blocked_customers"
DATA_TESTS = 4  # unique, not_null, accepted_values and the singular test
EXPOSURE = "exposure.tiny.customer_dashboard"


@dataclass
class Run:
    target_dir: Path
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class TinyRuns:
    project_dir: Path
    db_path: Path
    work_target: Path  # where dbt writes (kept for partial parsing); each Run has a copy
    ok: Run  # first build, all green
    failing: Run  # second build, the singular test fails
    freshness: Run  # dbt source freshness: the seed's data is old, so stale


def write_project(root: Path, files: dict[str, str] = TINY_PROJECT) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    return root


def observe_dbt(
    project_dir: Path,
    db_path: Path,
    target_dir: Path,
    *dbt_args: str,
    duckdb_path: Path | None = None,
) -> Run:
    """`prometheus observe dbt -- <args> --target-path <target_dir>` in the project."""
    env = {
        **os.environ,
        "PROMETHEUS_DUCKDB_PATH": str(db_path),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [sys.executable, "-m", "prometheus.cli", "observe", "dbt"]
    if duckdb_path is not None:
        command += ["--duckdb-path", str(duckdb_path)]
    command += ["--", *dbt_args, "--target-path", str(target_dir)]
    done = subprocess.run(
        command,
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=DBT_TIMEOUT_S,
        check=False,
    )
    return Run(target_dir, done.returncode, done.stdout, done.stderr)


# --------------------------------------------------------------------------- the real project

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class ProjectRuns:
    """The project built twice into one warehouse, through `prometheus observe dbt`."""

    raw_dir: Path
    db_path: Path
    target_dir: Path
    clean: subprocess.CompletedProcess
    defective: subprocess.CompletedProcess  # one order_id duplicated in app/orders
    report_dir: Path
    report_output: str
    seconds: dict[str, float]

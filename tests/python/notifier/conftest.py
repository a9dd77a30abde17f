"""Real artifacts for the notifier's tests: one corrupted `dbt build` per session.

`scripts/build_notifier_fixtures.sh` generates small data, corrupts it so named
tests fail, and runs `dbt build --store-failures` (about a minute). Set
PROMETHEUS_NOTIFIER_FIXTURES to a folder the script already filled to reuse it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from prometheus import artifacts
from prometheus.notifier import ownership

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "build_notifier_fixtures.sh"

# the tests the script makes fail
ORDERS_NOT_NULL = "test.prometheus.not_null_stg_app__orders_user_id"
ORDERS_UNIQUE = "test.prometheus.unique_stg_app__orders_order_id"
FILINGS_NOT_NULL = "test.prometheus.not_null_stg_finance__filings_reported_usd"


@dataclass(frozen=True)
class Fixtures:
    root: Path

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def duckdb(self) -> Path:
        return self.root / "wh.duckdb"

    def run(self) -> artifacts.TargetArtifacts:
        return artifacts.load_run(self.target)

    def config(self) -> ownership.OnCallConfig:
        return ownership.load(self.run().manifest)


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    reuse = os.environ.get("PROMETHEUS_NOTIFIER_FIXTURES")
    if reuse and (Path(reuse) / "target" / "run_results.json").is_file():
        return Fixtures(Path(reuse))
    root = tmp_path_factory.mktemp("notifier-fixtures")
    proc = subprocess.run(
        [str(SCRIPT), str(root)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return Fixtures(root)


def uid_prefix(unique_id: str) -> str:
    """test ids end in a hash: compare on the part before it."""
    return unique_id.rsplit(".", 1)[0]

"""Real artifacts for the notifier's tests, committed small (no dbt, no uv at test time).

`fixtures/first` and `fixtures/second` are two corrupted `dbt build`s of this project
on small generated data, frozen by `FREEZE_TO=... scripts/build_notifier_fixtures.sh
OUT_DIR first|second` (pruned manifest, run results, stored failing rows as JSON).
The warehouse with the stored failing rows is rebuilt per session from that JSON.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from prometheus import artifacts
from prometheus.notifier import ownership

FIXTURES = Path(__file__).resolve().parent / "fixtures"

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


def build_warehouse(stored_failures: Path, path: Path) -> Path:
    """A DuckDB file attached as `wh` holds the failing rows dbt stored."""
    data = json.loads(stored_failures.read_text())
    con = duckdb.connect(str(path))
    for table in data.values():
        cols = ", ".join(f'"{n}" {t}' for n, t in table["columns"])
        con.execute(f'create schema if not exists "{table["schema"]}"')
        con.execute(f'create table "{table["schema"]}"."{table["table"]}" ({cols})')
        if table["rows"]:
            marks = ", ".join("?" for _ in table["columns"])
            con.executemany(
                f'insert into "{table["schema"]}"."{table["table"]}" values ({marks})',
                table["rows"],
            )
    con.close()
    return path


def _fixture(name: str, tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    root = tmp_path_factory.mktemp(f"notifier-{name}")
    shutil.copytree(FIXTURES / name, root / "target")
    build_warehouse(root / "target" / "stored_failures.json", root / "wh.duckdb")
    return Fixtures(root)


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    """The first corrupted build: 3 failing tests."""
    return _fixture("first", tmp_path_factory)


@pytest.fixture(scope="session")
def second_build(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    """The next build: duplicate fixed, one more NULL user_id, filings NULL persists."""
    return _fixture("second", tmp_path_factory)


def uid_prefix(unique_id: str) -> str:
    """test ids end in a hash: compare on the part before it."""
    return unique_id.rsplit(".", 1)[0]

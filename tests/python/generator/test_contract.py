"""contract.py and the written files follow the project's docs/raw-contract.md exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prometheus.generator.contract import BY_KEY, LOADED_AT, TABLES, arrow_type

CONTRACT_MD = Path(__file__).parents[3] / "docs/raw-contract.md"


def parse_contract(text: str) -> dict[str, list[tuple[str, str]]]:
    """{system/table: [(column, TYPE), ...]} from the markdown tables."""
    out: dict[str, list[tuple[str, str]]] = {}
    system = None
    table = None
    for line in text.splitlines():
        m = re.match(r"^## System `(\w+)`", line)
        if m:
            system = m.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if system is None or len(cells) < 3 or cells[0] == "table" or re.fullmatch("-+", cells[0]):
            continue
        if cells[0]:
            table = cells[0]
        out.setdefault(f"{system}/{table}", []).append((cells[1], cells[2].replace(" ", "")))
    return out


@pytest.fixture(scope="module")
def contract() -> dict[str, list[tuple[str, str]]]:
    return parse_contract(CONTRACT_MD.read_text())


def test_parser_finds_all_thirteen_tables(contract):
    assert len(contract) == 13
    assert contract["app/users"][0] == ("user_id", "VARCHAR")


def test_contract_module_equals_markdown(contract):
    ours = {t.key: [(c, ty.replace(" ", "")) for c, ty in t.columns] for t in TABLES}
    assert ours == contract


@pytest.mark.parametrize("key", sorted(BY_KEY))
def test_written_schema_equals_contract(small_out, contract, key):
    schema = pq.read_schema(small_out / f"{key}.parquet")
    want = [(c, arrow_type(t)) for c, t in contract[key]] + [(LOADED_AT, pa.timestamp("us"))]
    assert [(f.name, f.type) for f in schema] == want


@pytest.mark.parametrize(
    ("sql", "arrow"),
    [
        ("TIMESTAMP", pa.timestamp("us")),
        ("DATE", pa.date32()),
        ("DECIMAL(18,2)", pa.decimal128(18, 2)),
        ("DECIMAL(18, 8)", pa.decimal128(18, 8)),
        ("BOOLEAN", pa.bool_()),
        ("INTEGER", pa.int32()),
        ("BIGINT", pa.int64()),
        ("VARCHAR", pa.string()),
    ],
)
def test_arrow_type(sql, arrow):
    assert arrow_type(sql) == arrow


def test_unknown_type_rejected():
    with pytest.raises(ValueError, match="unknown contract type"):
        arrow_type("JSON")

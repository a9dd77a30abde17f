from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prometheus.generator.contract import BY_KEY
from prometheus.generator.writer import AtomicOutput, OutputError, check_out_dir, conform

FX = BY_KEY["finance/fx_rates"].schema


def fx_table(n: int) -> pa.Table:
    return pa.table({name: pa.nulls(n, f.type) for name, f in zip(FX.names, FX, strict=True)})


def test_success_swaps_in_and_removes_previous_files(tmp_path):
    out = tmp_path / "raw"
    (out / "stale").mkdir(parents=True)
    with AtomicOutput(out) as w:
        w.write("finance/fx_rates", fx_table(3))
        w.write_json("_generation.json", {"a": 1})
        assert not (out / "finance").exists()  # nothing visible before the swap
    assert pq.read_table(out / "finance/fx_rates.parquet").num_rows == 3
    assert not (out / "stale").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_failure_keeps_previous_files(tmp_path):
    out = tmp_path / "raw"
    with AtomicOutput(out) as w:
        w.write("finance/fx_rates", fx_table(2))
    with pytest.raises(RuntimeError), AtomicOutput(out) as w:
        w.write("finance/fx_rates", fx_table(5))
        raise RuntimeError("boom")
    assert pq.read_table(out / "finance/fx_rates.parquet").num_rows == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["currency", "rate_date", "usd_per_unit", "_loaded_at"], "columns"),
        (["rate_date", "currency", "usd_per_unit"], "columns"),
    ],
)
def test_conform_rejects_wrong_columns(columns, message):
    table = fx_table(1).select(columns)
    with pytest.raises(ValueError, match=message):
        conform("finance/fx_rates", table)


def test_conform_rejects_wrong_type():
    table = fx_table(1).set_column(2, "usd_per_unit", pa.nulls(1, pa.float64()))
    with pytest.raises(ValueError, match="usd_per_unit: type double"):
        conform("finance/fx_rates", table)


def test_check_out_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="exists and is not a directory"):
        check_out_dir(f)
    with pytest.raises(OutputError, match="is not a directory"):
        check_out_dir(f / "a" / "b")
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()

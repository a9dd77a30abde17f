"""Atomic Parquet output: everything is written into a temporary folder beside the
target and swapped in only once it all succeeded, so a failure leaves the previous
files intact."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from prometheus.errors import PrometheusError

from .contract import BY_KEY

SCRATCH = ".scratch"


# Parquet settings (they change the file bytes only; the rows and the schema are the
# contract's). Columns of (nearly) unique values - ids, timestamps - are written without
# trying a dictionary first, which costs time and saves nothing for them; string columns
# get no min/max statistics (costly to compute, of no use for pruning these files). The
# events are written ~30% faster, and the files are smaller.
PLAIN_IDS = frozenset(
    {"user_id", "order_id", "order_item_id", "payment_id", "refund_id", "event_id", "session_id"}
)


def parquet_options(schema: pa.Schema) -> dict[str, list[str]]:
    """Per-column dictionary encoding and statistics for ``pq.write_table``/``ParquetWriter``."""
    return {
        "use_dictionary": [
            f.name for f in schema if f.name not in PLAIN_IDS and not pa.types.is_timestamp(f.type)
        ],
        "write_statistics": [f.name for f in schema if not pa.types.is_string(f.type)],
    }


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **parquet_options(table.schema))


class OutputError(PrometheusError, ValueError):
    """The output folder cannot be used; the message names the problem."""


def check_out_dir(out: Path) -> Path:
    """Fail early if ``out`` cannot be created or written (nothing is created here)."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot create output directory {out}: {probe} is not a directory")
    parent = out.parent if out.exists() else probe
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write output directory {out}: {parent} is not writable")
    if out.exists() and not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write output directory {out}: permission denied")
    return out


def conform(key: str, table: pa.Table) -> pa.Table:
    """Check the table has exactly the contract's columns and types, in order."""
    schema = BY_KEY[key].schema
    if table.schema.names != schema.names:
        raise ValueError(f"{key}: columns {table.schema.names} != contract {schema.names}")
    for field, want in zip(table.schema, schema, strict=True):
        if field.type != want.type:
            raise ValueError(f"{key}.{field.name}: type {field.type} != contract {want.type}")
    return table.replace_schema_metadata(None)


class AtomicOutput:
    """``with AtomicOutput(out) as w: w.write(...)``; swapped into ``out`` on success."""

    def __init__(self, out: Path) -> None:
        self.out = check_out_dir(out)
        self.tmp: Path | None = None

    def __enter__(self) -> AtomicOutput:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
        return self

    def path(self, key: str) -> Path:
        assert self.tmp is not None
        target = self.tmp / f"{key}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, key: str, table: pa.Table) -> None:
        write_parquet(conform(key, table), self.path(key))

    def scratch(self) -> Path:
        """A folder for temporary files (e.g. DuckDB spilling), removed before the swap."""
        assert self.tmp is not None
        path = self.tmp / SCRATCH
        path.mkdir(exist_ok=True)
        return path

    def stream(self, key: str) -> StreamWriter:
        return StreamWriter(key, self.path(key))

    def write_json(self, name: str, data: object) -> None:
        assert self.tmp is not None
        (self.tmp / name).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        shutil.rmtree(self.tmp / SCRATCH, ignore_errors=True)
        old: Path | None = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
            os.rmdir(old)
            os.rename(self.out, old)
        try:
            os.rename(self.tmp, self.out)
        except OSError:
            if old is not None:
                os.rename(old, self.out)
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


class StreamWriter:
    """Appends chunks to one Parquet file (events), checking each against the contract."""

    def __init__(self, key: str, path: Path) -> None:
        self.key = key
        self.schema = BY_KEY[key].schema
        self.writer = pq.ParquetWriter(
            path,
            self.schema,
            **parquet_options(self.schema),
        )
        self.rows = 0

    def write(self, chunk: pa.Table) -> None:
        self.writer.write_table(conform(self.key, chunk))
        self.rows += chunk.num_rows

    def close(self) -> None:
        self.writer.close()

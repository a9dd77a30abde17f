"""The raw contract (docs/raw-contract.md) as data.

Each table: system, name, and its columns in the contract's order with the
contract's SQL type. Every written file also has ``_loaded_at`` (TIMESTAMP) last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

LOADED_AT = "_loaded_at"


@dataclass(frozen=True)
class Table:
    system: str
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """``system/table``, also the file path below the output folder without suffix."""
        return f"{self.system}/{self.name}"

    @property
    def schema(self) -> pa.Schema:
        cols = [*self.columns, (LOADED_AT, "TIMESTAMP")]
        return pa.schema([pa.field(c, arrow_type(t)) for c, t in cols])


_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_SIMPLE = {
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
}


def arrow_type(sql_type: str) -> pa.DataType:
    """Arrow type of a contract SQL type (TIMESTAMP is microseconds without time zone)."""
    t = sql_type.strip().upper()
    if t in _SIMPLE:
        return _SIMPLE[t]
    m = _DECIMAL.match(t)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"unknown contract type {sql_type!r}")


def _t(system: str, name: str, *cols: tuple[str, str]) -> Table:
    return Table(system, name, tuple(cols))


V, TS, D, B = "VARCHAR", "TIMESTAMP", "DATE", "BOOLEAN"
MONEY = "DECIMAL(18,2)"

TABLES: tuple[Table, ...] = (
    _t(
        "app",
        "users",
        ("user_id", V),
        ("signed_up_at", TS),
        ("country", V),
        ("acquisition_channel", V),
        ("is_test_account", B),
        ("deleted_at", TS),
    ),
    _t(
        "app",
        "orders",
        ("order_id", V),
        ("user_id", V),
        ("ordered_at", TS),
        ("status", V),
        ("currency", V),
        ("shipping_cost", MONEY),
    ),
    _t(
        "app",
        "order_items",
        ("order_item_id", V),
        ("order_id", V),
        ("product_id", V),
        ("quantity", "INTEGER"),
        ("unit_price", MONEY),
        ("discount_amount", MONEY),
    ),
    _t(
        "app",
        "products",
        ("product_id", V),
        ("product_name", V),
        ("category", V),
        ("updated_at", TS),
    ),
    _t(
        "app",
        "payments",
        ("payment_id", V),
        ("order_id", V),
        ("paid_at", TS),
        ("status", V),
        ("amount", MONEY),
        ("processor_fee", MONEY),
    ),
    _t(
        "app",
        "refunds",
        ("refund_id", V),
        ("order_id", V),
        ("refunded_at", TS),
        ("amount", MONEY),
        ("reason", V),
    ),
    _t(
        "app",
        "experiment_assignments",
        ("experiment_id", V),
        ("user_id", V),
        ("variant", V),
        ("assigned_at", TS),
    ),
    _t(
        "events",
        "events",
        ("event_id", V),
        ("user_id", V),
        ("session_id", V),
        ("event_name", V),
        ("occurred_at", TS),
        ("received_at", TS),
        ("platform", V),
    ),
    _t("analytics", "active_user_counts", ("activity_date", D), ("active_users", "BIGINT")),
    _t("finance", "fx_rates", ("rate_date", D), ("currency", V), ("usd_per_unit", "DECIMAL(18,8)")),
    _t(
        "finance",
        "ledger_entries",
        ("entry_id", V),
        ("posted_date", D),
        ("account", V),
        ("amount_usd", MONEY),
    ),
    _t(
        "finance",
        "product_costs",
        ("product_id", V),
        ("valid_from", D),
        ("valid_to", D),
        ("unit_cost_usd", "DECIMAL(18,4)"),
    ),
    _t(
        "finance",
        "filings",
        ("fiscal_quarter", V),
        ("metric", V),
        ("reported_usd", MONEY),
        ("filed_on", D),
    ),
)

BY_KEY: dict[str, Table] = {t.key: t for t in TABLES}

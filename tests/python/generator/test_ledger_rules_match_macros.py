"""The generator's ledger arithmetic against the dbt macros, on the same literal rows.

The marts round and allocate with ``macros/usd_round.sql`` and ``macros/allocate_usd.sql``;
the generator's ledger, the figures the marts are reconciled against, has its own SQL
(``ledger.MACROS_SQL``, ``LINE_AMOUNTS_SQL``, ``REFUND_AMOUNTS_SQL``). Here dbt compiles the
macros (the repo's ``macros/``, in a tiny project) and DuckDB runs both sides on the same
rows: half-cent ties, negatives, zero-revenue orders split evenly, remainders, a tie that
only the order of the double operations decides, and a seeded batch of ordinary rows. A
change to either side that moves a cent fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from prometheus.generator import ledger
from prometheus.generator.ledger_lines import FAR_FUTURE_DAY, SPAN, BookedLines, Costs

REPO_ROOT = Path(__file__).resolve().parents[3]

# (a, r, ln, onl, lc): an order-level amount, its rate, a line's and its order's net revenue,
# the order's line count, as the marts and the ledger type them (cents; 1e-8 for rates)
PER_LINE_MODEL = """
select
    id,
    {{ usd_round('ln * r') }} as net_revenue,
    {{ usd_round('q * cost') }} as cogs,
    {{ allocate_usd('a', 'r', 'ln', 'onl', 'lc') }} as allocated
from cases
"""
# the ledger's line amounts as the marts compute them (int_order_lines_converted,
# int_order_lines_allocated, int_refunds_allocated_to_lines), on the ledger's columns
LINE_AMOUNTS_MODEL = """
select od as posted_date, 'net_revenue' as account,
    {{ usd_round('line_net_local * rate') }} as amount
from lines
union all
select od, 'cogs', {{ usd_round('quantity * unit_cost_usd') }} from lines
union all
select od, 'shipping_expense', {{ allocate_usd(
    'shipping_cost', 'rate', 'line_net_local', 'order_net_local', 'line_count'
) }} from lines
union all
select od, 'payment_fees', {{ allocate_usd(
    'fee', 'rate', 'line_net_local', 'order_net_local', 'line_count'
) }} from lines
union all
select rd, 'refunds', {{ allocate_usd(
    'amount', 'rate', 'line_net_local', 'order_net_local', 'line_count'
) }} from refund_lines
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The two models compiled by dbt with the repo's macros (model name -> SQL)."""
    project = tmp_path_factory.mktemp("macros_project")
    shutil.copytree(REPO_ROOT / "macros", project / "macros")
    (project / "models").mkdir()
    (project / "models" / "per_line.sql").write_text(PER_LINE_MODEL)
    (project / "models" / "line_amounts.sql").write_text(LINE_AMOUNTS_MODEL)
    (project / "dbt_project.yml").write_text(
        "name: ledger_rules\nversion: '1.0'\nconfig-version: 2\nprofile: ledger_rules\n"
        "macro-paths: [macros]\nmodel-paths: [models]\n"
    )
    (project / "profiles.yml").write_text(
        "ledger_rules:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {project / 'unused.duckdb'}\n      threads: 1\n"
    )
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "compile", "--project-dir", str(project), "--profiles-dir", str(project)]
        + ["--target-path", str(project / "target"), "--no-partial-parse", "--quiet"],
        cwd=project,
        env={"PATH": str(dbt.parent), "DO_NOT_TRACK": "1", "HOME": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = project / "target" / "compiled" / "ledger_rules" / "models"
    return {name: (out / f"{name}.sql").read_text() for name in ("per_line", "line_amounts")}


def generator_connection() -> duckdb.DuckDBPyConnection:
    """A connection with the generator's rules defined, as build_ledger makes it."""
    con = ledger.connect()
    ledger._run(con, ledger.MACROS_SQL)
    return con


# --- per line: usd_round and the allocation on literal rows --------------------------------

D = Decimal
TIES = [
    # (a, r, ln, onl, lc, q, cost): what it checks
    (D("0.01"), D("0.50000000"), D("0.01"), D("0.01"), 1, 1, D("0.0050")),  # +0.005 -> 0.01
    (D("-0.01"), D("0.50000000"), D("-0.01"), D("-0.01"), 1, -1, D("0.0050")),  # -0.005 -> -0.01
    (D("0.05"), D("1.00000000"), D("0.00"), D("0.00"), 2, 3, D("0.0015")),  # zero order: 0.025
    (D("10.00"), D("1.00000000"), D("0.00"), D("0.00"), 3, 1, D("0.0049")),  # 3.333.. x 3
    (D("10.00"), D("1.00000000"), D("5.00"), D("15.00"), 3, 7, D("0.0007")),  # remainder
    (D("0.01"), D("1.00000000"), D("1.00"), D("3.00"), 3, 2, D("0.0025")),  # 0.0033 -> 0.00
    (D("12.35"), D("1.10000000"), D("-2.50"), D("10.00"), 2, 1, D("1.2345")),  # negative line
    (D("-3.00"), D("0.90000000"), D("4.00"), D("0.00"), 2, 1, D("0.0001")),  # negative amount
    # exactly 0.0049995: dbt's a * r * (ln / onl) gives 0.01, ((a * r) * ln) / onl 0.00
    (D("1.00"), D("0.00999900"), D("0.81"), D("1.62"), 2, 1, D("0.0000")),
    (D("1.00"), D("0.00999900"), D("1.63"), D("3.26"), 2, 1, D("0.0000")),
]


def seeded_rows(n: int) -> list[tuple[Decimal, Decimal, Decimal, Decimal, int, int, Decimal]]:
    rng = np.random.default_rng(10)
    rows = []
    for _ in range(n):
        lc = int(rng.integers(1, 6))
        ln = D(int(rng.integers(-5_000, 50_000))) / 100
        onl = D(0) if rng.random() < 0.1 else ln + D(int(rng.integers(0, 200_000))) / 100
        rows.append(
            (
                D(int(rng.integers(-2_000, 20_000))) / 100,
                D(int(rng.integers(1, 300_000_000))) / 10**8,
                ln,
                onl,
                lc,
                int(rng.integers(1, 10)),
                D(int(rng.integers(0, 2_000_000))) / 10**4,
            )
        )
    return rows


def cases_table(
    rows: list[tuple[Decimal, Decimal, Decimal, Decimal, int, int, Decimal]],
) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            "a": pa.array(columns[0], pa.decimal128(18, 2)),
            "r": pa.array(columns[1], pa.decimal128(18, 8)),
            "ln": pa.array(columns[2], pa.decimal128(18, 2)),
            "onl": pa.array(columns[3], pa.decimal128(38, 2)),
            "lc": pa.array(columns[4], pa.int64()),
            "q": pa.array(columns[5], pa.int32()),
            "cost": pa.array(columns[6], pa.decimal128(18, 4)),
        }
    )


def per_line(con: duckdb.DuckDBPyConnection, sql: str) -> dict[int, tuple[Decimal, ...]]:
    return {row[0]: tuple(row[1:]) for row in con.sql(sql).fetchall()}


@pytest.mark.parametrize("rows", [TIES, seeded_rows(3000)], ids=["ties", "seeded"])
def test_rounding_and_allocation_equal_the_macros(compiled: dict[str, str], rows) -> None:
    con = generator_connection()
    con.register("cases", cases_table(rows))
    macros = per_line(con, compiled["per_line"])
    generator = per_line(
        con,
        "select id, usd_round(ln * r), usd_round(q * cost), alloc(a, r, ln, onl, lc) from cases",
    )
    assert len(macros) == len(rows)
    differ = {i: (rows[i], macros[i], generator[i]) for i in macros if macros[i] != generator[i]}
    assert differ == {}, "(a, r, ln, onl, lc, q, cost), dbt's, the generator's"


def test_the_ties_are_ties(compiled: dict[str, str]) -> None:
    """The literal rows land where the rule matters: a wrong rounding would show."""
    con = generator_connection()
    con.register("cases", cases_table(TIES))
    got = per_line(con, compiled["per_line"])
    assert got[0] == (D("0.01"), D("0.01"), D("0.01"))  # half away from zero
    assert got[1] == (D("-0.01"), D("-0.01"), D("-0.01"))
    assert got[2][2] == D("0.03")  # 0.05 split evenly by 2 lines of a zero-revenue order
    assert got[3][2] == D("3.33")  # 10.00 by 3: the remainder cent is not allocated
    assert got[5][2] == D("0.00")
    assert got[8][2] == got[9][2] == D("0.01")  # 0.0049995 -> 0.005000 -> 0.01


# --- the ledger's statements (LINE_AMOUNTS_SQL, REFUND_AMOUNTS_SQL) on literal orders -------


@dataclass(frozen=True)
class Order:
    rate: Decimal  # usd_per_unit on the order day
    shipping: Decimal
    fee: Decimal | None  # captured processor fees; None: no captured payment
    lines: tuple[tuple[int, Decimal, Decimal | None], ...]  # (quantity, line net, unit cost)
    refunds: tuple[tuple[Decimal, Decimal], ...] = ()  # (amount, rate on the refund day)


ORDERS = [
    Order(D("0.5"), D("0.01"), D("0.01"), ((1, D("0.01"), D("0.0050")),)),  # ties
    Order(D("1"), D("10.00"), D("0.30"), ((1, D("5.00"), D("1")),) * 3),  # 3.33 x 3
    # a zero-revenue order: a full discount on one line cancels the other; split evenly
    Order(D("1.1"), D("0.05"), D("0.01"), ((1, D("5.00"), D("2")), (1, D("-5.00"), D("2")))),
    Order(D("1"), D("10.00"), None, ((1, D("0.00"), D("0.5")),) * 3, ((D("0.05"), D("1")),)),
    # negative line, refunds at another day's rate, one line without a cost period
    Order(
        D("0.9"),
        D("4.99"),
        D("0.37"),
        ((2, D("20.00"), D("3.3333")), (1, D("-2.50"), None), (5, D("7.77"), D("0.0015"))),
        ((D("3.33"), D("0.91234567")), (D("25.27"), D("0.9"))),
    ),
    # the tie only dbt's order of operations rounds up
    Order(D("0.009999"), D("1.00"), D("1.00"), ((1, D("0.81"), D("0")),) * 2),
]


def booked(orders: list[Order]) -> BookedLines:
    """The orders as ledger_lines.BookedLines: order k on day 20000 + k, its refunds on the
    day after; line i of the whole list is item i, product i, cost period from day 0."""
    line_order, line_net, qty, cost, has_cost = [], [], [], [], []
    r_day, r_amount, r_rate, r_line = [], [], [], []
    for k, order in enumerate(orders):
        first = len(line_order)
        for q, net, unit_cost in order.lines:
            line_order.append(k)
            line_net.append(int(net * 100))
            qty.append(q)
            cost.append(int((unit_cost or 0) * 10**4))
            has_cost.append(unit_cost is not None)
        for amount, rate in order.refunds:
            for i in range(first, len(line_order)):
                r_day.append(20_001 + k)
                r_amount.append(int(amount * 100))
                r_rate.append(int(rate * 10**8))
                r_line.append(i)
    n, o = len(line_order), np.array(line_order, dtype=np.int64)
    nets = np.array(line_net, dtype=np.int64)
    products = np.arange(n, dtype=np.int64)[np.array(has_cost)]
    i64 = np.int64
    return BookedLines(
        item=np.arange(n, dtype=i64),
        order=o,
        line_net=nets,
        quantity=np.array(qty, dtype=np.int32),
        product=np.arange(n, dtype=i64),
        od=np.arange(len(orders), dtype=i64) + 20_000,
        rate=np.array([int(x.rate * 10**8) for x in orders], dtype=i64),
        shipping=np.array([int(x.shipping * 100) for x in orders], dtype=i64),
        order_net=np.bincount(o, weights=nets, minlength=len(orders)).astype(i64),
        line_count=np.bincount(o, minlength=len(orders)).astype(i64),
        fee=np.array([int((x.fee or 0) * 100) for x in orders], dtype=i64),
        has_fee=np.array([x.fee is not None for x in orders]),
        costs=Costs(
            key=products * SPAN,
            product=products,
            valid_to=np.full(len(products), FAR_FUTURE_DAY, dtype=i64),
            cost=np.array(cost, dtype=i64)[np.array(has_cost)],
        ),
        r_day=np.array(r_day, dtype=i64),
        r_amount=np.array(r_amount, dtype=i64),
        r_rate=np.array(r_rate, dtype=i64),
        r_line=np.array(r_line, dtype=i64),
    )


def test_ledger_amounts_equal_the_marts_rules(compiled: dict[str, str]) -> None:
    lines = booked(ORDERS)
    con = generator_connection()
    (chunk,) = lines.line_chunks()
    con.register("lines", chunk)
    con.execute(ledger.LINE_AMOUNTS_SQL)  # as build_ledger runs them
    con.register("refund_lines", lines.refund_lines())
    con.execute(ledger.REFUND_AMOUNTS_SQL)
    by_day = "select posted_date, account, sum(amount) from {} group by all order by all"
    generator = con.sql(by_day.format("_amounts")).fetchall()
    marts = con.sql(
        by_day.format(f"({compiled['line_amounts']}) where amount is not null")
    ).fetchall()
    assert {account for _, account, _ in marts} == {
        "net_revenue",
        "cogs",
        "shipping_expense",
        "payment_fees",
        "refunds",
    }
    assert generator == marts

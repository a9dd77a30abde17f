"""Registry of data defects injected after the clean tables are built (empty for now).

A defect is a named, ordered step ``apply(tables, rng, params) -> tables`` over the
in-memory tables keyed ``system/table`` (every table except events/events), plus
an optional ``apply_events(chunk, rng, params) -> chunk`` applied to each monthly
events chunk before it is written (events are streamed to bound memory).
Derived tables (ledger, filings, active_user_counts) are computed from the clean
data before defects run, as upstream would have reported them.

To add one: define the function(s) and register ``Defect(name, description,
apply, apply_events)`` in ``DEFECTS``; ``prometheus generate --defect NAME`` then
accepts it. Each defect gets its own generator keyed by (seed, "defect:" + name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .params import Params

Tables = dict[str, pa.Table]
TablesFn = Callable[[Tables, np.random.Generator, Params], Tables]
EventsFn = Callable[[pa.Table, np.random.Generator, Params], pa.Table]


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    apply: TablesFn | None = None
    apply_events: EventsFn | None = None


# Ordered: defects run in registry order whatever the order on the command line.
DEFECTS: dict[str, Defect] = {}


class UnknownDefect(ValueError):
    pass


def resolve(names: Sequence[str], registry: Mapping[str, Defect] | None = None) -> list[Defect]:
    """The requested defects in registry order; unknown names raise :class:`UnknownDefect`."""
    reg = DEFECTS if registry is None else registry
    unknown = sorted(set(names) - set(reg))
    if unknown:
        known = ", ".join(reg) or "none registered"
        raise UnknownDefect(f"unknown defect(s) {', '.join(unknown)} (known: {known})")
    wanted = set(names)
    return [d for name, d in reg.items() if name in wanted]


def apply_tables(tables: Tables, defects: Sequence[Defect], p: Params) -> Tables:
    for d in defects:
        if d.apply is not None:
            tables = d.apply(dict(tables), p.rng("defect:" + d.name), p)
    return tables


def apply_events(
    chunk: pa.Table, chunk_index: int, defects: Sequence[Defect], p: Params
) -> pa.Table:
    for d in defects:
        if d.apply_events is not None:
            chunk = d.apply_events(chunk, p.rng("defect-events:" + d.name, chunk_index), p)
    return chunk

"""The publication gate, checked from the manifest rather than trusted to comments.

A public mart built from an audited model (``int_*_audited``) must only be
published when every blocking test on the audited model's inputs passed. dbt
build holds a node back after a failing test only when the node descends from
*every* node that test reads (dbt's ``add_test_edges``): a single-model test
always gates what is built from that model, but a reconciliation that reads the
audited model and a second model (the ledger, the filings, the official
active-user counts, a metrics model) gates the mart only if the mart also
depends on that second model, through a ``-- depends_on: {{ ref(...) }}`` line.

This module finds every mart with an audited parent and every blocking test
that reads one of its audited model's inputs (the audited model itself or one
of its ancestors), and reports each such test that does not gate the mart.
A test that reads those inputs but cannot move the mart's numbers says so with
``meta: {gate: partial, gate_reason: "..."}`` (it then gates only the marts built
from everything it reads); a ``partial`` without a reason is itself reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from prometheus.artifacts import Manifest, Node

AUDITED_SUFFIX = "_audited"


@dataclass(frozen=True)
class GateGap:
    """A blocking test on an audited model's inputs that would not hold a mart back."""

    mart: str  # name
    audited: tuple[str, ...]  # names of the mart's audited parents
    test: str  # name
    missing: tuple[str, ...]  # names of what the mart must also depend on

    def describe(self) -> str:
        return (
            f"{self.mart}: blocking test {self.test} reads the inputs of "
            f"{', '.join(self.audited)} but would not hold {self.mart} back; add "
            f"`-- depends_on: {{{{ ref(...) }}}}` lines to {self.mart} for "
            f"{', '.join(self.missing)}, or give the test meta gate: partial with a "
            "gate_reason saying why it cannot move the mart's numbers"
        )


def _name(manifest: Manifest, unique_id: str) -> str:
    node = manifest.nodes.get(unique_id)
    return node.name if node else unique_id


def _ancestors(manifest: Manifest) -> dict[str, frozenset[str]]:
    nodes = manifest.nodes

    @cache
    def of(unique_id: str) -> frozenset[str]:
        node = nodes.get(unique_id)
        if node is None:
            return frozenset()
        found: set[str] = set()
        for parent in node.depends_on_nodes:
            found.add(parent)
            found |= of(parent)
        return frozenset(found)

    return {uid: of(uid) for uid, node in nodes.items() if node.resource_type != "test"}


def _is_blocking(test: Node) -> bool:
    return (test.severity or "error").lower() == "error"


def _is_partial(test: Node) -> bool:
    return test.meta.get("gate") == "partial" and bool(str(test.meta.get("gate_reason") or ""))


def unexplained_partials(manifest: Manifest) -> list[str]:
    """Tests marked ``gate: partial`` without a ``gate_reason``, or with another gate value."""
    found = []
    for test in manifest.of_type("test"):
        gate = test.meta.get("gate")
        if gate is not None and (gate != "partial" or not _is_partial(test)):
            found.append(
                f"{test.name}: meta gate must be 'partial' with a non-empty gate_reason "
                f"(got gate={gate!r})"
            )
    return found


def protected_marts(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    """Mart unique id -> its audited parents, for every model built from an audited model."""
    marts: dict[str, tuple[str, ...]] = {}
    for node in manifest.of_type("model"):
        audited = tuple(
            p
            for p in node.depends_on_nodes
            if p.startswith("model.") and p.endswith(AUDITED_SUFFIX)
        )
        if audited and not node.name.endswith(AUDITED_SUFFIX):
            marts[node.unique_id] = audited
    return marts


def gate_gaps(manifest: Manifest) -> list[GateGap]:
    """Every (mart, blocking test) pair where the test reads the mart's audited inputs
    but a failure would not hold the mart back."""
    ancestors = _ancestors(manifest)
    tests = [n for n in manifest.of_type("test") if _is_blocking(n)]
    gaps: list[GateGap] = []
    for mart, audited in sorted(protected_marts(manifest).items()):
        inputs: set[str] = set(audited)
        for model in audited:
            inputs |= ancestors.get(model, frozenset())
        upstream = ancestors[mart]
        for test in tests:
            reads = set(test.depends_on_nodes)
            if reads & inputs and not reads <= upstream and not _is_partial(test):
                gaps.append(
                    GateGap(
                        mart=_name(manifest, mart),
                        audited=tuple(_name(manifest, a) for a in audited),
                        test=test.name,
                        missing=tuple(sorted(_name(manifest, m) for m in reads - upstream)),
                    )
                )
    return gaps


def summary(manifest: Manifest) -> Iterable[str]:
    """One line per protected mart: how many blocking tests gate it."""
    ancestors = _ancestors(manifest)
    tests = [n for n in manifest.of_type("test") if _is_blocking(n)]
    for mart, audited in sorted(protected_marts(manifest).items()):
        upstream = ancestors[mart]
        gating = sum(1 for t in tests if set(t.depends_on_nodes) <= upstream)
        names = ", ".join(a.rsplit(".", 1)[-1] for a in audited)
        yield f"{mart.rsplit('.', 1)[-1]}: from {names}, held back by {gating} blocking tests"

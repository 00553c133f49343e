"""Two networks compared layer by layer: shapes, params and MACs (what `cnncalc diff` reports).

Leaf rows are aligned by their figures (output shape, params, MACs) in execution order, with
difflib's longest matching blocks, so names may differ (a spec and its ONNX export do), and an
inserted layer shows as one addition rather than shifting every later row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Merge

TOTALS = ("params", "trainable_params", "buffers", "macs")


@dataclass(frozen=True)
class Figures:
    """What is compared of one layer (a structure's merge counts as a layer: `add: {from:}` is one)."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


def figures(analysis: Analysis) -> list[Figures]:
    """The leaves in execution order, with each merging structure's merge after its branches."""
    found: list[Figures] = []

    def visit(row: LayerRow) -> None:
        if row.leaf:
            found.append(Figures(row.name, row.kind, tuple(row.output_shape), row.params, row.macs))
            return
        for child in row.children:
            visit(child)
        if isinstance(row.layer, Merge):
            found.append(Figures(row.name, row.kind, tuple(row.output_shape), 0, 0))

    for row in analysis.rows:
        if row.parent is None:
            visit(row)
    return found


@dataclass
class LayerDiff:
    """One difference: a layer only in A (`removed`), only in B (`added`), or in both with other figures."""

    status: str
    a: Figures | None
    b: Figures | None

    @property
    def fields(self) -> list[str]:
        if self.a is None or self.b is None:
            return []
        return [f for f in ("output_shape", "params", "macs") if getattr(self.a, f) != getattr(self.b, f)]


@dataclass
class Diff:
    """What differs between A and B; `same` when nothing does."""

    a_name: str
    b_name: str
    totals: dict[str, tuple[int, int]]
    outputs: tuple[list[tuple[int, ...]], list[tuple[int, ...]]]
    layers: list[LayerDiff] = field(default_factory=list)
    leaves: tuple[int, int] = (0, 0)

    @property
    def same(self) -> bool:
        return not self.layers and self.outputs[0] == self.outputs[1] and all(a == b for a, b in self.totals.values())


def _signature(row: Figures) -> tuple[object, ...]:
    return (row.output_shape, row.params, row.macs)


def diff(a: Analysis, b: Analysis, a_name: str, b_name: str) -> Diff:
    """Compare two analyses."""
    totals = {key: (getattr(a, key), getattr(b, key)) for key in TOTALS}
    outputs = ([tuple(s) for _, s in a.outputs], [tuple(s) for _, s in b.outputs])
    rows_a, rows_b = figures(a), figures(b)
    result = Diff(a_name, b_name, totals, outputs, leaves=(len(rows_a), len(rows_b)))
    matcher = difflib.SequenceMatcher(
        None, [_signature(r) for r in rows_a], [_signature(r) for r in rows_b], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            result.layers.append(LayerDiff("changed", rows_a[i1 + k], rows_b[j1 + k]))
        result.layers.extend(LayerDiff("removed", row, None) for row in rows_a[i1 + paired : i2])
        result.layers.extend(LayerDiff("added", None, row) for row in rows_b[j1 + paired : j2])
    return result

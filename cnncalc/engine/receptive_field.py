"""Receptive field, effective stride and centre of every layer (Araujo, Norris, Sim, Distill 2019).

Going forward from the input with r = 1, S = 1, P = 0, each sliding window of effective size
k_eff = dilation*(k-1) + 1, stride s and padding-before p does r += S*(k_eff - 1), P += S*p,
S *= s. We report, per spatial dim, the size r, the effective stride ("jump") S and the input
coordinate where the first output unit's field starts, u = -P (0 is the first input pixel;
negative means the field begins in the padding); its centre is u + (r - 1)/2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cnncalc.engine.propagate import Analysis
from cnncalc.errors import Position
from cnncalc.layers import Layer, Merge, Shape

Status = Literal["window", "global", "n/a"]


# The engine's warnings write receptive fields this way, and report/ shows them the same.
def format_dims(values: tuple[float, ...] | None) -> str:
    """`163` when every dim agrees, else `163x99` (H x W)."""
    if values is None:
        return "n/a"
    if not values:
        return "-"
    shown = [f"{v:g}" for v in values]
    return shown[0] if len(set(shown)) == 1 else "x".join(shown)


@dataclass(frozen=True)
class ReceptiveField:
    """One layer's field per spatial dim; `global` sees the whole input, `n/a` is not covered."""

    size: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    start: tuple[int, ...] | None
    status: Status = "window"

    @property
    def center(self) -> tuple[float, ...] | None:
        if self.start is None or self.size is None or self.status != "window":
            return None
        return tuple(u + (r - 1) / 2 for u, r in zip(self.start, self.size))


@dataclass
class ReceptiveFields:
    """The field of every row (by name) and the warnings found on the way."""

    by_name: dict[str, ReceptiveField]
    warnings: list[str] = field(default_factory=list)
    sources: list[Position | None] = field(default_factory=list)  # where each warning's layer is written


UNCOVERED = ReceptiveField(None, None, None, "n/a")


def receptive_fields(analysis: Analysis) -> ReceptiveFields:
    """Fold over the graph in execution order, carrying (r, S, u) per node; rows take their output node's."""
    graph = analysis.graph
    extent = analysis.spec.input_shape[1:]
    shapes = graph.shapes()
    walker = _Walker(extent)
    fields = [ReceptiveField((1,) * len(extent), (1,) * len(extent), (0,) * len(extent))]
    for node in graph.nodes[1:]:
        inputs = [fields[i] for i in node.inputs]
        op = node.op
        if isinstance(op, Merge):
            fields.append(walker.merge(op, inputs))
        elif isinstance(op, Layer):
            fields.append(walker.step(op, shapes[node.inputs[0]], inputs[0]))
        else:  # a split's channel section: the same positions
            fields.append(inputs[0])
    by_name = {row.name: fields[row.layer.output_node] for row in analysis.rows}
    return ReceptiveFields(by_name, walker.warnings, walker.sources)


def annotate(analysis: Analysis) -> ReceptiveFields:
    """Set each row's `receptive_field` (idempotent)."""
    result = receptive_fields(analysis)
    for row in analysis.rows:
        row.receptive_field = result.by_name.get(row.name, UNCOVERED)
    return result


class _Walker:
    def __init__(self, extent: Shape):
        self.extent = extent
        self.warnings: list[str] = []
        self.sources: list[Position | None] = []
        self.warned_exceeds = False
        self.noted_gate = False

    def warn(self, source: Position | None, text: str) -> None:
        """A warning and where its layer is written, kept in step (ReceptiveFields pairs them)."""
        self.sources.append(source)
        self.warnings.append(text)

    def step(self, layer: Layer, input_shape: Shape, rf: ReceptiveField) -> ReceptiveField:
        window = layer.receptive_window(input_shape)
        if window is None:
            return rf
        if window == "global":
            return ReceptiveField(tuple(self.extent), None, (0,) * len(self.extent), "global")
        if window == "n/a" or rf.status == "n/a":
            return UNCOVERED
        if rf.status == "global":
            return rf  # a window over values that already see everything still sees everything
        assert rf.size is not None and rf.jump is not None and rf.start is not None
        size = tuple(r + s_eff * (k - 1) for r, s_eff, (k, _, _) in zip(rf.size, rf.jump, window))
        start = tuple(u - s_eff * pad for u, s_eff, (_, _, pad) in zip(rf.start, rf.jump, window))
        jump = tuple(s_eff * stride for s_eff, (_, stride, _) in zip(rf.jump, window))
        new = ReceptiveField(size, jump, start)
        self.check_exceeds(layer, new)
        return new

    def check_exceeds(self, layer: Layer, rf: ReceptiveField) -> None:
        """Warn once, at the first layer whose field is larger than the input."""
        if self.warned_exceeds or rf.size is None or not any(r > n for r, n in zip(rf.size, self.extent)):
            return
        self.warned_exceeds = True
        self.warn(
            layer.source,
            f"{layer.path}: receptive field {format_dims(rf.size)} already exceeds the input "
            f"{format_dims(tuple(self.extent))}; deeper layers see no new context, only more padding.",
        )

    def merge(self, op: Merge, paths: list[ReceptiveField]) -> ReceptiveField:
        """Merged paths (an identity path is the input's field): the largest field, if they are aligned.

        A product's operands that see the whole input (an SE gate from a global pool) scale the other
        operands' values but widen nothing, so only the other operands count.
        """
        path_name = op.path if isinstance(op, Layer) else "merge"
        source = op.source if isinstance(op, Layer) else None
        if any(p.status == "n/a" for p in paths):
            return UNCOVERED
        windows = [p for p in paths if p.status == "window"]
        if op.gate and windows and len(windows) < len(paths):
            if not self.noted_gate:  # once: an EfficientNet has a gate in every block
                self.noted_gate = True
                self.warn(
                    source,
                    f"{path_name}: a gate that sees the whole input scales this product; the receptive field "
                    "reported is the other operands' (and likewise at every such gate).",
                )
        elif len(windows) < len(paths):
            return next(p for p in paths if p.status == "global")
        largest = max(windows, key=lambda p: p.size or ())
        if any(p.jump != largest.jump or p.center != largest.center for p in windows):
            shown = "; ".join(
                f"path {i}: stride {format_dims(p.jump)}, centre {format_dims(p.center)}" for i, p in enumerate(windows)
            )
            self.warn(
                source, f"{path_name}: the paths are not aligned ({shown}); reporting the largest receptive field."
            )
        # Per dimension, the path with the largest field there gives its size and start: Inception's 1x3 and
        # 3x1 branches widen W and H respectively.
        widest = [_widest(windows, d) for d in range(len(largest.size or ()))]
        size = tuple((p.size or ())[d] for d, p in enumerate(widest))
        start = tuple((p.start or ())[d] for d, p in enumerate(widest))
        return ReceptiveField(size, largest.jump, start)


def _widest(paths: list[ReceptiveField], dim: int) -> ReceptiveField:
    """The path whose field is largest in dimension `dim`."""
    return max(paths, key=lambda path: (path.size or ())[dim])

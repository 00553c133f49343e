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

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Layer, Shape, Structure

Status = Literal["window", "global", "n/a"]


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


UNCOVERED = ReceptiveField(None, None, None, "n/a")


def receptive_fields(analysis: Analysis) -> ReceptiveFields:
    """Walk the spec's layers in order, as the engine did, carrying (r, S, u)."""
    walker = _Walker(analysis)
    extent = analysis.spec.input_shape[1:]
    ndim = len(extent)
    walker.run(analysis.spec.layers, ReceptiveField((1,) * ndim, (1,) * ndim, (0,) * ndim))
    return ReceptiveFields(walker.by_name, walker.warnings)


def annotate(analysis: Analysis) -> ReceptiveFields:
    """Attach each row's field as `row.extras["receptive_field"]` (idempotent)."""
    result = receptive_fields(analysis)
    for row in analysis.rows:
        row.extras["receptive_field"] = result.by_name.get(row.name, UNCOVERED)
    return result


def format_dims(values: tuple[float, ...] | None) -> str:
    """`163` when every dim agrees, else `163x99` (H x W)."""
    if values is None:
        return "n/a"
    if not values:
        return "-"
    shown = [f"{v:g}" for v in values]
    return shown[0] if len(set(shown)) == 1 else "x".join(shown)


def format_size(rf: ReceptiveField) -> str:
    text = format_dims(rf.size)
    return f"{text} (all)" if rf.status == "global" and rf.size else text


class _Walker:
    def __init__(self, analysis: Analysis):
        self.rows: dict[int, LayerRow] = {id(row.layer): row for row in analysis.rows}
        self.extent = analysis.spec.input_shape[1:]
        self.by_name: dict[str, ReceptiveField] = {}
        self.warnings: list[str] = []
        self.warned_exceeds = False

    def run(self, layers: list[Layer], rf: ReceptiveField) -> ReceptiveField:
        for layer in layers:
            rf = self.visit(layer, rf)
        return rf

    def visit(self, layer: Layer, rf: ReceptiveField) -> ReceptiveField:
        if isinstance(layer, Structure):
            groups = layer.children()
            if layer.parallel:
                rf = self.merge(layer, [self.run(group, rf) for group in groups])
            else:
                for group in groups:
                    rf = self.run(group, rf)
        else:
            rf = self.step(layer, self.rows[id(layer)].input_shape, rf)
        self.by_name[layer.path] = rf
        return rf

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
        self.warnings.append(
            f"{layer.path}: receptive field {format_dims(rf.size)} already exceeds the input "
            f"{format_dims(tuple(self.extent))}; deeper layers see no new context, only more padding."
        )

    def merge(self, layer: Structure, paths: list[ReceptiveField]) -> ReceptiveField:
        """Parallel paths (an empty one is the identity): the largest field, if they are aligned."""
        if any(p.status == "n/a" for p in paths):
            return UNCOVERED
        windows = [p for p in paths if p.status == "window"]
        if len(windows) < len(paths):
            return next(p for p in paths if p.status == "global")
        largest = max(windows, key=lambda p: p.size)
        if any(p.jump != largest.jump or p.center != largest.center for p in windows):
            shown = "; ".join(
                f"path {i}: stride {format_dims(p.jump)}, centre {format_dims(p.center)}" for i, p in enumerate(windows)
            )
            self.warnings.append(
                f"{layer.path}: the paths are not aligned ({shown}); reporting the largest receptive field."
            )
        size = tuple(max(sizes) for sizes in zip(*(p.size for p in windows)))  # type: ignore[misc]
        return ReceptiveField(size, largest.jump, largest.start)


CONVENTION = (
    "RF: receptive field size per spatial dim (Araujo et al., Distill 2019); '(all)' = sees the whole input; "
    "n/a = not covered (transposed conv, upsampling, unequal adaptive bins). Jump: effective stride in input "
    "pixels. RF start: input coordinate where the first output unit's field begins (negative = in the padding); "
    "centre = start + (RF - 1)/2."
)

"""Walk a spec's layers: input/output shape, params and MACs per layer, plus totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from cnncalc.errors import StrictWarning, approximate
from cnncalc.layers import Layer, Shape, Structure
from cnncalc.layers.base import MAX_SIZE
from cnncalc.spec.model import Spec


@dataclass
class LayerRow:
    """One layer's figures. Structure rows sum their leaves and have `leaf=False`."""

    layer: Layer
    depth: int
    input_shape: Shape
    output_shape: Shape = ()
    params: int = 0
    buffers: int = 0
    macs: int = 0
    leaf: bool = True
    warnings: list[str] = field(default_factory=list)
    # Figures later passes attach by name (engine/receptive_field.py, engine/memory.py).
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.layer.path

    @property
    def kind(self) -> str:
        return self.layer.kind_label

    @property
    def flops(self) -> int:
        """FLOPs as torch.utils.flop_counter counts them: 2 per multiply-accumulate."""
        return 2 * self.macs

    def explain(self) -> list[str]:
        return [] if not self.leaf else self.layer.explain(self.input_shape, self.output_shape)


@dataclass
class Analysis:
    """The result of propagating a spec's input through all its layers."""

    spec: Spec
    rows: list[LayerRow]
    output_shape: Shape
    warnings: list[str]

    @property
    def leaves(self) -> list[LayerRow]:
        return [row for row in self.rows if row.leaf]

    @property
    def params(self) -> int:
        return sum(row.params for row in self.leaves)

    @property
    def trainable_params(self) -> int:
        return self.params  # every parameter of these kinds is trainable; buffers are apart

    @property
    def buffers(self) -> int:
        return sum(row.buffers for row in self.leaves)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.leaves)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def row(self, name: str) -> LayerRow | None:
        return next((row for row in self.rows if row.name == name), None)


def analyze(spec: Spec, strict: bool = False) -> Analysis:
    """Propagate shapes through the spec; `strict` turns warnings into errors."""
    walker = _Walker(strict)
    output = walker.run(spec.layers, spec.input_shape, 0)
    return Analysis(spec, walker.rows, output, walker.warnings)


class _Walker:
    def __init__(self, strict: bool):
        self.strict = strict
        self.rows: list[LayerRow] = []
        self.warnings: list[str] = []

    def run(self, layers: list[Layer], shape: Shape, depth: int) -> Shape:
        for layer in layers:
            shape = self.visit(layer, shape, depth)
        return shape

    def visit(self, layer: Layer, shape: Shape, depth: int) -> Shape:
        row = LayerRow(layer, depth, shape)
        self.rows.append(row)
        if isinstance(layer, Structure):
            first_child = len(self.rows)
            row.leaf = False
            row.output_shape = layer.combine(shape, lambda group, s: self.run(group, s, depth + 1))
            leaves = [r for r in self.rows[first_child:] if r.leaf]
            row.params = sum(r.params for r in leaves)
            row.buffers = sum(r.buffers for r in leaves)
            row.macs = sum(r.macs for r in leaves)
            return row.output_shape
        row.output_shape = layer.output_shape(shape)
        check_tensor_size(layer, row.output_shape)
        row.params = layer.param_count(shape)
        row.buffers = layer.buffer_count(shape)
        row.macs = layer.macs(shape, row.output_shape)
        row.warnings = layer.warnings(shape)
        if row.warnings and self.strict:
            raise StrictWarning(row.warnings[0], layer.source, "Fix the sizes, or run without --strict.")
        self.warnings.extend(row.warnings)
        return row.output_shape


def check_tensor_size(layer: Layer, shape: Shape) -> None:
    """No tensor may hold more than MAX_SIZE elements (what PyTorch and NumPy index): a clear error here,
    rather than numbers too large to print or to run further down."""
    elements = prod(shape)
    if elements > MAX_SIZE:
        shown = "[" + ", ".join(approximate(n) for n in shape) + "]"
        raise layer.error(
            f"its output {shown} would hold {approximate(elements)} elements; a tensor holds at most "
            f"{MAX_SIZE:,} (what PyTorch and NumPy can index).",
            hint="Check the sizes and factors of this layer and the ones before it.",
        )

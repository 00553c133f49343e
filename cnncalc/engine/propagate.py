"""Shapes, params and MACs of every graph node, and the rows reports show (the layer tree).

The figures are a fold over the graph (cnncalc/graph.py); the rows follow the spec's tree, so
that blocks and structures keep their place and dotted names: a leaf's row is its node's
figures, a structure's row sums its leaves and shows its output node's shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cnncalc.errors import Position, StrictWarning
from cnncalc.graph import Graph
from cnncalc.layers import Layer, Shape, Structure
from cnncalc.layers.base import Border
from cnncalc.spec.model import Spec

if TYPE_CHECKING:
    from cnncalc.engine.backward_cost import BackwardCost
    from cnncalc.engine.memory import LayerMemory
    from cnncalc.engine.receptive_field import ReceptiveField


@dataclass
class LayerRow:
    """One layer's figures. Structure rows sum their leaves and have `leaf=False`."""

    layer: Layer
    depth: int
    input_shape: Shape
    output_shape: Shape = ()
    params: int = 0
    trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    leaf: bool = True
    warnings: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # names of the nodes a leaf reads
    parent: LayerRow | None = None
    children: list[LayerRow] = field(default_factory=list)
    # Filled by later passes when asked for (engine/receptive_field.py, engine/memory.py).
    receptive_field: ReceptiveField | None = None
    memory: LayerMemory | None = None
    backward: BackwardCost | None = None  # engine/backward_cost.py

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

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def referenced(self) -> bool:
        """True when the layer reads named layers (`from:`) rather than the previous one."""
        return bool(self.layer.from_names)

    def leaves(self) -> Iterator[LayerRow]:
        """The leaf rows at or under this one, in execution order."""
        if self.leaf:
            yield self
        for child in self.children:
            yield from child.leaves()

    def explain(self) -> list[str]:
        return [] if not self.leaf else self.layer.explain(self.input_shape, self.output_shape)


@dataclass
class Analysis:
    """The result of propagating a spec's input through its graph."""

    spec: Spec
    rows: list[LayerRow]
    output_shape: Shape
    warnings: list[str]  # every warning: the input's first, then each layer's in execution order
    outputs: list[tuple[str, Shape]] = field(default_factory=list)
    input_warnings: list[str] = field(default_factory=list)  # about `input:` itself (it looks channels-last)
    _by_name: dict[str, LayerRow] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def graph(self) -> Graph:
        return self.spec.graph

    @property
    def leaves(self) -> list[LayerRow]:
        return [row for row in self.rows if row.leaf]

    @property
    def params(self) -> int:
        return sum(row.params for row in self.leaves)

    @property
    def trainable_params(self) -> int:
        return sum(row.trainable_params for row in self.leaves)

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

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
        if self._by_name is None:  # built once: import checks every node's row, 20,000 of them in a big model
            self._by_name = {}
            for row in self.rows:
                self._by_name.setdefault(row.name, row)
        return self._by_name.get(name)

    def located_warnings(self) -> list[tuple[str, Position | None]]:
        """`warnings`, each with where it points: the input's at `input:`, a layer's at the layer."""
        located = [(warning, self.spec.input_source) for warning in self.input_warnings]
        return located + [(warning, row.layer.source) for row in self.leaves for warning in row.warnings]


def analyze(spec: Spec, strict: bool = False) -> Analysis:
    """Propagate shapes through the spec's graph; `strict` turns warnings into errors."""
    from cnncalc.spec.messages import channels_last_hint

    hint = channels_last_hint(spec.input_shape)
    if hint and strict:
        raise StrictWarning(hint, spec.input_source, "Give the input channels first, or run without --strict.")
    input_warnings = [hint] if hint else []
    graph = spec.graph
    shapes = graph.shapes()  # the shape pass: each node's op on its inputs' shapes
    rows: list[LayerRow] = []
    warnings = list(input_warnings)

    def visit(layers: list[Layer], depth: int, parent: LayerRow | None) -> None:
        for layer in layers:
            row = LayerRow(layer, depth, shapes[layer.input_node], shapes[layer.output_node], parent=parent)
            rows.append(row)
            if parent is not None:
                parent.children.append(row)
            if isinstance(layer, Structure):
                row.leaf = False
                for group in layer.groups():
                    visit(group, depth + 1, row)
                leaves = list(row.leaves())
                row.params = sum(r.params for r in leaves)
                row.trainable_params = sum(r.trainable_params for r in leaves)
                row.buffers = sum(r.buffers for r in leaves)
                row.macs = sum(r.macs for r in leaves)
                continue
            node = graph.nodes[layer.output_node]
            row.inputs = [graph.nodes[i].name for i in node.inputs]
            row.params = layer.param_count(row.input_shape)
            row.trainable_params = row.params if layer.trainable else 0
            row.buffers = layer.buffer_count(row.input_shape)
            row.macs = layer.macs(row.input_shape, row.output_shape)
            row.warnings = layer.warnings(row.input_shape, _zero_border(graph, shapes, node.inputs))
            if row.warnings and strict:
                raise StrictWarning(row.warnings[0], layer.source, "Fix the sizes, or run without --strict.")
            warnings.extend(row.warnings)

    visit(spec.layers, 0, None)
    dead = _unused(graph, rows)
    if dead:
        if strict:
            raise StrictWarning(dead[0].warnings[-1], dead[0].layer.source, "Use the layers, or run without --strict.")
        warnings.append(dead[0].warnings[-1])
    outputs = [(name, shapes[i]) for name, i in graph.outputs]
    return Analysis(spec, rows, outputs[0][1], warnings, outputs, input_warnings)


def _zero_border(graph: Graph, shapes: list[Shape], inputs: Sequence[int]) -> Border:
    """The zeros the layer producing a node's one input added around it (a window need not read them)."""
    if len(inputs) != 1:
        return None
    producer = graph.nodes[inputs[0]]
    if not isinstance(producer.op, Layer) or len(producer.inputs) != 1:
        return None
    return producer.op.zero_border(shapes[producer.inputs[0]])


def _unused(graph: Graph, rows: list[LayerRow]) -> list[LayerRow]:
    """Leaf rows no output depends on; the first gets one warning naming them all."""
    needed = graph.needed()
    dead = [row for row in rows if row.leaf and row.layer.output_node not in needed]
    if dead:
        names = ", ".join(row.name for row in dead[:5]) + (f" and {len(dead) - 5} more" if len(dead) > 5 else "")
        dead[0].warnings.append(
            f"{names}: no output depends on {'it' if len(dead) == 1 else 'them'} "
            "(their params still count, as in PyTorch); list the layer in `outputs:` or remove it."
        )
    return dead

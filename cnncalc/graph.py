"""The network as one graph: nodes with named inputs, in topological (execution) order.

The spec's tree of layers, structures and blocks is lowered into this graph once, by the
builder; every pass (shapes, params, MACs, receptive fields, memory, the executor, the
drawing) is a loop over `Graph.nodes`, as torch.fx's passes loop over a GraphModule.
Node 0 is the network's input. A node's op is a leaf layer, a merging structure (its merge
node), or a split's channel section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Protocol

from cnncalc.errors import LayerError, Position, approximate

Shape = tuple[int, ...]
INPUT = 0
# The most elements a tensor may hold: what PyTorch and NumPy can index.
MAX_SIZE = 2**63 - 1


class Op(Protocol):
    """What a node computes: its name, where it was written, and its shape rule."""

    @property
    def path(self) -> str: ...

    @property
    def source(self) -> Position | None: ...

    def infer(self, inputs: Sequence[Shape]) -> Shape: ...


@dataclass(frozen=True)
class Node:
    """One computation: `op` applied to the outputs of the nodes `inputs`."""

    index: int
    op: Op | None  # None for the network input (node 0)
    inputs: tuple[int, ...]

    @property
    def name(self) -> str:
        return "input" if self.op is None else self.op.path

    @property
    def kind(self) -> str:
        """What reports call the node's op: its kind (a block use's block name), or a split's section."""
        if self.op is None:
            return "input"
        return str(getattr(self.op, "kind_label", "split section"))


@dataclass
class Graph:
    """Nodes in execution order; `outputs` are the (name, node) pairs the network returns."""

    input_shape: Shape
    nodes: list[Node] = field(default_factory=list)
    outputs: list[tuple[str, int]] = field(default_factory=list)
    _shapes: list[Shape] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.nodes:
            self.nodes.append(Node(INPUT, None, ()))
            self._shapes.append(self.input_shape)

    def add(self, op: Op, inputs: Sequence[int]) -> int:
        """Append a node reading `inputs` (all earlier nodes) and return its index."""
        index = len(self.nodes)
        self.nodes.append(Node(index, op, tuple(inputs)))
        return index

    def shape(self, index: int) -> Shape:
        """The output shape of node `index`, inferring every earlier node once (the shape pass)."""
        while len(self._shapes) <= index:
            node = self.nodes[len(self._shapes)]
            assert node.op is not None
            shape = node.op.infer([self._shapes[i] for i in node.inputs])
            check_size(node.op, shape)
            self._shapes.append(shape)
        return self._shapes[index]

    def shapes(self) -> list[Shape]:
        """Every node's output shape."""
        if self.nodes:
            self.shape(len(self.nodes) - 1)
        return list(self._shapes)

    def consumers(self) -> list[list[int]]:
        """For each node, the nodes that read it."""
        readers: list[list[int]] = [[] for _ in self.nodes]
        for node in self.nodes:
            for i in node.inputs:
                readers[i].append(node.index)
        return readers

    def last_use(self) -> list[int]:
        """For each node, the last node that reads it (an output lives to the end; unread: itself)."""
        last = [node.index for node in self.nodes]
        for node in self.nodes:
            for i in node.inputs:
                last[i] = max(last[i], node.index)
        for _, i in self.outputs:
            last[i] = len(self.nodes)
        return last

    def needed(self) -> set[int]:
        """The nodes some output depends on."""
        seen: set[int] = set()
        stack = [i for _, i in self.outputs]
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(self.nodes[i].inputs)
        return seen


def too_large(shape: Sequence[int]) -> str | None:
    """Why no tensor can have this shape (`[...] would hold N elements; ...`), or None when one can."""
    elements = prod(shape)
    if elements <= MAX_SIZE:
        return None
    shown = "[" + ", ".join(approximate(n) for n in shape) + "]"
    return (
        f"{shown} would hold {approximate(elements)} elements; a tensor holds at "
        f"most {MAX_SIZE:,} (what PyTorch and NumPy can index)."
    )


def check_size(op: Op, shape: Shape) -> None:
    """No tensor may hold more than MAX_SIZE elements: a clear error at the layer that makes it, before
    later layers compute with numbers too large to print or to run."""
    problem = too_large(shape)
    if problem:
        message = f"its output {problem}"
        hint = "Check the sizes and factors of this layer and the ones before it."
        error = getattr(op, "error", None)  # a layer's own error names its kind and position
        raise error(message, hint=hint) if error else LayerError(f"layer `{op.path}`: {message}", op.source, hint)

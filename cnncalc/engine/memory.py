"""Memory estimates: activations and parameters per layer, inference peak and training totals.

Definitions (also printed by `cnncalc table --memory`, in report/notes.py):
- activations of a layer: the elements of its output, times the batch; every leaf output counts
  as its own tensor (no in-place ReLU, no views), so figures are upper estimates.
- inference: params + the peak of activations alive at once, for a framework that frees a
  tensor as soon as nothing needs it: a layer's input and output, plus, inside residual/concat
  blocks, the block input and finished branch outputs still waiting to be merged.
- training: input + params + gradients (one copy of the params) + optimizer state (SGD with
  momentum one more copy, Adam two) + every activation, since backward needs them all.
- torchinfo's "Forward/backward pass size" is 2 x the outputs of the leaf layers that have
  parameters (torchinfo/model_statistics.py); given for comparison only.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from cnncalc.engine.dtypes import DTYPE_BYTES
from cnncalc.engine.propagate import Analysis
from cnncalc.graph import Graph
from cnncalc.layers import SplitSection

OPTIMIZER_COPIES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}


@dataclass(frozen=True)
class LayerMemory:
    """One row's output elements (times the batch) and its bytes, and its parameters' bytes."""

    activations: int
    activation_bytes: int
    param_bytes: int


@dataclass
class MemoryEstimate:
    """Per-row figures and network totals for one dtype and batch size, in bytes."""

    dtype: str
    batch: int
    by_name: dict[str, LayerMemory]
    input_bytes: int
    param_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    torchinfo_forward_backward_bytes: int

    @property
    def inference_bytes(self) -> int:
        return self.param_bytes + self.peak_activation_bytes

    @property
    def torchinfo_total_bytes(self) -> int:
        """torchinfo's "Estimated Total Size": input + forward/backward pass size + params."""
        return self.input_bytes + self.torchinfo_forward_backward_bytes + self.param_bytes

    def training_bytes(self, optimizer: str = "adam") -> int:
        copies = 2 + OPTIMIZER_COPIES[optimizer]  # the params, their gradients, the optimizer's state
        return self.input_bytes + copies * self.param_bytes + self.activation_bytes

    def totals(self) -> dict[str, int | str]:
        """The JSON `memory` totals."""
        return {
            "dtype": self.dtype,
            "batch": self.batch,
            "input_bytes": self.input_bytes,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "inference_bytes": self.inference_bytes,
            "training_sgd_momentum_bytes": self.training_bytes("sgd_momentum"),
            "training_adam_bytes": self.training_bytes("adam"),
            "torchinfo_forward_backward_bytes": self.torchinfo_forward_backward_bytes,
            "torchinfo_total_bytes": self.torchinfo_total_bytes,
        }


def estimate(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> MemoryEstimate:
    """Every row's activations and parameter bytes, and the totals, for `dtype` and `batch`."""
    size = DTYPE_BYTES[dtype]
    by_name: dict[str, LayerMemory] = {}
    for row in analysis.rows:
        elements = batch * sum(prod(leaf.output_shape) for leaf in row.leaves())
        by_name[row.name] = LayerMemory(elements, elements * size, row.params * size)
    leaves = analysis.leaves
    return MemoryEstimate(
        dtype=dtype,
        batch=batch,
        by_name=by_name,
        input_bytes=batch * prod(analysis.spec.input_shape) * size,
        param_bytes=analysis.params * size,
        activation_bytes=batch * sum(prod(row.output_shape) for row in leaves) * size,
        peak_activation_bytes=batch * peak_elements(analysis.graph) * size,
        torchinfo_forward_backward_bytes=2 * batch * sum(prod(r.output_shape) for r in leaves if r.params) * size,
    )


def annotate(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> MemoryEstimate:
    """Set each row's `memory` figures."""
    result = estimate(analysis, dtype, batch)
    for row in analysis.rows:
        row.memory = result.by_name[row.name]
    return result


def peak_elements(graph: Graph, input_held: bool = False) -> int:
    """The most activation elements alive at once (batch 1), for a framework that frees each tensor
    after its last reader: while a node runs, its output and every earlier output still to be read
    (and the input throughout, if its caller holds it: `input_held`).

    A split's sections are views of their input: they own nothing, and keep their input alive.
    """
    shapes = graph.shapes()
    owner = list(range(len(graph.nodes)))  # whose memory a node's output is
    for node in graph.nodes:
        if isinstance(node.op, SplitSection):
            owner[node.index] = owner[node.inputs[0]]
    last = [node.index for node in graph.nodes]
    for node in graph.nodes:
        for i in node.inputs:
            last[owner[i]] = max(last[owner[i]], node.index)
    for _, i in graph.outputs:
        last[owner[i]] = len(graph.nodes)
    if input_held:
        last[0] = len(graph.nodes)
    frees: dict[int, list[int]] = {}
    for i, end in enumerate(last):
        if owner[i] == i:
            frees.setdefault(end, []).append(i)
    live = peak = 0
    for node in graph.nodes:
        if owner[node.index] == node.index:
            live += prod(shapes[node.index])
        peak = max(peak, live)
        live -= sum(prod(shapes[i]) for i in frees.get(node.index, ()))
    return peak

"""Training cost: the MACs of the backward pass, per layer, as torch.utils.flop_counter counts them.

A layer's backward MACs are its input-gradient MACs plus its weight-gradient MACs. Both equal
the forward MACs for the kinds that have MACs (conv, conv_transpose, linear: each gradient is
one convolution or matmul of the same size). The input gradient is computed only when some
trainable parameter lies upstream (autograd skips it otherwise: the first conv needs none);
the weight gradient only when the layer has trainable parameters: a `trainable: false` layer's
params have requires_grad=False in torch, so convolution_backward's output mask leaves out
grad_weight (and grad_bias) and the counter sees only its grad_input, which is still computed
when something trainable lies upstream. A grouped conv's weight
gradient is counted per group, as it is computed; torch's counter counts it as if dense.
The loss is of the first output, as `run --backward`'s: a layer it does not depend on (one only
another output needs, as FPN's p3..p5) has no backward MACs. Every kind added since v1 (norms,
activations, pad, upsample, ...) has none either, as in torch's counter, which counts only
convolutions and matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.engine.propagate import Analysis
from cnncalc.graph import Graph, Node


@dataclass(frozen=True)
class BackwardCost:
    """One layer's backward MACs: dL/dX and dL/dW."""

    input_macs: int = 0
    weight_macs: int = 0

    @property
    def macs(self) -> int:
        return self.input_macs + self.weight_macs


def annotate(analysis: Analysis) -> int:
    """Set `row.backward` on every row (a structure sums its leaves); returns the total backward MACs."""
    graph = analysis.graph
    trainable = {row.layer.output_node: row.trainable_params > 0 for row in analysis.leaves}
    needs_grad = [False] * len(graph.nodes)  # does the node's output depend on a trainable parameter?
    for node in graph.nodes[1:]:
        needs_grad[node.index] = trainable.get(node.index, False) or any(needs_grad[i] for i in _flows(node))
    on_path = _loss_depends_on(graph)
    for row in analysis.leaves:
        node = graph.nodes[row.layer.output_node]
        reached = node.index in on_path
        input_needed = reached and any(needs_grad[i] for i in _flows(node))
        row.backward = BackwardCost(
            input_macs=row.macs if input_needed else 0,
            weight_macs=row.macs if reached and row.trainable_params > 0 else 0,
        )
    for row in reversed(analysis.rows):  # children come after their parent: sum bottom-up
        if not row.leaf:
            leaves = [leaf.backward for leaf in row.leaves() if leaf.backward is not None]
            row.backward = BackwardCost(sum(c.input_macs for c in leaves), sum(c.weight_macs for c in leaves))
    return total(analysis)


def _flows(node: Node) -> tuple[int, ...]:
    """The inputs a gradient flows back to: `upsample: {like: ...}` reads its second input's size only."""
    return tuple(node.inputs[:1]) if getattr(node.op, "reads_several", False) else tuple(node.inputs)


def _loss_depends_on(graph: Graph) -> set[int]:
    """The nodes the first output's values depend on (gradients reach exactly these)."""
    seen: set[int] = set()
    stack = [graph.outputs[0][1]]
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(_flows(graph.nodes[i]))
    return seen


def total(analysis: Analysis) -> int:
    """The whole network's backward MACs (after `annotate`)."""
    return sum(row.backward.macs for row in analysis.leaves if row.backward is not None)

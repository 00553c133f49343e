"""The backward pass: a loss on the network's first output, then a reverse fold over the graph's nodes.

Each node's backward function (`backward_ops.py`) turns dL/d(output) into dL/d(each input) and
the gradients of its own parameters. A node read by several consumers (a residual's input, a
split's input) accumulates their contributions before its own backward runs, as autograd does.
A node the loss does not depend on (one only another output needs, as FPN's p3..p5) is not run
backward: its record holds zero gradients and `reached = False` (autograd leaves its `.grad` None).
A layer with `trainable: false` gets no parameter gradients at all (torch: requires_grad=False, `.grad`
stays None; its backward skips computing them), while dL/dX still flows through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnncalc.errors import CnncalcError, Position
from cnncalc.executor.backward_ops import backward_for
from cnncalc.executor.forward import ExecutionError, Executor
from cnncalc.executor.ops import op_input
from cnncalc.graph import Node
from cnncalc.layers import Layer
from cnncalc.spec.model import LOSSES, Spec

# The ParamStore's names -> the names reports use (dL/dW, dL/db).
PARAM_ROLES = {"weights": "weights", "weight": "weights", "bias_values": "bias", "bias": "bias"}
BUFFERS = ("running_mean", "running_var")  # state, never a gradient


class MissingBackward(CnncalcError):
    """A kind with a forward function but no backward one yet (exit 2: the command cannot run on it)."""


@dataclass(frozen=True)
class Loss:
    """The scalar the gradients are of: `sum` of the output, `mse` to a target, or `cross_entropy` to a class."""

    kind: str = "sum"
    target: Any = None

    def describe(self) -> str:
        if self.kind == "sum":
            return "L = sum of the output"
        if self.kind == "mse":
            return "L = mean((y - target)^2)"
        return f"L = cross_entropy(y, class {self.target})"

    def value_and_grad(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """L and dL/dy for the output y [N, *shape] (mean over the batch for mse and cross_entropy, as torch)."""
        if self.kind == "sum":
            return float(y.sum(dtype=np.float64)), np.ones_like(y)
        if self.kind == "mse":
            target = np.broadcast_to(np.asarray(self.target, y.dtype).reshape(self._target_shape(y)), y.shape)
            diff = y - target
            return float(np.mean(diff.astype(np.float64) ** 2)), (2 * diff / diff.size).astype(y.dtype)
        classes = y.shape[1]
        if not isinstance(self.target, int) or isinstance(self.target, bool) or not 0 <= self.target < classes:
            raise CnncalcError(
                f"the cross_entropy target must be a class index from 0 to {classes - 1}; got {self.target!r}.",
                hint="Give it with `--target CLASS` or `target:` in the spec.",
            )
        shifted = y - y.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        count = y.size // classes  # every batch item and position
        loss = -float(log_p[:, self.target].sum(dtype=np.float64)) / count
        grad = np.exp(log_p)
        grad[:, self.target] -= 1
        return loss, (grad / count).astype(y.dtype)

    def _target_shape(self, y: np.ndarray) -> tuple[int, ...]:
        size = np.asarray(self.target).size
        if size == 1:
            return ()
        if size != y[0].size:
            raise CnncalcError(
                f"the mse target holds {size} numbers, but the output {list(y.shape[1:])} has {y[0].size}.",
                hint="Give one number per output value (or one number for all).",
            )
        return tuple(y.shape[1:])


def parse_loss(kind: str | None, target: Any, position: Position | None = None) -> Loss:
    """A Loss from a name and a target (text from the command line, or a spec's numbers)."""
    kind = kind or "sum"
    if kind not in LOSSES:
        raise CnncalcError(f"unknown loss `{kind}`.", position, f"The losses are: {', '.join(LOSSES)}.")
    if isinstance(target, str):
        target = _numbers(target, position)
    if kind == "mse" and target is None:
        raise CnncalcError("the mse loss needs a target.", position, "Give `--target 0.5` or `target: [...]`.")
    if kind == "cross_entropy":
        if isinstance(target, list) and len(target) == 1:
            target = target[0]
        if isinstance(target, float) and target.is_integer():
            target = int(target)
        if target is None:
            raise CnncalcError("the cross_entropy loss needs a target class.", position, "Give `--target 3`.")
    return Loss(kind, target)


def _numbers(text: str, position: Position | None) -> Any:
    try:
        values = [float(part) for part in text.replace(",", " ").split()]
    except ValueError:
        hint = "For example `--target 0.5` or `--target 1,0,2`."
        raise CnncalcError(f"the target `{text}` is not a list of numbers.", position, hint) from None
    return values[0] if len(values) == 1 else values


@dataclass
class GradRecord:
    """What one node's backward produced: dL/d(its output), its share of dL/d(each input), its params' grads."""

    node: Node
    grad_output: np.ndarray
    grad_inputs: list[np.ndarray]
    grads: dict[str, np.ndarray] = field(default_factory=dict)  # keyed by ParamStore name
    reached: bool = True  # False: the loss does not depend on this node, every gradient here is zero
    frozen: tuple[str, ...] = ()  # ParamStore names of parameters that get no gradient (`trainable: false`)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def kind(self) -> str:
        return self.node.kind

    def param_grad(self, role: str) -> np.ndarray | None:
        """dL/dW (`weights`) or dL/db (`bias`), if the layer has it (None too when it is frozen)."""
        for name, grad in self.grads.items():
            if PARAM_ROLES.get(name) == role:
                return grad
        return None

    def frozen_role(self, role: str) -> bool:
        """Does the layer have this parameter (`weights`, `bias`) but, frozen, no gradient for it?"""
        return any(PARAM_ROLES.get(name) == role for name in self.frozen)


@dataclass
class Gradients:
    """The backward pass of one spec: the loss, every node's total dL/d(output), and per-node records."""

    loss: Loss
    loss_value: float
    node_grads: list[np.ndarray | None]  # index = graph node; None where the loss does not depend on it
    records: list[GradRecord]  # execution order (node 1 first), one per node; unreached ones hold zeros

    def record(self, name: str) -> GradRecord | None:
        return next((r for r in self.records if r.name == name), None)


def node_values(executor: Executor, x: np.ndarray) -> list[np.ndarray]:
    """Every node's forward output (the executor ran with keep_values=True)."""
    return [x, *(record.values for record in executor.records)]  # type: ignore[list-item]


def backward(spec: Spec, executor: Executor, x: np.ndarray, loss: Loss) -> Gradients:
    """Differentiate `loss` of the spec's first output through the graph the executor just ran forward."""
    if not executor.keep_values:
        raise ValueError("the backward pass needs the forward values: run the Executor with keep_values=True")
    graph = spec.graph
    values = node_values(executor, x)
    grads: list[np.ndarray | None] = [None] * len(graph.nodes)
    output = graph.outputs[0][1]
    loss_value, grads[output] = loss.value_and_grad(values[output])
    records: list[GradRecord] = []
    for node in reversed(graph.nodes[1:]):
        gy = grads[node.index]
        inputs = [values[i] for i in node.inputs]
        if gy is None:  # the loss does not depend on this node: zero gradients, nothing to run
            records.append(_unreached(node, inputs, values[node.index], executor))
            continue
        gxs, param_grads = apply_backward(node, inputs, values[node.index], gy, executor)
        for i, gx in zip(node.inputs, gxs):
            if gx is not None:  # None: the input gives only its shape (`upsample: {like: ...}`)
                grads[i] = gx if grads[i] is None else grads[i] + gx  # never in place: gx may alias gy
        shown = [np.zeros_like(x) if gx is None else gx for gx, x in zip(gxs, inputs)]
        frozen = _frozen_params(node.op, executor)
        if frozen:  # whatever a kind's backward computed, a frozen layer's parameters get no gradient
            param_grads = {name: g for name, g in param_grads.items() if name not in frozen}
        records.append(GradRecord(node, gy, shown, param_grads, frozen=frozen))
    records.reverse()
    return Gradients(loss, loss_value, grads, records)


def _param_names(op: Any, ctx: Executor) -> list[str]:
    """The parameters the node's backward would give gradients (a frozen batchnorm's are buffers: none)."""
    if not isinstance(op, Layer) or backward_for(op) is None or getattr(op, "frozen", False):
        return []
    return [name for (path, name) in ctx.params.arrays if path == op.path and name not in BUFFERS]


def _frozen_params(op: Any, ctx: Executor) -> tuple[str, ...]:
    """A `trainable: false` layer's parameters, which get no gradient."""
    return tuple(_param_names(op, ctx)) if isinstance(op, Layer) and not op.trainable else ()


def _unreached(node: Node, inputs: list[np.ndarray], y: np.ndarray, ctx: Executor) -> GradRecord:
    """Zero gradients for every input and for the parameters the node's backward would give."""
    frozen = _frozen_params(node.op, ctx)
    names = [] if frozen else _param_names(node.op, ctx)
    grads = {name: np.zeros_like(ctx.params.arrays[(node.op.path, name)]) for name in names}  # type: ignore[union-attr]
    zeros = [np.zeros_like(x) for x in inputs]
    return GradRecord(node, np.zeros_like(y), zeros, grads, reached=False, frozen=frozen)


def apply_backward(
    node: Node, inputs: list[np.ndarray], y: np.ndarray, gy: np.ndarray, ctx: Executor
) -> tuple[list[np.ndarray | None], dict[str, np.ndarray]]:
    """One node's backward: (dL/d each input, None for one read for its shape only; dL/d each parameter)."""
    op = node.op
    fn = backward_for(op)
    if fn is None:
        kind = getattr(op, "kind", type(op).__name__)
        raise MissingBackward(
            f"layer `{node.name}`: the backward pass has no function for kind `{kind}` yet.",
            op.source if op is not None else None,
            "Register one in cnncalc/executor/backward_ops.py (`cnncalc run` without --backward still works).",
        )
    given = op_input(op, inputs)
    several = given is inputs  # a list in, a list out
    try:
        gx, param_grads = fn(op, given, y, gy, ctx)
    except CnncalcError:
        raise
    except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
        where = op.source if op is not None else None
        raise ExecutionError(f"layer `{node.name}`: the backward pass failed: {exc}", where) from exc
    return (list(gx) if several else [gx]), param_grads


def run_backward(
    spec: Spec, loss: Loss | None = None, seed: int = 0, batch: int = 1, dtype: Any = np.float32
) -> tuple[Executor, np.ndarray, Gradients]:
    """Forward the spec's input (or a seeded random one), then backward `loss` (default: the spec's, else sum)."""
    executor = Executor(seed, dtype, keep_values=True)
    executor.prepare(spec)
    x = executor.make_input(spec, batch)
    executor.forward(spec, x)
    return executor, x, backward(spec, executor, x, loss or spec_loss(spec))


def spec_loss(spec: Spec) -> Loss:
    """The spec's own `loss:` and `target:`, else the sum of the output."""
    return parse_loss(getattr(spec, "loss", None), getattr(spec, "target", None), spec.source)

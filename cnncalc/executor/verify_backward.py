"""`verify --backward`: every gradient's shape equals its tensor's, and its values agree with finite differences.

The forward and backward passes are timed (`time.perf_counter`, float32, parameters made
before); the finite-difference checks (gradcheck.py, float64) are timed apart.
"""

from __future__ import annotations

import time

import numpy as np
from pydantic import BaseModel

from cnncalc.executor.backward import Loss, backward, node_values, spec_loss
from cnncalc.executor.forward import Executor
from cnncalc.executor.gradcheck import TOLERANCE, check_gradients
from cnncalc.spec.model import Spec


class GradientCheck(BaseModel):
    """One node: do its gradients have their tensors' shapes, and the worst relative error vs finite differences."""

    name: str
    kind: str
    shapes_match: bool
    shape_problems: list[str]
    worst_relative_error: float
    at_kink: bool
    ok: bool
    reached: bool = True  # False: the loss (of the first output) does not depend on it; its gradients are 0
    frozen: bool = False  # `trainable: false`: its parameters get no gradient, so none is checked


class BackwardReport(BaseModel):
    """The JSON of `cnncalc verify --backward --format json` for one spec."""

    name: str
    ok: bool
    loss: str
    loss_value: float
    forward_seconds: float
    backward_seconds: float
    check_seconds: float
    tolerance: float
    samples: int
    seed: int
    layers: list[GradientCheck]

    @property
    def failures(self) -> list[GradientCheck]:
        return [layer for layer in self.layers if not layer.ok]


# IEEE arithmetic without NumPy's warnings, as the forward pass computes: a -inf pad gives NaN differences,
# reported as the layer's failed check, not as RuntimeWarnings with cnncalc's source lines on stderr.
@np.errstate(all="ignore")
def verify_backward(
    spec: Spec, seed: int = 0, batch: int = 1, samples: int = 3, loss: Loss | None = None
) -> BackwardReport:
    """Run forward and backward once (timed), then check each node's gradients."""
    loss = loss or spec_loss(spec)
    executor = Executor(seed, np.float32, keep_values=True)
    executor.prepare(spec)
    x = executor.make_input(spec, batch)
    start = time.perf_counter()
    executor.forward(spec, x)
    middle = time.perf_counter()
    gradients = backward(spec, executor, x, loss)
    end = time.perf_counter()
    errors = {check.name: check for check in check_gradients(spec, executor, x, gradients, samples, seed)}
    checked = time.perf_counter()
    values = node_values(executor, x)
    layers = []
    for record in gradients.records:
        problems = [
            f"dL/d(input {i}) is {list(g.shape[1:])}, the input is {list(values[n].shape[1:])}"
            for i, (g, n) in enumerate(zip(record.grad_inputs, record.node.inputs))
            if g.shape != values[n].shape
        ]
        path = getattr(record.node.op, "path", "")
        for name, grad in record.grads.items():
            array = executor.params.arrays[(path, name)]
            if grad.shape != array.shape:
                problems.append(f"dL/d{name} is {list(grad.shape)}, `{name}` is {list(array.shape)}")
        check = errors[record.name]
        layers.append(
            GradientCheck(
                name=record.name,
                kind=record.kind,
                shapes_match=not problems,
                shape_problems=problems,
                worst_relative_error=check.error,
                at_kink=check.kink,
                ok=not problems and check.ok,
                reached=record.reached,
                frozen=bool(record.frozen),
            )
        )
    return BackwardReport(
        name=spec.name,
        ok=all(layer.ok for layer in layers),
        loss=loss.describe(),
        loss_value=gradients.loss_value,
        forward_seconds=middle - start,
        backward_seconds=end - middle,
        check_seconds=checked - end,
        tolerance=TOLERANCE,
        samples=samples,
        seed=seed,
        layers=layers,
    )

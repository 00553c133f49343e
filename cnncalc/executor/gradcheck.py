"""Check a backward pass against central finite differences, layer by layer, in float64.

For each node, with its recorded input x, upstream gradient G = dL/dy and the analytic
gradients g, the scalar f(x, W) = <G, layer(x, W)> has exactly those gradients. Along a
direction v that is nonzero on a few sampled coordinates, (f(x + εv) - f(x - εv)) / 2ε must
equal <g, v>: one check for the inputs, one for the parameters, each two float64 forwards of
the one layer. At a kink (ReLU at 0, a max-pool tie) the one-sided differences disagree and a
gradient is a choice (torch's tie rule, tested against autograd): such coordinates are reported
(`kink`) and left out of the error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnncalc.executor.backward import Gradients, GradRecord, node_values
from cnncalc.executor.forward import Executor

EPS = 1e-6
TOLERANCE = 1e-3  # relative: the analytic gradients are float32


@dataclass
class GradCheck:
    """One node's worst relative error over its checks (inputs, parameters)."""

    name: str
    kind: str
    error: float
    kink: bool = False

    @property
    def ok(self) -> bool:
        return self.error <= TOLERANCE


def check_gradients(
    spec, executor: Executor, x: np.ndarray, gradients: Gradients, samples: int = 3, seed: int = 0
) -> list[GradCheck]:
    """The worst relative error of every node's gradients, against finite differences."""
    values = node_values(executor, x)
    wide = Executor(executor.seed, np.float64)
    wide.params.arrays = {key: np.asarray(a, np.float64).copy() for key, a in executor.params.arrays.items()}
    rng = np.random.default_rng([seed, 7])
    checks = []
    for record in gradients.records:
        inputs = [np.array(values[i], np.float64) for i in record.node.inputs]  # copies: perturbed in place
        checks.append(_check_node(record, inputs, wide, rng, samples))
    return checks


def _direction(shape: tuple[int, ...], rng: np.random.Generator, samples: int) -> np.ndarray:
    v = np.zeros(shape)
    flat = v.reshape(-1)
    if flat.size:
        picked = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
        flat[picked] = rng.choice([-1.0, 1.0], size=picked.size) * rng.uniform(0.5, 1.5, size=picked.size)
    return v


def _check_node(record: GradRecord, inputs: list[np.ndarray], wide: Executor, rng, samples: int) -> GradCheck:
    node = record.node
    gy = np.asarray(record.grad_output, np.float64)

    def f() -> np.ndarray:
        return np.array(wide.apply(node, inputs))  # a copy: flatten and identity return views of the input

    base = f()
    directions = [_direction(a.shape, rng, samples) for a in inputs]
    analytic = [np.asarray(g, np.float64) for g in record.grad_inputs]
    worst, kink = _compare(gy, base, inputs, directions, analytic, f)
    path = getattr(node.op, "path", "")
    params = [wide.params.arrays[(path, name)] for name in record.grads]
    if params:
        directions = [_direction(p.shape, rng, samples) for p in params]
        analytic = [np.asarray(g, np.float64) for g in record.grads.values()]
        error, at_kink = _compare(gy, base, params, directions, analytic, f)
        worst, kink = max(worst, error), kink or at_kink
    return GradCheck(record.name, record.kind, worst, kink)


def _compare(gy: np.ndarray, base: np.ndarray, arrays, directions, analytic, f) -> tuple[float, bool]:
    """The relative error along `directions`, and whether a sampled coordinate sits at a kink.

    At a kink each sampled coordinate is measured alone, and those at a kink are left out: there a
    tie's gradient is a choice (torch's rule: the first maximum), which differences cannot judge.
    """
    central, right, left, exact, scale = _measure(gy, base, arrays, directions, analytic, f)
    if not _kinked(right, left, scale):
        return abs(central - exact) / max(abs(central), scale), False
    worst = 0.0
    for k, v in enumerate(directions):
        for index in zip(*np.nonzero(v)):
            single = [np.zeros_like(d) for d in directions]
            single[k][index] = v[index]
            central, right, left, exact, scale = _measure(gy, base, arrays, single, analytic, f)
            if not _kinked(right, left, scale):
                worst = max(worst, abs(central - exact) / max(abs(central), scale))
    return worst, True


def _kinked(right: float, left: float, scale: float) -> bool:
    return abs(right - left) > TOLERANCE * max(abs(right), abs(left), scale)


def _measure(gy: np.ndarray, base: np.ndarray, arrays, directions, analytic, f):
    """(central, right and left differences, the analytic <g, v>, its scale) along `directions`.

    ε is relative to the sampled values' size, and each difference of outputs is taken before the
    dot product with G, so large activations (ResNet-50's reach 3e4) lose no precision to cancellation.
    """
    size = max([1.0] + [float(np.abs(a[v != 0]).max()) for a, v in zip(arrays, directions) if v.any()])
    eps = EPS * size
    for a, v in zip(arrays, directions):
        a += eps * v
    plus = f()
    for a, v in zip(arrays, directions):
        a -= 2 * eps * v
    minus = f()
    for a, v in zip(arrays, directions):
        a += eps * v
    with np.errstate(invalid="ignore"):  # inf - inf where a max pool's window is all padding
        central = float(np.vdot(gy, np.nan_to_num(plus - minus))) / (2 * eps)
        right = float(np.vdot(gy, np.nan_to_num(plus - base))) / eps
        left = float(np.vdot(gy, np.nan_to_num(base - minus))) / eps
    exact = sum(float(np.vdot(g, v)) for g, v in zip(analytic, directions))
    scale = max(sum(float(np.abs(g * v).sum()) for g, v in zip(analytic, directions)), 1e-9)
    return central, right, left, exact, scale

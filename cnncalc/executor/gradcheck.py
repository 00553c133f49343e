"""Check a backward pass against central finite differences, layer by layer, in float64.

For each node, with its recorded input x, upstream gradient G = dL/dy and the analytic
gradients g, the scalar f(x, W) = <G, layer(x, W)> has exactly those gradients. Along a
direction v that is nonzero on a few sampled coordinates, (f(x + εv) - f(x - εv)) / 2ε must
equal <g, v>: one check for the inputs, one for the parameters, each two float64 forwards of
the one layer (one check of both at once for kinds smooth everywhere, `SMOOTH`). Convs and
activations are checked coordinate by coordinate on just the part of the layer the coordinate
touches, which keeps ResNet-50's checks near a forward pass in cost. At a kink (ReLU at 0, a
max-pool tie) the one-sided differences disagree and a gradient is a choice (torch's tie rule,
tested against autograd): such coordinates are reported (`kink`) and left out of the error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnncalc.executor.backward import Gradients, GradRecord, node_values
from cnncalc.executor.forward import Executor
from cnncalc.executor.windows import pad
from cnncalc.graph import Node
from cnncalc.layers.activations import CELU, ELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSoftmax, Mish, Softplus
from cnncalc.layers.conv import Conv, ConvTranspose
from cnncalc.layers.dense import Flatten, Linear
from cnncalc.layers.elementwise import (
    GELU,
    Dropout,
    Dropout2d,
    Dropout3d,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    StochasticDepth,
    Tanh,
    Upsample,
)
from cnncalc.layers.normalization import Affine, BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LayerScale
from cnncalc.layers.pooling import AdaptiveAvgPool, AvgPool, GlobalAvgPool
from cnncalc.layers.rearrange import ChannelShuffle, Pad, PixelShuffle, PixelUnshuffle
from cnncalc.layers.structure import ChannelConcat, SplitSection, SumMerge

EPS = 1e-6
TOLERANCE = 1e-3  # relative: the analytic gradients are float32
# Kinds smooth in their inputs and parameters (no ties, no thresholds): one direction over inputs and
# parameters together and no one-sided differences, so 2 forwards of the layer instead of 5. Every
# other kind, including kinds added later, gets the careful check.
SMOOTH: tuple[type, ...] = (Conv, ConvTranspose, Linear, Flatten, BatchNorm, Dropout, Identity, Sigmoid, Tanh)
SMOOTH += (AvgPool, AdaptiveAvgPool, GlobalAvgPool, SumMerge, ChannelConcat, SplitSection)
SMOOTH += (LayerNorm, GroupNorm, InstanceNorm, LayerScale, Affine, LogSoftmax)
SMOOTH += (Upsample, Pad, ChannelShuffle, PixelShuffle, PixelUnshuffle)  # linear in their input
# Kinds that act on each value alone: checked on the sampled values only.
POINTWISE: tuple[type, ...] = (ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, SiLU, GELU, Identity, Dropout)
POINTWISE += (Hardswish, Hardsigmoid, Mish, SELU, ELU, CELU, Softplus, Hardtanh, Dropout2d, Dropout3d, StochasticDepth)


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
    by_layer: dict[str, list[tuple[str, str]]] = {}
    for key in executor.params.arrays:
        by_layer.setdefault(key[0], []).append(key)
    rng = np.random.default_rng([seed, 7])
    checks = []
    for record in gradients.records:
        if not record.reached:  # the loss does not depend on it: zero gradients, nothing to difference
            checks.append(GradCheck(record.name, record.kind, 0.0))
            continue
        if isinstance(record.node.op, POINTWISE):
            checks.append(_check_pointwise(record, values[record.node.inputs[0]], wide, rng, samples))
            continue
        inputs = [np.array(values[i], np.float64) for i in record.node.inputs]  # copies: perturbed in place
        # This layer's parameters in float64, made one layer at a time (ResNet-50's would take 200 MB at once).
        keys = by_layer.get(getattr(record.node.op, "path", ""), [])
        wide.params.arrays = {key: np.array(executor.params.arrays[key], np.float64) for key in keys}
        checks.append(_check_node(record, inputs, wide, rng, samples))
    return checks


def _check_pointwise(record: GradRecord, x: np.ndarray, wide: Executor, rng, samples: int) -> GradCheck:
    """An activation acts on each value alone: run it on the sampled values only, one at a time."""
    worst, kink = 0.0, False
    flat_gy = record.grad_output.reshape(-1)
    for i in _direction(x.size, rng, samples)[0]:
        value = np.array(x.reshape(-1)[i : i + 1], np.float64).reshape(1, 1, 1)
        gy = np.array(flat_gy[i : i + 1], np.float64).reshape(1, 1, 1)

        def f(a: np.ndarray = value) -> np.ndarray:
            return np.array(wide.apply(record.node, [a]))

        one = (np.zeros(1, np.int64), np.ones(1))
        error, at_kink = _compare(gy, f(), [value], [one], [record.grad_inputs[0].reshape(-1)[i : i + 1]], f)
        worst, kink = max(worst, error), kink or at_kink
    return GradCheck(record.name, record.kind, worst, kink)


Direction = tuple[np.ndarray, np.ndarray]  # (flat indices, values): nonzero on a few coordinates only


def _direction(size: int, rng: np.random.Generator, samples: int) -> Direction:
    picked = rng.choice(size, size=min(samples, size), replace=False) if size else np.zeros(0, np.int64)
    return picked, rng.choice([-1.0, 1.0], size=picked.size) * rng.uniform(0.5, 1.5, size=picked.size)


def _check_node(record: GradRecord, inputs: list[np.ndarray], wide: Executor, rng, samples: int) -> GradCheck:
    node = record.node
    gy = np.asarray(record.grad_output, np.float64)

    def f() -> np.ndarray:
        return np.array(wide.apply(node, inputs))  # a copy: flatten and identity return views of the input

    path = getattr(node.op, "path", "")
    params = [wide.params.arrays[(path, name)] for name in record.grads]
    if type(node.op) is Conv:
        return GradCheck(record.name, record.kind, _check_conv(record, inputs[0], gy, wide, rng, samples))
    if isinstance(node.op, SMOOTH):
        arrays = [*inputs, *params]
        directions = [_direction(a.size, rng, samples) for a in arrays]
        analytic = [*record.grad_inputs, *record.grads.values()]
        central, _, _, exact, scale = _measure(gy, None, arrays, directions, analytic, f)
        return GradCheck(record.name, record.kind, abs(central - exact) / max(abs(central), scale))
    base = f()
    directions = [_direction(a.size, rng, samples) for a in inputs]
    worst, kink = _compare(gy, base, inputs, directions, record.grad_inputs, f)
    if params:
        directions = [_direction(p.size, rng, samples) for p in params]
        error, at_kink = _compare(gy, base, params, directions, list(record.grads.values()), f)
        worst, kink = max(worst, error), kink or at_kink
    return GradCheck(record.name, record.kind, worst, kink)


def _check_conv(record: GradRecord, x: np.ndarray, gy: np.ndarray, wide: Executor, rng, samples: int) -> float:
    """A conv, coordinate by coordinate on the part of the layer each one touches (the same differences,
    a small fraction of the work): an input cell on the crop of the padded input its outputs read, a
    weight or bias of output channel o on that channel alone (its group's input channels, groups = 1)."""
    layer = record.node.op
    assert isinstance(layer, Conv)
    g = layer.geometry(x.shape[1:])
    padded = pad(x, g.pads)
    unpadded = layer.model_copy(update={"padding": 0})
    weights = wide.params.arrays[(layer.path, "weights")]
    out = gy.shape[2:]
    # Below these, a gradient is float32 rounding of zero: |G| |W| (or |G| |X|) times 1e-6.
    gy_max = float(np.abs(gy).max(initial=0))
    w_floor = 1e-6 * gy_max * float(np.abs(weights).max(initial=0))
    x_floor = 1e-6 * gy_max * max(1.0, float(np.abs(x).max(initial=0)))

    def run(op: Conv, a: np.ndarray) -> np.ndarray:
        return np.array(wide.apply(Node(record.node.index, op, (0,)), [a]))

    errors = []
    for flat in _direction(x.size, rng, samples)[0]:
        n, c, *cell = np.unravel_index(flat, x.shape)
        at = [q + b for q, (b, _) in zip(cell, g.pads)]  # in the padded input
        first = [max(0, -(-(q - d * (k - 1)) // s)) for q, k, s, d in zip(at, g.kernel, g.stride, g.dilation)]
        last = [min(o - 1, q // s) for q, s, o in zip(at, g.stride, out)]
        if any(lo > hi for lo, hi in zip(first, last)):
            continue  # a cell no window reads: dL/dx must be 0 there
        crop = tuple(
            slice(lo * s, hi * s + d * (k - 1) + 1)
            for lo, hi, k, s, d in zip(first, last, g.kernel, g.stride, g.dilation)
        )
        part = np.array(padded[(slice(n, n + 1), slice(None), *crop)])
        part_gy = gy[(slice(n, n + 1), slice(None), *(slice(lo, hi + 1) for lo, hi in zip(first, last)))]
        local = (0, c, *(q - piece.start for q, piece in zip(at, crop)))
        analytic = float(record.grad_inputs[0][(n, c, *cell)])
        errors.append(_single(part, local, part_gy, analytic, lambda a=part: run(unpadded, a), w_floor))
    per_group_in, per_group_out = x.shape[1] // layer.groups, layer.out_channels // layer.groups
    names = [name for name in ("weights", "bias_values") if name in record.grads]  # none when frozen
    saved = dict(wide.params.arrays)
    try:
        for name in names:
            array = wide.params.arrays[(layer.path, name)]
            for flat in _direction(array.size, rng, samples)[0]:
                index = np.unravel_index(flat, array.shape)
                o = int(index[0])
                # The output is linear in W: only input channel c of W[o, c, ...] changes it (c = 0 for a bias).
                c = int(index[1]) if name == "weights" else 0
                channel = o // per_group_out * per_group_in + c
                wide.params.arrays = {
                    (layer.path, "weights"): np.array(saved[(layer.path, "weights")][o : o + 1, c : c + 1])
                }
                if layer.bias:
                    wide.params.arrays[(layer.path, "bias_values")] = np.array(
                        saved[(layer.path, "bias_values")][o : o + 1]
                    )
                one = layer.model_copy(update={"padding": 0, "out_channels": 1, "groups": 1})
                part = padded[:, channel : channel + 1]
                target = wide.params.arrays[(layer.path, name)]
                analytic = float(record.grads[name][index])
                where = (0, 0, *index[2:]) if name == "weights" else (0,)
                errors.append(
                    _single(target, where, gy[:, o : o + 1], analytic, lambda p=part, m=one: run(m, p), x_floor)
                )
    finally:
        wide.params.arrays = saved
    return max(errors, default=0.0)


def _single(array: np.ndarray, index: tuple, gy: np.ndarray, analytic: float, f, floor: float) -> float:
    """Central difference of <gy, f()> in one coordinate of `array`, against the analytic value."""
    old = float(array[index])
    eps = EPS * max(1.0, abs(old))
    array[index] = old + eps
    plus = f()
    array[index] = old - eps
    minus = f()
    array[index] = old
    central = float(np.vdot(gy, plus - minus)) / (2 * eps)
    return abs(central - analytic) / max(abs(central), abs(analytic), floor, 1e-12)


def _compare(gy: np.ndarray, base: np.ndarray, arrays, directions, analytic, f) -> tuple[float, bool]:
    """The relative error along `directions`, and whether a sampled coordinate sits at a kink.

    At a kink each sampled coordinate is measured alone, and those at a kink are left out: there a
    tie's gradient is a choice (torch's rule: the first maximum), which differences cannot judge.
    """
    central, right, left, exact, scale = _measure(gy, base, arrays, directions, analytic, f)
    if not _kinked(right, left, scale):
        return abs(central - exact) / max(abs(central), scale), False
    worst = 0.0
    empty: Direction = (np.zeros(0, np.int64), np.zeros(0))
    for k, (index, values) in enumerate(directions):
        for i, value in zip(index, values):
            single = [empty] * len(directions)
            single[k] = (np.array([i]), np.array([value]))
            central, right, left, exact, scale = _measure(gy, base, arrays, single, analytic, f)
            if not _kinked(right, left, scale):
                worst = max(worst, abs(central - exact) / max(abs(central), scale))
    return worst, True


def _kinked(right: float, left: float, scale: float) -> bool:
    return abs(right - left) > TOLERANCE * max(abs(right), abs(left), scale)


def _measure(gy: np.ndarray, base: np.ndarray | None, arrays, directions: list[Direction], analytic, f):
    """(central, right and left differences, the analytic <g, v>, its scale) along `directions`.

    ε is relative to the sampled values' size, and each difference of outputs is taken before the
    dot product with G, so large activations (ResNet-50's reach 3e4) lose no precision to cancellation.
    """
    flats = [a.reshape(-1) for a in arrays]  # views: the arrays are contiguous copies
    size = max([1.0] + [float(np.abs(flat[index]).max()) for flat, (index, _) in zip(flats, directions) if index.size])
    eps = EPS * size
    for flat, (index, values) in zip(flats, directions):
        flat[index] += eps * values
    plus = f()
    for flat, (index, values) in zip(flats, directions):
        flat[index] -= 2 * eps * values
    minus = f()
    for flat, (index, values) in zip(flats, directions):
        flat[index] += eps * values
    central = float(np.vdot(gy, plus - minus)) / (2 * eps)
    right = left = central  # without the unperturbed output (a smooth kind): no one-sided differences
    if base is not None:
        right = float(np.vdot(gy, plus - base)) / eps
        left = float(np.vdot(gy, base - minus)) / eps
    terms = [g.reshape(-1)[index].astype(np.float64) * values for g, (index, values) in zip(analytic, directions)]
    exact = float(sum(t.sum() for t in terms))
    scale = max(float(sum(np.abs(t).sum() for t in terms)), 1e-9)
    return central, right, left, exact, scale

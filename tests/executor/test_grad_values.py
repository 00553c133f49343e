"""The backward pass against gradients real PyTorch autograd computed (tests/reference/grad_values.json,
written by benchmarks/torch_grad_values.py in float64), so CI checks issue 10's kinds without torch."""

from __future__ import annotations

import json
from math import prod

import numpy as np
import pytest

from cnncalc.executor.backward import backward
from cnncalc.executor.forward import Executor
from tests.conftest import ROOT
from tests.executor.helpers import make_spec
from tests.executor.test_op_values import fixed_input

CASES = json.loads((ROOT / "tests" / "reference" / "grad_values.json").read_text())["cases"]


def upstream(shape: tuple[int, ...]) -> np.ndarray:
    """benchmarks/torch_grad_values.py's G: cos(0.7 t) + 0.5 sin(2.3 t) over t = 0, 1, ..."""
    t = np.arange(prod(shape), dtype=np.float64)
    return (np.cos(t * 0.7) + 0.5 * np.sin(t * 2.3)).reshape(shape)


class Given:
    """A loss with dL/dy = G: L = <G, y>, so every gradient is the one torch's `y.backward(G)` gives."""

    kind = "given"

    def value_and_grad(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        g = upstream(y.shape)
        return float(np.vdot(g, y)), g


def run_case(case: dict):
    x = fixed_input(case["input_shape"])
    spec = make_spec(tuple(case["input_shape"][1:]), [case["layer"]])
    executor = Executor(0, np.float64, keep_values=True)
    layer = spec.graph.nodes[1].op
    for name, values in case["params"].items():  # torch's parameter values, before the forward pass makes any
        executor.params.arrays[(layer.path, name)] = np.asarray(values, np.float64)
    executor.forward(spec, x)
    return backward(spec, executor, x, Given()).records[0]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", CASES)
def test_gradients_equal_autograds(name: str):
    case = CASES[name]
    record = run_case(case)
    np.testing.assert_allclose(record.grad_inputs[0], np.asarray(case["grad_input"]), rtol=1e-9, atol=1e-9)
    assert sorted(record.grads) == sorted(case["grads"])  # no gradient for a buffer or a missing gamma/beta
    for param, grad in case["grads"].items():
        np.testing.assert_allclose(record.grads[param], np.asarray(grad), rtol=1e-9, atol=1e-9, err_msg=param)


def test_every_new_kind_and_mode_is_covered():
    layers = [c["layer"] for c in CASES.values()]
    kinds = {layer if isinstance(layer, str) else next(iter(layer)) for layer in layers}
    for kind in [
        "hardswish",
        "hardsigmoid",
        "mish",
        "selu",
        "elu",
        "celu",
        "softplus",
        "hardtanh",
        "prelu",
        "log_softmax",
        "layernorm",
        "groupnorm",
        "instancenorm",
        "batchnorm",
        "layer_scale",
        "affine",
        "pad",
        "channel_shuffle",
        "pixel_shuffle",
        "pixel_unshuffle",
        "upsample",
    ]:
        assert kind in kinds, kind
    modes = {args.get("mode") for layer in layers if isinstance(layer, dict) for args in layer.values()}
    assert {"linear", "bilinear", "bicubic", "trilinear", "reflect", "replicate", "circular"} <= modes
    assert any(case["grads"] and "weight" not in case["grads"] for case in CASES.values())  # Keras center only

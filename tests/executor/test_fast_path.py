"""The executor's fast path (batchnorm folded into its conv, relu/batchnorm/add in place, 1x1 conv as a matmul)
gives the values of the plain path, leaves the input alone and records every node; it is off when values are
kept (run, the backward pass)."""

import numpy as np
import pytest

from cnncalc.executor.forward import Executor
from cnncalc.spec.build import load_spec
from tests.conftest import DATA, SPECS
from tests.executor.helpers import make_spec


@pytest.mark.parametrize("path", [SPECS / "resnet18.yaml", DATA / "tiny_resnet.yaml", SPECS / "mobilenet_v2.yaml"])
def test_fast_pass_equals_the_plain_one(path):
    if not path.exists():
        pytest.skip(f"{path.name} not shipped")
    spec = load_spec(path)
    fast, plain = Executor(seed=3), Executor(seed=3, keep_values=True)
    fast.prepare(spec)
    plain.prepare(spec)
    assert fast._fast is not None and fast._fast[1], "some batchnorm is folded"
    assert plain._fast is None
    x = fast.make_input(spec, 2)
    before = x.copy()
    y_fast = fast.forward(spec, x).copy()
    y_again = fast.forward(spec, x)  # a second pass on the same input: nothing it reads was overwritten
    y_plain = plain.forward(spec, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(y_fast, y_again)
    # float32: folding reorders one multiply per weight, so the outputs agree to rounding, not bit for bit.
    scale = np.abs(y_plain).max()
    assert np.abs(y_fast - y_plain).max() <= 1e-4 * scale
    assert [(r.name, r.shape, r.params) for r in fast.records] == [(r.name, r.shape, r.params) for r in plain.records]


def test_apply_alone_never_overwrites_its_input():
    # gradcheck calls `apply` node by node on arrays it perturbs; only `forward` may work in place.
    spec = load_spec(DATA / "tiny_resnet.yaml")
    executor = Executor(seed=0)
    executor.prepare(spec)
    node = next(n for n in spec.graph.nodes[1:] if n.op.kind == "relu")
    x = np.random.default_rng(0).standard_normal((1, 8, 5, 5)).astype(np.float32) - 0.5
    before = x.copy()
    executor.apply(node, [x])
    np.testing.assert_array_equal(x, before)


def test_a_winograd_conv_keeps_its_filters_and_bias_but_not_a_folded_copy_of_its_weights():
    # conv 16 -> 32, 3x3, stride 1, then batchnorm: folded, then transformed for F(2x2, 3x3), whose filters are
    # 4x4 = 16 values per 3x3 filter (Lavin & Gray, section 4.1); a 1x1 conv + batchnorm keeps its folded weights.
    spec = make_spec(
        (16, 8, 8),
        [
            {"conv": {"out_channels": 32, "kernel_size": 3, "padding": 1}},
            {"batchnorm": {}},
            {"conv": {"out_channels": 8, "kernel_size": 1}},
            {"batchnorm": {}},
        ],
    )
    executor = Executor(seed=0)
    executor.prepare(spec)
    filters_and_bias = (16 * 32 * 16 + 32) * 4
    folded_1x1 = (8 * 32 + 8) * 4
    assert executor.prepared_nbytes == filters_and_bias + folded_1x1
    plain = Executor(seed=0, keep_values=True)
    plain.prepare(spec)
    x = executor.make_input(spec, 2)
    y = plain.forward(spec, x)
    np.testing.assert_allclose(executor.forward(spec, x), y, atol=1e-4 * np.abs(y).max())

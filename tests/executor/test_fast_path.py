"""The executor's fast path (batchnorm folded into its conv, relu/batchnorm/add in place, 1x1 conv as a matmul)
gives the values of the plain path, leaves the input alone and records every node; it is off when values are
kept (run, the backward pass)."""

import numpy as np
import pytest

from cnncalc.executor.forward import Executor
from cnncalc.spec.build import load_spec
from tests.conftest import DATA, SPECS


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

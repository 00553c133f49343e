"""The backward pass against torch autograd: every node's dL/d(output) and every parameter's gradient.

The oracle is tests/torch_oracle.py's twin (torch.nn modules built from the spec's raw arguments)
with the executor's parameters loaded, and `loss.backward()`. Skipped without torch; run with
/work/torchenv/bin/python -m pytest tests/executor/test_backward_torch.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.executor.backward import Loss, backward  # noqa: E402
from cnncalc.executor.forward import Executor  # noqa: E402
from cnncalc.layers import Merge, SplitSection  # noqa: E402
from cnncalc.spec.build import load_spec  # noqa: E402
from cnncalc.spec.model import Spec  # noqa: E402
from tests.conftest import ROOT, SPECS  # noqa: E402
from tests.executor.backward_cases import KIND_CASES, MERGE_LAYERS  # noqa: E402
from tests.executor.helpers import make_spec  # noqa: E402
from tests.executor.test_ops_oracle import CASES, conv_case, pool_case, random_input  # noqa: E402
from tests.torch_oracle import _merge, _section, build_torch  # noqa: E402

TORCH_NAMES = {"weights": "weight", "bias_values": "bias"}  # executor name -> torch parameter name


def torch_gradients(spec: Spec, executor: Executor, x: np.ndarray, loss: Loss, dtype=torch.float64):
    """(every node's dL/d(output), {(path, name): dL/dparam}) from torch autograd, same weights."""
    twin = build_torch(spec, "cpu").to(dtype)
    params = {}
    for (path, name), array in executor.params.arrays.items():
        module = twin.leaf_modules[path]
        target = getattr(getattr(module, "inner", module), TORCH_NAMES.get(name, name))
        target.data.copy_(torch.from_numpy(np.asarray(array)).to(dtype))
        if not spec_leaf(spec, path).trainable:  # `trainable: false`: torch leaves .grad None
            target.requires_grad_(False)
        params[(path, name)] = target
    values = [torch.tensor(x, dtype=dtype, requires_grad=True)]
    for node in spec.graph.nodes[1:]:
        inputs = [values[i] for i in node.inputs]
        op = node.op
        if isinstance(op, SplitSection):
            out = _section(op, inputs[0])
        elif isinstance(op, Merge):
            out = _merge(op)(inputs)
        elif op.reads_several:  # `upsample: {like: ...}`: the second input gives its size only
            out = twin.leaf(op, inputs[0])(*inputs)
        else:
            out = twin.leaf(op, inputs[0])(inputs[0])
        out.retain_grad()
        values.append(out)
    y = values[spec.graph.outputs[0][1]]
    if loss.kind == "sum":
        total = y.sum()
    elif loss.kind == "mse":
        target = torch.as_tensor(np.asarray(loss.target, np.float64), dtype=dtype).reshape(
            () if np.asarray(loss.target).size == 1 else y.shape[1:]
        )
        total = torch.nn.functional.mse_loss(y, target.expand_as(y))
    else:
        target = torch.full((y.shape[0], *y.shape[2:]), loss.target, dtype=torch.long)
        total = torch.nn.functional.cross_entropy(y, target)
    total.backward()
    total = total.detach()
    grads = {key: (p.grad if p.requires_grad and p.grad is not None else None) for key, p in params.items()}
    return [None if v.grad is None else v.grad.numpy() for v in values], grads, float(total)


def spec_leaf(spec: Spec, path: str):
    return next(node.op for node in spec.graph.nodes[1:] if getattr(node.op, "path", None) == path)


def assert_backward_matches_torch(
    spec: Spec, loss: Loss = Loss(), dtype=np.float64, rtol=1e-7, atol=1e-9, x: np.ndarray | None = None
) -> None:
    executor = Executor(0, dtype, keep_values=True)
    x = executor.make_input(spec) if x is None else np.asarray(x, dtype)
    executor.forward(spec, x)
    ours = backward(spec, executor, x, loss)
    theirs, param_grads, loss_value = torch_gradients(
        spec, executor, x, loss, torch.float64 if dtype == np.float64 else torch.float32
    )
    np.testing.assert_allclose(ours.loss_value, loss_value, rtol=rtol * 10, atol=atol)
    scale = max(float(np.abs(g).max()) for g in theirs if g is not None)
    for node, mine, torch_grad in zip(spec.graph.nodes, ours.node_grads, theirs):
        if torch_grad is None:
            assert mine is None or not mine.any(), node.name
            continue
        assert mine is not None, f"{node.name}: torch has a gradient, ours has none"
        np.testing.assert_allclose(mine, torch_grad, rtol=rtol, atol=atol * scale, err_msg=node.name)
    records = {record.name: record for record in ours.records}
    for (path, name), torch_grad in param_grads.items():
        if torch_grad is None:  # a buffer (running statistics, a frozen batchnorm's), or the loss ignores it
            mine = records[path].grads.get(name)
            assert mine is None or not mine.any(), f"{path}.{name}: torch has no gradient, ours is nonzero"
            continue
        mine = records[path].grads[name]
        g = torch_grad.numpy().reshape(mine.shape)
        tolerance = atol * max(1.0, float(np.abs(g).max()))
        np.testing.assert_allclose(mine, g, rtol=rtol, atol=tolerance, err_msg=f"{path}.{name}")


ALL_SPECS = sorted(p.stem for p in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("name", ALL_SPECS)
def test_shipped_spec_gradients_match_autograd(name):
    # float64 on both sides, so any disagreement is a wrong formula rather than rounding.
    assert_backward_matches_torch(load_spec(SPECS / f"{name}.yaml"))


@pytest.mark.parametrize("name", ["lenet5", "seed_000_two_filters", "m5"])
def test_float32_gradients_within_float32_tolerance(name):
    assert_backward_matches_torch(load_spec(SPECS / f"{name}.yaml"), dtype=np.float32, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("shape", "layers"), KIND_CASES, ids=lambda v: str(v)[:60])
def test_every_kind_matches_autograd(shape, layers):
    x = np.random.default_rng(3).standard_normal((2, *shape)) * 2
    if any(isinstance(layer, dict) and "lppool" in layer for layer in layers):
        x = np.abs(x) + 0.1  # a fractional power of a negative sum is NaN (in torch too)
    spec = make_spec(shape, layers)
    assert_backward_matches_torch(spec, x=x)
    assert_backward_matches_torch(spec, Loss("mse", 0.5), x=x)


@pytest.mark.parametrize("kind", ["maxpool", "adaptive_maxpool", "global_maxpool", "minpool"])
def test_max_pooling_ties_go_where_torch_sends_them(kind):
    # Integer inputs with many equal values: torch's kernels keep the first maximum in scan order.
    x = np.random.default_rng(4).integers(0, 3, (2, 3, 6, 7)).astype(np.float64)
    args = {
        "maxpool": {"kernel_size": 3, "stride": 2, "padding": 1},
        "minpool": {"kernel_size": 2, "stride": 1},
        "adaptive_maxpool": {"output_size": [4, 3]},
    }.get(kind)
    assert_backward_matches_torch(make_spec(x.shape[1:], [{kind: args} if args else kind]), x=x)


def test_merges_and_split_sections_accumulate_like_autograd():
    assert_backward_matches_torch(make_spec((4, 5, 5), MERGE_LAYERS))


@pytest.mark.parametrize("target", [0, 2])
def test_cross_entropy_loss_matches_torch(target):
    spec = load_spec(SPECS / "lenet5.yaml")
    assert_backward_matches_torch(spec, Loss("cross_entropy", target))


# Random geometries (the forward oracle's strategies): every gradient against autograd.


@CASES
@given(case=conv_case(), data=st.data())
def test_conv_gradients_for_random_geometries(case, data):
    shape, args, _, _ = case
    assert_backward_matches_torch(make_spec(shape[1:], [{"conv": args}]), x=random_input(data, shape))


@CASES
@given(case=conv_case(transpose=True), data=st.data())
def test_conv_transpose_gradients_for_random_geometries(case, data):
    shape, args, _, _ = case
    try:
        spec = make_spec(shape[1:], [{"conv_transpose": args}])
    except CnncalcError:
        return  # a geometry with an empty output: refused, as torch refuses it
    assert_backward_matches_torch(spec, x=random_input(data, shape))


@pytest.mark.parametrize("kind", ["maxpool", "minpool", "avgpool", "lppool"])
def test_pooling_gradients_for_random_geometries(kind):
    @CASES
    @given(case=pool_case(kind), data=st.data())
    def check(case, data):
        shape, args, _, _ = case
        if kind == "lppool" and len(shape) == 3:  # F.lp_pool1d cannot take a 1-tuple kernel: give ints
            args = {**args, "kernel_size": args["kernel_size"][0], "stride": args["stride"][0]}
        x = random_input(data, shape)
        assert_backward_matches_torch(
            make_spec(shape[1:], [{kind: args}]), x=np.abs(x) + 0.1 if kind == "lppool" else x
        )

    check()


@pytest.mark.parametrize("name", ["frozen", "graph_constructs"])
def test_frozen_layers_get_no_gradient_as_with_requires_grad_false(name):
    # torch with requires_grad=False on the `trainable: false` layers' params: their .grad stays None
    # (ours: no record), while every node's dL/d(output), dL/dX through them included, agrees.
    spec = load_spec(ROOT / "tests" / "data" / f"{name}.yaml")
    assert_backward_matches_torch(spec)
    executor = Executor(0, np.float64, keep_values=True)
    x = executor.make_input(spec)
    executor.forward(spec, x)
    _, torch_params, _ = torch_gradients(spec, executor, x, Loss())
    frozen = {path for (path, _), grad in torch_params.items() if grad is None and not spec_leaf(spec, path).trainable}
    assert frozen == ({"conv1"} if name == "frozen" else {"stem"})
    records = {r.name: r for r in backward(spec, executor, x, Loss()).records}
    assert all(records[path].grads == {} and records[path].frozen for path in frozen)

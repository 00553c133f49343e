"""The executor's values against real PyTorch (torch.nn modules via tests/torch_oracle.py), same weights.

Skipped without torch; run with /work/torchenv/bin/python -m pytest tests/executor.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

from cnncalc.executor.forward import Executor  # noqa: E402
from cnncalc.spec.build import load_spec  # noqa: E402
from cnncalc.spec.model import Spec  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.executor.helpers import execute, make_spec  # noqa: E402
from tests.executor.test_ops_oracle import CASES, conv_case, pool_case, random_input  # noqa: E402
from tests.torch_oracle import build_torch  # noqa: E402

TORCH_NAMES = {"weights": "weight", "bias_values": "bias"}  # executor name -> torch parameter name


def torch_output(spec: Spec, executor, x: np.ndarray) -> np.ndarray:
    """Build the spec's PyTorch twin in float64, load the executor's parameters into it, run it."""
    twin = build_torch(spec, "cpu").double()
    for (path, name), array in executor.params.arrays.items():
        module = twin.leaf_modules[path]
        target = getattr(getattr(module, "inner", module), TORCH_NAMES.get(name, name))
        assert tuple(target.shape) == array.shape, f"{path}.{name}: torch {tuple(target.shape)}, ours {array.shape}"
        target.data.copy_(torch.from_numpy(np.asarray(array, np.float64)))
    with torch.no_grad():
        out = twin(torch.from_numpy(x))
    return (out[0] if isinstance(out, tuple) else out).numpy()  # the first of several outputs


def assert_same_as_torch(spec: Spec, x: np.ndarray, rtol: float = 1e-9, atol: float = 1e-9) -> None:
    executor, ours = execute(spec, x)
    np.testing.assert_allclose(ours, torch_output(spec, executor, x), rtol=rtol, atol=atol)


@CASES
@given(case=conv_case(), data=st.data())
def test_conv(case, data):
    shape, args, _, _ = case
    assert_same_as_torch(make_spec(shape[1:], [{"conv": args}]), random_input(data, shape))


@CASES
@given(case=conv_case(transpose=True), data=st.data())
def test_conv_transpose(case, data):
    shape, args, _, extra = case
    sizes = [
        (n - 1) * s - (p if isinstance(p, int) else sum(p)) + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(
            shape[2:],
            args["stride"],
            args["padding"] if isinstance(args["padding"], list) else [2 * args["padding"]] * len(extra),
            args["dilation"],
            args["kernel_size"],
            extra,
        )
    ]
    if min(sizes) < 1:
        return
    assert_same_as_torch(make_spec(shape[1:], [{"conv_transpose": args}]), random_input(data, shape))


@pytest.mark.parametrize("kind", ["maxpool", "minpool", "avgpool", "lppool"])
def test_pooling(kind):
    @CASES
    @given(case=pool_case(kind), data=st.data())
    def check(case, data):
        shape, args, _, _ = case
        if kind == "lppool" and len(shape) == 3:  # F.lp_pool1d cannot take a 1-tuple kernel: give ints
            args = {**args, "kernel_size": args["kernel_size"][0], "stride": args["stride"][0]}
        x = random_input(data, shape)
        assert_same_as_torch(make_spec(shape[1:], [{kind: args}]), np.abs(x) if kind == "lppool" else x)

    check()


@pytest.mark.parametrize("kind", ["adaptive_avgpool", "adaptive_maxpool"])
def test_adaptive_pooling(kind):
    @CASES
    @given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=3), out=st.integers(1, 6), data=st.data())
    def check(sizes, out, data):
        x = random_input(data, (2, 3, *sizes))
        assert_same_as_torch(make_spec(x.shape[1:], [{kind: {"output_size": out}}]), x)

    check()


@CASES
@given(
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=3),
    scale=st.sampled_from([1, 2, 3, 0.5, 1.5, 2.5, 1.7, 0.3]),
    data=st.data(),
)
def test_upsample_nearest(sizes, scale, data):
    if any(int(n * scale) < 1 for n in sizes):
        return
    x = random_input(data, (1, 2, *sizes))
    assert_same_as_torch(make_spec(x.shape[1:], [{"upsample": {"scale_factor": scale}}]), x)


@pytest.mark.parametrize(
    "layer",
    [
        "relu",
        "relu6",
        "sigmoid",
        "tanh",
        "silu",
        "identity",
        "dropout",
        {"leaky_relu": {"negative_slope": 0.1}},
        {"gelu": {"approximate": "tanh"}},
        {"softmax": {"dim": 0}},
        {"softmax": {"dim": -1}},
        {"lrn": {"size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0}},
        {"lrn": {"size": 4}},
        "batchnorm",
        "global_avgpool",
        "global_maxpool",
    ],
    ids=str,
)
def test_shape_keeping_kinds(layer):
    x = np.random.default_rng(5).standard_normal((2, 6, 5, 4)) * 3
    assert_same_as_torch(make_spec(x.shape[1:], [layer]), x)


def test_gelu_exact_form_within_the_erf_approximation():
    x = np.random.default_rng(6).standard_normal((2, 6, 5)) * 3
    assert_same_as_torch(make_spec(x.shape[1:], ["gelu"]), x, rtol=1e-6, atol=1e-6)  # A&S erf: |error| < 1.5e-7


def test_linear_after_flatten():
    x = np.random.default_rng(7).standard_normal((3, 2, 3, 3))
    assert_same_as_torch(make_spec(x.shape[1:], ["flatten", {"linear": {"out_features": 5}}]), x)


@pytest.mark.parametrize("out_channels", [6, 12])
def test_depthwise_conv_with_channel_multiplier(out_channels):
    x = np.random.default_rng(9).standard_normal((2, 6, 7, 5))
    layer = {"conv": {"out_channels": out_channels, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 6}}
    assert_same_as_torch(make_spec(x.shape[1:], [layer]), x)


# Whole shipped networks, same weights, same random input: every value, not just shapes.
# (Not mobilenet_v2: PyTorch's float64 depthwise conv takes 20 s; the depthwise case is tested above.)
WHOLE_SPECS = ["resnet18", "lenet5", "m5", "dcgan_generator", "googlenet"]


@pytest.mark.parametrize("name", [n for n in WHOLE_SPECS if (SPECS / f"{n}.yaml").exists()])
def test_whole_network(name):
    spec = load_spec(SPECS / f"{name}.yaml")
    x = np.random.default_rng(8).standard_normal((1, *spec.input_shape))
    assert_same_as_torch(spec, x, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("path", sorted(SPECS.glob("seed_*.yaml")), ids=lambda p: p.stem)
def test_seed_specs(path):
    spec = load_spec(path)
    assert_same_as_torch(spec, Executor(0, np.float64).make_input(spec))  # the spec's values, or seeded random


def assert_every_layer_as_torch(spec: Spec, x: np.ndarray, rtol: float = 1e-9, atol: float = 1e-9) -> None:
    """Each leaf's executed values equal its torch module's output (forward hooks), same parameters."""
    executor, _ = execute(spec, x)
    twin = build_torch(spec, "cpu").double()
    for (path, name), array in executor.params.arrays.items():
        module = twin.leaf_modules[path]
        target = getattr(getattr(module, "inner", module), TORCH_NAMES.get(name, name))
        assert tuple(target.shape) == array.shape, f"{path}.{name}: torch {tuple(target.shape)}, ours {array.shape}"
        target.data.copy_(torch.from_numpy(np.asarray(array, np.float64)))
    seen: dict[str, np.ndarray] = {}
    for path, module in twin.leaf_modules.items():
        module.register_forward_hook(lambda _m, _i, out, path=path: seen.__setitem__(path, out.detach().numpy()))
    with torch.no_grad():
        twin(torch.from_numpy(x))
    ours = {record.name: record.values for record in executor.records if record.name in seen}
    assert set(ours) == set(seen)
    for path, values in ours.items():
        np.testing.assert_allclose(values, seen[path], rtol=rtol, atol=atol, err_msg=path)


@pytest.mark.parametrize("name", ["v2_kinds", "v2_one_and_three_d"])
def test_v2_kinds_layer_by_layer(name):
    from tests.test_torch_oracle import EDGE_CASES

    spec = make_spec_text(EDGE_CASES[name])
    x = np.random.default_rng(11).standard_normal((2, *spec.input_shape))
    assert_every_layer_as_torch(spec, x)


def make_spec_text(text: str) -> Spec:
    from cnncalc.spec.build import parse_spec

    return parse_spec(text)


def test_a_backbone_with_several_outputs():
    # ResNet-50-FPN at a small input: every output level (the upsample `like:` resizes included) as torch's.
    spec = make_spec_text(
        (SPECS / "resnet50_fpn.yaml").read_text().replace("input: [3, 224, 224]", "input: [3, 64, 64]")
    )
    x = np.random.default_rng(12).standard_normal((1, *spec.input_shape))
    executor, _ = execute(spec, x)
    twin = build_torch(spec, "cpu").double()
    for (path, name), array in executor.params.arrays.items():
        getattr(twin.leaf_modules[path], TORCH_NAMES.get(name, name)).data.copy_(torch.from_numpy(array))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x))
    assert len(theirs) == len(executor.outputs) == 5
    for ours, truth in zip(executor.outputs, theirs):
        np.testing.assert_allclose(ours, truth.numpy(), rtol=1e-8, atol=1e-8)

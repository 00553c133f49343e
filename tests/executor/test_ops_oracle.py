"""The executor against slow loop-per-output-position definitions (tests/executor/naive.py), on random cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.executor import naive
from tests.executor.helpers import execute, make_spec, param

CASES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_input(data, shape) -> np.ndarray:
    seed = data.draw(st.integers(0, 2**16), label="input seed")
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def conv_case(draw, transpose: bool = False):
    ndim = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2]))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(ndim)]
    stride = [draw(st.integers(1, 3 if not transpose else 2)) for _ in range(ndim)]
    dilation = [draw(st.integers(1, 2)) for _ in range(ndim)]
    mode = draw(st.sampled_from(["int", "list", "pairs"] + ([] if transpose or max(stride) > 1 else ["same"])))
    if mode == "int":
        padding = draw(st.integers(0, 2))
        pads = [(padding, padding)] * ndim
    elif mode == "list":
        padding = [draw(st.integers(0, 2)) for _ in range(ndim)]
        pads = [(p, p) for p in padding]
    elif mode == "pairs":
        pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(ndim)]
        padding = [list(p) for p in pads]
    else:
        padding = "same"
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    top = 4 if ndim == 3 else 6
    if transpose:
        sizes = [draw(st.integers(1, top)) for _ in range(ndim)]
    else:
        sizes = [draw(st.integers(max(1, e - sum(p)), max(1, e - sum(p)) + top)) for e, p in zip(extent, pads)]
    args = {
        "out_channels": out_channels,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    extra = []
    if transpose:
        extra = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)]
        args["output_padding"] = extra
        sizes_out = [
            (n - 1) * s - sum(p) + d * (k - 1) + op + 1
            for n, s, p, d, k, op in zip(sizes, stride, pads, dilation, kernel, extra)
        ]
        assume(min(sizes_out) >= 1)  # the padding must not crop the whole output
    return (draw(st.integers(1, 2)), in_channels, *sizes), args, pads, extra


@CASES
@given(case=conv_case(), data=st.data())
def test_conv_matches_the_definition(case, data):
    shape, args, pads, _ = case
    spec = make_spec(shape[1:], [{"conv": {"name": "c", **args}}])
    x = random_input(data, shape)
    executor, y = execute(spec, x)
    bias = param(executor, "c", "bias_values") if args["bias"] else None
    expected = naive.conv(
        x, param(executor, "c", "weights"), bias, args["stride"], pads, args["dilation"], args["groups"]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@CASES
@given(case=conv_case(transpose=True), data=st.data())
def test_conv_transpose_matches_the_scatter_add_definition(case, data):
    shape, args, pads, extra = case
    spec = make_spec(shape[1:], [{"conv_transpose": {"name": "t", **args}}])
    x = random_input(data, shape)
    executor, y = execute(spec, x)
    bias = param(executor, "t", "bias_values") if args["bias"] else None
    expected = naive.conv_transpose(
        x, param(executor, "t", "weights"), bias, args["stride"], pads, args["dilation"], extra, args["groups"]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@st.composite
def pool_case(draw, kind: str):
    ndim = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 3)) for _ in range(ndim)]
    stride = [draw(st.integers(1, 3)) for _ in range(ndim)]
    args = {"kernel_size": kernel, "stride": stride, "ceil_mode": draw(st.booleans())}
    padding, dilation = [0] * ndim, [1] * ndim
    if kind != "lppool":
        padding = [draw(st.integers(0, k // 2)) for k in kernel]
        args["padding"] = padding
    if kind in ("maxpool", "minpool"):
        dilation = [draw(st.integers(1, 2)) for _ in range(ndim)]
        args["dilation"] = dilation
    if kind == "avgpool":
        args["count_include_pad"] = draw(st.booleans())
    if kind == "lppool":
        args["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
    top = 4 if ndim == 3 else 7
    sizes = [draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 1 + top)) for k, d in zip(kernel, dilation)]
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes), args, padding, dilation


@pytest.mark.parametrize("kind", ["maxpool", "minpool", "avgpool", "lppool"])
def test_pooling_matches_the_definition(kind):
    @CASES
    @given(case=pool_case(kind), data=st.data())
    def check(case, data):
        shape, args, padding, dilation = case
        spec = make_spec(shape[1:], [{kind: args}])
        x = random_input(data, shape)
        if kind == "lppool":
            x = np.abs(x)  # fractional powers of negative sums are NaN in PyTorch too
        _, y = execute(spec, x)
        expected = naive.pool(
            x,
            kind.removesuffix("pool"),
            args["kernel_size"],
            args["stride"],
            padding,
            dilation,
            args["ceil_mode"],
            args.get("count_include_pad", True),
            args.get("norm_type", 2.0),
        )
        np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)

    check()


@pytest.mark.parametrize("kind", ["adaptive_avgpool", "adaptive_maxpool"])
def test_adaptive_pooling_matches_the_bin_definition(kind):
    @CASES
    @given(
        sizes=st.lists(st.integers(1, 9), min_size=1, max_size=3),
        outs=st.lists(st.integers(1, 7), min_size=3, max_size=3),
        data=st.data(),
    )
    def check(sizes, outs, data):
        outs = outs[: len(sizes)]
        x = random_input(data, (2, 3, *sizes))
        _, y = execute(make_spec(x.shape[1:], [{kind: {"output_size": outs}}]), x)
        np.testing.assert_allclose(
            y, naive.adaptive_pool(x, kind.removeprefix("adaptive_")[:3], outs), rtol=1e-12, atol=1e-12
        )

    check()


@CASES
@given(
    channels=st.integers(1, 9),
    size=st.integers(1, 7),
    alpha=st.sampled_from([1e-4, 0.1, 1.0]),
    beta=st.sampled_from([0.75, 0.5]),
    k=st.sampled_from([1.0, 2.0]),
    data=st.data(),
)
def test_lrn_matches_the_definition(channels, size, alpha, beta, k, data):
    x = random_input(data, (2, channels, 4, 3))
    spec = make_spec(x.shape[1:], [{"lrn": {"size": size, "alpha": alpha, "beta": beta, "k": k}}])
    _, y = execute(spec, x)
    np.testing.assert_allclose(y, naive.lrn(x, size, alpha, beta, k), rtol=1e-12, atol=1e-12)


@CASES
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    scale=st.sampled_from([1, 2, 3, 0.5, 1.5, 2.5]),
    data=st.data(),
)
def test_upsample_nearest_matches_the_index_rule(sizes, scale, data):
    if any(int(n * scale) < 1 for n in sizes):
        return
    x = random_input(data, (1, 2, *sizes))
    _, y = execute(make_spec(x.shape[1:], [{"upsample": {"scale_factor": scale}}]), x)
    np.testing.assert_array_equal(y, naive.upsample_nearest(x, [scale] * len(sizes)))


@pytest.mark.parametrize("kind", sorted(naive.ACTIVATIONS))
def test_activation_matches_its_formula(kind):
    x = np.random.default_rng(1).standard_normal((2, 3, 4)) * 4
    _, y = execute(make_spec(x.shape[1:], [kind]), x)
    # GELU: NumPy has no erf; the executor's approximation is within 1.5e-7 of it (A&S 7.1.26).
    np.testing.assert_allclose(y, naive.elementwise(x, naive.ACTIVATIONS[kind]), rtol=1e-6, atol=1e-6)


def test_leaky_relu_and_gelu_tanh_formulas():
    x = np.linspace(-5, 5, 21).reshape(1, 1, 21)
    _, y = execute(make_spec(x.shape[1:], [{"leaky_relu": {"negative_slope": 0.2}}]), x)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.2 * x))
    _, y = execute(make_spec(x.shape[1:], [{"gelu": {"approximate": "tanh"}}]), x)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))  # PyTorch's GELU docs
    np.testing.assert_allclose(y, tanh_form, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_over_dim_without_batch(dim):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    _, y = execute(make_spec(x.shape[1:], [{"softmax": {"dim": dim}}]), x)
    np.testing.assert_allclose(y, naive.softmax(x, dim + 1 if dim >= 0 else dim), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.sum(axis=dim + 1 if dim >= 0 else dim), 1.0)


@CASES
@given(features=st.integers(1, 12), out=st.integers(1, 6), bias=st.booleans(), data=st.data())
def test_linear_matches_the_sum(features, out, bias, data):
    x = random_input(data, (2, features))
    executor, y = execute(make_spec((features,), [{"linear": {"name": "fc", "out_features": out, "bias": bias}}]), x)
    b = param(executor, "fc", "bias_values") if bias else None
    np.testing.assert_allclose(y, naive.linear(x, param(executor, "fc", "weights"), b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4), (2, 2, 3, 3)])
def test_batchnorm_inference_form(shape):
    x = np.random.default_rng(3).standard_normal((2, *shape))
    executor, y = execute(make_spec(shape, [{"batchnorm": {"name": "bn", "eps": 1e-3}}]), x)
    stats = [param(executor, "bn", name) for name in ("weight", "bias", "running_mean", "running_var")]
    np.testing.assert_allclose(y, naive.batchnorm(x, *stats, 1e-3), rtol=1e-12, atol=1e-12)
    assert executor.records[0].params == 2 * shape[0]  # running statistics are buffers, not parameters


def test_global_pools_and_flatten():
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    _, y = execute(make_spec(x.shape[1:], ["global_avgpool", "flatten"]), x)
    np.testing.assert_allclose(y, x.mean(axis=(2, 3)))
    _, y = execute(make_spec(x.shape[1:], ["global_maxpool"]), x)
    np.testing.assert_allclose(y, x.max(axis=(2, 3), keepdims=True))

"""Winograd's F(2x2, 3x3) (the fast path's 3x3 stride-1 conv) gives im2col's values: in float64 to rounding, in
float32 as closely as im2col's own float32 dot products; torch's conv2d is the oracle where it is installed.
The reference, `ops.correlate` (im2col), is itself checked against torch in test_against_torch.py."""

import numpy as np
import pytest

from cnncalc.executor import ops, winograd
from cnncalc.executor.forward import Executor
from cnncalc.executor.windows import pad
from cnncalc.layers.conv import WINOGRAD_MIN_CHANNELS as MIN_CHANNELS
from tests.executor.helpers import make_spec

# (batch, channels, out channels, height, width, [[top, bottom], [left, right]] padding)
SHAPES = [
    (1, 16, 16, 8, 8, [[1, 1], [1, 1]]),
    (2, 20, 7, 9, 12, [[1, 1], [1, 1]]),  # an odd height: one more padding row, cropped after
    (3, 16, 33, 5, 7, [[0, 2], [1, 0]]),  # uneven padding, odd sizes
    (1, 24, 16, 3, 3, [[0, 0], [0, 0]]),  # a 1x1 output: one tile, three quarters cropped
    (1, 16, 8, 40, 300, [[1, 1], [1, 1]]),  # wide rows: many bands of one tile row
]


def conv_layer(channels: int, out: int, padding) -> ops.Conv:
    spec = make_spec((channels, 8, 8), [{"conv": {"out_channels": out, "kernel_size": 3, "padding": padding}}])
    return spec.layers[0]


@pytest.mark.parametrize(("n", "c", "co", "h", "w", "padding"), SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_gives_im2col_values(n, c, co, h, w, padding, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = (rng.standard_normal((co, c, 3, 3)) / np.sqrt(9 * c)).astype(dtype)
    bias = rng.standard_normal(co).astype(dtype)
    layer = conv_layer(c, co, padding)
    assert layer.uses_winograd((c, h, w))
    ours = ops.prepared_conv(layer, x, weight, bias, winograd.filter_transform(weight))
    padded = pad(x.astype(np.float64), tuple(map(tuple, padding)))
    exact = ops.correlate(padded, weight.astype(np.float64), (1, 1), (1, 1), 1) + bias[:, None, None]
    assert ours.shape == exact.shape and ours.dtype == dtype and ours.flags.c_contiguous
    scale = np.abs(exact).max()
    if dtype == np.float64:
        assert np.abs(ours - exact).max() <= 1e-13 * scale
    else:
        im2col = ops.correlate(pad(x, tuple(map(tuple, padding))), weight, (1, 1), (1, 1), 1) + bias[:, None, None]
        # float32 rounding: a few ulps of the largest value, as im2col's own error (measured about 5e-7 of it).
        assert np.abs(ours - exact).max() <= max(4 * np.abs(im2col - exact).max(), 2e-6 * scale)


def test_winograd_equals_torch_conv2d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 32, 11, 14))
    weight = rng.standard_normal((48, 32, 3, 3)) / np.sqrt(9 * 32)
    bias = rng.standard_normal(48)
    layer = conv_layer(32, 48, 1)
    ours = ops.prepared_conv(layer, x, weight, bias, winograd.filter_transform(weight))
    theirs = torch.nn.functional.conv2d(*map(torch.from_numpy, (x, weight, bias)), padding=1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("input_shape", "conv", "qualifies"),
    [
        ((16, 8, 8), {}, True),
        ((16, 8, 8), {"padding": "same"}, True),  # the padding does not matter
        ((16, 8, 8), {"groups": 2}, False),
        ((16, 8, 8), {"kernel_size": 5}, False),
        ((16, 8, 8), {"kernel_size": [3, 1]}, False),
        ((16, 8, 8), {"stride": 2}, False),
        ((16, 8, 8), {"stride": [1, 2]}, False),
        ((16, 8, 8), {"dilation": 2}, False),
        ((16, 8), {}, False),  # 1-D
        ((16, 8, 8, 8), {}, False),  # 3-D
        ((MIN_CHANNELS - 1, 8, 8), {}, False),  # im2col is faster
    ],
)
def test_only_2d_3x3_ungrouped_stride_1_convs_with_enough_channels_qualify(input_shape, conv, qualifies):
    spec = make_spec(input_shape, [{"conv": {"out_channels": 16, "kernel_size": 3, **conv}}])
    assert spec.layers[0].uses_winograd(input_shape) is qualifies


def test_the_fast_path_uses_winograd_only_where_it_applies_and_agrees_with_the_plain_path():
    conv = {"kernel_size": 3, "padding": 1}
    spec = make_spec(
        (3, 15, 13),
        [
            {"conv": {"out_channels": 16, **conv}},  # 3 input channels: im2col
            "relu",
            {"conv": {"out_channels": 24, **conv}},  # Winograd, odd sizes
            {"batchnorm": {}},  # folded into it first
            {"conv": {"out_channels": 16, "kernel_size": 3, "stride": 2}},  # stride 2: im2col
            {"conv": {"out_channels": 16, "kernel_size": 3, "padding": 2, "dilation": 2}},  # dilated: im2col
            {"conv": {"out_channels": 16, "kernel_size": 3, "padding": "same", "bias": False}},  # Winograd
        ],
    )
    fast, plain = Executor(seed=5), Executor(seed=5, keep_values=True)
    fast.prepare(spec)
    plain.prepare(spec)
    assert fast._fast is not None
    convs = fast._fast[1]
    with_filters = sorted(
        node.op.name for node in spec.graph.nodes[1:] if convs.get(node.index, (0, 0, None))[2] is not None
    )
    assert with_filters == ["conv2", "conv5"]
    x = fast.make_input(spec, 2)
    y_fast, y_plain = fast.forward(spec, x).copy(), plain.forward(spec, x)
    assert y_fast.shape == y_plain.shape == (2, 16, 7, 6)
    assert np.abs(y_fast - y_plain).max() <= 1e-5 * np.abs(y_plain).max()
    assert [(r.name, r.shape) for r in fast.records] == [(r.name, r.shape) for r in plain.records]

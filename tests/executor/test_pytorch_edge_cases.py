"""Exact values PyTorch gives at the edges, as listed in shared/pytorch-arithmetic.md ("Values", "Shapes")."""

from __future__ import annotations

import numpy as np
import pytest

from tests.executor.helpers import execute, make_spec


def run_1d(layer: dict, values: list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).reshape(1, 1, -1)
    return execute(make_spec(x.shape[1:], [layer]), x)[1].ravel()


def test_avgpool_ceil_mode_counting_padding():
    # AvgPool1d(k3, s2, p1, ceil_mode, count_include_pad=True) on ones(6) -> [0.667, 1, 1, 0.5]:
    # the last window [5, 8) is cut at in + pad = 7, so it divides by 2, not 3.
    y = run_1d({"avgpool": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}}, [1] * 6)
    np.testing.assert_allclose(y, [2 / 3, 1, 1, 0.5])


def test_avgpool_ceil_mode_not_counting_padding():
    # Same with count_include_pad=False -> [1, 1, 1, 1].
    layer = {"avgpool": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}}
    np.testing.assert_allclose(run_1d(layer, [1] * 6), [1, 1, 1, 1])


def test_lppool_partial_window_reports_mean_times_window():
    # LPPool1d(p=1, k2, s2, ceil_mode) on ones(5) -> [2, 2, 2] (the last window holds one cell but reports 2).
    y = run_1d({"lppool": {"norm_type": 1, "kernel_size": 2, "stride": 2, "ceil_mode": True}}, [1] * 5)
    np.testing.assert_allclose(y, [2, 2, 2])


def test_adaptive_avgpool_overlapping_bins():
    # AdaptiveAvgPool1d(3) on [0, 1, 2, 3, 4] -> [0.5, 2.0, 3.5] (bins [0,2), [1,4), [3,5)).
    np.testing.assert_allclose(run_1d({"adaptive_avgpool": {"output_size": 3}}, [0, 1, 2, 3, 4]), [0.5, 2.0, 3.5])


def test_conv_transpose_output_padding_shape():
    # ConvTranspose2d(k3, s2, p1, output_padding 1) on 5x5 gives 10x10.
    spec = make_spec(
        (1, 5, 5),
        [{"conv_transpose": {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}}],
    )
    _, y = execute(spec, np.ones((1, 1, 5, 5)))
    assert y.shape == (1, 1, 10, 10)


@pytest.mark.parametrize(
    ("layer", "size", "expected"),
    [
        # MaxPool1d(k2, s2, p1, ceil) on 5 gives 3 (naive ceil: 4); MaxPool1d(k1, s2, ceil) on 6 gives 3;
        # MaxPool2d(3, 2) on 224 gives 111, with ceil_mode 112; MaxPool(k3, s2, p1, dilation 2, ceil) on 10 gives 5.
        ({"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, 5, 3),
        ({"kernel_size": 1, "stride": 2, "ceil_mode": True}, 6, 3),
        ({"kernel_size": 3, "stride": 2}, 224, 111),
        ({"kernel_size": 3, "stride": 2, "ceil_mode": True}, 224, 112),
        ({"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, 10, 5),
    ],
)
def test_maxpool_ceil_mode_sizes(layer, size, expected):
    assert run_1d({"maxpool": layer}, list(range(size))).shape == (expected,)


def test_conv1d_same_padding_with_even_kernel_pads_right():
    # Conv1d(k=4, padding='same') pads (1, 2): output length = input length, first output sees one zero.
    spec = make_spec(
        (1, 6),
        [
            {
                "conv": {
                    "name": "c",
                    "out_channels": 1,
                    "kernel_size": 4,
                    "padding": "same",
                    "bias": False,
                    "weights": [1, 1, 1, 1],
                }
            }
        ],
    )
    _, y = execute(spec, np.arange(1, 7, dtype=float).reshape(1, 1, 6))
    # windows of [0, 1..6, 0, 0]: (0+1+2+3), (1+2+3+4), ..., (5+6+0+0)
    np.testing.assert_allclose(y.ravel(), [6, 10, 14, 18, 15, 11])


def test_maxpool_pads_with_minus_infinity():
    # All-negative input: a zero pad would win the max; PyTorch pads with -inf.
    y = run_1d({"maxpool": {"kernel_size": 3, "stride": 1, "padding": 1}}, [-3, -2, -5])
    np.testing.assert_allclose(y, [-2, -2, -2])

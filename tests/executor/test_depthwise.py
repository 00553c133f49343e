"""The depthwise conv by flat offsets (ops.depthwise_flat, every conv with groups = channels = out_channels in
2-D) against the naive loop of tests/executor/naive.py, which test_ops_oracle checks against torch."""

import numpy as np
import pytest

from cnncalc.executor import ops
from cnncalc.executor.windows import pad
from tests.executor import naive


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "pads"),
    [
        ((9, 9), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # MobileNet's
        ((9, 8), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),  # its stride-2 one: four phases, odd and even sizes
        ((7, 11), (3, 5), (1, 2), (2, 1), ((0, 2), (2, 1))),  # uneven kernel, stride, dilation and padding
        ((10, 10), (5, 5), (3, 3), (1, 1), ((2, 2), (2, 2))),  # stride 3: nine phases, some taps unread
        ((3, 3), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),  # a 1x1 output
    ],
)
def test_depthwise_matches_the_naive_loop(size, kernel, stride, dilation, pads):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 6, *size))
    weight = rng.standard_normal((6, 1, *kernel))
    ours = ops.correlate(pad(x, pads), weight, stride, dilation, groups=6)
    expected = naive.conv(x, weight, np.zeros(6), stride, pads, dilation, 6)
    assert ours.shape == expected.shape and ours.flags.c_contiguous
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)

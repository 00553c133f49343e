"""TensorFlow's `same` padding, resolved inside `geometry()` for conv and the window pools."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.engine.receptive_field import receptive_fields


def analysis(text: str):
    return analyze(parse_spec(text, "t.yaml"))


@pytest.mark.parametrize(
    ("size", "k", "s", "d", "pads", "out"),
    [
        # tf.nn.conv2d SAME: out = ceil(224/2) = 112, total = max(0, 111*2 + 3 - 224) = 1, all after
        # (Keras MobileNet writes the same thing as ZeroPadding2D(((0, 1), (0, 1))) + valid).
        (224, 3, 2, 1, (0, 1), 112),
        (7, 3, 2, 1, (1, 1), 4),  # total = 3*2 + 3 - 7 = 2
        (5, 1, 2, 1, (0, 0), 3),  # a strided 1x1 needs none: max(0, 2*2 + 1 - 5) = 0
        (10, 4, 3, 1, (1, 2), 4),  # total = 3*3 + 4 - 10 = 3: the odd one after
        (9, 3, 2, 2, (2, 2), 5),  # dilation 2: effective kernel 5, total = 4*2 + 5 - 9 = 4
    ],
)
def test_conv_same_with_a_stride(size, k, s, d, pads, out):
    got = analysis(
        f"input: [2, {size}]\nlayers: [conv: {{out_channels: 1, kernel_size: {k}, stride: {s}, "
        f"dilation: {d}, padding: same}}]"
    ).rows[0]
    assert got.layer.geometry(got.input_shape).pads == (pads,)
    assert got.output_shape == (1, out)
    assert f"before = {pads[0]}, after = {pads[1]}" in got.explain()[0]


def test_pooling_same_is_tensorflows_at_any_stride():
    # tf.nn.max_pool2d(k3, s2, SAME) on 112 gives 56 (pads 0, 1); stride 1, k2 on 7 gives 7 (pads 0, 1).
    got = analysis(
        "input: [4, 112, 112]\nlayers:\n  - maxpool: {kernel_size: 3, stride: 2, padding: same}\n"
        "  - avgpool: {kernel_size: 2, stride: 1, padding: same}\n  - maxpool: {kernel_size: 2, padding: valid}\n"
    ).rows
    assert [r.output_shape for r in got] == [(4, 56, 56), (4, 56, 56), (4, 28, 28)]
    assert got[0].layer.geometry(got[0].input_shape).pads == ((0, 1), (0, 1))
    assert got[1].layer.geometry(got[1].input_shape).pads == ((0, 1), (0, 1))
    assert not got[1].layer.counts_padding()  # TF: the padding is never in the divisor
    assert any("left out of each window's divisor" in line for line in got[1].explain())


def test_the_receptive_field_starts_where_tensorflow_pads():
    # Two SAME 3x3 stride-2 convs on 224: neither pads before (0 each), so the field starts at 0, size 7.
    got = analysis(
        "input: [3, 224, 224]\nlayers: [conv: {filters: 8, kernel: 3, stride: 2, padding: same},"
        " conv: {filters: 8, kernel: 3, stride: 2, padding: same}]"
    )
    field = receptive_fields(got).by_name["conv2"]
    assert (field.size, field.jump, field.start) == ((7, 7), (4, 4), (0, 0))

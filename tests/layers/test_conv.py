"""Conv and transposed-conv figures from the seeds and PyTorch's docs, and the refusals with their positions."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError, Position


def conv(kind: str, args: str, shape: list[int]):
    return analyze(parse_spec(f"input: {shape}\nlayers:\n  - {kind}: {args}\n", "t.yaml")).rows[0]


def test_alexnet_conv1_from_the_slides():
    row = conv("conv", "{out_channels: 96, kernel_size: 11, stride: 4}", [3, 227, 227])
    # Seed 001: (227 - 11)/4 + 1 = 55; (11x11x3) x 96 weights (+ 96 biases); FLOPs H2*W2*F^2*D1*D2 = our MACs.
    assert row.output_shape == (96, 55, 55)
    assert row.params == 11 * 11 * 3 * 96 + 96 == 34944
    assert row.macs == 55 * 55 * 11 * 11 * 3 * 96
    assert row.flops == 2 * row.macs
    assert row.explain()[0] == "H = floor((227 - 11 + 2*0) / 4) + 1 = 55"
    assert "params = (11*11*3)*96 + 96 = 34,944" in row.explain()


def test_conv_without_bias_and_depthwise():
    assert conv("conv", "{out_channels: 8, kernel_size: 3, bias: false}", [4, 5, 5]).params == 8 * 4 * 9
    # MobileNet depthwise 3x3: groups = channels, weight [32, 1, 3, 3] + 32 biases.
    row = conv("conv", "{out_channels: 32, kernel_size: 3, padding: 1, groups: 32}", [32, 112, 112])
    assert row.params == 32 * 9 + 32
    assert row.macs == 112 * 112 * 9 * 1 * 32


def test_conv_transpose_doubles_a_5x5():
    # pytorch-arithmetic.md: ConvTranspose2d(k3, s2, p1, output_padding 1) on 5x5 gives 10x10.
    row = conv(
        "conv_transpose", "{out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}", [2, 5, 5]
    )
    assert row.output_shape == (4, 10, 10)
    assert row.explain()[0] == "H = (5 - 1)*2 - (2*1) + 1*(3 - 1) + 1 + 1 = 10"
    # DCGAN generator's first layer: ConvTranspose2d(100, 512, 4, 1, 0) on 1x1 gives 4x4.
    assert conv("conv_transpose", "{out_channels: 512, kernel_size: 4}", [100, 1, 1]).output_shape == (512, 4, 4)


@pytest.mark.parametrize(
    ("kind", "args", "shape", "gist", "culprit"),
    [
        ("conv", "{out_channels: 4, kernel_size: 7}", [3, 5, 5], "the kernel does not fit", "kernel_size"),
        ("conv", "{out_channels: 4, kernel_size: 3, dilation: 3}", [3, 6, 6], "effective kernel 7", "kernel_size"),
        ("conv", "{out_channels: 4, kernel_size: 3, groups: 3}", [6, 8, 8], "groups=3 does not divide the 4", "groups"),
        ("conv", "{out_channels: 6, kernel_size: 3, groups: 4}", [6, 8, 8], "does not divide the 6 input", "groups"),
        (
            "conv_transpose",
            "{out_channels: 4, kernel_size: 3, stride: 2, output_padding: 2}",
            [2, 5, 5],
            "output_padding 2 must be smaller than the stride (2) or the dilation (1)",
            "output_padding",
        ),
        ("conv_transpose", "{out_channels: 4, kernel_size: 3, padding: same}", [2, 5, 5], "not supported", "padding"),
        ("conv", "{out_channels: 4, kernel_size: [3, 3, 3]}", [2, 5, 5], "`kernel_size` has 3 entries", "kernel_size"),
    ],
)
def test_conv_refusals(kind, args, shape, gist, culprit):
    with pytest.raises(LayerError) as info:
        conv(kind, args, shape)
    assert gist in info.value.message
    # The error points at the value of the argument to change.
    line = f"  - {kind}: {args}"
    assert info.value.position == Position("t.yaml", 3, line.index(f"{culprit}: ") + len(culprit) + 3)


def test_output_padding_below_the_dilation_is_allowed():
    # PyTorch: output_padding must be smaller than stride OR dilation; stride 1, dilation 2 allows 1.
    row = conv("conv_transpose", "{out_channels: 1, kernel_size: 2, dilation: 2, output_padding: 1}", [1, 3])
    assert row.output_shape == (1, (3 - 1) * 1 + 2 * (2 - 1) + 1 + 1)


def test_a_flat_before_after_pair_in_1d_hints_at_the_nested_form():
    # `padding: [0, 1]` on a 1-D input reads as two dims; the per-side form is [[0, 1]].
    with pytest.raises(LayerError) as info:
        conv("conv", "{out_channels: 1, kernel_size: 2, padding: [0, 1]}", [3, 8])
    assert "`padding` has 2 entries, but the input has 1 spatial dimension" in info.value.message
    assert "[[0, 1]]" in info.value.hint
    assert info.value.position == Position("t.yaml", 3, 54)
    assert conv("conv", "{out_channels: 1, kernel_size: 2, padding: [[0, 1]]}", [3, 8]).output_shape == (1, 8)

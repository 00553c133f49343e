"""Pooling shapes at PyTorch's edge cases (shared/pytorch-arithmetic.md, checked on torch 2.13) and its refusals."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError, Position


def pool(kind: str, args: str, shape: list[int]):
    return analyze(parse_spec(f"input: {shape}\nlayers:\n  - {kind}: {args}\n", "t.yaml")).rows[0]


def value_column(line: str, key: str) -> int:
    """1-based column of `key`'s value in a flow mapping on `line`."""
    return line.index(f"{key}: ") + len(key) + 3


@pytest.mark.parametrize(
    ("args", "shape", "out"),
    [
        # MaxPool1d(k2, s2, p1, ceil) on 5 gives 3; naive ceil((5 + 2 - 2)/2) + 1 = 4 would start in the padding.
        ("{kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}", [1, 5], (1, 3)),
        # MaxPool1d(k1, s2, ceil) on 6 gives 3.
        ("{kernel_size: 1, stride: 2, ceil_mode: true}", [1, 6], (1, 3)),
        # MaxPool2d(3, 2) on 224 gives 111; with ceil_mode 112.
        ("{kernel_size: 3, stride: 2}", [1, 224, 224], (1, 111, 111)),
        ("{kernel_size: 3, stride: 2, ceil_mode: true}", [1, 224, 224], (1, 112, 112)),
        # MaxPool2d(k3, s2, p1, dilation 2, ceil) on 10 gives 5.
        ("{kernel_size: 3, stride: 2, padding: 1, dilation: 2, ceil_mode: true}", [1, 10, 10], (1, 5, 5)),
        # Seed 001: "max pool with 2x2 filters and stride 2" halves 4x4 to 2x2; stride defaults to the kernel.
        ("{kernel_size: 2}", [1, 4, 4], (1, 2, 2)),
        # Seed 001 AlexNet POOL1: (55 - 3)/2 + 1 = 27.
        ("{kernel_size: 3, stride: 2}", [96, 55, 55], (96, 27, 27)),
    ],
)
def test_maxpool_edge_cases(args, shape, out):
    row = pool("maxpool", args, shape)
    assert row.output_shape == out
    assert row.params == 0  # seed 001: "Parameters: 0!"


def test_ceil_mode_explain_says_why_a_window_was_removed():
    row = pool("maxpool", "{kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}", [1, 5])
    (line, *_) = row.explain()
    assert (
        line
        == "L = ceil((5 - 2 + 2*1) / 2) + 1 = 4, minus 1 because the last window would start in the right padding = 3"
    )


def test_avgpool_and_lppool_shapes():
    # AvgPool1d(k3, s2, p1, ceil) on 6: 4 windows (pytorch-arithmetic.md's values example has 4 outputs).
    assert pool("avgpool", "{kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}", [1, 6]).output_shape == (1, 4)
    # LPPool1d(p=1, k2, s2, ceil) on 5 gives 3 outputs ([2, 2, 2] in pytorch-arithmetic.md).
    assert pool("lppool", "{norm_type: 1, kernel_size: 2, stride: 2, ceil_mode: true}", [1, 5]).output_shape == (1, 3)


def test_global_and_adaptive_pooling():
    assert pool("global_avgpool", "{}", [512, 7, 7]).output_shape == (512, 1, 1)
    assert pool("global_maxpool", "{}", [8, 3, 5, 7]).output_shape == (8, 1, 1, 1)
    # torchvision AlexNet/VGG: AdaptiveAvgPool2d((6, 6)) / ((7, 7)).
    assert pool("adaptive_avgpool", "{output_size: 6}", [256, 13, 13]).output_shape == (256, 6, 6)
    assert pool("adaptive_maxpool", "{output_size: [null, 2]}", [4, 5, 9]).output_shape == (4, 5, 2)


@pytest.mark.parametrize(
    ("kind", "args", "gist", "culprit"),
    [
        # torch: "pad should be smaller than or equal to half of kernel size" (2 > 3 // 2), dilation regardless.
        ("maxpool", "{kernel_size: 3, padding: 2, dilation: 2}", "more than half the kernel size 3", "padding"),
        ("avgpool", "{kernel_size: 2, padding: 2}", "more than half the kernel size 2", "padding"),
        # A window larger than the input: floor((2 - 3)/3) + 1 = 0.
        ("maxpool", "{kernel_size: 3}", "the window does not fit", "kernel_size"),
    ],
)
def test_pool_refusals(kind, args, gist, culprit):
    with pytest.raises(LayerError) as info:
        pool(kind, args, [1, 2, 2] if "padding" not in args else [1, 8, 8])
    assert gist in info.value.message
    assert info.value.position == Position("t.yaml", 3, value_column(f"  - {kind}: {args}", culprit))


def test_pooling_a_flat_vector_suggests_the_stray_flatten():
    with pytest.raises(LayerError) as info:
        pool("maxpool", "{kernel_size: 2}", [64])
    assert "needs a channels-first volume" in info.value.message and "flatten" in info.value.hint
    assert info.value.position == Position("t.yaml", 3, 5)


def test_only_an_average_pool_with_same_padding_says_its_divisor_leaves_the_padding_out():
    # TensorFlow's SAME average pooling divides by the window's cells inside the input (tf.nn.avg_pool2d).
    text = (
        "input: [4, 7, 7]\nlayers:\n  - avgpool: {kernel_size: 3, stride: 2, padding: same}\n"
        "  - maxpool: {kernel_size: 2, stride: 1, padding: same}\n  - avgpool: {kernel_size: 2, padding: 1}\n"
    )
    same_avg, same_max, padded_avg = (row.explain() for row in analyze(parse_spec(text)).rows)
    note = "the padding is left out of each window's divisor, as in TensorFlow"
    assert same_avg[-3:] == [note, "C = 4 (pooling keeps the channels)", "params = 0 (pooling has no weights)"]
    assert note not in same_max and note not in padded_avg

"""The engine: rows in execution order, structure rows that sum their leaves, totals, warnings and --strict."""

from textwrap import dedent

import pytest

from cnncalc import analyze, load_spec, parse_spec
from cnncalc.errors import Position, StrictWarning
from tests.conftest import SPECS


def run(text: str, strict: bool = False):
    return analyze(parse_spec(dedent(text).lstrip("\n"), "t.yaml"), strict=strict)


NESTED = """
input: [8, 16, 16]
blocks:
  bottleneck:
    args: {width: 4}
    layers:
      - residual:
          body:
            - conv: {out_channels: $width, kernel_size: 1, bias: false}
            - batchnorm
            - relu
            - conv: {out_channels: 8, kernel_size: 3, padding: 1, bias: false}
            - batchnorm
layers:
  - conv: {out_channels: 8, kernel_size: 3, padding: 1}
  - repeat: {times: 2, layers: [bottleneck]}
  - concat: {branches: [[], [maxpool: {kernel_size: 3, stride: 1, padding: 1}]]}
  - global_avgpool
  - flatten
  - linear: {out_features: 10}
"""


def test_rows_follow_execution_order_with_depths():
    analysis = run(NESTED)
    assert [(row.name, row.depth, row.leaf) for row in analysis.rows[:9]] == [
        ("conv1", 0, True),
        ("repeat1", 0, False),
        ("repeat1.0", 1, False),  # the block use: one unnamed layer takes the iteration's path
        ("repeat1.0.residual1", 2, False),
        ("repeat1.0.residual1.conv1", 3, True),
        ("repeat1.0.residual1.batchnorm1", 3, True),
        ("repeat1.0.residual1.relu1", 3, True),
        ("repeat1.0.residual1.conv2", 3, True),
        ("repeat1.0.residual1.batchnorm2", 3, True),
    ]
    assert analysis.row("repeat1.0").kind == "bottleneck"
    assert analysis.row("concat1.1").kind == "maxpool"


def test_structure_rows_sum_their_leaves_and_totals_sum_all_leaves():
    analysis = run(NESTED)
    # One bottleneck: 1x1 conv 8->4 (32, no bias), bn 2*4, 3x3 conv 4->8 (288), bn 2*8.
    one_block = 8 * 4 + 2 * 4 + 4 * 8 * 9 + 2 * 8
    assert analysis.row("repeat1.0").params == one_block
    assert analysis.row("repeat1").params == 2 * one_block
    for row in analysis.rows:
        if not row.leaf:
            prefix = row.name + "."
            leaves = [r for r in analysis.leaves if r.name.startswith(prefix) or r.name == row.name]
            assert row.params == sum(r.params for r in leaves if r is not row)
            assert row.macs == sum(r.macs for r in leaves if r is not row)
    assert analysis.params == sum(r.params for r in analysis.leaves)
    assert analysis.macs == sum(r.macs for r in analysis.leaves)
    assert analysis.flops == 2 * analysis.macs  # torch.utils.flop_counter: 2 FLOPs per multiply-add
    # concat with an identity branch doubles the channels: 8 + 8 = 16 -> linear 16*10 + 10.
    assert analysis.row("linear1").params == 16 * 10 + 10
    assert analysis.output_shape == (10,)


def test_batchnorm_statistics_are_buffers_not_params():
    analysis = run("input: [64, 4, 4]\nlayers: [batchnorm]")
    # PyTorch BatchNorm2d(64): weight + bias = 128 parameters; running mean/var are buffers.
    assert analysis.params == 128
    assert analysis.buffers == 128
    assert analysis.trainable_params == 128


def test_alexnet_totals_match_the_sum_of_the_slide_layers():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    # Seed 001 layers with PyTorch's biases: conv (F*F*D1)*K + K, fc in*out + out.
    convs = [(11, 3, 96), (5, 96, 256), (3, 256, 384), (3, 384, 384), (3, 384, 256)]
    fcs = [(9216, 4096), (4096, 4096), (4096, 1000)]
    expected = sum(f * f * d * k + k for f, d, k in convs) + sum(i * o + o for i, o in fcs)
    assert analysis.params == expected == 62378344


# --- tiling warnings and --strict ----------------------------------------------------------------------

UNTILED = """
name: untiled
input: [3, 224, 224]
layers:
  - relu
  - conv: {out_channels: 8, kernel_size: 3, stride: 2}
"""


def test_a_stride_that_drops_a_row_warns_with_the_numbers():
    analysis = run(UNTILED)
    # (224 - 3) / 2 = 110.5: the last window ends at row 222, row 223 is never read.
    assert analysis.row("conv1").output_shape == (8, 111, 111)
    (warning,) = analysis.warnings
    assert warning.startswith("conv1: the stride does not tile the input")
    assert "H: (224 + 0 - 3) / 2 = 110.5 is not whole, so the last 1 input row is never read" in warning
    assert "W: (224 + 0 - 3) / 2 = 110.5 is not whole, so the last 1 input column is never read" in warning


def test_strict_turns_the_warning_into_a_positioned_error():
    with pytest.raises(StrictWarning) as info:
        run(UNTILED, strict=True)
    assert info.value.exit_code == 2
    assert info.value.position == Position("t.yaml", 5, 5)
    assert "110.5 is not whole" in info.value.message
    assert "--strict" in info.value.hint


@pytest.mark.parametrize(
    ("layer", "size"),
    [
        # ResNet conv1: 7x7 s2 p3 on 224 -> 112; (224 + 6 - 7) / 2 = 111.5 but only right padding is unread.
        ("conv: {out_channels: 64, kernel_size: 7, stride: 2, padding: 3}", 224),
        # ResNet downsample shortcut: 1x1 s2 on 56 skips every other row by design, the last one included.
        ("conv: {out_channels: 8, kernel_size: 1, stride: 2}", 56),
        # ResNet stem pool: 3x3 s2 p1 on 112 -> 56.
        ("maxpool: {kernel_size: 3, stride: 2, padding: 1}", 112),
        # ceil_mode covers the tail by construction (GoogLeNet's pools).
        ("maxpool: {kernel_size: 3, stride: 2, ceil_mode: true}", 224),
        # AlexNet conv1: (227 - 11) / 4 = 54 exactly.
        ("conv: {out_channels: 96, kernel_size: 11, stride: 4}", 227),
    ],
)
def test_no_warning_when_nothing_real_is_dropped(layer, size):
    analysis = run(f"input: [3, {size}, {size}]\nlayers:\n  - {layer}\n", strict=True)
    assert analysis.warnings == []


def test_the_cells_a_zero_pad_just_added_are_padding_to_the_window():
    # Keras ResNet50's ZeroPadding2D then `valid` windows. torch (F.pad, then the window on a ones input, and
    # the input gradient of the sum): conv1 7x7 s2 after pad 3 on 224 and pool1 3x3 s2 after pad 1 on 112 read
    # every input row; only a padding row (229 of 230, 113 of 114) is left, as with the window's own padding.
    analysis = analyze(load_spec(SPECS / "keras_resnet50.yaml"), strict=True)
    assert analysis.warnings == []
    assert analysis.row("conv1_conv").input_shape == (3, 230, 230)
    assert analysis.row("pool1_pool").input_shape == (64, 114, 114)


def test_a_zero_pad_does_not_hide_a_real_tiling_loss():
    # torch, as above: pad 1 then a 5x5 stride-3 conv on 224 -> 74 x 74, and input row 223 gets no gradient.
    # (224 + 2 - 5) / 3 = 73.67; of the 221 % 3 = 2 cells left, one is the pad's, one is input row 223.
    analysis = run(
        "input: [3, 224, 224]\nlayers:\n  - pad: {padding: 1}\n  - conv: {out_channels: 4, kernel_size: 5, stride: 3}\n"
    )
    assert analysis.row("conv1").output_shape == (4, 74, 74)
    (warning,) = analysis.warnings
    assert warning.startswith("conv1: the stride does not tile the input (the zero pad before it counted as padding)")
    assert "H: (224 + 2 - 5) / 3 = 73.67 is not whole, so the last 1 input row is never read" in warning


@pytest.mark.parametrize("pad", ["{padding: 3, mode: reflect}", "{padding: 3, value: 1.0}"])
def test_only_a_zero_pad_is_seen_through(pad):
    # The stem of test_the_cells_... with a pad that copies input or fills ones: those cells are data for the
    # window, so its own rule holds: (230 - 7) / 2 = 111.5 leaves row 229 of its input unread.
    analysis = run(
        f"input: [3, 224, 224]\nlayers:\n  - pad: {pad}\n  - conv: {{out_channels: 4, kernel_size: 7, stride: 2}}\n"
    )
    (warning,) = analysis.warnings
    assert "H: (230 + 0 - 7) / 2 = 111.5 is not whole, so the last 1 input row is never read" in warning


def test_resnet_conv1_is_112():
    analysis = run("input: [3, 224, 224]\nlayers:\n  - conv: {out_channels: 64, kernel_size: 7, stride: 2, padding: 3}")
    # torchvision ResNet: conv1 output 112x112 (floor((224 + 6 - 7)/2) + 1).
    assert analysis.row("conv1").output_shape == (64, 112, 112)
    assert analysis.row("conv1").params == 7 * 7 * 3 * 64 + 64


def test_warnings_are_collected_once_per_layer_in_order():
    analysis = run(
        """
        input: [1, 9]
        layers:
          - maxpool: {kernel_size: 2}
          - conv: {out_channels: 1, kernel_size: 2, stride: 3}
        """
    )
    # maxpool k2 on 9 -> 4, cell 8 unread; conv k2 s3 on 4: windows [0,1], next would start at 3 -> cell 3 unread.
    assert [w.split(":")[0] for w in analysis.warnings] == ["maxpool1", "conv1"]
    assert "the last 1 input cell is never read" in analysis.warnings[0]


def test_looking_up_every_row_by_name_reads_each_name_once(monkeypatch):
    # Security review: `import` of an N-node chain checked each node's row by a linear search, N^2 / 2 name
    # reads: 31 s at 8,000 Relus. A lookup of all N rows must read each row's name a bounded number of times.
    from cnncalc.engine.propagate import LayerRow
    from cnncalc.spec.build import parse_spec

    analysis = analyze(parse_spec("input: [1, 4]\nlayers:\n" + "  - relu\n" * 500, "chain.yaml"))
    names = [row.name for row in analysis.rows]
    reads = 0
    original = LayerRow.name.fget

    def counted(row):
        nonlocal reads
        reads += 1
        return original(row)

    monkeypatch.setattr(LayerRow, "name", property(counted))
    assert all(analysis.row(name).name == name for name in names)
    assert reads <= 3 * len(names)

"""Receptive fields (Araujo, Norris, Sim, "Computing Receptive Fields of CNNs", Distill 2019)."""

import pytest

from cnncalc import analyze, load_spec, parse_spec
from cnncalc.engine.receptive_field import receptive_fields
from tests.conftest import SPECS


def fields(text: str):
    return receptive_fields(analyze(parse_spec(text)))


def test_lecture_alexnet_conv5_sees_163_and_pool3_195_pixels():
    result = receptive_fields(analyze(load_spec(SPECS / "alexnet_cs231n.yaml")))
    # Forward recurrence r += S*(k-1), S *= s: conv1 11 (S 4), pool1 19 (S 8), conv2 51, pool2 67 (S 16),
    # conv3 99, conv4 131, conv5 163, pool3 195 (S 32); the figures the brief quotes for this net.
    assert result.by_name["conv5"].size == (163, 163)
    assert result.by_name["pool3"].size == (195, 195)
    assert result.by_name["pool3"].jump == (32, 32)
    # conv2 pads 2 at jump 8, conv3..5 pad 1 at jump 16: u = -(2*8 + 3*16) = -64.
    assert result.by_name["conv5"].start == (-64, -64)
    # google-research/receptive_field's table: alexnet_v2 (same kernels and strides) has receptive field 195,
    # effective stride 32, effective padding 64 at its last pool.
    assert (result.by_name["pool3"].size[0], result.by_name["pool3"].jump[0], result.by_name["pool3"].start[0]) == (
        195,
        32,
        -64,
    )
    # fc6 sees the whole 227x227 input.
    assert result.by_name["fc6"].status == "global"
    assert result.by_name["fc6"].size == (227, 227)
    assert result.warnings == []


VGG16_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_features() -> str:
    """VGG-16's conv stack from Simonyan & Zisserman's configuration D (3x3 pad 1 convs, 2x2/2 max pools)."""
    lines, stage, index = ["input: [3, 224, 224]", "layers:"], 1, 1
    for entry in VGG16_CONFIG:
        if entry == "M":
            lines.append(f"  - maxpool: {{name: pool{stage}, kernel_size: 2, stride: 2}}")
            stage, index = stage + 1, 1
        else:
            lines.append(f"  - conv: {{name: conv{stage}_{index}, out_channels: {entry}, kernel_size: 3, padding: 1}}")
            lines.append("  - relu")
            index += 1
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("source", "conv5_3", "pool5"),
    [("paper", "conv5_3", "pool5"), ("shipped", "block5.conv.2.conv1", "block5.pool")],
)
def test_vgg16_conv5_3_sees_196_and_pool5_212_pixels(source, conv5_3, pool5):
    if source == "shipped":
        result = receptive_fields(analyze(load_spec(SPECS / "vgg16.yaml")))
    else:
        result = fields(vgg16_features())
    # Closed form: r = 1 + sum_l (k_l - 1) * prod_{i<l} s_i. Stage j (jump 2^(j-1)) has n_j 3x3 convs adding
    # 2*2^(j-1) each, then a 2x2/2 pool adding 2^(j-1): conv5_3 = 1 + 2*(2*1 + 2*2 + 3*4 + 3*8 + 3*16)
    # + (1 + 2 + 4 + 8) = 1 + 180 + 15 = 196; pool5 = 196 + 16 = 212.
    assert result.by_name[conv5_3].size == (196, 196)
    assert result.by_name[pool5].size == (212, 212)
    assert result.by_name[pool5].jump == (32, 32)
    # google-research/receptive_field's table, vgg_16: receptive field 212, effective stride 32, effective
    # padding 90 (= 2*1 + 2*2 + 3*4 + 3*8 + 3*16, each conv's padding 1 times its jump).
    assert result.by_name[pool5].start == (-90, -90)


def test_dilation_padding_and_stride_by_hand_with_one_exceeds_warning():
    result = fields(
        """
input: [1, 10]
layers:
  - conv: {name: a, out_channels: 1, kernel_size: 3, dilation: 2, padding: 2}
  - conv: {name: b, out_channels: 1, kernel_size: 3, stride: 2, padding: 1}
  - maxpool: {name: p, kernel_size: 2, stride: 2}
  - conv: {name: c, out_channels: 1, kernel_size: 3, padding: 1}
  - conv: {name: d, out_channels: 1, kernel_size: 1}
  - conv: {name: e, out_channels: 1, kernel_size: 3, padding: 1}
"""
    )
    a, b, p, c, d, e = (result.by_name[n] for n in "abpcde")
    # a: k_eff = 2*(3-1)+1 = 5, r = 1 + 1*4 = 5, S = 1, u = 0 - 1*2 = -2 (centre 0).
    assert (a.size, a.jump, a.start, a.center) == ((5,), (1,), (-2,), (0.0,))
    # b: r = 5 + 1*2 = 7, u = -2 - 1*1 = -3, S = 2 (centre 0).
    assert (b.size, b.jump, b.start, b.center) == ((7,), (2,), (-3,), (0.0,))
    # p: r = 7 + 2*1 = 9, u = -3, S = 4 (centre 1).
    assert (p.size, p.jump, p.start, p.center) == ((9,), (4,), (-3,), (1.0,))
    # c: r = 9 + 4*2 = 17 > 10: the first layer seeing more than the input; d (1x1) keeps 17, e: 25.
    assert (c.size, d.size, e.size) == ((17,), (17,), (25,))
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("c: receptive field 17 already exceeds the input 10")
    assert [(p.line, p.column) for p in result.sources if p] == [(7, 5)]  # c's line, as every warning points


def test_residual_paths_take_the_largest_field_and_warn_when_misaligned():
    aligned = fields(
        """
input: [4, 16, 16]
layers:
  - residual:
      body:
        - conv: {out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
        - conv: {out_channels: 8, kernel_size: 3, padding: 1}
      shortcut: [conv: {out_channels: 8, kernel_size: 1, stride: 2}]
"""
    )
    # Body: r = 1 + 2 = 3 (u -1, S 2), then 3 + 2*2 = 7 (u -1 - 2 = -3), centre -3 + 3 = 0.
    # Shortcut 1x1/2: r 1, u 0, centre 0, S 2: aligned, so the block's field is the body's 7.
    assert aligned.by_name["residual1"].size == (7, 7)
    assert aligned.by_name["residual1"].jump == (2, 2)
    assert aligned.warnings == []

    shifted = fields(
        """
input: [1, 10]
layers:
  - residual:
      body: [conv: {out_channels: 1, kernel_size: 3, padding: [[2, 0]]}]
"""
    )
    # Body: r 3, u -2, centre -1; identity shortcut: r 1, centre 0. Not aligned: max r = 3 and a warning.
    assert shifted.by_name["residual1"].size == (3,)
    assert len(shifted.warnings) == 1
    assert "not aligned" in shifted.warnings[0]


def test_concat_of_inception_style_branches():
    result = fields(
        """
input: [4, 8, 8]
layers:
  - concat:
      branches:
        - [conv: {out_channels: 2, kernel_size: 1}]
        - [conv: {out_channels: 2, kernel_size: 3, padding: 1}]
        - [conv: {out_channels: 2, kernel_size: 5, padding: 2}]
        - [maxpool: {kernel_size: 3, stride: 1, padding: 1}]
"""
    )
    # Every branch is centred on the same pixel (u = -pad, r = k); the widest is the 5x5.
    assert result.by_name["concat1"].size == (5, 5)
    assert result.by_name["concat1"].center == (0.0, 0.0)
    assert result.warnings == []


def test_transposed_conv_and_upsample_are_not_covered_and_linear_is_global():
    result = fields(
        """
input: [1, 8, 8]
layers:
  - conv: {name: down, out_channels: 1, kernel_size: 3}
  - conv_transpose: {name: up, out_channels: 1, kernel_size: 3}
  - conv: {name: after, out_channels: 1, kernel_size: 3}
  - upsample: {name: nearest, scale_factor: 2}
  - flatten
  - linear: {name: fc, out_features: 2}
"""
    )
    assert result.by_name["down"].size == (3, 3)
    # Araujo et al. give no formula for transposed convolutions or upsampling: no invented number.
    for name in ("up", "after", "nearest", "flatten1"):
        assert result.by_name[name].status == "n/a"
        assert result.by_name[name].size is None
    assert result.by_name["fc"].status == "global"


@pytest.mark.parametrize(("output_size", "expected"), [(4, (3, 2)), (3, None), (1, "global")])
def test_adaptive_pool_is_a_window_only_with_equal_bins(output_size, expected):
    result = fields(
        f"""
input: [1, 8]
layers:
  - conv: {{name: c, out_channels: 1, kernel_size: 2, padding: [[1, 0]]}}
  - adaptive_avgpool: {{name: a, output_size: {output_size}}}
"""
    )
    pooled = result.by_name["a"]
    if expected is None:
        # 8 -> 3: bins [0,3), [2,6), [5,8) have no common stride.
        assert pooled.status == "n/a"
    elif expected == "global":
        # One bin over everything, as global_avgpool: the whole 8-sample input.
        assert (pooled.status, pooled.size) == ("global", (8,))
    else:
        # 8 -> 4: bins of 2 with stride 2, as maxpool(2): r = 2 + 1*(2-1) = 3, S = 2.
        assert (pooled.size[0], pooled.jump[0]) == expected


def gradient_footprint(layers, input_shape, unit):
    """Rows and columns of the input that one output unit's gradient reaches, measured by PyTorch."""
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(*layers).double()
    for parameter in net.parameters():
        torch.nn.init.ones_(parameter) if parameter.dim() > 1 else torch.nn.init.zeros_(parameter)
    x = torch.ones(1, *input_shape, dtype=torch.float64, requires_grad=True)
    net(x)[(0, 0, *unit)].backward()
    touched = x.grad[0].abs().sum(0).nonzero()
    return [int(touched[:, d].max() - touched[:, d].min() + 1) for d in range(touched.shape[1])]


def test_alexnet_fields_match_pytorch_gradient_footprints():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    # The lecture AlexNet's geometry, written out independently of the spec; average pools stand in for
    # the max pools (same windows) so the gradient reaches every pixel of a window, not just the argmax.
    stack = [
        nn.Conv2d(3, 4, 11, stride=4),
        nn.AvgPool2d(3, 2),
        nn.Conv2d(4, 4, 5, padding=2),
        nn.AvgPool2d(3, 2),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.Conv2d(4, 4, 3, padding=1),
    ]
    ours = receptive_fields(analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))).by_name
    # conv5's unit (6, 6) covers [-64 + 6*16, ... + 162] = [32, 194] and pool3's unit (2, 2) [0, 194]:
    # both inside the 227x227 input, so the footprint is the whole field.
    assert gradient_footprint(stack, (3, 227, 227), (6, 6)) == list(ours["conv5"].size) == [163, 163]
    pooled = [*stack, nn.AvgPool2d(3, 2)]
    assert gradient_footprint(pooled, (3, 227, 227), (2, 2)) == list(ours["pool3"].size) == [195, 195]


def test_dilated_padded_1d_field_matches_pytorch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    ours = fields(
        """
input: [1, 40]
layers:
  - conv: {name: a, out_channels: 1, kernel_size: 3, dilation: 2, padding: 2}
  - conv: {name: b, out_channels: 1, kernel_size: 3, stride: 2, padding: 1}
  - avgpool: {name: p, kernel_size: 2, stride: 2}
  - conv: {name: c, out_channels: 1, kernel_size: 3, dilation: 3}
"""
    ).by_name
    stack = [
        nn.Conv1d(1, 1, 3, dilation=2, padding=2),
        nn.Conv1d(1, 1, 3, stride=2, padding=1),
        nn.AvgPool1d(2, 2),
        nn.Conv1d(1, 1, 3, dilation=3),
    ]
    # c's unit 1 starts at u + 1*S = -3 + 4 = 1, inside the 40-sample input.
    assert gradient_footprint(stack, (1, 40), (1,)) == list(ours["c"].size)


# --- through the graph: references, merges, gates -------------------------------------------------------


def test_fields_follow_from_references_and_merges():
    got = fields(
        """
input: [3, 32, 32]
layers:
  - conv: {name: a, out_channels: 4, kernel_size: 3, padding: 1}
  - conv: {name: b, out_channels: 4, kernel_size: 5, padding: 2, from: input}
  - add: {name: ab, from: [a, b]}
  - conv: {name: c, out_channels: 4, kernel_size: 3, padding: [[0, 2], [0, 2]], from: input}
  - add: {name: ac, from: [a, c]}
"""
    )
    # b reads the input, not a: r = 5 (not 3 + 4). a and b are centred alike (start -1 vs -2, r 3 vs 5:
    # centre 0 both), so the sum's field is the larger, 5.
    assert got.by_name["b"].size == (5, 5) and got.by_name["b"].start == (-2, -2)
    assert got.by_name["ab"].size == (5, 5) and got.by_name["ab"].start == (-2, -2)
    # c pads only after: start 0, centre 1 against a's 0, so the paths are not aligned, and a warning says so.
    assert got.by_name["ac"].size == (3, 3)
    assert any(w.startswith("ac: the paths are not aligned") for w in got.warnings)


def test_a_gate_from_a_global_pool_does_not_widen_the_field():
    got = fields(
        """
input: [4, 16, 16]
layers:
  - conv: {name: a, out_channels: 4, kernel_size: 3, padding: 1}
  - multiply: {name: se, branches: [[], [global_avgpool, conv: {out_channels: 4, kernel_size: 1}, sigmoid]]}
  - global_avgpool: {name: g, from: a}
  - multiply: {name: gated, from: [a, g]}
  - multiply: {name: both_global, from: [g, g]}
"""
    )
    # The contract: an operand whose field is global does not widen a product; the other operand's (a's 3)
    # is reported, with a note (once). A product of global operands only is global.
    assert got.by_name["se"].size == (3, 3) and got.by_name["se"].status == "window"
    assert got.by_name["gated"].size == (3, 3)
    assert got.by_name["both_global"].status == "global"
    assert sum("a gate that sees the whole input" in w for w in got.warnings) == 1


def test_a_split_section_keeps_the_positions():
    got = fields(
        """
input: [4, 16, 16]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
  - split: {name: s, sections: 2, branches: [[], [conv: {out_channels: 2, kernel_size: 3, padding: 1}]]}
"""
    )
    # Branch 0 sees 3 pixels, branch 1 3 + 2 = 5, centred alike: the concatenation reports 5.
    assert got.by_name["s.1"].size == (5, 5) and got.by_name["s"].size == (5, 5)


def test_branches_widening_different_dimensions_each_give_their_own_start():
    got = fields(
        """
input: [2, 16, 16]
layers:
  - concat:
      name: mixed
      branches:
        - [conv: {out_channels: 2, kernel_size: [1, 3], padding: [0, 1]}]
        - [conv: {out_channels: 2, kernel_size: [3, 1], padding: [1, 0]}]
"""
    ).by_name
    # Branch 0 sees 1x3 pixels starting at (0, -1), branch 1 3x1 starting at (-1, 0): the concatenation's
    # field per dimension is the wider one, with that branch's start: 3x3 from (-1, -1), centred on (0, 0).
    assert got["mixed"].size == (3, 3) and got["mixed"].start == (-1, -1)

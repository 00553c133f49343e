"""The spec language, sentence by sentence (shared/spec-language.md), through parse_spec + analyze.

Shapes asserted here follow PyTorch's documented formulas (torch.nn.Conv*d / *Pool*d docs), written
out in each comment; error tests assert the message's gist and the exact line:column.
"""

from textwrap import dedent

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import CnncalcError, Position, SpecError
from cnncalc.layers import BlockCall, Concat, Repeat, Residual
from tests.conftest import SPECS


def spec(text: str):
    return parse_spec(dedent(text).lstrip("\n"), "t.yaml")


def rows(text: str) -> dict:
    return {row.name: row for row in analyze(spec(text)).rows}


def shapes(text: str) -> dict:
    return {name: row.output_shape for name, row in rows(text).items()}


def error(text: str) -> CnncalcError:
    with pytest.raises(CnncalcError) as info:
        analyze(spec(text))
    assert info.value.exit_code == 2
    return info.value


def at(line: int, column: int) -> Position:
    return Position("t.yaml", line, column)


# --- layer entries: bare kinds, single-key mappings, names --------------------------------------------


def test_bare_kinds_and_single_key_mappings():
    got = rows(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 4, kernel_size: 3}
          - relu
          - flatten:
        """
    )
    assert [(name, r.kind) for name, r in got.items()] == [
        ("conv1", "conv"),
        ("relu1", "relu"),
        ("flatten1", "flatten"),
    ]
    # 8 - 3 + 1 = 6 per side; flatten: 4*6*6.
    assert got["flatten1"].output_shape == (144,)


def test_name_inside_the_arguments_and_as_a_sibling_key():
    got = shapes(
        """
        input: [3, 8, 8]
        layers:
          - conv: {name: stem, out_channels: 4, kernel_size: 3}
          - relu:
            name: act
          - conv: {out_channels: 4, kernel_size: 1}
            name: head
        """
    )
    assert list(got) == ["stem", "act", "head"]


def test_name_given_both_inside_and_beside_the_arguments_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {name: a, out_channels: 4, kernel_size: 3}
            name: b
        """
    )
    assert "name is given twice" in e.message
    assert e.position == at(4, 5)  # the sibling `name:` key


def test_auto_names_count_per_kind_and_skip_names_already_taken():
    got = shapes(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 4, kernel_size: 1}
          - relu
          - conv: {name: conv1, out_channels: 4, kernel_size: 1}
          - relu
          - flatten
          - fc: {units: 2}
        """
    ).keys()
    # The explicit `conv1` is taken, so the unnamed conv becomes conv2; `fc` is counted as `linear`.
    assert list(got) == ["conv2", "relu1", "conv1", "relu2", "flatten1", "linear1"]


def test_auto_names_restart_in_every_scope_and_nest_with_dots():
    got = shapes(
        """
        input: [4, 8, 8]
        layers:
          - conv: {out_channels: 4, kernel_size: 1}
          - residual:
              body:
                - conv: {out_channels: 4, kernel_size: 1}
                - relu
                - conv: {out_channels: 4, kernel_size: 1}
          - residual:
              body: [conv: {out_channels: 8, kernel_size: 1}]
              shortcut: [conv: {out_channels: 8, kernel_size: 1}]
          - residual:
              body: [conv: {out_channels: 8, kernel_size: 1}]
              shortcut: [conv: {out_channels: 8, kernel_size: 1}, batchnorm]
          - concat: {branches: [[], [relu], [conv: {out_channels: 2, kernel_size: 1}, relu]]}
          - repeat: {times: 2, layers: [relu]}
          - repeat: {times: 2, layers: [conv: {out_channels: 4, kernel_size: 1}, relu]}
        """
    )
    assert list(got) == [
        "conv1",
        "residual1",
        "residual1.conv1",
        "residual1.relu1",
        "residual1.conv2",
        "residual2",
        "residual2.conv1",
        "residual2.shortcut",  # a one-layer unnamed group takes the group's path
        "residual3",
        "residual3.conv1",
        "residual3.shortcut.conv1",
        "residual3.shortcut.batchnorm1",
        "concat1",
        "concat1.1",  # branch 0 is the identity: no row
        "concat1.2.conv1",
        "concat1.2.relu1",
        "repeat1",
        "repeat1.0",
        "repeat1.1",
        "repeat2",
        "repeat2.0.conv1",
        "repeat2.0.relu1",
        "repeat2.1.conv1",
        "repeat2.1.relu1",
    ]


def test_two_layers_with_one_name_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu: {name: act}
          - relu: {name: act}
        """
    )
    assert "two layers are named `act`" in e.message and "line 3" in e.message
    assert e.position == at(4, 5)


def test_a_name_with_a_dot_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu: {name: a.b}
        """
    )
    assert "without dots" in e.message
    assert e.position == at(3, 5)


def test_a_layer_with_two_kinds_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu:
            sigmoid:
        """
    )
    assert "exactly one key" in e.message and "relu, sigmoid" in e.message
    assert e.position == at(3, 5)


def test_an_empty_list_item_is_named_as_such():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu
          -
        """
    )
    assert "empty list item" in e.message
    assert e.position.line == 4


def test_a_structure_given_a_bare_list_says_which_key_holds_it():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - residual: [relu]
        """
    )
    assert "must be a mapping" in e.message and e.hint == "Write `residual: {body: [...]}`."
    assert e.position == at(3, 15)  # the `[` after `residual: `


def test_unknown_kind_suggests_the_near_miss():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu
          - maxpol: {kernel_size: 2}
        """
    )
    assert "unknown layer kind `maxpol`" in e.message and e.hint == "Did you mean `maxpool`?"
    assert e.position == at(4, 5)


def test_unknown_argument_points_at_the_key_and_suggests_the_near_miss():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 4, kernal_size: 3}
        """
    )
    assert "has no argument `kernal_size`" in e.message and e.hint == "Did you mean `kernel_size`?"
    assert e.position == at(3, 29)


def test_wrong_type_points_at_the_value():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: four, kernel_size: 3}
        """
    )
    assert "`out_channels`" in e.message and "'four'" in e.message
    assert e.position == at(3, 26)


def test_missing_argument_names_it():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {kernel_size: 3}
        """
    )
    assert "needs the argument `out_channels`" in e.message
    assert e.position == at(3, 5)


# --- aliases -------------------------------------------------------------------------------------------


def test_argument_and_kind_aliases_mean_the_canonical_names():
    got = rows(
        """
        input: [3, 13, 13]
        layers:
          - conv: {filters: 8, kernel: 3, pad: 1}
          - norm: {size: 5}
          - maxpool: {size: 3, stride: 2}
          - avgpool: {kernel: 2}
          - flatten
          - dense: {units: 10}
          - fc: {out_features: 5}
        """
    )
    assert [r.kind for r in got.values()] == ["conv", "lrn", "maxpool", "avgpool", "flatten", "linear", "linear"]
    # conv 13 + 2 - 3 + 1 = 13; pool (13 - 3)//2 + 1 = 6; avgpool 6//2 = 3; 8*3*3 = 72 -> 10 -> 5.
    assert got["conv1"].params == 3 * 3 * 3 * 8 + 8
    assert got["maxpool1"].output_shape == (8, 6, 6)
    assert got["avgpool1"].output_shape == (8, 3, 3)
    assert got["linear1"].params == 72 * 10 + 10
    assert got["linear2"].output_shape == (5,)


@pytest.mark.parametrize(
    ("args", "later", "column"),
    [
        ("{out_channels: 4, filters: 4, kernel_size: 3}", "filters", 29),
        ("{out_channels: 4, kernel: 3, kernel_size: 3}", "kernel_size", 40),
        ("{out_channels: 4, kernel_size: 3, padding: 1, pad: 1}", "pad", 57),
    ],
)
def test_alias_and_canonical_name_together_is_an_error(args, later, column):
    e = error(
        f"""
        input: [3, 8, 8]
        layers:
          - conv: {args}
        """
    )
    assert "is given both" in e.message and f"`{later}`" in e.message
    assert e.position == at(3, column)


def test_two_aliases_of_one_argument_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - maxpool: {kernel: 2, size: 2}
        """
    )
    assert "is given both `size` and its synonym `kernel_size`" in e.message
    assert e.position == at(3, 26)


# --- dimensions and padding forms ----------------------------------------------------------------------


def test_one_two_and_three_dimensional_inputs():
    # Conv1d(2, 4, 3) on L=10: 10 - 3 + 1 = 8; MaxPool1d(2): 4.
    assert shapes("input: [2, 10]\nlayers: [conv: {out_channels: 4, kernel_size: 3}, maxpool: {kernel_size: 2}]")[
        "maxpool1"
    ] == (4, 4)
    # Conv2d(3, 4, (3, 5)) on 10x12: 8 x 8.
    assert shapes("input: [3, 10, 12]\nlayers: [conv: {out_channels: 4, kernel_size: [3, 5]}]")["conv1"] == (4, 8, 8)
    # Conv3d(2, 4, 3, padding=(1, 0, 1)) on 8x16x16: 8, 14, 16; MaxPool3d((1, 2, 2)): 8, 7, 8.
    got = rows(
        "input: [2, 8, 16, 16]\n"
        "layers: [conv: {out_channels: 4, kernel_size: 3, padding: [1, 0, 1]}, maxpool: {kernel_size: [1, 2, 2]}]"
    )
    assert got["conv1"].output_shape == (4, 8, 14, 16)
    assert got["maxpool1"].output_shape == (4, 8, 7, 8)
    assert got["conv1"].params == 4 * 2 * 27 + 4


def test_int_padding_broadcasts_like_a_per_dim_list_and_like_symmetric_pairs():
    template = "input: [3, 7, 9]\nlayers: [conv: {{out_channels: 2, kernel_size: 3, stride: 2, padding: {}}}]"
    results = {form: shapes(template.format(form))["conv1"] for form in ("1", "[1, 1]", "[[1, 1], [1, 1]]")}
    # (7 + 2 - 3)//2 + 1 = 4, (9 + 2 - 3)//2 + 1 = 5.
    assert set(results.values()) == {(2, 4, 5)}


def test_per_side_padding_pairs():
    # TensorFlow-style 'same' for an even kernel: pad (0, 1) per dim; 8 + 1 - 2 + 1 = 8.
    got = shapes("input: [3, 8, 8]\nlayers: [conv: {out_channels: 4, kernel_size: 2, padding: [[0, 1], [0, 1]]}]")
    assert got["conv1"] == (4, 8, 8)
    # Different per dim: H 8 + 0 + 2 - 3 + 1 = 8, W 8 + 1 + 1 - 3 + 1 = 8 with k3; H with (0, 0): 6.
    got = shapes("input: [3, 8, 8]\nlayers: [conv: {out_channels: 4, kernel_size: 3, padding: [[0, 0], [2, 1]]}]")
    assert got["conv1"] == (4, 6, 9)


def test_padding_list_of_the_wrong_length_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 3, kernel_size: 3, padding: [1, 1, 1]}
        """
    )
    assert "`padding` has 3 entries" in e.message and "2 spatial dimensions" in e.message
    assert e.position == at(3, 54)


def test_negative_padding_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 3, kernel_size: 3, padding: -1}
        """
    )
    assert "`padding` must be" in e.message and "got -1" in e.message
    assert e.position == at(3, 54)


def test_same_padding_puts_the_odd_pixel_on_the_right_as_pytorch():
    got = analyze(spec("input: [2, 10]\nlayers: [conv: {out_channels: 4, kernel_size: 4, padding: same}]"))
    conv = got.rows[0]
    # pytorch-arithmetic.md: Conv1d(k=4, padding='same') pads (1, 2).
    assert conv.layer.geometry((2, 10)).pads == ((1, 2),)
    assert conv.output_shape == (4, 10)
    # dilation 2, k3: total 4, (2, 2); 3-D input keeps every size.
    got = shapes("input: [1, 5, 6, 7]\nlayers: [conv: {out_channels: 2, kernel_size: 3, dilation: 2, padding: same}]")
    assert got["conv1"] == (2, 5, 6, 7)


def test_valid_padding_is_no_padding():
    assert shapes("input: [2, 10]\nlayers: [conv: {out_channels: 4, kernel_size: 4, padding: valid}]")["conv1"] == (
        4,
        7,
    )


def test_same_padding_with_stride_two_is_tensorflows():
    # PyTorch refuses it; the contract takes TensorFlow's rule: out = ceil(10 / 2) = 5, total padding
    # max(0, (5 - 1)*2 + 4 - 10) = 2, one on each side (tf.nn.conv2d's documented SAME padding).
    spec = parse_spec(
        """
        input: [2, 10]
        layers:
          - conv: {out_channels: 4, kernel_size: 4, stride: 2, padding: same}
        """
    )
    conv = spec.layers[0]
    assert conv.geometry((2, 10)).pads == ((1, 1),)
    assert analyze(spec).output_shape == (4, 5)


def test_ceil_mode_and_dilation_in_pooling():
    # pytorch-arithmetic.md checks: MaxPool1d(k2, s2, p1, ceil) on 5 -> 3; MaxPool2d(3, 2) on 224 -> 111,
    # with ceil_mode 112; MaxPool2d(k3, s2, p1, dilation 2, ceil) on 10 -> 5.
    pool = "input: {}\nlayers: [maxpool: {}]"
    assert shapes(pool.format("[1, 5]", "{kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}"))["maxpool1"] == (
        1,
        3,
    )
    assert shapes(pool.format("[1, 224, 224]", "{kernel_size: 3, stride: 2}"))["maxpool1"] == (1, 111, 111)
    assert shapes(pool.format("[1, 224, 224]", "{kernel_size: 3, stride: 2, ceil_mode: true}"))["maxpool1"] == (
        1,
        112,
        112,
    )
    got = shapes(pool.format("[1, 10, 10]", "{kernel_size: 3, stride: 2, padding: 1, dilation: 2, ceil_mode: true}"))
    assert got["maxpool1"] == (1, 5, 5)


def test_conv_dilation_and_groups():
    # Conv2d(4, 8, 3, dilation=2) on 10: 10 - 2*(3-1) - 1 + 1 = 6; params 8*(4/2)*9 + 8 with groups=2.
    got = rows("input: [4, 10, 10]\nlayers: [conv: {out_channels: 8, kernel_size: 3, dilation: 2, groups: 2}]")
    assert got["conv1"].output_shape == (8, 6, 6)
    assert got["conv1"].params == 8 * 2 * 9 + 8
    # MACs: 6*6 * 9 * (4/2) * 8.
    assert got["conv1"].macs == 36 * 9 * 2 * 8


def test_conv_transpose_doubles_with_output_padding():
    # pytorch-arithmetic.md: ConvTranspose2d(k3, s2, p1, output_padding 1) on 5x5 gives 10x10.
    got = rows(
        "input: [2, 5, 5]\n"
        "layers: [conv_transpose: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}]"
    )
    assert got["conv_transpose1"].output_shape == (4, 10, 10)
    # Weight [C_in, C_out/groups, 3, 3] + bias: 2*4*9 + 4.
    assert got["conv_transpose1"].params == 2 * 4 * 9 + 4


# --- input forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shape"),
    [
        ("[3, 32, 32]", (3, 32, 32)),
        ("{shape: [3, 32, 32]}", (3, 32, 32)),
        ("{values: [[1, 2, 3], [4, 5, 6]]}", (1, 2, 3)),  # a plain matrix is one channel
        ("{values: [1, 2, 3, 4]}", (1, 4)),  # a plain vector: one channel, 1-D
        ("{values: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}", (2, 2, 2)),  # deeper nesting as written
        ("{shape: [1, 2, 2], values: [[1, 2], [3, 4]]}", (1, 2, 2)),
    ],
)
def test_input_forms(written, shape):
    parsed = spec(f"input: {written}\nlayers: [relu]")
    assert parsed.input_shape == shape
    assert analyze(parsed).output_shape == shape


@pytest.mark.parametrize(
    ("written", "gist", "column"),
    [
        ("[3, 0, 32]", "1 to 4 positive integers", 8),
        ("[1, 2, 3, 4, 5]", "1 to 4 positive integers", 8),
        ("{values: [[1, 2], [3]]}", "rectangular", 17),
        ("{shape: [2, 2, 2], values: [[1, 2], [3, 4]]}", "holds 4 numbers", 35),
        ("{sizes: [3, 8, 8]}", "has no key `sizes`", 9),
    ],
)
def test_bad_inputs(written, gist, column):
    e = error(f"input: {written}\nlayers: [relu]")
    assert gist in e.message
    assert e.position == at(1, column)


# --- structure -----------------------------------------------------------------------------------------


def test_residual_shortcut_defaults_to_identity():
    got = rows(
        """
        input: [8, 6, 6]
        layers:
          - residual:
              body:
                - conv: {out_channels: 8, kernel_size: 3, padding: 1}
        """
    )
    res = got["residual1"]
    assert isinstance(res.layer, Residual) and res.layer.shortcut == []
    assert res.output_shape == (8, 6, 6)
    assert res.params == 8 * 8 * 9 + 8  # the sum of its leaves


def test_residual_mismatch_shows_both_shapes_and_a_valid_projection_hint():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - relu
          - residual:
              body:
                - conv: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
        """
    )
    # body: (8 + 2 - 3)//2 + 1 = 4; the identity shortcut keeps [3, 8, 8].
    assert "the body gives [4, 4, 4] but the shortcut gives [3, 8, 8]" in e.message
    assert e.position == at(4, 5)
    # The hint is YAML a user can paste: balanced brackets.
    hint = e.hint.split("`")[1]
    assert hint.count("{") == hint.count("}") and hint.count("[") == hint.count("]")


def test_concat_empty_branch_is_identity_densenet_style():
    got = rows(
        """
        input: [16, 8, 8]
        layers:
          - concat:
              branches:
                - []
                - [batchnorm, relu, conv: {out_channels: 12, kernel_size: 3, padding: 1}]
          - concat: {branches: [[], [conv: {out_channels: 12, kernel_size: 3, padding: 1}]]}
        """
    )
    assert isinstance(got["concat1"].layer, Concat)
    # DenseNet: channels grow by the growth rate 12 per layer: 16 -> 28 -> 40.
    assert got["concat1"].output_shape == (28, 8, 8)
    assert got["concat2"].output_shape == (40, 8, 8)


def test_concat_spatial_mismatch_shows_the_shapes():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - concat:
              branches:
                - []
                - [conv: {out_channels: 4, kernel_size: 3}]
        """
    )
    assert "branch 0: [3, 8, 8], branch 1: [4, 6, 6]" in e.message
    assert e.position == at(3, 5)


def test_repeat_copies_the_layers_each_with_its_own_weights():
    got = rows("input: [4, 5, 5]\nlayers: [repeat: {times: 3, layers: [conv: {out_channels: 4, kernel_size: 1}]}]")
    assert isinstance(got["repeat1"].layer, Repeat)
    assert [n for n in got if n.startswith("repeat1.")] == ["repeat1.0", "repeat1.1", "repeat1.2"]
    assert got["repeat1"].params == 3 * (4 * 4 + 4)


def test_repeat_times_must_not_be_negative():
    # Version 2 allows `times: 0` (it yields nothing); a negative count is still an error.
    e = error("input: [4, 5, 5]\nlayers:\n  - repeat: {times: -1, layers: [relu]}\n")
    assert "`times` must be a whole number" in e.message
    assert e.position == at(3, 21)


def test_structure_unknown_argument_suggests():
    e = error("input: [4, 5, 5]\nlayers:\n  - residual: {bdy: [relu]}\n")
    assert "`residual` has no argument `bdy`" in e.message and e.hint == "Did you mean `body`?"
    assert e.position == at(3, 16)


# --- blocks --------------------------------------------------------------------------------------------

BLOCKS = """
input: [3, 8, 8]
blocks:
  basic:
    args: {width: 4, stride: 1}
    layers:
      - conv: {out_channels: $width * 4, kernel_size: 3, stride: $stride, padding: 1}
  outer:
    args: {width: 2}
    layers:
      - basic: {width: $width}
      - basic
  plain:
    layers: [relu]
layers:
  - outer: {width: 3}
  - plain
  - basic: {stride: 2}
"""


def test_blocks_defaults_arithmetic_nesting_and_bare_use():
    got = rows(BLOCKS)
    assert isinstance(got["outer1"].layer, BlockCall) and got["outer1"].kind == "outer"
    # outer passes its width 3 to the first basic: 3*4 = 12 filters; the bare basic uses basic's own
    # default width 4 (not outer's 3): 16 filters. `$name` inside a block is that block's argument.
    assert got["outer1.basic1.conv1"].output_shape == (12, 8, 8)
    assert got["outer1.basic2.conv1"].output_shape == (16, 8, 8)
    assert got["plain1.relu1"].output_shape == (16, 8, 8)
    # basic with stride 2, default width 4: (8 + 2 - 3)//2 + 1 = 4.
    assert got["basic1.conv1"].output_shape == (16, 4, 4)
    assert got["outer1"].params == (3 * 9 * 12 + 12) + (12 * 9 * 16 + 16)


def test_block_argument_arithmetic_with_floor_division_and_parentheses():
    got = rows(
        """
        input: [6, 5]
        blocks:
          b:
            args: {k: 2}
            layers:
              - conv: {out_channels: $k * 4 + 1, kernel_size: ($k + 1) // 2}
        layers:
          - b: {k: 3}
        """
    )
    # out_channels 3*4 + 1 = 13; kernel (3 + 1)//2 = 2: 5 - 2 + 1 = 4.
    assert got["b1.conv1"].output_shape == (13, 4)


def test_unknown_block_argument_suggests():
    e = error(BLOCKS.replace("- basic: {stride: 2}", "- basic: {widht: 2}"))
    assert "block `basic` has no argument `widht`" in e.message and e.hint == "Did you mean `width`?"
    assert e.position == at(17, 13)


def test_block_argument_without_default_is_required():
    e = error(
        """
        input: [6, 5]
        blocks:
          b:
            args: [k]
            layers: [maxpool: {kernel_size: $k}]
        layers:
          - b
        """
    )
    assert "block `b` needs the argument k" in e.message
    assert e.position == at(7, 5)


def test_reference_to_an_unknown_argument_inside_a_block():
    e = error(
        """
        input: [6, 5]
        blocks:
          b:
            args: {k: 2}
            layers:
              - maxpool: {kernel_size: $j}
        layers:
          - b
        """
    )
    assert "`$j` is not an argument of block `b`" in e.message
    assert e.position == at(6, 32)


def test_reference_outside_a_block_is_an_error():
    e = error("input: [6, 5]\nlayers:\n  - maxpool: {kernel_size: $k}\n")
    assert "not inside a block definition" in e.message
    assert e.position == at(3, 28)


def test_a_block_that_uses_itself_directly_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        blocks:
          a:
            layers: [relu, a]
        layers:
          - a
        """
    )
    assert "block `a` uses itself (a -> a)" in e.message
    assert e.position == at(4, 20)


def test_a_block_that_uses_itself_through_another_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        blocks:
          a:
            layers: [b]
          b:
            layers:
              - relu
              - a
        layers:
          - a
        """
    )
    assert "block `a` uses itself (a -> b -> a)" in e.message
    assert e.position == at(8, 9)


def test_a_block_call_passed_as_an_argument_to_the_same_block_nests_without_recursion():
    # A U-Net level holds the level below it: the inner call is written at the use, not in the definition.
    spec = parse_spec(
        """
        input: [2, 8, 8]
        blocks:
          level:
            args: [inner]
            layers:
              - concat:
                  name: cat
                  branches: [[], [maxpool: {name: down, kernel_size: 2}, $inner, upsample: {scale_factor: 2}]]
        layers:
          - level: {name: top, inner: {level: {name: mid, inner: relu}}}
        """
    )
    analysis = analyze(spec)
    inner = ["top.cat.1.mid.cat.1.down", "top.cat.1.mid.cat.1.relu1", "top.cat.1.mid.cat.1.upsample1"]
    assert [row.name for row in analysis.leaves] == ["top.cat.1.down", *inner, "top.cat.1.upsample1"]
    assert analysis.output_shape == (2 + 2 + 2, 8, 8)  # top skip 2 + (mid skip 2 + relu 2) channels


def test_a_block_passing_itself_as_an_argument_inside_its_definition_is_an_error():
    e = error(
        """
        input: [3, 8, 8]
        blocks:
          a:
            layers: [b: {inner: {a: {}}}]
          b:
            args: [inner]
            layers: [$inner]
        layers:
          - a
        """
    )
    assert "block `a` uses itself (a -> a)" in e.message  # the inner `a` is written in a's own definition


def test_a_block_may_not_take_a_layer_kind_name():
    e = error("input: [3, 8, 8]\nblocks:\n  conv:\n    layers: [relu]\nlayers: [conv]\n")
    assert "already a layer kind" in e.message
    assert e.position == at(3, 3)


# --- YAML merge keys, floats, expect -------------------------------------------------------------------


def test_yaml_merge_keys_share_layer_arguments():
    got = rows(
        """
        input: [3, 8, 8]
        layers:
          - conv: &c3 {out_channels: 8, kernel_size: 3, padding: 1}
          - conv: {<<: *c3, out_channels: 4}
        """
    )
    # The second conv merges the first's arguments and overrides out_channels: 8 -> 4 channels.
    assert got["conv1"].params == 3 * 9 * 8 + 8
    assert got["conv2"].params == 8 * 9 * 4 + 4
    assert got["conv2"].output_shape == (4, 8, 8)


def test_expect_is_parsed_with_scientific_floats():
    parsed = spec(
        """
        input: [3, 227, 227]
        layers:
          - conv: {name: conv1, out_channels: 96, kernel_size: 11, stride: 4}
        expect:
          output_shape: [96, 55, 55]
          params: 34944
          max_macs: 5e9
          layers:
            conv1: {output_shape: [96, 55, 55], params: 34944, macs: 105415200}
        """
    )
    assert parsed.expect.max_macs == 5e9 and isinstance(parsed.expect.max_macs, float)
    assert parsed.expect.output_shape == [96, 55, 55] and parsed.expect.params == 34944
    assert parsed.expect.layers["conv1"].macs == 105415200
    assert parsed.expect_raw.key_pos["params"] == at(6, 3)


def test_expect_unknown_key_suggests():
    e = error("input: [3]\nlayers: [relu]\nexpect:\n  param: 3\n")
    assert "no argument `param`" in e.message and e.hint == "Did you mean `params`?"
    assert e.position == at(4, 3)


# --- the file as a whole -------------------------------------------------------------------------------


def test_unknown_top_level_key_suggests():
    e = error("input: [3]\nlayer: [relu]\n")
    assert "unknown top-level key `layer`" in e.message and e.hint == "Did you mean `layers`?"
    assert e.position == at(2, 1)


def test_missing_input_and_empty_layers_are_errors():
    e = error("layers: [relu]\n")
    assert "no `input:`" in e.message and e.position == at(1, 1)
    e = error("input: [3]\nlayers: []\n")
    assert "`layers` must be a non-empty list" in e.message and e.position == at(2, 9)


def test_name_defaults_to_the_file_stem_and_can_be_given():
    assert parse_spec("input: [3]\nlayers: [relu]\n", "t.yaml", default_name="tiny").name == "tiny"
    assert spec("name: My net\ninput: [3]\nlayers: [relu]\n").name == "My net"


def test_arguments_not_indented_under_their_kind_get_a_hint_that_says_so():
    # `- conv:` followed by its arguments at the same indentation makes them siblings of `conv`.
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv:
            out_channels: 4
            kernel_size: 3
        """
    )
    assert "exactly one key" in e.message and "conv, out_channels, kernel_size" in e.message
    assert "Indent `out_channels`, `kernel_size` under `conv:`" in e.hint
    assert e.position == at(3, 5)


def test_an_error_inside_a_block_says_which_use_of_the_block_caused_it():
    e = error(
        """
        input: [3, 8, 8]
        blocks:
          basic:
            args: {width: 4}
            layers:
              - conv: {out_channels: $width * 4, kernel_size: 3}
        layers:
          - basic: {width: 2}
          - basic: {width: -1}
        """
    )
    # The position is the block's line (where `$width * 4` is); the message names the use (line 9).
    assert "`out_channels`" in e.message and "got -4" in e.message
    assert "in `basic2`, the use of block `basic` at line 9" in e.message
    assert e.position == at(6, 30)


def test_auto_names_of_kinds_ending_in_a_digit_are_separated():
    # `relu61` would read as the 61st relu; a kind that ends in a digit gets `_` before its counter.
    assert list(rows("input: [3, 4, 4]\nlayers: [relu6, relu6, relu]\n")) == ["relu6_1", "relu6_2", "relu1"]


def test_a_ragged_target_is_refused_at_its_position():
    # Found by probing `validate`/`run --backward` with a mutated seed 004 spec: NumPy cannot read it as an array.
    text = (SPECS / "seed_004_strided_conv_gradient.yaml").read_text(encoding="utf-8")
    assert "target: [[2, 0], [4, 4]]" in text
    with pytest.raises(SpecError) as raised:
        parse_spec(text.replace("target: [[2, 0], [4, 4]]", "target: [[2, [0]], [4, 4]]"), "ragged.yaml")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("target:"))
    assert str(raised.value.position) == f"ragged.yaml:{line}:9"
    assert "rectangular nested lists of numbers" in raised.value.render()

"""`linear` and `flatten`: the slide's counts, and the flatten hint."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError, Position


def test_fully_connected_10_to_10_has_110_weights():
    # Seed 002: "How many weights (including biases) for fully connected layer with 10 inputs & 10 outputs? 110".
    row = analyze(parse_spec("input: [10]\nlayers: [linear: {out_features: 10}]")).rows[0]
    assert row.params == 10 * 11 == 110
    assert row.macs == 100


def test_alexnet_fc6_after_flatten():
    # Seed 001: [6x6x256] POOL3 then FC6 with 4096 neurons: 9216*4096 + 4096.
    fc6 = analyze(parse_spec("input: [256, 6, 6]\nlayers: [flatten, fc: {units: 4096}]")).rows[1]
    assert fc6.input_shape == (9216,) and fc6.kind == "linear"
    assert fc6.params == 9216 * 4096 + 4096 == 37752832


def test_linear_on_a_volume_suggests_flatten():
    with pytest.raises(LayerError) as info:
        analyze(parse_spec("input: [256, 6, 6]\nlayers:\n  - relu\n  - dense: {units: 10}\n", "t.yaml"))
    assert "needs a flat input [F], but gets the volume [256, 6, 6]" in info.value.message
    assert info.value.hint == "Add `- flatten` before it (giving [9216])."
    assert info.value.position == Position("t.yaml", 4, 5)


def test_linear_weights_given_as_numbers_are_checked():
    text = "input: [3]\nlayers: [linear: {out_features: 2, weights: [[1, 2, 3], [4, 5, 6]]}]"
    row = analyze(parse_spec(text)).rows[0]
    assert row.params == 3 * 2 + 2  # torch.nn.Linear(3, 2): weight [2, 3] + bias [2]
    with pytest.raises(LayerError) as info:
        analyze(parse_spec("input: [3]\nlayers:\n  - linear: {out_features: 2, weights: [[1, 2], [4, 5]]}\n", "t.yaml"))
    assert "`weights` has shape [2, 2], but this layer needs [2, 3]" in info.value.message
    assert info.value.position == Position("t.yaml", 3, 40)


def test_linear_bias_values_without_a_bias_is_an_error_as_for_conv():
    # torch.nn.Linear(3, 2, bias=False) has 6 parameters and no bias to fill.
    with pytest.raises(LayerError) as info:
        text = "input: [3]\nlayers:\n  - linear: {out_features: 2, bias: false, bias_values: [0, 1]}\n"
        analyze(parse_spec(text, "t.yaml"))
    assert "`bias_values` given but bias is false" in info.value.message
    assert info.value.position == Position("t.yaml", 3, 57)

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

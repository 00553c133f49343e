"""pad, channel_shuffle, pixel_shuffle / pixel_unshuffle: shapes as PyTorch's modules give them."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.engine.receptive_field import receptive_fields
from cnncalc.errors import CnncalcError


def analysis(text: str):
    return analyze(parse_spec(text, "t.yaml"))


def test_keras_zero_padding_then_valid_conv():
    # Keras ResNet50's stem: ZeroPadding2D(3) on 224x224 gives 230x230, then Conv2D(64, 7, strides=2) 112x112.
    got = analysis("input: [3, 224, 224]\nlayers: [pad: {padding: 3}, conv: {filters: 64, kernel: 7, stride: 2}]")
    assert [r.output_shape for r in got.rows] == [(3, 230, 230), (64, 112, 112)]
    # The receptive field is unchanged by where the padding is written: 7, starting 3 cells before the image.
    field = receptive_fields(got).by_name["conv1"]
    assert (field.size, field.start) == ((7, 7), (-3, -3))


def test_pad_per_side_and_modes():
    # ZeroPadding2D(((0, 1), (0, 1))) on 224 gives 225 (Keras MobileNet's stem).
    got = analysis("input: [3, 224, 224]\nlayers: [pad: {padding: [[0, 1], [0, 1]]}, pad: {padding: 2, mode: reflect}]")
    assert [r.output_shape for r in got.rows] == [(3, 225, 225), (3, 229, 229)]
    assert got.rows[0].explain()[0] == "H = 224 + 0 + 1 = 225"


@pytest.mark.parametrize(
    ("layer", "gist"),
    [
        # F.pad reflect: "Padding size should be less than the corresponding input dimension".
        ("pad: {padding: 4, mode: reflect}", "must be smaller than the input size 4"),
        ("pad: {padding: 5, mode: circular}", "must not exceed the input size 4"),
        ("channel_shuffle: {groups: 3}", "does not divide the 8 channels"),
        ("pixel_shuffle: {upscale_factor: 3}", "not a multiple of upscale_factor^2 = 9"),
        ("pixel_unshuffle: {downscale_factor: 3}", "does not divide the input's 4x4"),
    ],
)
def test_refusals(layer, gist):
    with pytest.raises(CnncalcError) as info:
        analysis(f"input: [8, 4, 4]\nlayers:\n  - {layer}\n")
    assert gist in info.value.message


def test_pixel_shuffle_shapes():
    # nn.PixelShuffle(3) on [1, 9, 4, 4] gives [1, 1, 12, 12];
    # nn.PixelUnshuffle(2) on [1, 1, 12, 12] gives [1, 4, 6, 6].
    got = analysis(
        "input: [9, 4, 4]\nlayers: [pixel_shuffle: {upscale_factor: 3}, pixel_unshuffle: {downscale_factor: 2}]"
    )
    assert [r.output_shape for r in got.rows] == [(1, 12, 12), (4, 6, 6)]
    assert analysis("input: [6, 3, 3]\nlayers: [channel_shuffle: {groups: 2}]").rows[0].output_shape == (6, 3, 3)


def test_pixel_shuffle_is_two_d_only():
    with pytest.raises(CnncalcError) as info:  # torch's pixel_shuffle takes (*, C*r^2, H, W) only
        analysis("input: [4, 6]\nlayers: [pixel_shuffle: {upscale_factor: 2}]")
    assert "needs a 2-D volume" in info.value.message

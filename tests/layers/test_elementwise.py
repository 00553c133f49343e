"""Shape-keeping kinds, upsample and softmax: what PyTorch 2.13 accepts and refuses."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError, Position


def rows(text: str):
    return analyze(parse_spec(text, "t.yaml")).rows


def test_activations_dropout_and_batchnorm_keep_the_shape():
    got = rows(
        "input: [3, 4]\nlayers: [relu, relu6, leaky_relu: {negative_slope: 0.2}, sigmoid, tanh, gelu, silu, identity,"
        " softmax, dropout: {p: 0.3}, batchnorm, lrn]"
    )
    assert {row.output_shape for row in got} == {(3, 4)}
    # BatchNorm1d(3): weight and bias, 2*3 parameters; the rest have none.
    assert [row.params for row in got] == [0] * 10 + [6, 0]


def test_upsample_is_floor_of_size_times_scale():
    got = rows("input: [3, 5, 7]\nlayers: [upsample: {scale_factor: 2}, upsample: {scale_factor: [0.5, 1.5]}]")
    # torch.nn.Upsample(scale_factor=(0.5, 1.5)) on 10x14 gives 5x21 (floor(10*0.5), floor(14*1.5)).
    assert [row.output_shape for row in got] == [(3, 10, 14), (3, 5, 21)]


@pytest.mark.parametrize(
    ("layer", "gist"),
    [
        # torch: LocalResponseNorm "Expected 3D or higher dimensionality input (got 2 dimensions)" for [N, C].
        ("lrn", "needs a channels-first volume"),
        # torch: Upsample "Only 3D, 4D and 5D input Tensors supported (got 2D)".
        ("upsample: {scale_factor: 2}", "needs a channels-first volume"),
    ],
)
def test_kinds_that_need_a_volume_refuse_a_flat_vector(layer, gist):
    with pytest.raises(LayerError) as info:
        rows(f"input: [16]\nlayers:\n  - relu\n  - {layer}\n")
    assert gist in info.value.message and "flatten" in info.value.hint
    assert info.value.position == Position("t.yaml", 4, 5)


def test_softmax_dim_out_of_range_points_at_dim():
    with pytest.raises(LayerError) as info:
        rows("input: [10]\nlayers:\n  - softmax: {dim: 1}\n")
    assert "dim 1 is out of range for the input [10]" in info.value.message
    assert info.value.position == Position("t.yaml", 3, 20)


def test_upsample_to_a_size_or_like_a_layer():
    got = rows(
        "input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 21, kernel_size: 3, stride: 8}\n"
        "  - upsample: {size: [10, 12], mode: bilinear}\n  - upsample: {like: input, mode: bilinear}\n"
        "  - upsample: {scale_factor: 0.5, mode: bicubic, align_corners: true}\n"
    )
    # FCN's F.interpolate(x, size=input.shape[-2:]): the channels stay, the size is the input's.
    assert [r.output_shape for r in got[1:]] == [(21, 10, 12), (21, 32, 32), (21, 16, 16)]
    assert got[2].inputs == ["upsample1", "input"]
    assert "the spatial size of `input`" in got[2].explain()[0]


@pytest.mark.parametrize(
    ("layer", "gist"),
    [
        ("upsample: {scale_factor: 2, size: 4}", "exactly one of scale_factor, size and like"),
        ("upsample: {mode: bilinear}", "exactly one of scale_factor, size and like"),
        # F.interpolate: "align_corners option can only be set with the interpolating modes".
        ("upsample: {scale_factor: 2, align_corners: true}", "only for the interpolating modes"),
        # F.interpolate refuses bilinear on a 3-D [N, C, L] input ("Got 3D input, but bilinear mode needs 4D input").
        ("upsample: {scale_factor: 2, mode: bilinear}", "mode bilinear works on 2-D volumes"),
        ("upsample: {like: nothing}", "no earlier layer is named `nothing`"),
    ],
)
def test_upsample_refusals(layer, gist):
    from cnncalc.errors import CnncalcError

    with pytest.raises(CnncalcError) as info:
        rows(f"input: [3, 8]\nlayers:\n  - {layer}\n")
    assert gist in info.value.message

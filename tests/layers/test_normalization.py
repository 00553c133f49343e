"""Normalisations and per-channel factors: params and buffers as their PyTorch / Keras twins count them."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import CnncalcError


def row(layer: str, shape: str = "[64, 8, 8]"):
    return analyze(parse_spec(f"input: {shape}\nlayers:\n  - {layer}\n", "t.yaml")).rows[0]


@pytest.mark.parametrize(
    ("layer", "shape", "params", "buffers"),
    [
        # nn.BatchNorm2d(64): weight + bias = 128 params; running_mean + running_var = 128 buffers.
        ("batchnorm", "[64, 8, 8]", 128, 128),
        # nn.BatchNorm2d(64, affine=False): no params, the statistics stay.
        ("batchnorm: {affine: false}", "[64, 8, 8]", 0, 128),
        # torchvision.ops.FrozenBatchNorm2d(64) registers weight, bias, running_mean, running_var as buffers.
        ("batchnorm: {frozen: true}", "[64, 8, 8]", 0, 256),
        # Keras InceptionV3's BatchNormalization(scale=False) on 32 channels: the published summary shows 96
        # (beta 32 trainable + moving mean/var 64 non-trainable).
        ("batchnorm: {scale: false}", "[32, 149, 149]", 32, 64),
        ("batchnorm: {center: false, scale: false}", "[32, 4, 4]", 0, 64),
        # torchvision ConvNeXt-T: LayerNorm2d(96) after the stem has 192 parameters.
        ("layernorm", "[96, 56, 56]", 192, 0),
        ("layernorm: {elementwise_affine: false}", "[96, 56, 56]", 0, 0),
        # nn.LayerNorm(768) on a flat vector (ConvNeXt-T's head): 1,536.
        ("layernorm", "[768]", 1536, 0),
        # nn.GroupNorm(32, 256): weight and bias of 256 each.
        ("groupnorm: {num_groups: 32}", "[256, 7, 7]", 512, 0),
        # nn.InstanceNorm2d(64): affine=False, track_running_stats=False by default: nothing.
        ("instancenorm", "[64, 8, 8]", 0, 0),
        ("instancenorm: {affine: true, track_running_stats: true}", "[64, 8, 8]", 128, 128),
        # ConvNeXt's layer scale: one gamma per channel (torchvision CNBlock.layer_scale [96, 1, 1]).
        ("layer_scale", "[96, 56, 56]", 96, 0),
        ("affine", "[10, 3, 3]", 20, 0),
        ("affine: {bias: false}", "[10, 3, 3]", 10, 0),
    ],
)
def test_params_and_buffers(layer, shape, params, buffers):
    got = row(layer, shape)
    assert (got.params, got.buffers, got.output_shape) == (
        params,
        buffers,
        tuple(int(n) for n in shape[1:-1].split(",")),
    )


def test_frozen_params_are_not_trainable_ones_either():
    got = row("batchnorm: {frozen: true}")
    assert got.trainable_params == 0 and "frozen" in got.explain()[0]


@pytest.mark.parametrize(
    ("layer", "shape", "gist"),
    [
        ("groupnorm: {num_groups: 3}", "[64, 4, 4]", "does not divide the 64 channels"),  # nn.GroupNorm refuses too
        ("instancenorm", "[64]", "needs a channels-first volume"),
        ("affine: {scale: false, bias: false}", "[4, 2, 2]", "does nothing"),
    ],
)
def test_refusals(layer, shape, gist):
    with pytest.raises(CnncalcError) as info:
        row(layer, shape)
    assert gist in info.value.message

"""The shipped zoo: every spec loads and is described; the architectures equal PyTorch's figures.

Runs without torch: PyTorch's per-layer figures are stored in tests/reference/*.json by
benchmarks/torch_reference.py (PyTorch 2.13.0, tests/torch_oracle.py); tests/test_torch_oracle.py
checks the same specs live when torch is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc import analyze, load_spec
from tests.conftest import ROOT, SPECS

REFERENCE = ROOT / "tests" / "reference"
ALL_SPECS = sorted(SPECS.glob("*.yaml"))
ARCHITECTURES = [p for p in ALL_SPECS if not p.stem.startswith("seed_")]  # seed_* are lecture examples

# Published totals. Params: torchvision's weights metadata `num_params` (the "Params" column of
# https://pytorch.org/vision/stable/models.html). Compute: its `_ops` field, the "GFLOPS" column,
# which counts one multiply-add as one, i.e. our MACs, rounded as published. The exact MACs of
# AlexNet, VGG-16 and ResNet-18/50 are the ones cited in shared/pytorch-arithmetic.md (fvcore/ptflops
# agree); at 224x224 except R3D-18 (16x112x112 clip).
TORCHVISION = {
    "alexnet": (61_100_840, "0.714", 714_188_480),
    "vgg16": (138_357_544, "15.47", 15_470_264_320),
    "resnet18": (11_689_512, "1.814", 1_814_073_344),
    "resnet50": (25_557_032, "4.089", 4_089_184_256),
    "googlenet": (6_624_904, "1.498", None),  # without the aux heads, as torchvision evaluates it
    "densenet121": (7_978_856, "2.834", None),
    "mobilenet_v2": (3_504_872, "0.301", None),
    "resnext50_32x4d": (25_028_904, "4.23", None),
    "r3d_18": (33_371_472, "40.697", None),  # torchvision.models.video, R3D_18_Weights
    # Version 2 (issue 10): the weights' meta `num_params` and `_ops`; exact MACs: FlopCounterMode / 2
    # on torchvision 0.29's own models (torchvision.models.efficientnet_b0() etc.), which equal the specs'.
    "efficientnet_b0": (5_288_548, "0.386", 385_814_752),
    "mobilenet_v3_large": (5_483_032, "0.217", 216_589_760),
    "convnext_tiny": (28_589_128, "4.456", 4_455_531_264),
    "shufflenet_v2_x1_0": (2_278_604, "0.145", 144_907_992),
    # Without the aux head, as torchvision evaluates it; the published 27,161,264 counts it (below).
    "inception_v3": (23_834_568, "5.713", 5_713_216_096),
}


def test_published_figures_of_the_v2_zoo():
    # Inception-v3's published 27,161,264 includes InceptionAux: conv0 768*128 + BN 256, conv1 128*768*5*5
    # + BN 1,536, fc 768*1000 + 1,000 = 3,326,696 params more than the spec, which leaves it out.
    assert _analysis("inception_v3").params + 98_560 + 2_459_136 + 769_000 == 27_161_264
    # torchvision fcn_resnet50(num_classes=21, aux_loss=False): sum(p.numel()) = 32,957,013 (the table's
    # 35,322,218 counts the aux FCNHead); the map is resized to the input.
    fcn = _analysis("fcn_resnet50")
    assert (fcn.params, fcn.output_shape) == (32_957_013, (21, 224, 224))
    # resnet_fpn_backbone("resnet50", weights=None): 26,799,296 params, 26,576,896 with requires_grad
    # (trainable_layers=3 freezes conv1 and layer1), FrozenBatchNorm2d's 106,240 buffers, five 256-channel levels.
    fpn = _analysis("resnet50_fpn")
    assert (fpn.params, fpn.trainable_params, fpn.buffers) == (26_799_296, 26_576_896, 106_240)
    assert [shape for _, shape in fpn.outputs] == [
        (256, 56, 56),
        (256, 28, 28),
        (256, 14, 14),
        (256, 7, 7),
        (256, 4, 4),
    ]
    # Keras applications model.summary(): ResNet50 Total params 25,636,712 (Non-trainable 53,120),
    # MobileNet 4,253,864 (Non-trainable 21,888): Keras counts BatchNormalization's moving statistics.
    for stem, total, moving in (("keras_resnet50", 25_636_712, 53_120), ("keras_mobilenet", 4_253_864, 21_888)):
        keras = _analysis(stem)
        assert (keras.params + keras.buffers, keras.buffers) == (total, moving)


def test_keras_mobilenet_receptive_field_is_the_published_one():
    # Araujo, Norris & Sim, "Computing Receptive Fields of CNNs" (Distill 2019), Table 1, mobilenet_v1
    # (alpha 1.0, TF-slim's SAME padding): r = 315, effective stride 32, effective padding 126.
    from cnncalc.engine.receptive_field import receptive_fields

    field = receptive_fields(_analysis("keras_mobilenet")).by_name["block13"]
    assert (field.size, field.jump, field.start) == ((315, 315), (32, 32), (-126, -126))


def test_short_specs_stay_short():
    # The contract: EfficientNet-B0 or an FPN backbone in under 80 lines.
    for stem in ("efficientnet_b0", "resnet50_fpn", "mobilenet_v3_large", "convnext_tiny", "shufflenet_v2_x1_0"):
        assert len((SPECS / f"{stem}.yaml").read_text().splitlines()) < 80, stem


def _analysis(stem: str):
    return analyze(load_spec(SPECS / f"{stem}.yaml"))


def test_the_zoo_has_the_required_families():
    names = {p.stem for p in ARCHITECTURES}
    assert set(TORCHVISION) | {"lenet5", "m5", "dcgan_generator", "unet"} <= names


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_every_spec_loads_and_has_a_one_line_description(path: Path):
    spec = load_spec(path)
    assert spec.description.strip(), f"{path.name} has no description"
    assert "\n" not in spec.description.strip(), f"{path.name}: the description should be one line"
    analyze(spec)  # and propagates without an error


@pytest.mark.parametrize("stem", TORCHVISION)
def test_published_torchvision_totals(stem: str):
    params, gmacs, exact_macs = TORCHVISION[stem]
    analysis = _analysis(stem)
    assert analysis.params == params
    decimals = len(gmacs.split(".")[1])
    assert f"{analysis.macs / 1e9:.{decimals}f}" == gmacs
    if exact_macs is not None:
        assert analysis.macs == exact_macs
    assert analysis.flops == 2 * analysis.macs  # torch.utils.flop_counter's FLOPs


def test_published_figures_of_the_other_families():
    # LeNet-5 paper (LeCun et al. 1998, section II.B): C1 156 trainable parameters, C5 48,120
    # connections (= its parameters), F6 10,164 parameters.
    lenet = _analysis("lenet5")
    assert [lenet.row(n).params for n in ("C1", "C5", "F6")] == [156, 48120, 10164]
    # PyTorch's torchaudio speech-command tutorial prints "Number of parameters: 26915" for M5.
    assert _analysis("m5").params == 26915
    # PyTorch DCGAN tutorial: the generator turns a 100x1x1 latent into a 3x64x64 image.
    assert _analysis("dcgan_generator").output_shape == (3, 64, 64)
    # milesial/Pytorch-UNet UNet(n_channels=3, n_classes=2, bilinear=False), unet/unet_parts.py at
    # commit abe3e089 (convs with bias), built in PyTorch 2.13.0: sum of numel() = 31,043,586, and
    # FlopCounterMode on a 1x3x256x256 input / 2 = 48,171,581,440 MACs; same-size 2-class map out.
    unet = _analysis("unet")
    assert (unet.params, unet.macs, unet.output_shape) == (31_043_586, 48_171_581_440, (2, 256, 256))


def _reference(stem: str) -> dict:
    path = REFERENCE / f"{stem}.json"
    assert path.exists(), f"no {path.relative_to(ROOT)}; run `python benchmarks/torch_reference.py` with torch"
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", ARCHITECTURES, ids=lambda p: p.stem)
def test_every_layer_equals_pytorch_reference(path: Path):
    reference = _reference(path.stem)
    assert reference["generated_by"].startswith("PyTorch ")
    analysis = analyze(load_spec(path))
    engine = {
        row.name: {"output_shape": list(row.output_shape), "params": row.params, "macs": row.macs}
        for row in analysis.leaves  # `add: {from: [...]}` too: the twin runs it as a module of its own
    }
    assert list(engine) == list(reference["layers"]), "the leaf layers differ from the reference's"
    wrong = {n: (engine[n], reference["layers"][n]) for n in engine if engine[n] != reference["layers"][n]}
    assert not wrong, f"cnncalc vs PyTorch: {wrong}"
    assert list(analysis.output_shape) == reference["output_shape"]
    assert reference["totals"] == {"params": analysis.params, "macs": analysis.macs}


@pytest.mark.parametrize("path", [p for p in ALL_SPECS if load_spec(p).expect], ids=lambda p: p.stem)
def test_every_expect_block_holds(path: Path):
    spec = load_spec(path)
    analysis = analyze(spec)
    expect = spec.expect
    totals = {
        "output_shape": analysis.output_shape,
        "params": analysis.params,
        "macs": analysis.macs,
        "flops": analysis.flops,
    }
    for key, actual in totals.items():
        wanted = getattr(expect, key)
        if wanted is not None:
            assert actual == (tuple(wanted) if key == "output_shape" else wanted), f"{key}"
    for key, actual in (("max_params", analysis.params), ("max_macs", analysis.macs), ("max_flops", analysis.flops)):
        limit = getattr(expect, key)
        assert limit is None or actual <= limit, key
    for name, figures in expect.layers.items():
        row = analysis.row(name)
        assert row is not None, f"expect names a layer `{name}` the spec does not have"
        for key in ("output_shape", "params", "macs", "flops"):
            wanted = getattr(figures, key)
            if wanted is not None:
                actual = getattr(row, key)
                assert actual == (tuple(wanted) if key == "output_shape" else wanted), f"{name}.{key}"

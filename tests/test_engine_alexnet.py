"""The lecture's simplified AlexNet (seed 001, "Full (simplified) AlexNet architecture")."""

from cnncalc import analyze, load_spec
from tests.conftest import SPECS


def test_lecture_alexnet_volumes_match_the_slides():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    shapes = {row.name: row.output_shape for row in analysis.rows}
    # Slide: [55x55x96] CONV1, [27x27x96] POOL1, [27x27x256] CONV2, [13x13x256] POOL2,
    # [13x13x384] CONV3/4, [13x13x256] CONV5, [6x6x256] POOL3, FC 4096/4096/1000.
    assert shapes["conv1"] == (96, 55, 55)
    assert shapes["pool1"] == (96, 27, 27)
    assert shapes["norm1"] == (96, 27, 27)
    assert shapes["conv2"] == (256, 27, 27)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == (384, 13, 13)
    assert shapes["conv4"] == (384, 13, 13)
    assert shapes["conv5"] == (256, 13, 13)
    assert shapes["pool3"] == (256, 6, 6)
    assert [shapes[f] for f in ("fc6", "fc7", "fc8")] == [(4096,), (4096,), (1000,)]


def test_lecture_alexnet_conv1_params_and_pool_params():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    # Slide: "(11x11x3) x 96 = 35K" weights; PyTorch adds 96 biases: 34,944.
    assert analysis.row("conv1").params == 11 * 11 * 3 * 96 + 96 == 34944
    # Slide: "Parameters: 0!" for POOL1.
    assert analysis.row("pool1").params == 0
    # Slide's FLOPs H2*W2*F^2*D1*D2 is our MACs: 55*55*11*11*3*96.
    assert analysis.row("conv1").macs == 55 * 55 * 11 * 11 * 3 * 96

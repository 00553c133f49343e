"""Each classic mistake is recognised from the wrong number it produces (and only that one).

Right values come from the CS231n slides (seed 001): AlexNet CONV1 [55x55x96] from
(227-11)/4+1, (11*11*3)*96 weights + 96 biases, FLOPs formula H2*W2*F^2*D1*D2 (= MACs here);
POOL1 27x27x96; and from torchvision's ResNet stem (conv 7x7/2 pad 3 -> 112, maxpool 3/2 pad 1 -> 56).
"""

from __future__ import annotations

import pytest

from cnncalc.checking import check_expect
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec, parse_spec
from cnncalc.spec.model import Expect
from tests.conftest import SPECS

RESNET_STEM = """
input: [3, 224, 224]
layers:
  - conv: {name: conv1, out_channels: 64, kernel_size: 7, stride: 2, padding: 3, bias: false}
  - maxpool: {name: pool, kernel_size: 3, stride: 2, padding: 1}
"""


@pytest.fixture(scope="module")
def alexnet():
    return analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))


@pytest.fixture(scope="module")
def stem():
    return analyze(parse_spec(RESNET_STEM))


def judge(analysis, answers: dict):
    result = check_expect(analysis, Expect.model_validate(answers))
    (answer,) = result.answers
    return answer


CONV1_MACS = 55 * 55 * 11 * 11 * 3 * 96  # slides: H2*W2*F^2*D1*D2 = 105,415,200
CASES = [
    # (quantity answered, given answer, mistake expected)
    ({"layers": {"conv1": {"output_shape": [55, 55, 96]}}}, "hwc-order"),
    ({"layers": {"conv1": {"output_shape": [55, 55]}}}, "channels-missing"),
    ({"layers": {"conv1": {"output_shape": [96, 54, 54]}}}, "plus-one-forgotten"),  # (227-11)/4 without +1
    ({"layers": {"pool1": {"output_shape": [96, 55, 55]}}}, "input-shape-given"),
    ({"layers": {"conv2": {"output_shape": [256, 23, 23]}}}, "padding-forgotten"),  # (27-5)/1+1, P=2 dropped
    ({"layers": {"conv2": {"macs": 23 * 23 * 5 * 5 * 96 * 256}}}, "padding-forgotten"),
    ({"layers": {"conv1": {"params": (11 * 11 * 3) * 96}}}, "bias-forgotten"),  # the slides' 35K
    ({"layers": {"fc6": {"params": 9216 * 4096}}}, "bias-forgotten"),  # fc6's weights, 4096 biases left out
    ({"params": 62378344 - (96 + 256 + 384 + 384 + 256 + 4096 + 4096 + 1000)}, "bias-forgotten"),
    ({"layers": {"conv1": {"params": 11 * 11 * 96 + 96}}}, "input-channels-forgotten"),
    ({"layers": {"conv1": {"macs": 2 * CONV1_MACS}}}, "flops-for-macs"),
    ({"layers": {"conv1": {"flops": CONV1_MACS}}}, "macs-for-flops"),
    ({"flops": 1135256096}, "macs-for-flops"),  # the network's MACs given as FLOPs
    ({"layers": {"conv1": {"macs": 227 * 227 * 11 * 11 * 3 * 96}}}, "macs-on-input-size"),
    ({"params": 9216 * 4096 + 4096}, "single-layer-for-total"),  # fc6 alone
    ({"layers": {"conv2": {"params": 34944 + 614656}}}, "running-total"),  # conv1 + conv2
]


@pytest.mark.parametrize(("answers", "mistake"), CASES, ids=[f"{m}-{i}" for i, (_, m) in enumerate(CASES)])
def test_alexnet_mistake_is_recognised(alexnet, answers, mistake):
    answer = judge(alexnet, answers)
    assert not answer.correct
    assert answer.mistake == mistake
    assert answer.hint


def test_total_params_is_the_sum_of_the_published_layers(alexnet):
    # 62,378,344: the sum of the slides' layers with biases (conv1 34,944 ... fc8 4,097,000).
    assert judge(alexnet, {"params": 62378344}).correct


@pytest.mark.parametrize(
    ("answers", "mistake"),
    [
        # (224 + 6 - 7)/2 = 111.5: ceil gives 113, PyTorch (floor) 112.
        ({"layers": {"conv1": {"output_shape": [64, 113, 113]}}}, "rounded-up"),
        # (112 + 2 - 3)/2 = 55.5: ceil gives 57, PyTorch 56.
        ({"layers": {"pool": {"output_shape": [64, 57, 57]}}}, "rounded-up"),
        # 112*112*7*7*3*64 MACs, computed with 113*113 output positions.
        ({"layers": {"conv1": {"macs": 113 * 113 * 7 * 7 * 3 * 64}}}, "rounded-up"),
    ],
)
def test_resnet_stem_rounding_is_recognised(stem, answers, mistake):
    answer = judge(stem, answers)
    assert answer.mistake == mistake
    assert "floor" in answer.hint


def test_a_wrong_answer_without_a_known_mistake_has_no_hint(alexnet):
    answer = judge(alexnet, {"layers": {"conv1": {"params": 12345}}})
    assert not answer.correct and answer.hint is None and answer.mistake is None
    assert answer.formula == ["params = (11*11*3)*96 + 96 = 34,944"]


def test_formula_lines_match_the_quantity(alexnet):
    shape = judge(alexnet, {"layers": {"conv1": {"output_shape": [1, 1, 1]}}})
    assert shape.formula[0] == "H = floor((227 - 11 + 2*0) / 4) + 1 = 55"
    assert all(not line.startswith(("params", "macs")) for line in shape.formula)
    flops = judge(alexnet, {"layers": {"conv1": {"flops": 1}}})
    assert flops.formula[-1] == "flops = 2 * macs = 2 * 105,415,200 = 210,830,400"


def test_bounds_are_upper_limits(alexnet):
    assert judge(alexnet, {"max_params": 62378344}).correct
    over = judge(alexnet, {"max_params": 6.0e7})
    assert not over.correct and over.formula == ["params = 62,378,344 > max_params 60,000,000"]


def test_structure_rows_can_be_asked():
    spec = parse_spec("""
input: [64, 56, 56]
layers:
  - residual:
      name: block
      body:
        - conv: {out_channels: 64, kernel_size: 3, padding: 1, bias: false}
        - relu
        - conv: {out_channels: 64, kernel_size: 3, padding: 1, bias: false}
""")
    # ResNet-18 basic block: 2 * (3*3*64)*64 = 73,728 params (torchvision layer1.0).
    analysis = analyze(spec)
    assert judge(analysis, {"layers": {"block": {"params": 73728}}}).correct
    assert judge(analysis, {"layers": {"block": {"output_shape": [64, 56, 56]}}}).correct
    wrong = judge(analysis, {"layers": {"block": {"params": 36864}}})  # one conv of the two
    assert not wrong.correct
    assert wrong.formula == ["params = 36,864 (block.conv1) + 36,864 (block.conv2) = 73,728"]


@pytest.mark.parametrize(
    ("answers", "mistake"),
    [
        # stride 2 ignored: (224 + 6 - 7)/1 + 1 = 224.
        ({"layers": {"conv1": {"output_shape": [64, 224, 224]}}}, "stride-forgotten"),
        ({"layers": {"pool": {"output_shape": [64, 112, 112]}}}, "stride-forgotten"),  # (112 + 2 - 3)/1 + 1
    ],
)
def test_resnet_stem_stride_is_recognised(stem, answers, mistake):
    assert judge(stem, answers).mistake == mistake


def test_dilation_forgotten():
    # dilation 2 makes a 3x3 kernel span 5: (32 - 5)/1 + 1 = 28; without it (32 - 3)/1 + 1 = 30.
    spec = parse_spec("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3, dilation: 2}\n")
    answer = judge(analyze(spec), {"layers": {"conv1": {"output_shape": [8, 30, 30]}}})
    assert answer.correct_value == [8, 28, 28] and answer.mistake == "dilation-forgotten"


def test_batchnorm_running_statistics_counted_as_params():
    # BatchNorm2d(64): 2*64 = 128 parameters (weight, bias) and 128 buffer values (running mean, var).
    spec = parse_spec("input: [64, 8, 8]\nlayers:\n  - batchnorm\n")
    answer = judge(analyze(spec), {"params": 256})
    assert answer.correct_value == 128 and answer.mistake == "buffers-counted"


def test_bias_additions_counted_in_macs(alexnet):
    # conv1 MACs 105,415,200 plus one bias add per output value, 96*55*55 = 290,400.
    answer = judge(alexnet, {"layers": {"conv1": {"macs": 105415200 + 96 * 55 * 55}}})
    assert answer.mistake == "bias-adds-counted"

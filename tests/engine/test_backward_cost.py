"""Backward MACs (engine/backward_cost.py): input gradient + weight gradient, per layer."""

from __future__ import annotations

from cnncalc.engine import backward_cost
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec, parse_spec
from tests.conftest import SPECS


def costs(spec):
    analysis = analyze(spec)
    total = backward_cost.annotate(analysis)
    return analysis, total


def test_resnet18_backward_is_twice_forward_less_conv1_input_gradient():
    # Issue 13 and torch.utils.flop_counter on torch 2.14 (FlopCounterMode around loss.backward()):
    # 3,510,132,736 = 2 * 1,814,073,344 - 118,013,952 (conv1 needs no input gradient).
    analysis, total = costs(load_spec(SPECS / "resnet18.yaml"))
    assert analysis.macs == 1_814_073_344
    assert total == 3_510_132_736
    conv1 = analysis.row("conv1")
    assert conv1.backward.input_macs == 0 and conv1.backward.weight_macs == conv1.macs == 118_013_952


DEPTHWISE = """
input: [32, 112, 112]
layers:
  - conv: {name: stem, out_channels: 32, kernel_size: 1}
  - conv: {name: dw, out_channels: 32, kernel_size: 3, padding: 1, groups: 32}
"""


def test_depthwise_conv_weight_gradient_counted_per_group():
    # Issue 13: a depthwise 3x3 conv over 32x112x112 does 7,225,344 backward MACs
    # (2 * 112*112 * 9 * 1 * 32), where torch's counter says 119,218,176.
    analysis, _ = costs(parse_spec(DEPTHWISE))
    dw = analysis.row("dw")
    assert dw.macs == 3_612_672
    assert dw.backward.macs == 7_225_344


def test_no_input_gradient_without_a_trainable_parameter_upstream():
    # autograd computes dL/dX only for tensors that require grad: a pool before the first conv changes nothing.
    spec = parse_spec(
        "input: [1, 8, 8]\nlayers:\n  - maxpool: {kernel_size: 2}\n"
        "  - conv: {name: c, out_channels: 2, kernel_size: 3}\n"
    )
    analysis, total = costs(spec)
    assert analysis.row("c").backward.input_macs == 0
    assert total == analysis.macs  # only the weight gradient


def test_a_structure_row_sums_its_leaves():
    analysis, total = costs(load_spec(SPECS / "resnet18.yaml"))
    top = [row for row in analysis.rows if row.depth == 0]
    assert sum(row.backward.macs for row in top) == total


def test_layers_off_the_loss_path_have_no_backward_macs():
    # FlopCounterMode around p2.sum().backward() on the torch twin with the spec's `trainable: false` layers
    # frozen (torch 2.14, tests/engine/test_backward_cost_torch.py): 10,661,396,480. The loss is of the first
    # output, p2: p3, p4 and p5 (3x3 convs only the other outputs need) are never differentiated.
    analysis, total = costs(load_spec(SPECS / "resnet50_fpn.yaml"))
    assert total == 10_661_396_480
    for name in ("p3", "p4", "p5"):
        assert analysis.row(name).macs > 0 and analysis.row(name).backward.macs == 0
    assert analysis.row("p2").backward.macs == 2 * analysis.row("p2").macs
    assert analysis.row("conv1").backward.macs == 0  # trainable: false, and nothing trainable before it


def test_a_frozen_layer_in_the_middle_costs_its_input_gradient_only():
    # a (trainable) -> b (trainable: false) -> c. Forward MACs: a 8*8 * 3*3*1 * 4 = 2,304; b 8*8 * 3*3*4 * 4
    # = 9,216; c 8*8 * 1*1*4 * 2 = 512. Backward: a needs no dL/dX (nothing before it), only dL/dW 2,304;
    # b's params do not require grad, so torch computes only its dL/dX, 9,216 (a needs it); c both, 2 * 512.
    spec = parse_spec(FROZEN_MIDDLE)
    analysis, total = costs(spec)
    b = analysis.row("b").backward
    assert (b.input_macs, b.weight_macs) == (9216, 0)
    assert analysis.row("a").backward.macs == 2304 and analysis.row("c").backward.macs == 1024
    assert total == 2304 + 9216 + 1024 == 12544


FROZEN_MIDDLE = """
input: [1, 8, 8]
layers:
  - conv: {name: a, out_channels: 4, kernel_size: 3, padding: 1}
  - conv: {name: b, out_channels: 4, kernel_size: 3, padding: 1, trainable: false}
  - conv: {name: c, out_channels: 2, kernel_size: 1}
"""

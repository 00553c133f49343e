"""Backward MACs against torch.utils.flop_counter (FlopCounterMode around `loss.backward()`).

Equal wherever torch is right; for grouped convs torch counts the weight gradient as if dense.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc.engine import backward_cost  # noqa: E402
from cnncalc.engine.propagate import analyze  # noqa: E402
from cnncalc.layers.conv import Conv, ConvTranspose  # noqa: E402
from cnncalc.spec.build import load_spec, parse_spec  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.engine.test_backward_cost import DEPTHWISE  # noqa: E402
from tests.executor.backward_cases import KIND_CASES  # noqa: E402
from tests.executor.helpers import make_spec  # noqa: E402
from tests.torch_oracle import build_torch  # noqa: E402


def torch_backward(spec) -> FlopCounterMode:
    twin = build_torch(spec, "meta")
    frozen = {node.op.path for node in spec.graph.nodes[1:] if getattr(node.op, "trainable", True) is False}
    for path in frozen & twin.leaf_modules.keys():  # the spec's own `trainable: false` flag
        twin.leaf_modules[path].requires_grad_(False)
    y = twin(twin.example_input())
    y = y[0] if isinstance(y, tuple) else y
    counter = FlopCounterMode(display=False)
    with counter:
        y.sum().backward()
    return counter


def grouped(spec) -> bool:
    return any(isinstance(row.layer, (Conv, ConvTranspose)) and row.layer.groups > 1 for row in analyze(spec).leaves)


SPEC_NAMES = sorted(p.stem for p in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_backward_macs_equal_torch_where_torch_is_right(name):
    spec = load_spec(SPECS / f"{name}.yaml")
    analysis = analyze(spec)
    ours = backward_cost.annotate(analysis)
    if not analysis.trainable_params:
        assert ours == 0  # nothing to train: torch cannot even call backward()
        return
    theirs = torch_backward(spec).get_total_flops() // 2
    if grouped(spec):
        assert ours < theirs  # torch counts grouped weight gradients as dense
    else:
        assert ours == theirs


def test_torch_counts_a_depthwise_weight_gradient_as_dense():
    # Issue 13's figures: torch 119,218,176 for the depthwise conv, 7,225,344 done.
    # The counter attributes backward ops to no module: torch's dw figure is its total less the dense stem's.
    spec = parse_spec(DEPTHWISE)
    analysis = analyze(spec)
    backward_cost.annotate(analysis)
    stem = analysis.row("stem").backward.macs  # a dense 1x1 conv, counted alike by both
    assert torch_backward(spec).get_total_flops() // 2 - stem == 119_218_176
    assert analysis.row("dw").backward.macs == 7_225_344


def test_mobilenet_v2_torch_figure():
    # Issue 13: torch's counter gives MobileNetV2 5.84G backward MACs, 19x its forward pass.
    spec = load_spec(SPECS / "mobilenet_v2.yaml")
    assert torch_backward(spec).get_total_flops() // 2 == 5_839_076_224
    analysis = analyze(spec)
    assert backward_cost.annotate(analysis) == 590_710_528  # about 2x forward (300,774,272)


def test_resnext50_torch_figure():
    # The README's table: ResNeXt-50 32x4d, torch 15,510,487,040 backward MACs, 8,342,945,792 done.
    spec = load_spec(SPECS / "resnext50_32x4d.yaml")
    assert torch_backward(spec).get_total_flops() // 2 == 15_510_487_040
    assert backward_cost.annotate(analyze(spec)) == 8_342_945_792


@pytest.mark.parametrize(("shape", "layers"), KIND_CASES, ids=lambda v: str(v)[:60])
def test_every_kind_backward_macs_equal_torch(shape, layers):
    # After a trainable layer, so that every kind's input gradient is needed: torch's counter gives the
    # norms, activations, pad, upsample and shuffles no backward MACs (only convolutions and matmuls count).
    # A grouped conv_transpose's weight gradient is counted dense by torch, as a grouped conv's.
    first = (
        {"conv": {"out_channels": shape[0], "kernel_size": 1}}
        if len(shape) > 1
        else {"linear": {"out_features": shape[0]}}
    )
    spec = make_spec(shape, [first, *layers])
    ours = backward_cost.annotate(analyze(spec))
    theirs = torch_backward(spec).get_total_flops() // 2
    assert ours < theirs if grouped(spec) else ours == theirs


def test_a_frozen_layer_in_the_middle_as_torch_counts_it():
    # FlopCounterMode with b's params at requires_grad=False: b's grad_weight is not computed, its grad_input is.
    from tests.engine.test_backward_cost import FROZEN_MIDDLE

    spec = parse_spec(FROZEN_MIDDLE)
    assert torch_backward(spec).get_total_flops() // 2 == backward_cost.annotate(analyze(spec)) == 12544

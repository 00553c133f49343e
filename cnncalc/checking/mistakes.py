"""Classic mistakes in CNN homework, as a table: each recognises a wrong answer and explains it.

A test gets the question (what was asked, the answer given, the right value, the layer row)
and says whether the wrong answer is exactly what that mistake produces.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.checking import variants
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError

MAC_CONVENTION = (
    "The lecture's H2*W2*F^2*D1*D2 (like torchvision's GFLOPS and fvcore) counts one multiply-add as one: "
    "that is the MACs; FLOPs = 2 x MACs, as torch.utils.flop_counter counts."
)


@dataclass(frozen=True)
class Question:
    """One answer to judge: `quantity` of `row` (None: the whole network)."""

    quantity: str  # output_shape, params, trainable_params, macs or flops
    answer: Any
    actual: Any
    analysis: Analysis
    row: LayerRow | None

    @property
    def shape_answer(self) -> tuple[int, ...] | None:
        return tuple(self.answer) if self.quantity == "output_shape" else None


@dataclass(frozen=True)
class Mistake:
    """A named mistake: `test` recognises it, `hint` explains it (text, or built from the question)."""

    name: str
    test: Callable[[Question], bool]
    hint: str | Callable[[Question], str]

    def matches(self, q: Question) -> bool:
        try:
            return bool(self.test(q))
        except (CnncalcError, ArithmeticError, ValueError, TypeError, IndexError):
            return False  # the what-if layer is impossible: not this mistake

    def explain(self, q: Question) -> str:
        return self.hint(q) if callable(self.hint) else self.hint


def _layer(q: Question) -> LayerRow | None:
    return q.row if q.row is not None and q.row.leaf else None


def _shape_is(q: Question, **variant: Any) -> bool:
    row = _layer(q)
    # A count answer has no shape, and a linear layer no window shape: None == None is no match.
    return row is not None and q.shape_answer is not None and q.shape_answer == variants.window_shape(row, **variant)


def _count_is(q: Question, quantity: str, **variant: Any) -> bool:
    """The answer equals the layer's MACs (or FLOPs) with the what-if output shape."""
    row = _layer(q)
    if row is None or q.quantity != quantity:
        return False
    macs = variants.macs_for_shape(row, variants.window_shape(row, **variant))
    return macs is not None and q.answer == (2 * macs if quantity == "flops" else macs)


def _any_count_is(q: Question, **variant: Any) -> bool:
    return _count_is(q, "macs", **variant) or _count_is(q, "flops", **variant)


def _hwc(q: Question) -> bool:
    actual = tuple(q.actual)
    return q.shape_answer is not None and len(actual) > 1 and q.shape_answer == (*actual[1:], actual[0])


def _single_layer_total(q: Question) -> bool:
    return q.row is None and q.quantity in ("params", "macs", "flops") and _layer_with(q) is not None


def _layer_with(q: Question) -> LayerRow | None:
    """A single leaf whose own count equals the answer given for the whole network."""
    return next((r for r in q.analysis.leaves if getattr(r, q.quantity) == q.answer and q.answer), None)


def _running_total(q: Question) -> bool:
    return (
        q.row is not None
        and q.quantity in ("params", "macs", "flops")
        and q.answer == variants.running_total(q.analysis, q.row, q.quantity)
    )


def _macs_on_input_size(q: Question) -> bool:
    row = _layer(q)
    if row is None or q.quantity not in ("macs", "flops") or variants.window_dims(row) is None:
        return False
    macs = row.layer.macs(row.input_shape, (row.output_shape[0], *row.input_shape[1:]))
    return q.answer == (2 * macs if q.quantity == "flops" else macs)


def _buffers(q: Question) -> int:
    return sum(leaf.buffers for leaf in variants.leaves_under(q.analysis, q.row))


def _bias_adds(q: Question) -> int:
    """One add per output value of every layer with a bias (what some counts include)."""
    return sum(
        math.prod(leaf.output_shape)
        for leaf in variants.leaves_under(q.analysis, q.row)
        if leaf.macs and getattr(leaf.layer, "bias", False) is True
    )


def _plus_bias(q: Question) -> int:
    macs = (q.analysis if q.row is None else q.row).macs + _bias_adds(q)
    return 2 * macs if q.quantity == "flops" else macs


MISTAKES: list[Mistake] = [
    Mistake(
        "flops-for-macs",
        lambda q: q.quantity == "macs" and q.answer == 2 * q.actual,
        "This is the FLOP count (2 per multiply-add); MACs were asked. " + MAC_CONVENTION,
    ),
    Mistake(
        "macs-for-flops",
        lambda q: q.quantity == "flops" and 2 * q.answer == q.actual,
        "This is the MAC count; FLOPs were asked. " + MAC_CONVENTION,
    ),
    Mistake(
        "padding-forgotten",
        lambda q: _shape_is(q, padded=False) or _any_count_is(q, padded=False),
        "This is what you get with padding 0: add 2P (the padding on both sides) before dividing by the stride.",
    ),
    Mistake(
        "hwc-order",
        _hwc,
        "Same numbers in HWC order (the slides write 55x55x96); cnncalc writes shapes channels first, [C, H, W] "
        "(or put `layout: hwc` in the answers file).",
    ),
    Mistake(
        "rounded-up",  # rounding to nearest gives the same as ceil whenever it differs from floor
        lambda q: _shape_is(q, rounding=math.ceil) or _any_count_is(q, rounding=math.ceil),
        "This rounds the division up (or to the nearest whole number); PyTorch floors it: "
        "a window that does not fit inside the padded input is dropped.",
    ),
    Mistake(
        "stride-forgotten",
        lambda q: _shape_is(q, strided=False) or _any_count_is(q, strided=False),
        "This is the size with stride 1: divide by the stride S, floor((W - F + 2P) / S) + 1.",
    ),
    Mistake(
        "dilation-forgotten",
        lambda q: _shape_is(q, dilated=False) or _any_count_is(q, dilated=False),
        "A dilated kernel spans d*(F - 1) + 1 cells: floor((W + 2P - d*(F - 1) - 1) / S) + 1.",
    ),
    Mistake(
        "plus-one-forgotten",
        lambda q: _shape_is(q, plus_one=0),
        "Each size is one short: the formula is floor((W - F + 2P) / S) + 1; the +1 counts the first window.",
    ),
    Mistake(
        "channels-missing",
        lambda q: q.shape_answer is not None and len(q.actual) > 1 and q.shape_answer == tuple(q.actual[1:]),
        "Only the spatial size is given; the shape also has the channels first: [C, H, W].",
    ),
    Mistake(
        "input-shape-given",
        lambda q: q.row is not None and q.shape_answer == tuple(q.row.input_shape) != tuple(q.actual),
        "This is the layer's input shape; the question asks what comes out of it.",
    ),
    Mistake(
        "bias-forgotten",
        lambda q: (
            q.quantity in ("params", "trainable_params")
            and q.answer == variants.params_without_bias(q.analysis, q.row) != q.actual
        ),
        "The biases are missing: a conv has one bias per filter, (F*F*D1)*K weights + K biases; "
        "a linear layer has one per output.",
    ),
    Mistake(
        "buffers-counted",
        lambda q: (
            q.quantity in ("params", "trainable_params") and bool(_buffers(q)) and q.answer == q.actual + _buffers(q)
        ),
        "Batchnorm's running mean and variance are buffers, not parameters: "
        "sum(p.numel() for p in model.parameters()) counts 2*C per batchnorm.",
    ),
    Mistake(
        "bias-adds-counted",
        lambda q: q.quantity in ("macs", "flops") and bool(_bias_adds(q)) and q.answer == _plus_bias(q),
        "This also counts one addition per output for the bias; MACs count only the multiply-accumulates "
        "(as torch.utils.flop_counter and fvcore do).",
    ),
    Mistake(
        "input-channels-forgotten",
        lambda q: (
            q.quantity == "params"
            and _layer(q) is not None
            and q.row is not None
            and q.answer in variants.params_without_input_channels(q.row)
        ),
        "Each filter spans all input channels: params = (F*F*D1)*K + K, not F*F*K.",
    ),
    Mistake(
        "macs-on-input-size",
        _macs_on_input_size,
        "This uses the input size H1*W1; the count is per output position: H2*W2*F^2*D1*D2.",
    ),
    Mistake(
        "single-layer-for-total",
        _single_layer_total,
        lambda q: f"This is layer `{_layer_with(q).name}` alone; the total sums every layer.",  # type: ignore[union-attr]
    ),
    Mistake(
        "running-total",
        _running_total,
        "This is the total of all layers up to this one; the question asks for this layer alone.",
    ),
]


def hint_for(q: Question) -> str | None:
    """The explanation of the first classic mistake the wrong answer matches, if any."""
    return next((m.explain(q) for m in MISTAKES if m.matches(q)), None)


def mistake_for(q: Question) -> str | None:
    """The name of the first classic mistake the wrong answer matches (for tests and JSON)."""
    return next((m.name for m in MISTAKES if m.matches(q)), None)

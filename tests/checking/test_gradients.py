"""Gradient answers (`grad_shape`, `grad_weights_shape`, `grad_values`) read and judged like any other."""

from __future__ import annotations

from cnncalc.checking.answers import read_sheet
from cnncalc.checking.grading import grade
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec
from cnncalc.spec.yaml_source import parse_yaml
from tests.conftest import SPECS


def judged(answers: str, spec: str = "seed_002_backprop_regression"):
    analysis = analyze(load_spec(SPECS / f"{spec}.yaml"))
    result = grade(analysis, read_sheet(parse_yaml(answers, "answers.yaml"), "answers.yaml"))
    return {answer.key: answer for answer in result.answers}


def test_right_values_with_size_1_axes_left_out_and_a_wrong_one_with_its_formula():
    # The spec's comments work the numbers by hand: dloss/dW1 = [8, -40, 16], dloss/dZ1 = [-16, 0, 16, 0, -8].
    answers = judged(
        "layers:\n"
        "  conv1: {grad_values: [8, -40, 16]}\n"
        "  relu1: {grad_values: [-16, -32, 16, -16, -8]}\n"  # dloss/dA1: ReLU's output gradient, not its input's
    )
    assert answers["layers.conv1.grad_values"].correct
    wrong = answers["layers.relu1.grad_values"]
    assert not wrong.correct and wrong.actual == [[-16, 0, 16, 0, -8]]
    assert wrong.formula and "relu backward" in wrong.formula[0]


def test_shapes_in_any_written_form():
    answers = judged("layers:\n  conv1: {grad_shape: 1x5, grad_weights_shape: [1, 1, 3]}\n")
    assert answers["layers.conv1.grad_shape"].correct and answers["layers.conv1.grad_weights_shape"].correct


def test_a_layer_without_weights_has_no_weight_gradient():
    answer = judged("layers:\n  relu1: {grad_weights_shape: [1, 5]}\n")["layers.relu1.grad_weights_shape"]
    assert not answer.correct and "has no weights" in answer.hint


def test_blank_and_unreadable_gradient_answers():
    answers = judged("layers:\n  conv1: {grad_values: , grad_shape: five}\n")
    assert answers["layers.conv1.grad_values"].status == "unanswered"
    unreadable = answers["layers.conv1.grad_shape"]
    assert not unreadable.correct and "is not a shape" in unreadable.hint
    assert str(unreadable.position) == "answers.yaml:2:38"  # where `five` starts

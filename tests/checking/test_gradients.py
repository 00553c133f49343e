"""Gradient answers (`grad_shape`, `grad_weights_shape`, `grad_values`) read and judged like any other."""

from __future__ import annotations

from cnncalc.checking.answers import read_sheet
from cnncalc.checking.gradients import formula_for
from cnncalc.checking.grading import grade
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec, parse_spec
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
    assert not wrong.correct and wrong.correct_value == [[-16, 0, 16, 0, -8]]
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


def test_a_ragged_gradient_answer_is_a_wrong_answer_not_a_crash():
    # Found by tests/spec/test_fuzz.py: NumPy refuses nested lists whose rows differ in length or depth.
    answers = judged("layers:\n  conv1: {grad_values: [[8, -40], 16]}\n")
    ragged = answers["layers.conv1.grad_values"]
    assert not ragged.correct and "is not a rectangular array" in ragged.hint


def test_a_ragged_gradient_in_a_specs_expect_fails_its_check_with_the_reason(tmp_path):
    from typer.testing import CliRunner

    from cnncalc.cli import app

    text = (SPECS / "seed_004_strided_conv_gradient.yaml").read_text(encoding="utf-8")
    assert "grad_values: [[3, 1, 0], [2, 3, 0], [2, 1, 2]]" in text
    spec = tmp_path / "ragged.yaml"
    spec.write_text(text.replace("grad_values: [[3, 1, 0],", "grad_values: [[[3, 0], 1, 0],"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1 and "is not a rectangular array" in result.output  # 3 would be a crash


def test_each_kind_gives_its_own_worked_gradient_formula():
    # Seed 000's dW as a sum over positions (stride 1), seed 004's g(G, V, s) and h(K, G, s) for a strided conv.
    text = (
        "input: [1, 6, 6]\nlayers:\n  - conv: {out_channels: 2, kernel_size: 3, padding: 1}\n"
        "  - conv: {out_channels: 2, kernel_size: 3, stride: 2}\n  - relu\n  - flatten\n  - linear: {out_features: 3}\n"
    )
    rows = {row.name: row for row in analyze(parse_spec(text)).leaves}
    assert formula_for(rows["conv1"], "grad_values", True)[1] == (
        "dL/dW[i] = Σ_positions G[p] · X[p + i] (X padded; dL/dX drops the padding)"
    )
    assert (
        formula_for(rows["conv2"], "grad_values", False)[1]
        == "dL/dX[j] = Σ_(p, i: s·p + d·i = j) W[i] · G[p]  (s = 2,2)"
    )
    assert formula_for(rows["linear1"], "grad_values", True) == [
        "G = dL/dY",
        "dL/dW = Gᵀ · X  (out_features x in_features)",
    ]
    assert formula_for(rows["linear1"], "grad_values", False) == ["G = dL/dY", "dL/dX = G · W"]
    assert formula_for(rows["relu1"], "grad_values", False) == [
        "dL/dX = the relu backward of G = dL/dY (`cnncalc run --backward` shows every step)"
    ]
    assert formula_for(rows["conv2"], "grad_shape", True) == ["dL/dX has the shape of the layer's input X: [2, 6, 6]"]

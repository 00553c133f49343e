"""`cnncalc check`: exit codes, the table and the JSON form, on real answer files (tests/answers/)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import ROOT, SPECS

ANSWERS = ROOT / "tests" / "answers"
ALEXNET = str(SPECS / "alexnet_cs231n.yaml")
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["check", *args], env={"COLUMNS": "200"})  # no wrapping of long lines


def test_right_answers_exit_0():
    result = run(ALEXNET, "--answers", str(ANSWERS / "alexnet_correct.yaml"))
    assert result.exit_code == 0, result.output
    assert "✓" in result.output and "✗" not in result.output


def test_the_specs_own_expect_block_is_checked():
    result = run(ALEXNET)
    assert result.exit_code == 0, result.output
    assert "layers.conv1.output_shape" in result.output


def test_wrong_answers_exit_1_with_formula_and_hint():
    result = run(ALEXNET, "--answers", str(ANSWERS / "alexnet_homework.yaml"))
    assert result.exit_code == 1
    out = result.output
    assert "✗" in out and "✓" in out
    # conv1 params: the slides' (11*11*3)*96 = 34,848 misses the 96 biases.
    assert "you gave 34,848, correct is 34,944" in out
    assert "params = (11*11*3)*96 + 96 = 34,944" in out
    assert "biases are missing" in out
    assert "alexnet_homework.yaml:8:13" in out


def test_json_report():
    result = run(ALEXNET, "--answers", str(ANSWERS / "alexnet_homework.yaml"), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["name"] == "AlexNet (CS231n simplified)" and report["passed"] is False
    answers = {a["key"]: a for a in report["answers"]}
    shape = answers["layers.conv1.output_shape"]
    assert shape["expected"] == [55, 55, 96] and shape["actual"] == [96, 55, 55] and shape["correct"] is False
    assert "channels first" in shape["hint"]
    assert shape["position"].endswith("alexnet_homework.yaml:7:19")
    assert shape["formula"][0] == "H = floor((227 - 11 + 2*0) / 4) + 1 = 55"
    flops = answers["layers.conv1.flops"]
    assert "H2*W2*F^2*D1*D2" in flops["hint"] and flops["actual"] == 210830400
    assert answers["layers.conv1.macs"]["correct"] is True and answers["layers.conv1.macs"]["hint"] is None
    assert {a["mistake"] for a in report["answers"]} >= {
        "hwc-order",
        "bias-forgotten",
        "macs-for-flops",
        "padding-forgotten",
        "running-total",
        "single-layer-for-total",
    }


def test_unknown_layer_name_is_unusable_input_with_did_you_mean():
    result = run(ALEXNET, "--answers", str(ANSWERS / "alexnet_typo.yaml"))
    assert result.exit_code == 2
    assert "alexnet_typo.yaml:4:3" in result.stderr
    assert "no layer named `convv5`" in result.stderr and "Did you mean `conv5`?" in result.stderr


def test_unknown_answer_key_is_unusable_input(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("layers:\n  conv1: {param: 34944}\n")
    result = run(ALEXNET, "--answers", str(answers))
    assert result.exit_code == 2
    assert "answers.yaml:2:11" in result.stderr and "Did you mean `params`?" in result.stderr
    assert "Traceback" not in result.output


def test_spec_without_expect_and_no_answers(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [1, 8, 8]\nlayers:\n  - relu\n")
    result = run(str(spec))
    assert result.exit_code == 2 and "no `expect:` block" in result.stderr


def test_missing_answers_file():
    result = run(ALEXNET, "--answers", "nowhere.yaml")
    assert result.exit_code == 2 and "nowhere.yaml:1:1: error: no such file." in result.stderr


def test_hand_written_habits_in_answers_get_the_fix(tmp_path):
    answers = tmp_path / "answers.yaml"
    cases = [
        # (answers file, where, the fix the message must give)
        ("layers:\n  conv1: {output_shape: 55x55x96}\n", "2:25", "Write a shape as a list, channels first"),
        ("layers:\n  flatten1: {output_shape: 9216}\n", "2:28", "`[F]` for a flat one"),
        ("params: 62,378,344\n", "1:9", "Write the number without commas: 62378344"),
        ("conv1: {params: 34944}\n", "1:1", "Did you mean `layers: {conv1: ...}`?"),  # a layer one level too high
    ]
    for text, where, fix in cases:
        answers.write_text(text)
        result = run(ALEXNET, "--answers", str(answers))
        assert result.exit_code == 2, text
        assert f"answers.yaml:{where}: error:" in result.stderr and fix in result.stderr, result.stderr


def test_a_plain_top_level_value_is_not_taken_for_a_layer(tmp_path):
    answers = tmp_path / "answers.yaml"  # the spec itself given as the answers file, a slip of the shell
    answers.write_text("name: my net\ninput: [3, 227, 227]\n")
    result = run(ALEXNET, "--answers", str(answers))
    assert result.exit_code == 2
    assert "no argument `name`" in result.stderr and "layers: {name" not in result.stderr

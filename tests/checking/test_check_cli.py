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


def test_unknown_layer_name_makes_that_answer_wrong_with_did_you_mean():
    # issue 12: one misspelt layer name no longer loses the whole file (it was exit 2).
    result = run(ALEXNET, "--answers", str(ANSWERS / "alexnet_typo.yaml"), "--format", "json")
    assert result.exit_code == 1
    answers = {a["key"]: a for a in json.loads(result.stdout)["answers"]}
    typo = answers["layers.convv5.params"]
    assert typo["correct"] is False and typo["position"].endswith("alexnet_typo.yaml:4:20")
    assert "no layer named `convv5`" in typo["hint"] and "Did you mean `conv5`?" in typo["hint"]
    assert answers["layers.conv1.params"]["correct"] is True  # still graded: 34,944 (slides + 96 biases)


def test_unknown_answer_key_is_a_wrong_answer_and_the_rest_is_graded(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("layers:\n  conv1: {param: 34944, output_shape: [96, 55, 55]}\n")
    result = run(ALEXNET, "--answers", str(answers), "--format", "json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    answers_ = {a["key"]: a for a in json.loads(result.stdout)["answers"]}
    assert answers_["layers.conv1.param"]["position"].endswith("answers.yaml:2:11")
    assert "Did you mean `params`?" in answers_["layers.conv1.param"]["hint"]
    assert answers_["layers.conv1.output_shape"]["correct"] is True  # slides: 55x55x96


def test_spec_without_expect_and_no_answers(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [1, 8, 8]\nlayers:\n  - relu\n")
    result = run(str(spec))
    assert result.exit_code == 2 and "no `expect:` block" in result.stderr


def test_missing_answers_file():
    # QA: a missing file has no line or column; it is named alone, as `table` names a missing spec
    result = run(ALEXNET, "--answers", "nowhere.yaml")
    assert result.exit_code == 2 and result.stderr == "nowhere.yaml: error: no such file.\n"


def test_hand_written_habits_in_answers_are_read(tmp_path):
    # issue 12: the slides' `55x55x96`, a bare number for a flat shape, thousands commas and `35K` are read;
    # right values from the slides (conv1 [96, 55, 55], flatten 6*6*256 = 9216) and tests/reference (params).
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "params: 62,378,344\nlayers:\n  conv1: {output_shape: 96x55x55, params: 35K}\n"
        "  flatten1: {output_shape: 9216}\n"
    )
    result = run(ALEXNET, "--answers", str(answers), "--format", "json")
    answers_ = {a["key"]: a for a in json.loads(result.stdout)["answers"]}
    assert answers_["params"]["correct"] and answers_["layers.flatten1.output_shape"]["correct"]
    assert answers_["layers.conv1.output_shape"]["correct"]
    rounded = answers_["layers.conv1.params"]  # 35K is the slides' rounding of 34,944: wrong unless tolerated
    assert rounded["correct"] is False and rounded["given"] == "35K" and "rounded" in rounded["hint"]
    assert result.exit_code == 1
    tolerated = run(ALEXNET, "--answers", str(answers), "--tolerance", "0.01")
    assert tolerated.exit_code == 0, tolerated.output


def test_bad_answers_are_all_reported_in_file_order(tmp_path):
    answers = tmp_path / "answers.yaml"  # four mistakes of form: all four shown in one run
    answers.write_text(
        "total_params: 1\nlayers:\n  conv1: {output_shape: big}\n  conv9: {params: 1}\n  pool1: {macs: many}\n"
    )
    result = run(ALEXNET, "--answers", str(answers), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)["answers"]
    assert [a["position"].split(":", 1)[1] for a in report] == ["1:1", "3:25", "4:19", "5:17"]
    assert "Did you mean `params`?" in report[0]["hint"]  # not the upper bound max_params
    assert "not a shape" in report[1]["hint"] and "Did you mean `conv5`?" in report[2]["hint"]


def test_a_plain_top_level_value_is_not_taken_for_a_layer(tmp_path):
    answers = tmp_path / "answers.yaml"  # the spec itself given as the answers file, a slip of the shell
    answers.write_text("name: my net\ninput: [3, 227, 227]\nlay: {conv1: {params: 1}}\n")
    result = run(ALEXNET, "--answers", str(answers), "--format", "json")
    assert result.exit_code == 1
    hints = [a["hint"] for a in json.loads(result.stdout)["answers"]]
    assert "no key `name`" in hints[0] and "layers: {name" not in hints[0]
    assert "Did you mean `layers`?" in hints[2]


def test_a_count_with_commas_inside_braces_is_refused_not_graded_as_its_first_group(tmp_path):
    # QA (/tmp/qa/s/a_comma.yaml): YAML reads `params: 34,944` in `{...}` as params 34 and a key `944`; it was
    # graded "you gave 34" with a made-up question `layers.conv1.944`.
    answers = tmp_path / "a_comma.yaml"
    answers.write_text("layers:\n  conv1: {output_shape: [96, 55, 55], params: 34,944}\n")
    result = run(ALEXNET, "--answers", str(answers))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{answers}:2:47: error: `params: 34,944` reads as `params: 34` followed by")
    assert result.stderr.endswith('Write 34944, or quote it: "34,944".\n')
    # 62,378,344: AlexNet's params (tests/reference/alexnet_cs231n.json); `062` reads as text, `378` as a number
    answers.write_text("{params: 62,378,344, macs: 1}\n")
    result = run(ALEXNET, "--answers", str(answers))
    assert result.exit_code == 2 and "`params: 62,378,344` reads as `params: 62` followed by the keys" in result.stderr
    assert 'Write 62378344, or quote it: "62,378,344".' in result.stderr
    # `000` reads as the number 0: the digits are taken as written
    answers.write_text("layers:\n  pool1: {params: 1,000}\n")
    assert 'Write 1000, or quote it: "1,000".' in run(ALEXNET, "--answers", str(answers)).stderr
    # two such counts in one mapping give the key `000` twice, which YAML's reading refuses before any check
    answers.write_text("layers:\n  conv1: {params: 1,000, macs: 2,000}\n")
    result = run(ALEXNET, "--answers", str(answers))
    assert result.exit_code == 2 and "duplicate key" not in result.stderr
    assert result.stderr.startswith(f"{answers}:2:34: error: `000` reads as a key: inside `{{...}}` a comma")


def test_a_count_with_commas_outside_braces_or_quoted_is_read(tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text('layers:\n  conv1:\n    params: 34,944\n  conv2: {params: "307,456"}\n')
    # conv2: (5*5*96)*256 + 256 = 614,656 in the CS231n AlexNet (tests/reference/alexnet_cs231n.json)
    result = run(ALEXNET, "--answers", str(answers), "-f", "json")
    assert result.exit_code == 1  # conv2's figure is wrong, but read as the number written
    answers_by_key = {a["key"]: a for a in json.loads(result.stdout)["answers"]}
    assert (
        answers_by_key["layers.conv1.params"]["given"] == "34,944" and answers_by_key["layers.conv1.params"]["correct"]
    )
    assert answers_by_key["layers.conv2.params"]["correct_value"] == 614656
    assert set(answers_by_key) == {"layers.conv1.params", "layers.conv2.params"}


def test_a_count_with_commas_in_a_specs_own_expect_is_named_so(tmp_path):
    spec = tmp_path / "net.yaml"
    # Conv2d(3, 16, 3): 3*3*3*16 + 16 = 448 params (the layer's own arithmetic)
    spec.write_text(
        "input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 16, kernel_size: 3}\n"
        "expect:\n  layers:\n    conv1: {params: 0,448}\n"
    )
    for command in (["check", str(spec)], ["validate", str(spec)]):
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 2
        assert f"{spec}:6:21" in result.output and "`params: 0,448` reads as `params: 0`" in result.output


def test_a_spec_given_as_the_answers_file_is_named_a_spec(tmp_path):
    # QA (/tmp/qa/s/hwc.yaml as answers): the hints were "Did you mean `layers: {expect: ...}`?"
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "name: tiny\ninput: [3, 32, 32]\nlayers:\n  - conv: {name: conv1, out_channels: 16, kernel_size: 3}\n"
        "  - relu\nexpect:\n  params: 448\n"
    )
    result = run(ALEXNET, "--answers", str(spec))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"{spec}:1:1: error: this looks like a spec, not an answers file. Give the spec first and the answers "
        "after --answers: `cnncalc check SPEC --answers ANSWERS.yaml`.\n"
    )
    # as the key, the spec is named for what it is, with the key's usage, not --answers' (a QA leftover)
    answers = tmp_path / "sheet.yaml"
    answers.write_text("layers:\n  conv1: {params: 34944}\n")
    as_key = run(ALEXNET, "--answers", str(answers), "--key", str(spec))
    assert as_key.exit_code == 2 and as_key.stderr.startswith(f"{spec}:1:1: error: this looks like a spec, not a key")
    assert "--key KEY.yaml" in as_key.stderr
    # an answers file whose layers are answers is no spec, even with an `input` key (a wrong answer)
    answers = tmp_path / "answers.yaml"
    answers.write_text("input: [3, 227, 227]\nlayers:\n  conv1: {params: 34944}\n")
    assert run(ALEXNET, "--answers", str(answers)).exit_code == 1

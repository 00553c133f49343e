"""`cnncalc validate`: discovery, per-file results, exit codes and the CI output formats."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.validation import discover, validate_file
from tests.conftest import ROOT, SPECS

runner = CliRunner()

GOOD = """\
input: [3, 227, 227]
layers:
  - conv: {out_channels: 96, kernel_size: 11, stride: 4}
expect:
  layers:
    conv1: {output_shape: [96, 55, 55], params: 34944}
"""
# CS231n slides: CONV1 of AlexNet gives 55x55x96 with (11*11*3)*96 + 96 = 34,944 params.
WRONG_EXPECT = GOOD.replace("params: 34944", "params: 34848")
BROKEN = GOOD.replace("- conv:", "- convv:")
# (224 - 3) / 2 = 110.5: the last input row is never read, a warning.
WARNING = "input: [3, 224, 224]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3, stride: 2}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def validate(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_all_shipped_specs_pass_as_ci_runs_them():
    result = runner.invoke(app, ["validate", str(SPECS)])
    assert result.exit_code == 0, result.output
    files = sorted(SPECS.glob("*.yaml"))
    assert f"{len(files)} files: {len(files)} passed, 0 failed, 0 unusable" in result.output
    assert result.output.count("✓") == len(files)


def test_passing_file_line_shows_figures(tmp_path):
    path = write(tmp_path, "alex.yaml", GOOD)
    result = validate(str(path))
    assert result.exit_code == 0
    assert f"✓ {path}: output [96, 55, 55], 34,944 params, 105,415,200 MACs, 2 checks passed" in result.output


def test_failed_expectation_exits_1_with_position(tmp_path):
    path = write(tmp_path, "alex.yaml", WRONG_EXPECT)
    result = validate(str(path))
    assert result.exit_code == 1
    assert f"✗ {path}:6:49: expect `layers.conv1.params`: 34,848 given, but cnncalc computes 34,944." in result.output
    assert "biases are missing" in result.output


def test_unusable_file_exits_2_and_wins_over_a_failed_check(tmp_path):
    write(tmp_path, "a_wrong.yaml", WRONG_EXPECT)
    broken = write(tmp_path, "b_broken.yaml", BROKEN)
    result = validate(str(tmp_path))
    assert result.exit_code == 2
    assert f"✗ {broken}:3:5: unknown layer kind `convv`. Did you mean `conv`?" in result.output
    assert "2 files: 0 passed, 1 failed, 1 unusable." in result.output


def test_folders_are_searched_recursively_for_yaml_and_yml_skipping_hidden(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "deep/er/b.yml", GOOD)
    write(tmp_path, "notes.txt", "not a spec")
    write(tmp_path, ".github/workflows/ci.yml", "on: push")
    assert discover([str(tmp_path)]) == [tmp_path / "a.yaml", tmp_path / "deep/er/b.yml"]


def test_globs_are_expanded_for_shells_that_do_not(tmp_path):
    write(tmp_path, "x/a.yaml", GOOD)
    write(tmp_path, "y/b.yaml", GOOD)
    write(tmp_path, "y/c.yml", GOOD)
    assert discover([str(tmp_path / "*" / "*.yaml")]) == [tmp_path / "x/a.yaml", tmp_path / "y/b.yaml"]
    assert len(discover([str(tmp_path / "**" / "*.y*ml")])) == 3


def test_a_file_named_twice_is_validated_once(tmp_path):
    path = write(tmp_path, "a.yaml", GOOD)
    assert discover([str(path), str(tmp_path)]) == [path]


def test_folder_without_specs_exits_2_clearly(tmp_path):
    result = validate(str(tmp_path))
    assert result.exit_code == 2
    assert "folder holds no .yaml or .yml spec files" in result.output


def test_glob_matching_nothing_and_missing_file_exit_2(tmp_path):
    result = validate(str(tmp_path / "*.yaml"), str(tmp_path / "gone.yaml"))
    assert result.exit_code == 2
    assert "the pattern matches no files" in result.output
    assert f"✗ {tmp_path / 'gone.yaml'}: no such file or folder." in result.output  # QA: no line:col to give


def test_warnings_are_shown_and_strict_makes_them_errors(tmp_path):
    path = write(tmp_path, "w.yaml", WARNING)
    loose = validate(str(path))
    assert loose.exit_code == 0
    assert f"{path}:3:5: warning:" in loose.output and "1 warning" in loose.output
    strict = validate("--strict", str(path))
    assert strict.exit_code == 2
    assert f"✗ {path}:3:5:" in strict.output and "--strict" in strict.output


def test_a_missing_path_is_named_without_a_line_or_column(tmp_path, monkeypatch):
    # QA: `validate models/` printed `models:1:1: no such file.`; a path that is not there has no lines
    monkeypatch.chdir(tmp_path)
    result = validate("models/")
    assert result.exit_code == 2
    assert result.output == "✗ models: no such file or folder.\n1 file: 0 passed, 0 failed, 1 unusable.\n"
    github = validate("--format", "github", "models/")
    assert github.output.splitlines()[0] == "::error file=models,title=cnncalc::no such file or folder."
    (message,) = json.loads(validate("--format", "json", "models/").output)["files"][0]["messages"]
    assert message["position"] is None and message["line"] is None and message["column"] is None


# (32 + 2*1 - 3) / 1 + 1 = 32: conv1 keeps 16x32x32, not the 30x30 written; Conv2d(3, 16, 3) + Linear(4096, 10):
# 448 + 40,970 = 41,418 params (PyTorch's counts, as `cnncalc check` reports for /tmp/qa/s/exp.yaml).
THREE_FINDINGS = """\
name: tiny
input: [3, 32, 32]
layers:
  - conv: {name: conv1, out_channels: 16, kernel_size: 3, padding: 1}
  - relu
  - maxpool: {kernel_size: 2, stride: 2}
  - flatten
  - linear: {out_features: 10}
expect:
  output_shape: [10]
  params: 41000
  layers:
    conv9: {params: 448}
    conv1: {output_shape: [16, 30, 30]}
"""


def test_an_unknown_layer_in_expect_does_not_hide_the_other_findings(tmp_path):
    # QA: only the unknown name was reported (exit 2); the wrong params and shape surfaced after fixing it
    path = write(tmp_path, "exp.yaml", THREE_FINDINGS)
    result = validate(str(path))
    assert result.exit_code == 2  # the unknown name is still unusable input, and exit 2 wins
    lines = result.output.splitlines()
    assert lines[0] == f"✗ {path}:13:5: there is no layer named `conv9` in `tiny`. Did you mean `conv1`?"
    assert lines[1] == f"    {path}:11:11: expect `params`: 41,000 given, but cnncalc computes 41,418."
    assert lines[2].startswith(f"    {path}:14:27: expect `layers.conv1.output_shape`: [16, 30, 30] given, but")
    assert lines[3] == "1 file: 0 passed, 0 failed, 1 unusable."
    # `check` on the same spec grades all three as wrong answers (exit 1), as before
    check = runner.invoke(app, ["check", str(path), "-f", "json"])
    assert check.exit_code == 1 and sum(not a["correct"] for a in json.loads(check.stdout)["answers"]) == 3


# CS231n's CIFAR-10 written height-width-channels; (3 - 2) / 2 is not whole: the pool drops a column.
CHANNELS_LAST = """\
name: tiny
input: [32, 32, 3]
layers:
  - conv: {name: conv1, out_channels: 16, kernel_size: 3, padding: 1}
  - maxpool: {kernel_size: 2, stride: 2}
"""


def test_a_channels_last_input_is_a_positioned_warning_and_an_error_under_strict(tmp_path):
    # QA: `table` gave 2 warnings, `validate` 1 (the channels-last one was dropped), and it had no line:col
    path = write(tmp_path, "hwc.yaml", CHANNELS_LAST)
    loose = validate(str(path))
    assert loose.exit_code == 0
    assert (
        f"    {path}:2:1: warning: input [32, 32, 3] looks channels-last; cnncalc is channels-first; "
        "did you mean [3, 32, 32]?\n" in loose.output
    )
    assert f"{path}:5:5: warning: maxpool1:" in loose.output and "2 warnings." in loose.output
    strict = validate("--strict", str(path))
    assert strict.exit_code == 2
    assert strict.output.startswith(f"✗ {path}:2:1: input [32, 32, 3] looks channels-last;")
    assert "did you mean [3, 32, 32]? (an error under --strict)" in strict.output
    table = runner.invoke(app, ["table", str(path)])
    assert table.exit_code == 0 and table.stderr.startswith(f"{path}:2:1: warning: input [32, 32, 3] looks")
    table_strict = runner.invoke(app, ["table", "--strict", str(path)])  # as validate --strict
    assert table_strict.exit_code == 2 and table_strict.stdout == ""
    assert table_strict.stderr.startswith(f"{path}:2:1: error: input [32, 32, 3] looks channels-last;")


def test_github_annotations(tmp_path):
    wrong = write(tmp_path, "wrong.yaml", WRONG_EXPECT)
    broken = write(tmp_path, "broken.yaml", BROKEN)
    warned = write(tmp_path, "warned.yaml", WARNING)
    result = validate("--format", "github", str(wrong), str(broken), str(warned))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert (
        f"::error file={broken},line=3,col=5,title=cnncalc::unknown layer kind `convv`. Did you mean `conv`?" in lines
    )
    assert any(line.startswith(f"::error file={wrong},line=6,col=49,title=cnncalc::expect `layers") for line in lines)
    assert any(line.startswith(f"::warning file={warned},line=3,col=5,title=cnncalc::") for line in lines)


def test_json_format(tmp_path):
    good = write(tmp_path, "good.yaml", GOOD)
    wrong = write(tmp_path, "wrong.yaml", WRONG_EXPECT)
    result = validate("--format", "json", str(good), str(wrong))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["summary"] == {"files": 2, "passed": 1, "failed": 1, "errors": 0, "warnings": 0}
    first, second = report["files"]
    assert first["path"] == str(good) and first["status"] == "passed" and first["params"] == 34944
    assert first["flops"] == 2 * 105415200
    (message,) = second["messages"]
    assert (message["level"], message["line"], message["column"]) == ("error", 6, 49)


def test_junit_report(tmp_path):
    good = write(tmp_path, "good.yaml", GOOD)
    wrong = write(tmp_path, "wrong.yaml", WRONG_EXPECT)
    broken = write(tmp_path, "broken.yaml", BROKEN)
    report = tmp_path / "junit.xml"
    result = validate("--junit", str(report), str(good), str(wrong), str(broken))
    assert result.exit_code == 2
    suite = ET.parse(report).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases[str(good)]) == []
    assert cases[str(wrong)].find("failure").get("message").startswith(f"{wrong}:6:49: expect")
    assert "convv" in cases[str(broken)].find("error").get("message")


def test_unwritable_junit_path_is_a_clear_error(tmp_path):
    good = write(tmp_path, "good.yaml", GOOD)
    result = validate("--junit", str(tmp_path / "no" / "such" / "dir.xml"), str(good))
    assert result.exit_code == 2 and "cannot write the JUnit report" in result.output
    assert "Traceback" not in result.output


def test_execute_compares_the_numpy_forward_pass(tmp_path):
    pytest.importorskip("cnncalc.executor.verify")
    path = write(tmp_path, "good.yaml", GOOD)
    result = validate_file(path, execute=True)
    assert result.status == "passed", result.messages
    assert result.checks > 2  # the two expectations plus the executed layers


def test_execute_on_a_spec_too_big_for_memory_marks_that_file_unusable(tmp_path):
    pytest.importorskip("cnncalc.executor.verify")
    # 10**14 float32 values = 400 TB: refused from the engine's estimate, before anything is allocated.
    path = write(tmp_path, "vast.yaml", "input: [1, 10000000, 10000000]\nlayers:\n  - relu\n")
    result = validate_file(path, execute=True)
    assert result.status == "error"
    assert result.messages[0].text.startswith("the forward pass would need about 1,200.0 TB")
    assert str(result.messages[0].position) == f"{path}:3:5"  # the layer that needs the most


def test_pre_commit_hook_definition():
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "cnncalc-validate" and hook["entry"] == "cnncalc validate" and hook["language"] == "python"

    def selected(path: str) -> bool:  # pre-commit's rule: `files` searched, `exclude` not
        return bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)

    assert selected("models/resnet50.yaml") and selected("specs/net.yml")
    assert not selected(".pre-commit-config.yaml") and not selected(".github/workflows/ci.yml")
    assert not selected("README.md")


def test_execute_reports_a_layer_whose_forward_pass_disagrees(tmp_path, monkeypatch):
    verify = pytest.importorskip("cnncalc.executor.verify")
    real = verify.verify_spec

    def disagreeing(spec, analysis=None, seed=0, batch=1):
        report = real(spec, analysis=analysis, seed=seed, batch=batch)
        first = dataclasses.replace(report.layers[0], executed_shape=[96, 54, 54], match=False)
        return dataclasses.replace(report, layers=[first, *report.layers[1:]], match=False)

    monkeypatch.setattr(verify, "verify_spec", disagreeing)
    path = write(tmp_path, "good.yaml", GOOD)
    result = validate("--execute", str(path))
    assert result.exit_code == 1
    assert f"✗ {path}:3:5: executing `conv1` gives shape [96, 54, 54] and 34,944 params," in result.output
    assert "but the arithmetic says shape [96, 55, 55] and 34,944 params." in result.output


def test_github_annotations_use_paths_from_the_checkout(tmp_path, monkeypatch):
    broken = write(tmp_path, "models/broken.yaml", BROKEN)
    monkeypatch.chdir(tmp_path)
    result = validate("--format", "github", str(broken))
    assert result.output.startswith("::error file=models/broken.yaml,line=3,col=5,title=cnncalc::unknown layer kind")

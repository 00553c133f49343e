"""report/check.py: check's table, one line per file, the class summary and the JSON, without the CLI.

Values: tests/answers/alexnet_homework.yaml answers conv1's params 34,848, the slides' (11*11*3)*96 without
biases; the right 34,944 is tests/reference/alexnet_cs231n.json's (PyTorch)."""

from __future__ import annotations

import json

from rich.console import Console

from cnncalc.checking.classroom import Grader, expand_answers, grade_all, unreadable
from cnncalc.checking.grading import Rules
from cnncalc.engine.propagate import analyze
from cnncalc.report.check import check_json, print_check, render_check
from cnncalc.spec.build import load_spec
from tests.conftest import ROOT, SPECS

HOMEWORK = ROOT / "tests" / "answers" / "alexnet_homework.yaml"
CORRECT = ROOT / "tests" / "answers" / "alexnet_correct.yaml"


def _results(*files):
    grader = Grader(analyze(load_spec(SPECS / "alexnet_cs231n.yaml")), Rules())
    return grade_all(grader, expand_answers([str(f) for f in files]))


def test_the_answer_given_is_under_your_answer_and_cnncalcs_under_correct():
    console = Console(record=True, width=200, color_system=None)
    console.print(render_check(_results(HOMEWORK)[0]))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "Your answer" in line)
    row = next(line for line in text.splitlines() if "layers.conv1.params" in line and "│" in line)
    assert header.index("Your answer") < header.index("Correct")
    assert row.index("34,848") < row.index("34,944")
    assert "layers.conv1.params (" in text and "you gave 34,848, correct is 34,944" in text


def test_one_unreadable_file_is_only_its_error_and_exit_2(capsys):
    assert print_check([unreadable("gone.yaml", "gone.yaml: error: no such file.")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "gone.yaml: error: no such file.\n"


def test_several_files_json_has_the_results_and_the_summary(capsys):
    results = [
        *_results(CORRECT, HOMEWORK),
        unreadable("gone*.yaml", "gone*.yaml: error: the pattern matches no files."),
    ]
    assert print_check(results, as_json=True) == 2  # an unreadable file outranks a wrong answer
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert captured.out == check_json(results) + "\n" and "matches no files" in captured.err
    assert [r["passed"] for r in report["results"]] == [True, False, False]
    assert report["summary"]["files"] == 3 and report["summary"]["unreadable"] == 1
    conv1 = next(a for a in report["results"][1]["answers"] if a["key"] == "layers.conv1.params")
    assert (conv1["given"], conv1["correct_value"]) == (34848, 34944)
    assert (conv1["expected"], conv1["actual"]) == (34848, 34944)  # the legacy keys, backwards, kept as they were


def test_a_long_hint_continues_at_its_indentation():
    # QA: at 80 columns the missing-biases hint went on at column 0, under the ✗ lines, as if a new answer.
    console = Console(record=True, width=60, color_system=None)
    console.print(render_check(_results(HOMEWORK)[0]))
    lines = console.export_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    Hint:"))
    continued = lines[start + 1]
    assert continued.startswith("    ") and continued.strip() and not continued.startswith("     ")

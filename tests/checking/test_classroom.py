"""`cnncalc check SPEC --answers 'subs/*.yaml'` on a folder of submissions with known mistakes.

Right values: the CS231n slides (seed 001) for AlexNet's volumes, CONV1 [55x55x96], POOL1 27x27x96 and
(from the same (W - F + 2P)/S + 1) CONV2 27x27x256, POOL2 13x13x256, CONV3 13x13x384; params from
tests/reference/alexnet_cs231n.json (PyTorch): conv1 34,944, the network 62,378,344.
Carried forward: a CONV2 of 23x23 (padding forgotten, (27 - 5)/1 + 1) gives POOL2 (23 - 3)/2 + 1 = 11.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.checking.classroom import Grader, expand_answers, grade_all, gradebook_rows
from cnncalc.checking.grading import load_rules
from cnncalc.cli import app
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS

ALEXNET = str(SPECS / "alexnet_cs231n.yaml")
runner = CliRunner()

KEY = """\
points: {default: 1, layers.conv2.output_shape: 2}
carry_forward: 0.5
layers:
  conv1: {output_shape: , params: }
  conv2: {output_shape: }
  pool2: {output_shape: }
  conv3: {output_shape: }
params:
"""
# name -> (answers file, score out of 7)
SUBMISSIONS = {
    "alice": (
        "layers:\n  conv1: {output_shape: [96, 55, 55], params: 34944}\n  conv2: {output_shape: [256, 27, 27]}\n"
        "  pool2: {output_shape: [256, 13, 13]}\n  conv3: {output_shape: [384, 13, 13]}\nparams: 62378344\n",
        7,
    ),
    "bob": (  # conv2's padding forgotten; pool2 and conv3 right from that wrong shape: 1 + 1 + 0 + .5 + .5 + 1
        "layers:\n  conv1: {output_shape: [96, 55, 55], params: 34944}\n  conv2: {output_shape: [256, 23, 23]}\n"
        "  pool2: {output_shape: [256, 11, 11]}\n  conv3: {output_shape: [384, 11, 11]}\nparams: 62378344\n",
        4,
    ),
    "carol": (  # the slides' HWC order without `layout: hwc`, and the slides' biases-forgotten 34,848
        "layers:\n  conv1: {output_shape: 55x55x96, params: 34848}\n  conv2: {output_shape: [256, 27, 27]}\n"
        "  pool2: {output_shape: [256, 13, 13]}\n  conv3: {output_shape: [384, 13, 13]}\nparams: 62378344\n",
        5,
    ),
    "dave": (  # layout: hwc; 35K is rounded; a misspelt layer (extra, no points) leaves conv2 unanswered
        "layout: hwc\nlayers:\n  conv1: {output_shape: 55x55x96, params: 35K}\n  convv2: {output_shape: 27x27x256}\n"
        "  pool2: {output_shape: 13x13x256}\n  conv3: {output_shape: [13, 13, 384]}\nparams: 62,378,344\n",
        4,
    ),
    "frank": (  # padding forgotten too, but pool2 and conv3 right: nothing carried forward
        "layers:\n  conv1: {output_shape: [96, 55, 55], params: 34944}\n  conv2: {output_shape: [256, 23, 23]}\n"
        "  pool2: {output_shape: [256, 13, 13]}\n  conv3: {output_shape: [384, 13, 13]}\nparams: 62378344\n",
        5,
    ),
}


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, (text, _) in SUBMISSIONS.items():
        (subs / f"{name}.yaml").write_text(text)
    (tmp_path / "key.yaml").write_text(KEY)
    return tmp_path


def check(*args: str):
    result = runner.invoke(app, ["check", *args], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "Traceback" not in result.output, result.output
    return result


def test_gradebook_carried_forward_and_class_summary(klass):
    book = klass / "grades.csv"
    result = check(ALEXNET, "-a", str(klass / "subs" / "*.yaml"), "--key", str(klass / "key.yaml"), "-f", "json",
                   "--gradebook", str(book))  # fmt: skip
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    by_name = {Path(r["file"]).stem: r for r in report["results"]}
    assert {name: r["score"] for name, r in by_name.items()} == {n: s for n, (_, s) in SUBMISSIONS.items()}
    assert all(r["max_score"] == 7 for r in by_name.values())
    bob = {a["key"]: a for a in by_name["bob"]["answers"]}
    assert bob["layers.pool2.output_shape"]["status"] == "carried_forward"
    assert bob["layers.pool2.output_shape"]["points"] == 0.5 and bob["layers.pool2.output_shape"]["correct"] is False
    assert bob["layers.conv3.output_shape"]["status"] == "carried_forward"
    assert bob["layers.conv2.output_shape"]["mistake"] == "padding-forgotten"
    assert bob["layers.conv2.output_shape"]["given"] == [256, 23, 23]
    assert bob["layers.conv2.output_shape"]["correct_value"] == [256, 27, 27]
    dave = {a["key"]: a for a in by_name["dave"]["answers"]}
    assert dave["layers.conv1.output_shape"]["correct"] and dave["params"]["correct"]
    assert dave["layers.conv2.output_shape"]["status"] == "unanswered"
    assert "Did you mean `conv2`?" in dave["layers.convv2.output_shape"]["hint"]
    assert dave["layers.convv2.output_shape"]["max_points"] == 0
    summary = report["summary"]
    assert summary["mean_score"] == 5 and summary["files"] == 5 and summary["passed"] == 1  # (7+4+5+4+5)/5
    assert summary["mistakes"] == {"padding-forgotten": 2, "hwc-order": 1, "bias-forgotten": 1}
    assert summary["carried_forward"] == 1
    rows = list(csv.reader(book.open()))
    assert rows[0] == ["file", "score", "max_score", "layers.conv1.output_shape", "layers.conv1.params",
                       "layers.conv2.output_shape", "layers.pool2.output_shape", "layers.conv3.output_shape",
                       "params"]  # fmt: skip
    assert [Path(r[0]).stem for r in rows[1:]] == sorted(SUBMISSIONS)  # the glob, sorted
    assert dict((Path(r[0]).stem, r[1:3]) for r in rows[1:])["bob"] == ["4", "7"]
    assert rows[2][3:] == ["1", "1", "0", "0.5", "0.5", "1"]  # bob, question by question


def test_text_output_one_line_per_file_then_the_summary(klass):
    result = check(
        ALEXNET, "--answers", str(klass / "subs" / "alice.yaml"), "--answers", str(klass / "subs" / "bob.yaml")
    )
    assert result.exit_code == 1
    out = result.stdout
    assert f"✓ {klass / 'subs' / 'alice.yaml'}: 6/6" in out  # no key: one point per answer given
    assert f"✗ {klass / 'subs' / 'bob.yaml'}: 4/6" in out and "layers.pool2.output_shape (carried forward)" in out
    assert "Class: 2 files, 2 graded, 0 unreadable; mean score 5/6" in out
    assert "padding-forgotten" in out


def test_an_unreadable_file_is_named_and_the_rest_graded(klass):
    (klass / "subs" / "eve.yaml").write_text("layers: {conv1: [96, 55\n")
    result = check(ALEXNET, "-a", str(klass / "subs" / "*.yaml"), "-f", "json")
    assert result.exit_code == 2  # exit 2 wins: a file could not be read
    assert f"{klass / 'subs' / 'eve.yaml'}:2:1: error: invalid YAML" in result.stderr
    report = json.loads(result.stdout)
    eve = next(r for r in report["results"] if r["file"].endswith("eve.yaml"))
    assert eve["score"] is None and "invalid YAML" in eve["error"]
    assert report["summary"]["graded"] == 5 and report["summary"]["unreadable"] == 1


def test_one_file_keeps_todays_json(klass):
    result = check(ALEXNET, "-a", str(klass / "subs" / "bob.yaml"), "-f", "json")
    report = json.loads(result.stdout)
    assert "results" not in report and report["name"] == "AlexNet (CS231n simplified)"
    answer = report["answers"][2]
    assert answer["expected"] == answer["given"] == [256, 23, 23]  # `expected` kept: the answer given
    assert answer["actual"] == answer["correct_value"] == [256, 27, 27]


def test_same_file_twice_is_graded_once_and_a_bad_glob_is_named(klass):
    bob = str(klass / "subs" / "bob.yaml")
    result = check(ALEXNET, "-a", bob, "-a", bob, "-a", str(klass / "nothing*.yaml"), "-f", "json")
    assert result.exit_code == 2 and "the pattern matches no files" in result.stderr
    files = [r["file"] for r in json.loads(result.stdout)["results"]]
    assert files[0] == bob and len(files) == 2 and files[1].endswith("nothing*.yaml")


def test_the_gradebook_never_overwrites_an_input(klass):
    bob = klass / "subs" / "bob.yaml"
    before = bob.read_text()
    result = check(ALEXNET, "-a", str(bob), "--gradebook", str(bob))
    assert result.exit_code == 2 and "it is the input" in result.stderr
    assert bob.read_text() == before


def test_the_gradebook_never_overwrites_a_file_a_recursive_glob_matched(klass, monkeypatch):
    # The reviewer's data loss: `**` expanded recursively for grading but not for the output guard, so
    # `-a 'subs/**/*.yaml' --gradebook subs/a/b/s1.yaml` passed the guard and replaced the student's file.
    monkeypatch.chdir(klass)
    deep = klass / "subs" / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "s1.yaml").write_text(SUBMISSIONS["alice"][0])
    before = (deep / "s1.yaml").read_bytes()
    result = check(ALEXNET, "-a", "subs/**/*.yaml", "--gradebook", "subs/a/b/s1.yaml")
    assert result.exit_code == 2 and "it is the input `subs/a/b/s1.yaml`" in result.stderr
    assert (deep / "s1.yaml").read_bytes() == before
    # check's only output option; the same through a link to the matched file
    (klass / "link.csv").symlink_to(deep / "s1.yaml")
    result = check(ALEXNET, "-a", "subs/**/*.yaml", "--gradebook", "link.csv")
    assert result.exit_code == 2 and "through a symbolic link" in result.stderr
    assert (deep / "s1.yaml").read_bytes() == before


def test_the_gradebook_never_overwrites_a_quiz_folders_spec_or_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["quiz", ALEXNET, "--variants", "1", "--seed", "1", "-o", "quiz"]).exit_code == 0
    (tmp_path / "sub.yaml").write_text((tmp_path / "quiz" / "variant-1" / "answers.yaml").read_text())
    for name in ("key.yaml", "spec.yaml", "problems.md", "answers.yaml"):  # review: the sheet was replaced
        target = tmp_path / "quiz" / "variant-1" / name
        before = target.read_bytes()
        result = check("quiz", "-a", "sub.yaml", "--gradebook", str(target))
        assert result.exit_code == 2 and "it is the input" in result.stderr, result.output
        assert target.read_bytes() == before


def test_check_and_validate_expand_a_pattern_to_the_same_files(tmp_path, monkeypatch):
    from cnncalc.checking.classroom import answer_files
    from cnncalc.validation import discover

    monkeypatch.chdir(tmp_path)
    for name in ("a.yaml", "x/b.yaml", "x/y/c.yaml", ".hidden/d.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("layers: {}\n")
    for pattern in ("**/*.yaml", "x/**/*.yaml", "*/*.yaml"):
        assert answer_files(expand_answers([pattern])) == discover([pattern]), pattern
    assert [str(p) for p in discover(["**/*.yaml"])] == ["a.yaml", "x/b.yaml", "x/y/c.yaml"]


def test_gradebook_cells_are_not_formulas(klass, monkeypatch):
    monkeypatch.chdir(klass)
    (klass / "=HYPERLINK(1).yaml").write_text(SUBMISSIONS["alice"][0])
    (klass / "+1.yaml").write_text(SUBMISSIONS["bob"][0])
    result = check(ALEXNET, "-a", "=HYPERLINK(1).yaml", "-a", "+1.yaml", "--gradebook", "grades.csv")
    assert result.exit_code == 1
    cells = [row[0] for row in csv.reader((klass / "grades.csv").open())][1:]
    assert cells == ["'=HYPERLINK(1).yaml", "'+1.yaml"]
    assert not list(klass.glob(".grades.csv*"))  # the temporary file was renamed over, not left behind


def test_control_characters_in_answers_are_escaped(klass):
    sub = klass / "subs" / "x.yaml"
    sub.write_text('layers:\n  "conv1\\e[31m": {params: 1}\n')
    result = check(ALEXNET, "-a", str(sub))
    assert "\x1b" not in result.output and "conv1\\x1b[31m" in result.output


def test_150_files_are_graded_in_a_few_seconds(klass):
    # issue 12: a shell loop took 85 s; one process, the spec analysed once.
    many = klass / "many"
    many.mkdir()
    for i in range(150):
        (many / f"s{i:03}.yaml").write_text(SUBMISSIONS["carol" if i % 2 else "bob"][0])
    start = time.perf_counter()
    result = check(ALEXNET, "-a", str(many / "*.yaml"), "--key", str(klass / "key.yaml"), "-f", "json")
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1 and len(json.loads(result.stdout)["results"]) == 150
    assert elapsed < 5, elapsed


def test_the_library_api_grades_without_the_cli(klass):
    analysis = analyze(load_spec(ALEXNET))
    rules = load_rules(klass / "key.yaml", "key.yaml", analysis)
    results = grade_all(Grader(analysis, rules), expand_answers([str(klass / "subs" / "frank.yaml")]))
    assert results[0].score == 5 and gradebook_rows(results)[1][1:3] == ["5", "7"]


def test_a_key_that_disagrees_with_cnncalc_is_refused(klass):
    key = klass / "bad_key.yaml"
    key.write_text("layers:\n  conv1: {params: 34848}\npoints: {layers.conv1.parms: 2}\n")
    result = check(ALEXNET, "-a", str(klass / "subs" / "bob.yaml"), "--key", str(key))
    assert result.exit_code == 2
    assert "Did you mean `layers.conv1.params`?" in result.stderr
    key.write_text("layers:\n  conv1: {params: 34848}\n")
    result = check(ALEXNET, "-a", str(klass / "subs" / "bob.yaml"), "--key", str(key))
    assert (
        result.exit_code == 2 and "the key says 34848 for `layers.conv1.params`, but cnncalc computes" in result.stderr
    )


def test_carry_forward_and_tolerance_flags(klass):
    result = check(ALEXNET, "-a", str(klass / "subs" / "bob.yaml"), "--key", str(klass / "key.yaml"),
                   "--carry-forward", "1", "-f", "json")  # fmt: skip
    assert json.loads(result.stdout)["score"] == 5  # both carried-forward answers now earn full points
    result = check(ALEXNET, "-a", str(klass / "subs" / "dave.yaml"), "--key", str(klass / "key.yaml"),
                   "--tolerance", "0.01", "-f", "json")  # fmt: skip
    assert json.loads(result.stdout)["score"] == 5  # 35K is within 1% of 34,944


def test_an_empty_submission_is_graded_not_passed(klass):
    empty = klass / "subs" / "empty.yaml"
    empty.write_text("# nothing yet\n")
    # without a key nothing says what was asked: unusable (QA: it printed an empty table, "0/0 right", exit 1)
    refused = check(ALEXNET, "-a", str(empty))
    assert refused.exit_code == 2 and refused.stderr.startswith(f"{empty}:1:1: error: the answers file is empty")
    # with a key every question is asked: the submission is graded, every answer missing
    result = check(ALEXNET, "-a", str(empty), "--key", str(klass / "key.yaml"), "-f", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["score"] == 0 and report["max_score"] == 7


def test_the_class_summary_is_the_same_on_every_run(klass):
    # Tied mistake counts were ordered by a set's iteration, which string hashing changes from process to process.
    args = ["-m", "cnncalc", "check", ALEXNET, "-a", str(klass / "subs" / "*.yaml"), "-f", "json"]
    runs = [
        subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}
        )
        for seed in ("1", "2", "3", "4")
    ]
    assert all(run.returncode == 1 for run in runs), runs[0].stderr  # bob and carol are wrong
    outputs = {run.stdout for run in runs}
    assert len(outputs) == 1
    mistakes = json.loads(outputs.pop())["summary"]["mistakes"]
    # carol's hwc-order comes before her bias-forgotten (answer order); each is made by one student
    assert list(mistakes).index("hwc-order") < list(mistakes).index("bias-forgotten")


# --- QA walk-through (files from /tmp/qa/ta, copied here) ----------------------------------------------------


@pytest.fixture(scope="module")
def quiz12(tmp_path_factory) -> Path:
    """A real quiz: 12 variants, s2026-v1..s2026-v12, so that text order (v1, v10, v11...) shows."""
    out = tmp_path_factory.mktemp("quiz12") / "quiz"
    made = runner.invoke(app, ["quiz", "alexnet_cs231n", "-n", "12", "--seed", "2026", "-o", str(out)])
    assert made.exit_code == 0, made.output
    return out


def test_every_error_of_a_quiz_class_starts_with_its_files_position(quiz12, tmp_path):
    # QA: two of these printed `error: the answers file ...` with no file name at all.
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "dave.yaml").write_text("# Answer key\nlayers:\n  conv1: {params: 34944}\n")  # no variant: line
    (subs / "eve.yaml").write_text("# Answer key\nvariant: s2026-v99\nparams: 1\n")  # no such variant
    (subs / "frank.yaml").write_text("layers:\n  conv1: {output_shape: [48, 55, 55]\n")  # unclosed bracket
    result = check(str(quiz12), "--answers", str(subs / "*.yaml"))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{subs / 'dave.yaml'}:1:1: error: the answers file has no `variant:` line; ")
    # the `variant:` line: line 2, its value at column 10
    assert lines[1].startswith(f"{subs / 'eve.yaml'}:2:10: error: the answers file names variant `s2026-v99`; ")
    assert lines[2].startswith(f"{subs / 'frank.yaml'}:")  # YAML's own problem, at its own position
    one = check(str(quiz12), "--answers", str(subs / "dave.yaml"))  # one file: the same line
    assert one.exit_code == 2 and one.stderr == lines[0] + "\n"


def test_the_variants_a_quiz_holds_are_listed_by_number(quiz12, tmp_path):
    # QA: sorted as text, 12 variants were listed `s2026-v1, s2026-v10, s2026-v11, s2026-v12, s2026-v2...`
    student = tmp_path / "s.yaml"
    student.write_text("variant: s2026-v99\nparams: 1\n")
    result = check(str(quiz12), "-a", str(student))
    assert result.exit_code == 2
    assert "holds variants s2026-v1, s2026-v2, s2026-v3, s2026-v4, s2026-v5 ... (12 in all).\n" in result.stderr


def test_an_empty_file_in_a_quiz_class_is_refused_as_empty(quiz12, tmp_path):
    empty = tmp_path / "blank.yaml"
    empty.write_text("")
    result = check(str(quiz12), "-a", str(empty))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{empty}:1:1: error: the answers file is empty")
    assert "the blank `answers.yaml` that `cnncalc quiz` writes" in result.stderr and "README" in result.stderr


def test_a_wrong_key_value_is_reported_at_its_own_position_only(klass):
    # QA (/tmp/qa/ta/badkey.yaml): `badkey.yaml:1:1: error: the key file cannot be used: badkey.yaml:2:47: ...`
    key = klass / "badkey.yaml"
    key.write_text("layers:\n  conv1: {output_shape: [96, 55, 55], params: 34000}\npoints: {default: 1}\n")
    result = check(ALEXNET, "--key", str(key), "-a", str(klass / "subs" / "alice.yaml"))
    assert result.exit_code == 2
    # 34,944 = (11*11*3)*96 + 96 (CS231n slides' conv1 plus its 96 biases)
    assert result.stderr == (
        f"{key}:2:47: error: the key file cannot be used: the key says 34000 for `layers.conv1.params`, "
        "but cnncalc computes 34944.\n"
    )


def test_each_problem_of_a_key_file_is_a_line_at_its_position(klass):
    key = klass / "key2.yaml"
    key.write_text("layers:\n  conv1: {params: }\npoints: {layers.conv1.parms: 2}\ntolerance: 3\n")
    result = check(ALEXNET, "--key", str(key), "-a", str(klass / "subs" / "alice.yaml"))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and str(key) not in lines[0][len(f"{key}:3:10:") :]  # one position per line
    assert lines[0].startswith(f"{key}:3:10: error: the key file cannot be used: `points` names `layers.conv1.parms`")
    assert lines[1].startswith(f"{key}:4:12: error: the key file cannot be used: `tolerance` is a fraction")


def test_a_quiz_of_three_variants_lists_all_three_without_an_ellipsis(tmp_path):
    # QA: "holds variants s2026-v1, s2026-v2, s2026-v3..." when those three were all there were.
    out = tmp_path / "quiz"
    assert runner.invoke(app, ["quiz", "alexnet_cs231n", "-n", "3", "--seed", "2026", "-o", str(out)]).exit_code == 0
    student = tmp_path / "s.yaml"
    student.write_text("variant: s2026-v9\nparams: 1\n")
    result = check(str(out), "-a", str(student))
    assert result.exit_code == 2 and "holds variants s2026-v1, s2026-v2, s2026-v3.\n" in result.stderr

"""`cnncalc quiz`: variants that load and tile exactly, reproducible from the seed, graded by their id.

The shipped alexnet_cs231n declares what varies (conv1/conv2/conv3 filter counts, fc6 width); its
structure is the slides' (seed 001): CONV1 is "96 11x11 filters applied at stride 4", 227x227x3 input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from typer.testing import CliRunner

from cnncalc.classroom.quiz import Variant, generate, key_text, parse_vary, problems_text, questions
from cnncalc.cli import app
from cnncalc.engine.propagate import analyze
from cnncalc.errors import SpecError
from cnncalc.spec.build import parse_spec
from tests.conftest import ROOT, SPECS

ALEXNET = SPECS / "alexnet_cs231n.yaml"
FILES = ("spec.yaml", "problems.md", "answers.yaml", "key.yaml")
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def quiz(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quiz") / "quiz"
    result = cli("quiz", "alexnet_cs231n", "--variants", "4", "--seed", "12", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_every_variant_folder_holds_the_four_files(quiz):
    assert sorted(p.name for p in quiz.iterdir()) == [f"variant-{k}" for k in range(1, 5)]
    for k in range(1, 5):
        assert sorted(p.name for p in (quiz / f"variant-{k}").iterdir()) == sorted(FILES)
        assert f"variant: s12-v{k}" in (quiz / f"variant-{k}" / "key.yaml").read_text()


def test_every_key_passes_check_and_every_blank_template_fails_each_question(quiz):
    for k in range(1, 5):
        folder = quiz / f"variant-{k}"
        own = cli("check", str(folder / "spec.yaml"), "--answers", str(folder / "key.yaml"))
        assert own.exit_code == 0, own.output
    result = cli("check", str(quiz), "-a", str(quiz / "*" / "key.yaml"), "-a", str(quiz / "*" / "answers.yaml"),
                 "-f", "json")  # fmt: skip
    assert result.exit_code == 1
    results = json.loads(result.stdout)["results"]
    keys, blanks = results[:4], results[4:]
    assert all(r["passed"] and r["score"] == r["max_score"] == 27 for r in keys)  # 27 questions on AlexNet
    for blank in blanks:
        assert blank["score"] == 0 and len(blank["answers"]) == 27
        assert {a["status"] for a in blank["answers"]} == {"unanswered"}


def test_variants_differ_tile_exactly_and_come_from_the_declared_choices():
    variants = generate(ALEXNET, "alexnet", 6, 5, {})
    assert len({v.spec_text for v in variants}) == 6
    assert len({tuple(sorted(v.choices.items())) for v in variants}) == 6
    for variant in variants:
        assert variant.analysis.warnings == []
        assert variant.choices["conv1.out_channels"] in (48, 64, 96)
        conv1 = variant.analysis.row("conv1")
        assert conv1.output_shape == (variant.choices["conv1.out_channels"], 55, 55)  # (227-11)/4+1 = 55


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path):
    for out, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert cli("quiz", str(ALEXNET), "-n", "3", "--seed", seed, "-o", str(tmp_path / out)).exit_code == 0
    text = {out: [(tmp_path / out / f"variant-{k}" / "spec.yaml").read_text() for k in (1, 2, 3)] for out in "abc"}
    assert text["a"] == text["b"]
    assert text["a"] != text["c"]


def test_the_problem_sheet_describes_the_network_as_the_slides(quiz):
    variant = generate(ALEXNET, "alexnet", 4, 12, {})[1]
    sheet = (quiz / "variant-2" / "problems.md").read_text()
    filters = variant.choices["conv1.out_channels"]
    assert "Input volume: 227x227x3" in sheet
    assert f"1. CONV1: {filters} 11x11 filters at stride 4, pad 0" in sheet
    assert "What is the output volume of CONV1? (`layers.conv1.output_shape`)" in sheet


def test_a_student_is_graded_against_the_variant_they_name(quiz, tmp_path):
    key = (quiz / "variant-3" / "key.yaml").read_text()
    variant = generate(ALEXNET, "alexnet", 4, 12, {})[2]
    right = variant.analysis.row("conv1").params
    # the same answers against another variant would be wrong: their conv1 filter counts differ
    student = tmp_path / "student.yaml"
    student.write_text(key.replace(f"params: {right}\n", f"params: {right + 1}\n", 1))
    result = cli("check", str(quiz), "-a", str(student), "-f", "json")
    assert result.exit_code == 1
    wrong = [a["key"] for a in json.loads(result.stdout)["answers"] if not a["correct"]]
    assert wrong == ["layers.conv1.params"]
    student.write_text("variant: s99-v1\nparams: 1\n")
    result = cli("check", str(quiz), "-a", str(student))
    assert result.exit_code == 2 and "names variant `s99-v1`" in result.stderr


def test_variation_on_the_command_line_and_exact_tiling(tmp_path):
    # 224 with AlexNet's stride-4 11x11 conv1: (224 - 11)/4 is not whole, so only 227 tiles exactly.
    result = cli("quiz", str(ALEXNET), "-n", "2", "-o", str(tmp_path / "q"), "--vary", "input_size=224,227",
                 "--vary", "conv1.out_channels=96")  # fmt: skip
    assert result.exit_code == 2 and "only 1 distinct variant of" in result.stderr
    result = cli("quiz", str(ALEXNET), "-n", "2", "-o", str(tmp_path / "q"), "--vary", "input_size=224,227",
                 "--vary", "conv1.out_channels=96", "--allow-inexact")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_bad_declarations_are_clear(tmp_path):
    with pytest.raises(SpecError, match="not TARGET=CHOICES"):
        parse_vary(["conv1.kernel_size"])
    with pytest.raises(SpecError, match=re.escape("Did you mean `conv1.out_channels`")):
        generate(ALEXNET, "alexnet", 1, 0, {"covn1.out_channels": [8]})
    plain = tmp_path / "plain.yaml"
    plain.write_text("input: [1, 8, 8]\nlayers:\n  - relu\n")
    result = cli("quiz", str(plain), "-n", "1", "-o", str(tmp_path / "q"))
    assert result.exit_code == 2 and "declares nothing to vary" in result.stderr
    assert "--vary input_size=CHOICES" in result.stderr  # it has no conv to suggest


def test_a_misspelt_argument_or_layer_is_named_with_what_exists(tmp_path):
    # QA: `--vary C1.kernel_sz=3,5` said "only 0 distinct variants"; `C9` got no suggestion, and the advice
    # for a spec declaring nothing named `conv1`, which LeNet-5 (C1, C3, C5) does not have.
    out = str(tmp_path / "q")
    result = cli("quiz", "lenet5", "-n", "2", "-o", out, "--vary", "C1.kernel_sz=3,5")
    assert result.exit_code == 2 and "`conv` has no argument `kernel_sz`. Did you mean `C1.kernel_size`?" in " ".join(
        result.stderr.split()
    )
    result = cli("quiz", "lenet5", "-n", "2", "-o", out, "--vary", "C9.kernel_size=3,5")
    assert result.exit_code == 2 and "Its layers: `C1`, `tanh1`, `S2`, `C3`" in result.stderr
    result = cli("quiz", "lenet5", "-n", "2", "-o", out)
    assert result.exit_code == 2 and "--vary C1.out_channels=CHOICES" in result.stderr
    assert not (tmp_path / "q").exists()


def test_the_output_never_overwrites_the_input_spec(quiz, tmp_path):
    spec = tmp_path / "variant-1" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text(ALEXNET.read_text())
    before = spec.read_text()
    result = cli("quiz", str(spec), "-n", "1", "-o", str(tmp_path))
    assert result.exit_code == 2 and "it is the input" in result.stderr
    assert spec.read_text() == before and not (tmp_path / "variant-1" / "key.yaml").exists()


def test_a_second_quiz_into_the_same_folder_is_refused_unless_replaced(tmp_path):
    # QA: 30 variants at seed 2026, then 2 at seed 1 into the same folder left s1-v1, s1-v2, s2026-v3..v30.
    out = tmp_path / "quiz"
    assert cli("quiz", "alexnet_cs231n", "-n", "3", "--seed", "2026", "-o", str(out)).exit_code == 0
    keys = {k: (out / f"variant-{k}" / "key.yaml").read_text() for k in (1, 2, 3)}
    refused = cli("quiz", "alexnet_cs231n", "-n", "2", "--seed", "1", "-o", str(out))
    assert refused.exit_code == 2 and "already holds a quiz (3 variants)" in refused.stderr
    assert "--replace" in refused.stderr
    assert {k: (out / f"variant-{k}" / "key.yaml").read_text() for k in (1, 2, 3)} == keys  # nothing touched
    replaced = cli("quiz", "alexnet_cs231n", "-n", "2", "--seed", "1", "-o", str(out), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert sorted(p.name for p in out.iterdir()) == ["variant-1", "variant-2"]  # variant-3 of the old quiz gone
    ids = {yaml.safe_load((out / f"variant-{k}" / "key.yaml").read_text())["variant"] for k in (1, 2)}
    assert all(str(i).startswith("s1-") for i in ids)


def test_replace_never_removes_the_spec_it_was_given(tmp_path):
    # Review: `quiz q1/variant-3/spec.yaml -o q1 -n 2 --replace` would have deleted its own input.
    out = tmp_path / "q1"
    assert cli("quiz", "alexnet_cs231n", "-n", "3", "-o", str(out)).exit_code == 0
    spec = out / "variant-3" / "spec.yaml"
    before = spec.read_text()
    keys = {k: (out / f"variant-{k}" / "key.yaml").read_text() for k in (1, 2)}
    result = cli("quiz", str(spec), "-n", "2", "-o", str(out), "--replace", "--vary", "conv1.out_channels=48,64")
    assert result.exit_code == 2 and "it is the input" in result.stderr, result.output
    assert spec.read_text() == before  # nothing removed, nothing written
    assert {k: (out / f"variant-{k}" / "key.yaml").read_text() for k in (1, 2)} == keys


CARRY = ROOT / "tests" / "data" / "carry_forward.yaml"  # its true figures are worked in the file's comments


def test_a_nested_argument_varies_and_the_key_follows_the_varied_table():
    # mix.1.q (a concat branch) with 12 filters instead of 6, on res's [8, 16, 16]: (3*3*8)*12 + 12 = 876
    # params; mix becomes [4 + 12, 16, 16], so d1's main conv has (3*3*16)*16 + 16 = 2,320 (was 1,456) and
    # its 1x1 proj 16*16 + 16 = 272 (was 176): the total 3,855 + 438 + 864 + 96 = 5,253
    (variant,) = generate(CARRY, "carry", 1, 0, {"mix.1.q.out_channels": [12]})
    table = analyze(parse_spec(variant.spec_text, "variant", "quiz"))
    key = yaml.safe_load(key_text(variant))
    assert key["layers"]["mix.1.q"] == {"output_shape": [12, 16, 16], "params": 876, "macs": 16 * 16 * 3 * 3 * 8 * 12}
    assert key["params"] == table.params == 5253
    assert table.row("mix").output_shape == (16, 16, 16)
    for name, answers in key["layers"].items():
        for quantity, value in answers.items():
            actual = getattr(table.row(name), quantity)
            assert (list(actual) if quantity == "output_shape" else actual) == value
    assert "   - MIX.1.Q: 12 3x3 filters at stride 1, pad 1" in problems_text(variant)


def test_a_layer_of_a_block_used_once_varies_and_check_knows_the_variant(tmp_path):
    # d1 is the only use of block `down`: both its paths at stride 1 keep 16x16, so side (a 1x1 conv on d1)
    # computes 16*16 * 16*16 = 65,536 MACs (16,384 at stride 2); (1, 2) and (2, 1) cannot be added: 2 variants
    vary = ["--vary", "d1.residual1.main.stride=1,2", "--vary", "d1.residual1.shortcut.proj.stride=1,2"]
    result = cli("quiz", str(CARRY), "-n", "2", "--seed", "7", "-o", str(tmp_path / "q"), *vary)
    assert result.exit_code == 0, result.output
    keys = {k: yaml.safe_load((tmp_path / "q" / f"variant-{k}" / "key.yaml").read_text()) for k in (1, 2)}
    assert sorted(key["layers"]["side"]["macs"] for key in keys.values()) == [16384, 65536]
    assert keys[1]["variant"] == "s7-v1" and "d1.residual1.main" in keys[1]["layers"]
    result = cli("check", str(tmp_path / "q"), "-a", str(tmp_path / "q" / "*" / "key.yaml"))
    assert result.exit_code == 0, result.output  # each key graded against its own variant's spec


def test_a_nested_name_that_is_no_layer_is_refused_where_it_is_written(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(CARRY.read_text() + "quiz:\n  vary:\n    mix.1.r.out_channels: [4, 8]\n")
    line = len(CARRY.read_text().splitlines()) + 3
    result = cli("quiz", str(spec), "-n", "1", "-o", str(tmp_path / "q"))
    assert result.exit_code == 2
    assert f"spec.yaml:{line}:5" in result.stderr and "Did you mean `mix.1.q.out_channels`" in result.stderr
    assert not (tmp_path / "q").exists()


def test_a_layer_written_once_for_several_is_refused():
    # tiny_resnet's repeat writes block `basic` once for repeat1.0 and repeat1.1: varying one would vary both
    with pytest.raises(SpecError, match=r"written once .* for 2 layers, with `repeat1\.1\.residual1\.conv1`"):
        generate(ROOT / "tests" / "data" / "tiny_resnet.yaml", "tiny", 1, 0, {"repeat1.0.residual1.conv1.stride": [2]})


EVERY_KIND = """
input: [3, 32, 32]
blocks:
  unit: {layers: [relu]}
layers:
  - conv: {out_channels: 8, kernel_size: [3, 5], stride: 2, padding: [1, 2]}
  - batchnorm
  - relu
  - lrn
  - maxpool: {kernel_size: 3, stride: 1, padding: 1}
  - avgpool: {kernel_size: 2}
  - minpool: {kernel_size: 1}
  - lppool: {kernel_size: 1}
  - conv_transpose: {out_channels: 4, kernel_size: 2, stride: 2}
  - residual: {body: [sigmoid]}
  - unit
  - dropout
  - flatten
  - fc: {out_features: 10}
"""


def test_each_kind_is_written_as_the_slides_write_it_and_asked_the_questions_its_class_names():
    # The wording is seed 001's ("96 11x11 filters at stride 4, pad 0", "3x3 max pooling at stride 2").
    variant = generate_one(EVERY_KIND)
    sheet = problems_text(variant).split("## Questions")[0]
    assert [line for line in sheet.splitlines() if line[:1].isdigit() or line.startswith("   -")] == [
        "1. CONV1: 8 3x5 filters at stride 2, pad 1x2",
        "2. BATCHNORM1: batch norm",
        "3. RELU1: ReLU",
        "4. LRN1: normalization (local response)",
        "5. MAXPOOL1: 3x3 max pooling at stride 1, pad 1",
        "6. AVGPOOL1: 2x2 avg pooling at stride 2",
        "7. MINPOOL1: 1x1 min pooling at stride 1",
        "8. LPPOOL1: lppool",
        "9. CONV_TRANSPOSE1: 4 2x2 filters at stride 2, pad 0",
        "10. RESIDUAL1: residual",
        "   - RESIDUAL1.SIGMOID1: sigmoid",
        "11. UNIT1: unit",
        "   - UNIT1.RELU1: ReLU",
        "12. DROPOUT1: dropout",
        "13. FLATTEN1: flatten to a vector",
        "14. LINEAR1: fully connected, 10 neurons",
    ]
    asked = [key for key, _, _ in questions(variant)]
    assert asked == [
        *("layers.conv1.output_shape", "layers.conv1.params", "layers.conv1.macs"),
        *("layers.maxpool1.output_shape", "layers.avgpool1.output_shape", "layers.minpool1.output_shape"),
        *("layers.flatten1.output_shape", "layers.linear1.output_shape", "layers.linear1.params"),
        *("output_shape", "params"),
    ]


def generate_one(text: str) -> Variant:
    return Variant(1, "v1", {}, text, analyze(parse_spec(text)))


def test_quiz_takes_max_file_size_as_every_spec_reading_command_does(tmp_path):
    # the README: `--max-file-size` on every command that reads a spec; LeNet-5's spec is over 1 kB
    result = CliRunner().invoke(app, ["quiz", "lenet5", "-n", "1", "-o", str(tmp_path / "q"), "--max-file-size", "1KB"])
    assert result.exit_code == 2 and "files over 1.0 kB are refused" in result.stderr
    assert not (tmp_path / "q").exists()


def test_the_grading_command_is_printed_on_a_line_of_its_own(tmp_path):
    # QA: wrapped with the prose before it, the command broke between its glob and `--gradebook`; pasted,
    # the first half graded without writing the gradebook.
    out = tmp_path / "q"
    result = cli("quiz", "alexnet_cs231n", "-n", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    *_, intro, command = result.stdout.splitlines()
    assert intro == "Grade with:"
    assert command == f"  cnncalc check {out} --answers 'SUBMISSIONS/*.yaml' --gradebook grades.csv"


HOSTILE_QUIZ = """\
name: "Q\\n::error::injected\\e[2J <img src=x>"
input: [3, 8, 8]
layers:
  - conv: {name: "@c1", out_channels: 4, kernel_size: 3}
  - conv: {name: "1e3", out_channels: 4, kernel_size: 1}
  - conv: {name: "null", out_channels: 4, kernel_size: 1}
quiz:
  vary: {"@c1.out_channels": [4, 8], "1e3.out_channels": [2, 4]}
"""


def test_a_quiz_of_hostile_names_writes_escaped_sheets_and_templates_that_load(tmp_path):
    # Security review: problems.md carried a raw ESC and a `::error::` line; answers.yaml had the key `@c1:`
    # (invalid YAML) and `null:` (read as no name); a layer named `1e3` was read back as a number.
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_QUIZ)
    out = tmp_path / "q"
    assert cli("quiz", str(spec), "-n", "2", "-o", str(out)).exit_code == 0
    for folder in sorted(out.iterdir()):
        sheet = (folder / "problems.md").read_text()
        assert "\x1b" not in sheet and not re.search(r"(?<!\\)<img", sheet) and "\\<img" in sheet
        assert not any(line.startswith("::") for line in sheet.splitlines())
        template = yaml.safe_load((folder / "answers.yaml").read_text())
        assert set(template["layers"]) == {"@c1", "1e3", "null"}  # each name as the text it is
        key = folder / "key.yaml"
        graded = cli("check", str(out), "--answers", str(key))
        assert graded.exit_code == 0 and "0 wrong" not in graded.stdout, graded.output

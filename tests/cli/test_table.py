"""`cnncalc table` end to end (CliRunner): formats, layout, --explain, --columns, --strict, errors, golden tables."""

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import DATA, ROOT

runner = CliRunner()
# A fixed width and no colour, so the printed table is the same on every machine.
ENV = {"COLUMNS": "120", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}


def table(*args: str, code: int = 0):
    result = runner.invoke(app, ["table", *args], env=ENV)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


# --- golden files: the whole printed table ------------------------------------------------------------


@pytest.mark.parametrize(
    ("golden_name", "args"),
    [
        ("table_alexnet_cs231n.txt", ["alexnet_cs231n"]),
        ("table_tiny_resnet.txt", [str(DATA / "tiny_resnet.yaml"), "--columns", "name,kind,input,output,params,macs"]),
        ("table_audio_1d_explain.txt", [str(DATA / "audio_1d.yaml"), "--explain"]),
    ],
)
def test_printed_table_matches_the_golden_file(golden, golden_name, args):
    golden(golden_name, table(*args).stdout)


def test_the_printed_rows_add_up_to_the_footer():
    out = table("alexnet_cs231n", "--columns", "name,params,macs").stdout
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    body, total = rows[:-1], rows[-1]
    assert total[0].strip() == "Total"
    for index in (1, 2):
        assert sum(int(r[index].strip().replace(",", "")) for r in body) == int(total[index].strip().replace(",", ""))


# --- formats ------------------------------------------------------------------------------------------


def test_json_report_on_the_lecture_alexnet():
    report = json.loads(table("alexnet_cs231n", "--format", "json").stdout)
    assert {"name", "input_shape", "output_shape", "totals", "layers", "warnings"} <= set(report)
    conv1 = report["layers"][0]
    # Seed 001: CONV1 gives [55x55x96] with (11*11*3)*96 weights (+ 96 biases); MACs = H2*W2*F^2*D1*D2.
    assert conv1 == conv1 | {
        "name": "conv1",
        "kind": "conv",
        "input_shape": [3, 227, 227],
        "output_shape": [96, 55, 55],
        "params": 34944,
        "macs": 105415200,
    }
    assert [layer["kind"] for layer in report["layers"] if layer["name"].startswith("fc")] == ["linear"] * 3
    assert sum(layer["params"] for layer in report["layers"]) == report["totals"]["params"]
    assert report["totals"]["flops"] == 2 * report["totals"]["macs"]
    assert report["warnings"] == []


def test_markdown_and_csv():
    markdown = table("alexnet_cs231n", "--format", "markdown").stdout
    assert markdown.splitlines()[2] == "| conv1 | conv | [96, 55, 55] | 34,944 | 105,415,200 |"
    rows = list(csv.DictReader(io.StringIO(table("alexnet_cs231n", "--format", "csv").stdout)))
    expected = {"name": "conv1", "kind": "conv", "output": "[96, 55, 55]", "params": "34944", "macs": "105415200"}
    assert rows[0] == expected


def test_layout_hwc_writes_volumes_as_the_slides():
    out = table("alexnet_cs231n", "--layout", "hwc").stdout
    # Seed 001: [55x55x96] CONV1, [27x27x96] MAX POOL1, [6x6x256] MAX POOL3.
    for volume in ("55x55x96", "27x27x96", "6x6x256", "227x227x3"):
        assert volume in out
    assert "[96, 55, 55]" not in out


def test_explain_shows_the_worked_formulas():
    out = table("alexnet_cs231n", "--explain").stdout
    # Seed 001's hint for CONV1: (227 - 11)/4 + 1 = 55; its parameters (11x11x3)x96 (+ 96 biases).
    assert "H = floor((227 - 11 + 2*0) / 4) + 1 = 55" in out
    assert "params = (11*11*3)*96 + 96 = 34,944" in out
    # Seed 001's POOL1: (55 - 3)/2 + 1 = 27.
    assert "H = floor((55 - 3 + 2*0) / 2) + 1 = 27" in out


def test_columns_choose_what_is_shown():
    out = table("alexnet_cs231n", "--columns", "name,output,flops").stdout
    header = next(line for line in out.splitlines() if "Layer" in line)
    assert "Output shape" in header and "FLOPs" in header and "Params" not in header and "Kind" not in header
    # conv1 FLOPs = 2 * 105,415,200.
    assert "210,830,400" in out


def test_unknown_column_suggests():
    result = table("alexnet_cs231n", "--columns", "name,parms", code=2)
    assert "unknown column `parms`" in result.stderr and "Did you mean `params`?" in result.stderr


# --- several specs in one run (issue 14) ---------------------------------------------------------------


def test_several_specs_print_each_table_and_the_flops_note_once_after_the_last():
    both = table("alexnet_cs231n", str(DATA / "tiny_resnet.yaml")).stdout
    first, second = table("alexnet_cs231n").stdout, table(str(DATA / "tiny_resnet.yaml")).stdout
    note = "FLOPs = 2 x MACs"
    assert both.count(note) == 1 and both.rstrip().endswith(second.rstrip().splitlines()[-1])
    # Each table is the one its spec prints alone (the first without the note, which closes the run).
    assert first[: first.index(note)] in both and second in both
    assert both.index(first.splitlines()[0]) < both.index(second.splitlines()[0])


def test_several_specs_in_json_csv_and_markdown_are_each_specs_own_report():
    specs = ["alexnet_cs231n", str(DATA / "tiny_resnet.yaml")]
    alone = [json.loads(table(spec, "--format", "json").stdout) for spec in specs]
    assert json.loads(table(*specs, "--format", "json").stdout) == alone  # a list, as `verify` prints
    sheet = list(csv.DictReader(io.StringIO(table(*specs, "--format", "csv").stdout)))
    assert {row["spec"] for row in sheet} == {report["name"] for report in alone}
    for spec, report in zip(specs, alone):
        rows = [{k: v for k, v in row.items() if k != "spec"} for row in sheet if row["spec"] == report["name"]]
        single = list(csv.DictReader(io.StringIO(table(spec, "--format", "csv").stdout)))
        assert rows == single
    markdown = table(*specs, "--format", "markdown").stdout
    assert [line for line in markdown.splitlines() if line.startswith("### ")] == [
        f"### {report['name']} (input {report['input_shape']})" for report in alone
    ]


def test_standard_input_is_read_once():
    result = runner.invoke(app, ["table", "-", "-"], input="input: [3, 8, 8]\nlayers: [relu]\n", env=ENV)
    assert result.exit_code == 2 and "standard input (`-`) can be read once" in result.stderr
    assert "Traceback" not in result.output


# --- strict, paths, errors ----------------------------------------------------------------------------


def test_untiled_stride_warns_and_strict_makes_it_an_error():
    path = str(DATA / "untiled.yaml")
    result = table(path)
    # The warning names the layer's place in the file (line 5 holds the conv), like every message; it goes to
    # stderr, so stdout holds the table only (issue 14).
    # Piped, the warning is one whole line (rich broke it at 80 columns, mid-sentence).
    assert result.stderr.splitlines() == [
        f"{path}:5:5: warning: conv1: the stride does not tile the input; H: (224 + 0 - 3) / 2 = 110.5 is not whole, "
        "so the last 1 input row is never read; W: (224 + 0 - 3) / 2 = 110.5 is not whole, so the last 1 input "
        "column is never read."
    ]
    assert "warning" not in result.stdout
    for format in ("markdown", "csv", "json"):  # the text formats' warnings went nowhere but JSON's list
        other = table(path, "--format", format)
        assert other.stderr == result.stderr and "warning:" not in other.stdout
    result = table(path, "--strict", code=2)
    # The error names the conv's line in the file as the user wrote the path.
    assert result.stderr.startswith(f"{path}:5:5: error: conv1: the stride does not tile the input")
    assert result.stdout == ""


def test_strict_passes_a_spec_that_tiles():
    table("alexnet_cs231n", "--strict")
    table(str(DATA / "tiny_resnet.yaml"), "--strict")


def test_unknown_spec_name_suggests_a_shipped_one():
    result = table("alexnet_cs23", code=2)
    assert "`alexnet_cs23` is neither a file nor a shipped spec" in result.stderr
    assert "Did you mean `alexnet_cs231n`?" in result.stderr


def test_a_spec_file_path_works_and_a_bad_one_is_positioned(tmp_path):
    out = table(str(DATA / "audio_1d.yaml")).stdout
    # Conv1d(1, 32, 80, stride 16) on 8000: (8000 - 80)//16 + 1 = 496.
    assert "[32, 496]" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernal_size: 3}\n", encoding="utf-8")
    result = table(str(bad), code=2)
    assert result.stderr.startswith(f"{bad}:3:29: error:")
    assert "Did you mean `kernel_size`?" in result.stderr
    missing = table(str(tmp_path / "nope.yaml"), code=2)
    assert "no such file" in missing.stderr


# --- start-up: no heavy imports -----------------------------------------------------------------------

NO_HEAVY_IMPORTS = """
import sys
import typer
typer_loads_rich = "rich.console" in sys.modules  # typer before 0.29 imports it itself
from cnncalc.cli.app import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
# email, socket and importlib.metadata came with pydantic's plugin loader; typer._adapters with the pydantic
# TypeAdapters recent typer builds per option (issue 14's start-up costs).
HEAVY = ("numpy", "matplotlib", "torch", "onnx", "email", "socket", "importlib.metadata", "typer._adapters")
if "json" in sys.argv and not typer_loads_rich:  # rich only for rich output
    HEAVY += ("rich.console",)
heavy = [m for m in HEAVY if m in sys.modules]
assert not heavy, f"`cnncalc {' '.join(sys.argv[1:])}` imported {heavy}"
"""


@pytest.mark.parametrize(
    "args",
    [["table", "alexnet_cs231n"], ["table", "resnet50", "--format", "json"], ["table", "alexnet_cs231n", "--explain"]],
)
def test_table_does_not_import_numpy(args):
    # Guards the start-up target (benchmarks/startup.py): numpy alone costs ~0.1 s to import.
    result = subprocess.run(
        [sys.executable, "-c", NO_HEAVY_IMPORTS, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_layout_hwc_also_applies_to_the_summary_line():
    # untiled.yaml ends in a volume: relu after Conv2d(3, 8, 3, stride 2) on 224 gives 111x111x8.
    out = table(str(DATA / "untiled.yaml"), "--layout", "hwc").stdout
    assert "Output 111x111x8 |" in out
    assert "[8, 111, 111]" not in out


@pytest.mark.parametrize("shape, meant", [([32, 32, 3], [3, 32, 32]), ([224, 224, 1], [1, 224, 224])])
def test_a_channels_last_input_is_warned_about(tmp_path, shape, meant):
    # issue 12: CS231n writes CIFAR as 32x32x3; cnncalc would read 32 channels of 32x3 without a word.
    spec = tmp_path / "hwc.yaml"
    spec.write_text(f"input: {shape}\nlayers:\n  - relu\n")
    result = runner.invoke(app, ["table", str(spec), "--format", "json"])
    assert result.exit_code == 0
    assert f"cnncalc is channels-first; did you mean {meant}?" in result.stderr
    assert json.loads(result.stdout)["input_shape"] == shape  # stdout stays clean JSON


def test_no_shipped_spec_looks_channels_last():
    from cnncalc.spec.build import load_spec
    from cnncalc.spec.messages import channels_last_hint

    for path in sorted((ROOT / "specs").glob("*.yaml")):
        assert channels_last_hint(load_spec(path).input_shape) is None, path.name


def test_shortcut_rows_are_named_apart_from_the_body():
    # ResNet-18's first stride-2 block: the body's conv1 and the shortcut's projection conv must read differently.
    result = runner.invoke(app, ["table", "resnet18"])
    lines = [line for line in result.output.splitlines() if "layer2" in line or "shortcut" in line]
    assert any("shortcut.conv " in line for line in lines), lines


def test_units_human_shows_torchinfo_style_counts_and_csv_stays_exact():
    # torchvision's model table: ResNet-50 has 25.6M params and 4.09 GFLOPS (multiply-adds, our MACs).
    result = runner.invoke(app, ["table", "resnet50", "--units", "human"])
    assert result.exit_code == 0
    total = next(line for line in result.output.splitlines() if line.startswith("│ Total"))
    assert "25.6M" in total and "4.09G" in total
    assert "params 25.6M" in result.output and "25,557,032" not in result.output
    csv_text = runner.invoke(app, ["table", "resnet50", "--units", "human", "-f", "csv", "--columns", "name,params"])
    assert "conv1,9408" in csv_text.output  # machines read exact integers

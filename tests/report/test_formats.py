"""Report renderers: the JSON contract's keys, markdown and CSV rows that add up to their totals, shapes."""

import csv
import io
import json

import pytest

from cnncalc import analyze, load_spec
from cnncalc.report.columns import DEFAULT_COLUMNS, format_shape
from cnncalc.report.json_report import analysis_dict, render_json
from cnncalc.report.text_formats import render_csv, render_markdown
from tests.conftest import DATA, SPECS

SPEC_FILES = [SPECS / "alexnet_cs231n.yaml", DATA / "tiny_resnet.yaml", DATA / "audio_1d.yaml"]


@pytest.fixture(params=SPEC_FILES, ids=lambda p: p.stem)
def analysis(request):
    return analyze(load_spec(request.param))


def test_format_shape_chw_and_cs231n_hwc():
    assert format_shape((96, 55, 55)) == "[96, 55, 55]"
    assert format_shape((96, 55, 55), "hwc") == "55x55x96"  # seed 001 writes volumes as [55x55x96]
    assert format_shape((32, 496), "hwc") == "496x32"
    assert format_shape((4096,), "hwc") == "[4096]"  # a vector has no spatial order


def test_json_has_the_contract_keys_and_types(analysis):
    report = json.loads(render_json(analysis))
    assert {"name", "input_shape", "output_shape", "totals", "layers", "warnings"} <= set(report)
    assert {"params", "trainable_params", "macs", "flops"} <= set(report["totals"])
    assert all(isinstance(report["totals"][k], int) for k in ("params", "trainable_params", "macs", "flops"))
    assert report["input_shape"] == list(analysis.spec.input_shape)
    assert report["output_shape"] == list(analysis.output_shape)
    assert isinstance(report["warnings"], list)
    for layer in report["layers"]:
        assert {"name", "kind", "input_shape", "output_shape", "params", "macs"} <= set(layer)
        assert isinstance(layer["output_shape"], list) and isinstance(layer["params"], int)


def test_json_layers_are_the_leaves_in_order_and_add_up_to_the_totals(analysis):
    report = analysis_dict(analysis)
    assert [layer["name"] for layer in report["layers"]] == [row.name for row in analysis.leaves]
    assert sum(layer["params"] for layer in report["layers"]) == report["totals"]["params"]
    assert sum(layer["macs"] for layer in report["layers"]) == report["totals"]["macs"]
    assert report["totals"]["flops"] == 2 * report["totals"]["macs"]
    # Each layer's input is the previous layer's output, except inside branches.
    assert report["layers"][0]["input_shape"] == report["input_shape"]
    assert report["layers"][-1]["output_shape"] == report["output_shape"]


def test_json_kinds_are_canonical():
    report = analysis_dict(analyze(load_spec(DATA / "tiny_resnet.yaml")))
    kinds = {layer["name"]: layer["kind"] for layer in report["layers"]}
    assert kinds["linear1"] == "linear"  # written `fc` in the spec
    assert set(kinds.values()) <= {"conv", "batchnorm", "relu", "global_avgpool", "flatten", "linear"}


def test_json_residual_body_comes_before_its_shortcut():
    names = [layer["name"] for layer in analysis_dict(analyze(load_spec(DATA / "tiny_resnet.yaml")))["layers"]]
    assert names.index("down1.residual1.batchnorm1") < names.index("down1.residual1.shortcut")


def test_markdown_rows_add_up_to_the_total_row(analysis):
    lines = render_markdown(analysis, list(DEFAULT_COLUMNS)).splitlines()
    assert lines[0] == "| Layer | Kind | Output shape | Params | MACs |"
    assert lines[1] == "|---|---|---|---:|---:|"
    body, total = lines[2:-1], lines[-1]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in body]
    assert [c[0] for c in cells] == [row.name for row in analysis.leaves]
    total_cells = [c.strip() for c in total.strip("|").split("|")]
    assert total_cells[0] == "**Total**"
    for index in (3, 4):
        assert sum(int(c[index].replace(",", "")) for c in cells) == int(total_cells[index].replace(",", ""))


def test_csv_has_raw_numbers_that_add_up(analysis):
    rows = list(csv.DictReader(io.StringIO(render_csv(analysis, ["name", "kind", "output", "params", "macs"]))))
    assert len(rows) == len(analysis.leaves)
    assert sum(int(r["params"]) for r in rows) == analysis.params  # no thousands separators
    assert sum(int(r["macs"]) for r in rows) == analysis.macs


def test_csv_and_markdown_respect_the_layout():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    rows = list(csv.DictReader(io.StringIO(render_csv(analysis, ["name", "output"], "hwc"))))
    assert rows[0] == {"name": "conv1", "output": "55x55x96"}
    assert "| conv1 | 55x55x96 |" in render_markdown(analysis, ["name", "output"], "hwc")


def test_markdown_cells_are_text_not_markup():
    # Security review: in a PR comment a layer named `<img src=...>` rendered an image and `[x](http://...)` a
    # link; `a\|b` lost its backslash. A shape's brackets stay as they are.
    from cnncalc.shown import shown_markdown
    from cnncalc.spec.build import parse_spec

    assert shown_markdown("<img src='http://evil/x'>") == "\\<img src='http://evil/x'\\>"
    assert shown_markdown("[click](http://evil)") == "[click\\](http://evil)"
    assert shown_markdown("a\\|b") == "a\\\\\\|b" and shown_markdown("[6, 28, 28]") == "[6, 28, 28]"
    spec = parse_spec('input: [1, 4, 4]\nlayers:\n  - relu: {name: "<img src=x>"}\n', "md.yaml")
    text = render_markdown(analyze(spec), list(DEFAULT_COLUMNS))
    assert "\\<img src=x\\>" in text and "| [1, 4, 4] |" in text

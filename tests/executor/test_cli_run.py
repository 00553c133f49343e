"""`cnncalc run`: every layer's values as matrices, or JSON as in the spec-language contract."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import SPECS

runner = CliRunner()


def test_run_json_matches_the_contract_example():
    # shared/spec-language.md, last section: conv1 -> [1, 3, 3], values [[[4, 3, 4], [2, 4, 3], [2, 3, 4]]]
    # (the seed 004 worked example).
    result = runner.invoke(app, ["run", str(SPECS / "seed_004_conv5x5.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["layers"] == [
        {"name": "conv1", "kind": "conv", "output_shape": [1, 3, 3], "values": [[[4, 3, 4], [2, 4, 3], [2, 3, 4]]]}
    ]


def test_run_table_shows_each_channel_as_integers():
    # Seed 000: feature map 1 [[54,26],[100,56],[36,50]], map 2 [[-1,-3],[12,-13],[5,6]], then [54 100 50 -1 12 6].
    result = runner.invoke(app, ["run", str(SPECS / "seed_000_two_filters.yaml")])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["100", "56"] in lines and ["12", "-13"] in lines
    assert ["54", "100", "50", "-1", "12", "6"] in lines
    assert "54.0" not in result.output


def test_run_shows_fractions_and_summarises_big_tensors():
    result = runner.invoke(app, ["run", str(SPECS / "seed_003_pooling.yaml")])
    assert ["9.5", "4.75"] in [line.split() for line in result.output.splitlines()]  # mean of 4, 8, 16, 10
    result = runner.invoke(app, ["run", str(SPECS / "lenet5.yaml")])
    assert result.exit_code == 0, result.output
    assert "random input (seed 0)" in result.stderr and "random input" not in result.stdout  # a note, not values
    assert "min" in result.output and "std" in result.output


def test_run_prints_every_number_whole_in_a_terminal_and_piped():
    # QA: at 80 columns rich cut LeNet-5's 10 outputs to `-0.60…`; piped, lines were broken at 80 columns.
    import io

    import numpy as np
    from rich.console import Console

    from cnncalc.report.values import render_layer

    values = np.array([0.6399, 0.3786, -0.169, -0.6002, 0.005083, -0.7469, 0.6623, 0.2201, -0.2774, 0.4654])
    out = io.StringIO()
    render_layer(Console(file=out, width=40, color_system=None), "output", "linear", values)
    lines = out.getvalue().splitlines()[1:]
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)  # continued on the next lines, as NumPy does
    assert " ".join(lines).split() == ["0.6399", "0.3786", "-0.169", "-0.6002", "0.005083", "-0.7469", "0.6623",
                                       "0.2201", "-0.2774", "0.4654"]  # fmt: skip
    piped = runner.invoke(app, ["run", str(SPECS / "lenet5.yaml")]).stdout
    assert "…" not in piped and len(piped.splitlines()[-1].split()) == 10  # not a terminal: one line each


def test_run_exits_2_on_a_missing_file(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output

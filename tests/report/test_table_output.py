"""report/table_output.py: what `cnncalc table` prints, called as a library."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.engine.propagate import analyze
from cnncalc.errors import SpecError
from cnncalc.report.table_output import TableOptions, parse_columns, render_text, views
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS


def _analyses(*names: str):
    return [analyze(load_spec(SPECS / f"{name}.yaml")) for name in names]


@pytest.mark.parametrize("format", ["csv", "markdown", "json"])
def test_the_text_formats_are_what_the_command_prints(format):
    options = TableOptions(parse_columns("name,output,params,rf,act_bytes"), dtype="float16", batch=2)
    args = ["table", str(SPECS / "lenet5.yaml"), str(SPECS / "resnet18.yaml"), "-f", format]
    args += ["--columns", "name,output,params,rf,act_bytes", "--dtype", "float16", "--batch", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == render_text(_analyses("lenet5", "resnet18"), format, options)


def test_only_the_figures_shown_are_computed():
    (plain,) = views(_analyses("lenet5"), TableOptions(parse_columns(None)))
    assert plain.fields is None and plain.estimate is None
    (rf,) = views(_analyses("lenet5"), TableOptions(parse_columns("name,rf")))
    assert rf.fields is not None and rf.estimate is None
    (by_size,) = views(_analyses("lenet5"), TableOptions(parse_columns(None), sort="activations"))
    assert by_size.estimate is not None  # sorting by activations needs the memory figures
    # LeNet-5's C1 gives 6x28x28 = 4,704 values, the most of any layer (tests/reference/lenet5.json's shapes)
    assert by_size.analysis.leaves[0].name == "C1"


def test_an_unknown_column_names_the_closest():
    with pytest.raises(SpecError) as error:
        parse_columns("name,parms")
    assert "unknown column `parms`" in error.value.render() and "`params`" in error.value.render()

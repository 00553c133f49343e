"""The terminal table fits its width (issue 14): names give way, numbers never do."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cnncalc import analyze, load_spec
from cnncalc.cli import app
from cnncalc.report.table import ellipsized, fitted_name, render_table
from tests.conftest import SPECS

WIDE = ["name", "kind", "input", "output", "params", "macs", "flops", "rf", "activations"]


def rendered(spec_name: str, columns: list[str], width: int | None) -> list[str]:
    analysis = analyze(load_spec(SPECS / f"{spec_name}.yaml"))
    if "rf" in columns:
        from cnncalc.engine import receptive_field

        receptive_field.annotate(analysis)
    if "activations" in columns:
        from cnncalc.engine import memory

        memory.annotate(analysis)
    out = io.StringIO()
    Console(file=out, width=width or 500, color_system=None).print(
        render_table(analysis, columns, "chw", False, width), crop=False
    )
    return out.getvalue().splitlines()


@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.yaml")))
@pytest.mark.parametrize("columns", [["name", "kind", "output", "params", "macs"], WIDE], ids=["default", "wide"])
def test_every_shipped_table_fits_80_columns_with_whole_numbers(name, columns):
    lines = rendered(name, columns, 80)
    assert max(len(line) for line in lines) <= 80
    total = analyze(load_spec(SPECS / f"{name}.yaml")).params
    assert any(f"{total:,}" in line for line in lines if line.startswith("│ Total")), "the params total is whole"


def test_unet_names_are_shortened_but_unrolled_without_a_width():
    # U-Net nests its levels 12 deep: at 80 columns the indentation gives way first; without a width
    # (piped output, --wide) every row keeps its full indentation and the table is wider than 80.
    narrow = rendered("unet", ["name", "kind", "output", "params", "macs"], 80)
    full = rendered("unet", ["name", "kind", "output", "params", "macs"], None)
    assert max(len(line) for line in full) > 80
    assert sum(line.startswith("│") for line in narrow) == sum(line.startswith("│") for line in full)


def test_more_columns_than_fit_continue_in_a_second_grid():
    lines = rendered("resnet50", WIDE, 80)
    assert sum(line.startswith("┏") for line in lines) == 2
    assert any("(continued)" in line for line in lines)


def test_ellipsis_keeps_both_ends_of_a_dotted_name():
    assert ellipsized("layer3.5.res.conv2", 11) == "layer…conv2"
    assert ellipsized("short", 11) == "short"
    assert len(ellipsized("深い層の名前です", 7)) <= 7  # wide characters take two cells each


def test_a_name_too_long_for_its_column_keeps_some_of_its_indentation():
    # QA: EfficientNet's `1.global_avgpool1`, 5 levels deep in an SE gate, came out flush left at 80
    # columns, reading as a top-level layer; in 14 cells it keeps 4 of its 5 spaces, the name 10 cells.
    assert fitted_name("     1.global_avgpool1", 14) == "    1.glo…ool1"
    assert fitted_name("  fits", 12) == "  fits"
    assert fitted_name("     twelve_cells", 12) == "twelve_cells"  # just fits alone: the indentation goes


def test_piped_output_keeps_full_names():
    result = CliRunner().invoke(app, ["table", "unet"])
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) > 80  # not a terminal: nothing shortened


def test_the_kind_column_gives_way_before_the_names():
    # EfficientNet-B0 at 80 columns: the 16-cell kind `stochastic_depth` shortens to 12 cells, so the
    # layer names beside it (`stochastic_depth1`, 17 cells, 4 levels deep) stay whole.
    lines = rendered("efficientnet_b0", ["name", "kind", "output", "params", "macs"], 80)
    rows = [line.split("│") for line in lines if line.startswith("│")]
    assert any(cells[1].strip() == "stochastic_depth1" and cells[2].strip() == "stocha…depth" for cells in rows)
    assert not any("…" in cells[1] for cells in rows if "stochastic_depth" in cells[2] or "…" in cells[2])

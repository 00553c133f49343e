"""`cnncalc plot`: params and MACs per layer as bars (matplotlib extra)."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()


@pytest.mark.parametrize("extra", [[], ["--log"]])
def test_cost_chart_png(tmp_path, extra):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cost.png"
    result = runner.invoke(app, ["plot", "alexnet_cs231n", "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_cost_chart_names_the_layers_with_cost(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cost.svg"  # matplotlib's SVG keeps the tick labels as text
    result = runner.invoke(app, ["plot", "alexnet_cs231n", "-o", str(out)])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    # conv1..conv5 and fc6..fc8 carry parameters; pools and ReLUs do not and get no bar.
    assert "conv1" in svg and "fc8" in svg
    assert "relu1" not in svg and "pool1" not in svg


def test_missing_matplotlib_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(app, ["plot", "alexnet_cs231n", "-o", str(tmp_path / "cost.png")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        'error: this command needs matplotlib; install it with: pip install "cnncalc[plot]"'
    ]


def test_depth_gives_one_bar_per_stage(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cost.svg"
    result = runner.invoke(app, ["plot", "resnet50", "-o", str(out), "--depth", "0"])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    # The four stages of torchvision resnet50 each get one bar; their inner convs do not.
    assert all(f"layer{i}" in svg for i in range(1, 5))
    assert "layer1.0" not in svg


def test_names_the_font_lacks_give_no_warnings_on_stderr(tmp_path):
    pytest.importorskip("matplotlib")
    spec = tmp_path / "cjk.yaml"  # DejaVu Sans, matplotlib's default font, has no CJK glyphs
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {name: 卷积层, out_channels: 4, kernel_size: 3}\n", "utf-8")
    for command in ("plot", "draw"):
        out = tmp_path / f"{command}.png"
        run = [sys.executable, "-m", "cnncalc", command, str(spec), "-o", str(out)]
        result = subprocess.run(run, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and out.exists(), result.stderr
        assert "Warning" not in result.stderr, result.stderr


def test_bad_output_names_are_one_clear_error(tmp_path):
    pytest.importorskip("matplotlib")
    missing = tmp_path / "missing" / "cost.png"
    for out, message in (
        (missing, f"error: cannot write `{missing}` (No such file or directory).\n"),
        (
            tmp_path / "cost.txt",
            f"error: cannot write the plot to `{tmp_path / 'cost.txt'}`. Use a .png, .pdf or .svg file name.\n",
        ),
    ):
        result = runner.invoke(app, ["plot", "lenet5", "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.stderr == message

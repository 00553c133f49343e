"""`cnncalc plot`: params and MACs per layer as bars (matplotlib extra)."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc import analyze, parse_spec
from cnncalc.cli import app
from cnncalc.cli.common import load

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


def test_counts_read_in_k_m_g():
    from cnncalc.report.plot import human

    # ResNet-50's totals as torchvision publishes them: 25.6M params, 4.09 G(multiply-adds).
    assert human(25_557_032) == "25.6M" and human(4_089_184_256) == "4.09G"
    assert human(34_944) == "34.9K" and human(0) == "0"  # AlexNet conv1's params (the lecture's CS231n slide)


def test_resnet50_chart_has_m_g_axes_and_a_title_clear_of_the_panels():
    pytest.importorskip("matplotlib")
    from cnncalc.report.plot import cost_figure

    fig = cost_figure(analyze(load("resnet50")))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax_params, ax_macs = fig.axes
    title = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:  # the issue: the figure title overlapped the panel titles
        assert not title.overlaps(ax.title.get_window_extent(renderer))
        assert ax.xaxis.get_offset_text().get_text() == ""  # no `1e8` offset
    ticks = [t.get_text() for t in ax_macs.get_xticklabels() if t.get_text()]
    assert ticks and all(t == "0" or t[-1] in "KMG" for t in ticks), ticks
    # torchvision: ResNet-50 has 25,557,032 params and 4.09 GFLOPS (multiply-adds).
    assert ax_params.get_title() == "Parameters: 25.6M" and ax_macs.get_title().startswith("MACs: 4.09G")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_a_log_chart_has_room_for_its_labels_and_k_m_axes():
    # QA: with --log the ticks read 10^3..10^7 and EfficientNet's largest MACs label, 20.1M, ran off the image.
    pytest.importorskip("matplotlib")
    from cnncalc.report.plot import cost_figure, tick_text

    assert [tick_text(v) for v in (1e3, 1e4, 1e5, 2.5e6, 0)] == ["1K", "10K", "100K", "2.5M", "0"]
    fig = cost_figure(analyze(load("efficientnet_b0")), log_scale=True, skip_zero_macs=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert ticks and all(t[-1] in "KMG" or t.isdigit() for t in ticks), ticks
        frame = ax.get_window_extent(renderer)
        labels = [t.get_window_extent(renderer) for t in ax.texts]
        assert labels and all(label.x1 <= frame.x1 for label in labels)  # every value label inside its panel
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_skip_zero_macs_leaves_out_batchnorm(tmp_path):
    pytest.importorskip("matplotlib")
    from cnncalc.report.plot import cost_rows

    analysis = analyze(load("resnet50"))
    # torchvision resnet50: 53 convs and 1 fc carry MACs; the 53 batchnorms have params but no MACs.
    assert len(cost_rows(analysis, skip_zero_macs=True)) == 54 and len(cost_rows(analysis)) == 107
    out = tmp_path / "cost.svg"
    result = runner.invoke(app, ["plot", "resnet50", "-o", str(out), "--skip-zero-macs"])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert "layer1.0.res.conv1" in svg and "layer1.0.res.bn1" not in svg


def test_names_matplotlib_would_misread_are_drawn_as_written(tmp_path):
    pytest.importorskip("matplotlib")
    from cnncalc.report.plot import cost_figure

    spec = parse_spec(
        'name: "from $5 to $6"\ninput: [3, 8, 8]\n'
        'layers:\n  - conv: {name: "c\\x07", out_channels: 4, kernel_size: 3}\n'
    )
    fig = cost_figure(analyze(spec))
    fig.canvas.draw()
    # Unescaped, matplotlib would set `5 to ` as a mathtext formula, in italics, without the dollars.
    assert fig._suptitle.get_text().startswith(r"from \$5 to \$6: cost per layer")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [r"c\x07"]  # the control character escaped


def test_an_output_that_is_the_spec_is_refused(tmp_path):
    pytest.importorskip("matplotlib")
    spec = tmp_path / "net.png"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n")
    before = spec.read_bytes()
    result = runner.invoke(app, ["plot", str(spec), "-o", str(spec)])
    assert result.exit_code == 2 and "it is the input" in result.stderr
    assert spec.read_bytes() == before

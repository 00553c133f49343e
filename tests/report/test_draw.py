"""`cnncalc draw`: the network as boxes; SVG written by hand, PNG through matplotlib."""

import sys
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from cnncalc import analyze, parse_spec
from cnncalc.cli import app
from cnncalc.report.draw import Node, layout, shape_text, size_px

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"


def draw(*args: str) -> None:
    result = runner.invoke(app, ["draw", *args])
    assert result.exit_code == 0, result.output


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()  # also proves the SVG is well-formed XML
    return [element.text for element in root.iter(f"{SVG}text")]


def test_alexnet_svg_labels_every_volume_as_the_slides_do(tmp_path):
    out = tmp_path / "alexnet.svg"
    draw("alexnet_cs231n", "-o", str(out))
    texts = svg_texts(out)
    # The slide's volumes: [55x55x96] CONV1, [27x27x96] POOL1, ..., [6x6x256] POOL3, FC 4096 / 4096 / 1000.
    for name, volume in [("conv1", "55x55x96"), ("pool1", "27x27x96"), ("conv5", "13x13x256"), ("pool3", "6x6x256")]:
        assert texts[texts.index(name) + 1] == volume
    assert texts.count("4096") == 2 and "1000" in texts
    # Activations and LRN keep the volume and are not drawn.
    assert "relu1" not in texts and "norm1" not in texts


def test_resnet18_draws_one_merge_per_basic_block(tmp_path):
    out = tmp_path / "resnet18.svg"
    draw("resnet18", "-o", str(out))
    root = ET.parse(out).getroot()
    # torchvision resnet18: 4 stages x 2 BasicBlocks, each ending in an addition.
    assert len(list(root.iter(f"{SVG}circle"))) == 8
    texts = svg_texts(out)
    assert "layer2.0.res" in texts and "shortcut.conv" in texts


def test_depth_draws_blocks_as_single_boxes(tmp_path):
    out = tmp_path / "resnet50.svg"
    draw("resnet50", "-o", str(out), "--depth", "0")
    texts = svg_texts(out)
    assert [t for t in texts if t.startswith("layer")] == ["layer1", "layer2", "layer3", "layer4"]
    # The stages' outputs (torchvision resnet50): 56x56x256, 28x28x512, 14x14x1024, 7x7x2048.
    assert [texts[texts.index(f"layer{i}") + 1] for i in range(1, 5)] == [
        "56x56x256",
        "28x28x512",
        "14x14x1024",
        "7x7x2048",
    ]
    assert len(list(ET.parse(out).getroot().iter(f"{SVG}circle"))) == 0


def test_concat_paths_are_stacked_and_merged():
    analysis = analyze(
        parse_spec(
            """
input: [8, 16, 16]
layers:
  - concat:
      branches:
        - [conv: {name: a, out_channels: 4, kernel_size: 1}]
        - [conv: {name: b, out_channels: 4, kernel_size: 3, padding: 1}]
        - []
"""
        )
    )
    picture = layout(analysis)
    assert [s.symbol for s in picture.shapes if isinstance(s, Node)] == ["C"]
    labels = {s.text: s for s in picture.shapes if hasattr(s, "text")}
    # Names are relative to the concat (`<branch>.<layer>`); branch 1 sits below branch 0, at the same x.
    assert labels["1.b"].y > labels["0.a"].y and labels["1.b"].x == labels["0.a"].x


def test_long_networks_wrap_onto_more_lines():
    analysis = analyze(
        parse_spec("input: [3, 32, 32]\nlayers:\n" + "  - conv: {out_channels: 8, kernel_size: 3}\n" * 12)
    )
    narrow, wide = layout(analysis, max_width=400), layout(analysis, max_width=5000)
    assert narrow.height > 2 * wide.height and narrow.width <= 400 + 60


def test_sizes_are_log_scaled_and_shapes_read_hwc():
    assert size_px(227) < 2 * size_px(13)  # 227 vs 13 pixels: a 17x ratio drawn under 2x
    assert shape_text((96, 55, 55)) == "55x55x96" and shape_text((4096,)) == "4096"


def test_png_through_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "resnet18.png"
    draw("resnet18", "-o", str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_missing_matplotlib_is_one_line_and_exit_2_but_svg_still_works(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    result = runner.invoke(app, ["draw", "alexnet_cs231n", "-o", str(tmp_path / "net.png")])
    assert result.exit_code == 2
    assert 'pip install "cnncalc[plot]"' in result.output
    assert "Traceback" not in result.output
    draw("alexnet_cs231n", "-o", str(tmp_path / "net.svg"))


def test_unknown_picture_format_is_exit_2(tmp_path):
    result = runner.invoke(app, ["draw", "alexnet_cs231n", "-o", str(tmp_path / "net.gif")])
    assert result.exit_code == 2
    assert ".svg, .png or .pdf" in result.output


def test_a_folder_that_does_not_exist_is_one_clear_error(tmp_path):
    out = tmp_path / "missing" / "net.svg"
    result = runner.invoke(app, ["draw", "lenet5", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr == f"error: cannot write `{out}` (No such file or directory).\n"

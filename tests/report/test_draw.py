"""`cnncalc draw`: the network's graph as boxes; SVG written by hand, PNG through matplotlib."""

import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc import analyze, parse_spec
from cnncalc.cli import app
from cnncalc.cli.common import load
from cnncalc.layers import Merge
from cnncalc.report.draw import MAX_LABEL, Label, Node, build_units, layout, shape_text, short_name, size_px, to_svg

runner = CliRunner()
SVG = "{http://www.w3.org/2000/svg}"
FPN = str(Path(__file__).parent.parent / "data" / "fpn.yaml")


def draw(*args: str) -> None:
    result = runner.invoke(app, ["draw", *args])
    assert result.exit_code == 0, result.output


def svg_root(path) -> ET.Element:
    return ET.parse(path).getroot()  # also proves the SVG is well-formed XML


def texts(root: ET.Element, legend: bool = False) -> list[str]:
    """The text elements outside the legend (or only the legend's)."""
    group = root.find(f"{SVG}g[@id='legend']")
    assert group is not None, "every picture has a legend"
    inside = {id(e) for e in group.iter(f"{SVG}text")}
    return [e.text or "" for e in root.iter(f"{SVG}text") if (id(e) in inside) == legend]


def edges(root: ET.Element) -> list[tuple[str, str]]:
    """The (from, to) of every arrow that draws a graph edge, read from its tooltip."""
    found = []
    for line in root.iter(f"{SVG}polyline"):
        if line.get("class") == "edge":
            assert line.get("marker-end") == "url(#arrow)"
            title = line.find(f"{SVG}title")
            assert title is not None and title.text
            source, target = title.text.split(" → ")
            found.append((source, target))
    return found


def merges(root: ET.Element) -> list[tuple[str, float, float]]:
    """(symbol, cx, cy) of every merge node drawn (the legend's sample left out)."""
    out = []
    for group in root.findall(f"{SVG}g"):
        if group.get("class") == "merge":
            circle, text = group.find(f"{SVG}circle"), group.find(f"{SVG}text")
            assert circle is not None and text is not None
            out.append((text.text or "", float(circle.get("cx", 0)), float(circle.get("cy", 0))))
    return out


def render(spec: str, tmp_path, *args: str) -> ET.Element:
    out = tmp_path / "net.svg"
    draw(spec, "-o", str(out), *args)
    return svg_root(out)


# --- the slides' look ---


def test_alexnet_svg_labels_every_volume_as_the_slides_do(tmp_path):
    found = texts(render("alexnet_cs231n", tmp_path))
    # The slide's volumes: [55x55x96] CONV1, [27x27x96] POOL1, ..., [6x6x256] POOL3, FC 4096 / 4096 / 1000.
    for name, volume in [("conv1", "55x55x96"), ("pool1", "27x27x96"), ("conv5", "13x13x256"), ("pool3", "6x6x256")]:
        assert found[found.index(name) + 1] == volume
    assert found.count("4096") == 2 and "1000" in found
    # Kernel and stride as the slide writes them: CONV1 96 11x11 filters at stride 4; POOL1 3x3 at stride 2.
    assert found[found.index("conv1") + 2] == "11x11 s4" and found[found.index("pool1") + 2] == "3x3 s2"
    # Activations and LRN keep the volume and are not drawn.
    assert "relu1" not in found and "norm1" not in found


def test_sizes_are_log_scaled_and_shapes_read_hwc():
    assert size_px(227) < 2 * size_px(13)  # 227 vs 13 pixels: a 17x ratio drawn under 2x
    assert shape_text((96, 55, 55)) == "55x55x96" and shape_text((4096,)) == "4096"


def test_labels_are_short_names_not_internal_paths(tmp_path):
    root = render("unet", tmp_path, "--width", "1200")
    found = texts(root)
    # U-Net's deepest layer is `level1.cat.1.level2.cat.1.level3.cat.1.level4.cat.1.bottom.conv1` (specs/unet.yaml).
    assert not [t for t in found if "level1.cat" in t]
    names = [e.text or "" for e in root.iter(f"{SVG}text") if e.get("font-weight") == "bold"]
    assert names and all(len(name) <= MAX_LABEL for name in names[1:])  # [0] is the picture's title
    assert "down" in found and "up" in found and "2x2 s2" in found  # milesial Down/Up: 2x2 pool, 2x2 s2 transpose
    # The full path is kept where it does not crowd the picture: the box's tooltip.
    tips = [e.text or "" for e in root.iter(f"{SVG}title")]
    assert any(t.startswith("level1.cat.1.level2.cat.1.level3.cat.1.level4.cat.1.bottom.conv1 ") for t in tips)


def test_short_names_keep_a_parent_when_the_last_part_says_nothing():
    assert short_name("layer1.0.res.conv1", "conv") == "conv1"
    assert short_name("inception3a.branch.0.conv", "conv") == "branch.0.conv"  # `conv` of a conv, `0` a branch
    assert short_name("a.very_long_layer_name_indeed") == "very_lo…e_indeed"  # MAX_LABEL = 16 characters


# --- the graph: merges, references, several outputs ---


@pytest.mark.parametrize(
    ("spec", "symbol", "count"),
    [
        ("resnet18", "+", 8),  # torchvision resnet18: 4 stages x 2 BasicBlocks, each ending in an addition
        ("googlenet", "C", 9),  # Szegedy et al. 2015, table 1: inception 3a-3b, 4a-4e, 5a-5b
        ("unet", "C", 4),  # Ronneberger et al. 2015: four up-steps, each concatenating its skip
        ("densenet121", "C", 58),  # torchvision densenet121: 6 + 12 + 24 + 16 dense layers
        (FPN, "+", 2),  # tests/data/fpn.yaml: p4 and p3
    ],
)
def test_one_merge_symbol_per_merge_node_with_an_arrow_from_every_input(tmp_path, spec, symbol, count):
    root = render(spec, tmp_path)
    nodes = merges(root)
    assert [s for s, _, _ in nodes] == [symbol] * count
    # Every arrow into a merge ends on its circle, and every input has one.
    analysis = analyze(load(spec))
    assert sum(isinstance(node.op, Merge) for node in analysis.graph.nodes) == count
    units, _ = build_units(analysis, None)
    inputs_of = {u.name: len(u.inputs) for u in units if u.symbol}
    ends: dict[tuple[float, float], int] = {}
    for line in root.iter(f"{SVG}polyline"):
        if line.get("class") == "edge":
            x, y = map(float, line.get("points", "").split()[-1].split(","))
            for _, cx, cy in nodes:
                if math.hypot(x - cx, y - cy) <= 9.5:
                    ends[(cx, cy)] = ends.get((cx, cy), 0) + 1
    assert sorted(ends.values()) == sorted(inputs_of.values())
    assert all(n >= 2 for n in inputs_of.values())


@pytest.mark.parametrize("spec", ["resnet18", "googlenet", "unet", "densenet121", FPN])
def test_an_arrow_for_every_graph_edge(tmp_path, spec):
    drawn = edges(render(spec, tmp_path, "--width", "900"))
    assert len(drawn) == len(set(drawn))
    analysis = analyze(load(spec))
    units, of_node = build_units(analysis, None)
    expected = set()
    for node in analysis.graph.nodes:  # every edge between two different boxes (an activation is its producer's box)
        for i in node.inputs:
            if of_node[i] != of_node[node.index]:
                expected.add((units[of_node[i]].name, units[of_node[node.index]].name))
    assert set(drawn) == expected


def test_the_fpn_looks_like_an_fpn(tmp_path):
    root = render(FPN, tmp_path)
    # tests/data/fpn.yaml by hand: the backbone, two laterals read by name, the top-down path, 13 arrows
    # (16 graph edges less the 3 from a conv into its ReLU, drawn as one box).
    assert sorted(edges(root)) == sorted(
        [
            ("input", "stem"),
            ("stem", "c3"),
            ("c3", "c4"),
            ("c4", "c5"),
            ("c5", "p5"),
            ("p5", "up5"),
            ("c4", "lat4"),
            ("lat4", "p4"),
            ("up5", "p4"),
            ("p4", "up4"),
            ("c3", "lat3"),
            ("lat3", "p3"),
            ("up4", "p3"),
        ]
    )
    found = texts(root)
    assert found.count("output") == 3  # p3, p4 and p5, each tagged
    picture = layout(analyze(load(FPN)))
    labels = {s.text: s for s in picture.shapes if isinstance(s, Label)}
    # Each lateral sits below the chain, in the column just before the add it feeds (beside the upsample).
    for lateral, upsample in (("lat4", "up5"), ("lat3", "up4")):
        assert labels[lateral].y > labels[upsample].y and labels[lateral].x == labels[upsample].x
    assert "outputs: p3 16x16x32, p4 8x8x32, p5 4x4x32" in picture.title


def test_concat_branches_are_lanes_below_the_chain():
    analysis = analyze(
        parse_spec(
            """
input: [8, 16, 16]
layers:
  - concat:
      branches:
        - [conv: {name: a, out_channels: 4, kernel_size: 1}]
        - [conv: {name: b, out_channels: 4, kernel_size: 3, padding: 1}]
        - [maxpool: {name: c, kernel_size: 3, stride: 1, padding: 1}, conv: {name: d, out_channels: 4, kernel_size: 1}]
        - []
"""
        )
    )
    picture = layout(analysis)
    assert [s.symbol for s in picture.shapes if isinstance(s, Node)] == ["C"]
    labels = {s.text: s for s in picture.shapes if isinstance(s, Label)}
    # The longest branch (c, d) is the main line; a and b share c's column, each on its own lane below.
    assert labels["c"].y < labels["a"].y < labels["b"].y
    assert labels["a"].x == labels["b"].x == labels["c"].x and labels["d"].x > labels["c"].x


def test_depth_draws_blocks_as_single_boxes(tmp_path):
    root = render("resnet50", tmp_path, "--depth", "0")
    found = texts(root)
    assert [t for t in found if t.startswith("layer")] == ["layer1", "layer2", "layer3", "layer4"]
    # The stages' outputs (torchvision resnet50): 56x56x256, 28x28x512, 14x14x1024, 7x7x2048.
    assert [found[found.index(f"layer{i}") + 1] for i in range(1, 5)] == [
        "56x56x256",
        "28x28x512",
        "14x14x1024",
        "7x7x2048",
    ]
    assert merges(root) == []


# --- fitting the width ---


@pytest.mark.parametrize("spec", ["unet", "densenet121", "googlenet", "resnet50", FPN])
@pytest.mark.parametrize("width", [300, 800, 1500])
def test_the_picture_fits_the_width_asked_for(tmp_path, spec, width):
    root = render(spec, tmp_path, "--width", str(width))
    svg_width, svg_height = float(root.get("width", 0)), float(root.get("height", 0))
    assert svg_width == width  # asked for: the picture's width (QA: --width 1000 gave 972 px)
    for element in root.iter():
        if element.tag in (f"{SVG}polygon", f"{SVG}polyline"):
            for point in element.get("points", "").split():
                x, y = map(float, point.split(","))
                assert 0 <= x <= svg_width and 0 <= y <= svg_height, (spec, element.tag, x, y)
        elif element.tag == f"{SVG}text" and element.get("text-anchor") == "start":
            assert float(element.get("x", 0)) < svg_width


def test_without_a_width_the_picture_is_as_wide_as_the_network_needs(tmp_path):
    lenet = render("lenet5", tmp_path)
    unet = render("unet", tmp_path)
    assert float(lenet.get("width", 0)) < float(unet.get("width", 0)) <= 1500  # the default's most


def test_a_png_is_as_many_pixels_wide_as_asked(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "unet.png"
    result = CliRunner().invoke(app, ["draw", "unet", "-o", str(out), "--width", "1000"])
    assert result.exit_code == 0, result.output
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1000  # IHDR width (PNG spec, section 11.2.2)


def test_long_networks_wrap_onto_more_lines():
    analysis = analyze(
        parse_spec("input: [3, 32, 32]\nlayers:\n" + "  - conv: {out_channels: 8, kernel_size: 3}\n" * 12)
    )
    narrow, wide = layout(analysis, max_width=400), layout(analysis, max_width=5000)
    assert narrow.height > 2 * wide.height and narrow.width <= 400


def test_a_wrap_keeps_a_residual_block_on_one_line(tmp_path):
    # At 1200 px ResNet-18 needs three lines; no shortcut is cut by a wrap (no "to X" / "from X" stubs).
    found = texts(render("resnet18", tmp_path, "--width", "1200"))
    assert not [t for t in found if t.startswith(("to ", "from "))]


def test_a_skip_that_crosses_a_wrap_is_a_labelled_stub_and_an_arrow(tmp_path):
    root = render("unet", tmp_path, "--width", "1200")
    found = texts(root)
    stubs_out = [t for t in found if t.startswith("to ")]
    stubs_in = [t for t in found if t.startswith("from ")]
    assert stubs_out and len(stubs_out) == len(stubs_in)
    # milesial Up: the level-1 skip is the 64-channel 256x256 encoder output, concatenated to 128 channels.
    assert "from conv2 256x256x64" in stubs_in and "to cat 256x256x128" in stubs_out
    assert "to X / from X: an arrow continued on another line" in texts(root, legend=True)


# --- the legend ---


def test_the_legend_names_what_is_drawn(tmp_path):
    legend = texts(render("googlenet", tmp_path), legend=True)
    for entry in ("conv", "pooling", "linear", "channel concat", "output"):
        assert entry in legend
    assert "sum (add, residual)" not in legend  # GoogLeNet has no addition
    assert "sum (add, residual)" in texts(render(FPN, tmp_path), legend=True)


# --- untrusted text ---


def test_any_layer_name_gives_well_formed_xml(tmp_path):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(
        'name: "net <&> \\x01"\n'
        "input: [3, 16, 16]\n"
        "layers:\n"
        '  - conv: {name: "a<b>&c\\"d\'e", out_channels: 4, kernel_size: 3}\n'
        '  - conv: {name: "b\\x07\\x1b[1m", out_channels: 4, kernel_size: 3}\n'
        '  - conv: {name: "]]><!--", out_channels: 4, kernel_size: 3, from: "a<b>&c\\"d\'e"}\n'
        '  - add: {name: "::warning", from: ["]]><!--", "b\\x07\\x1b[1m"]}\n',
        encoding="utf-8",
    )
    out = tmp_path / "hostile.svg"
    draw(str(spec), "-o", str(out))
    text = out.read_text(encoding="utf-8")
    root = svg_root(out)
    assert not [c for c in text if ord(c) < 32 and c not in "\n"]  # XML 1.0 cannot hold them even escaped
    found = texts(root)
    assert "a<b>&c\"d'e" in found and "]]><!--" in found
    assert "b\\x07\\x1b[1m" in found  # escaped visibly, as every other output format does
    assert any(t.startswith("net <&> \\x01") for t in (e.text or "" for e in root.iter(f"{SVG}title")))
    assert not [line for line in text.splitlines() if line.startswith("::")]


# --- files ---


def test_png_through_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "resnet18.png"
    draw("resnet18", "-o", str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert [p.name for p in tmp_path.iterdir()] == ["resnet18.png"]  # no temporary file left behind


def test_svg_is_the_text_to_svg_gives_and_is_written_whole(tmp_path):
    out = tmp_path / "fpn.svg"
    out.write_text("old picture")
    draw(FPN, "-o", str(out))
    assert out.read_text(encoding="utf-8") == to_svg(layout(analyze(load(FPN))))
    assert [p.name for p in tmp_path.iterdir()] == ["fpn.svg"]


def test_a_picture_gets_the_mode_a_plain_write_gives(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        draw(FPN, "-o", str(tmp_path / "fpn.svg"))
    finally:
        os.umask(umask)
    assert (tmp_path / "fpn.svg").stat().st_mode & 0o777 == 0o644  # not the temporary file's private 0600


def test_an_output_that_is_the_spec_is_refused(tmp_path):
    spec = tmp_path / "net.svg"  # a spec file may have any name
    spec.write_text(Path(FPN).read_text(encoding="utf-8"), encoding="utf-8")
    before = spec.read_bytes()
    result = runner.invoke(app, ["draw", str(spec), "-o", str(spec)])
    assert result.exit_code == 2, result.output
    assert "it is the input" in result.stderr
    assert spec.read_bytes() == before


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

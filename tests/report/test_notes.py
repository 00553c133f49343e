"""report/notes.py: the text of the receptive-field and memory figures, from the engine's numbers."""

from __future__ import annotations

from cnncalc.engine import memory, receptive_field
from cnncalc.engine.propagate import analyze
from cnncalc.report.notes import format_dims, format_size, mb, memory_footer
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS


def test_dims_read_once_when_they_agree():
    # CS231n's AlexNet conv5 sees 163x163 pixels (tests/engine/test_receptive_field.py, the lecture's figure).
    fields = receptive_field.annotate(analyze(load_spec(SPECS / "alexnet_cs231n.yaml")))
    assert format_dims(fields.by_name["conv5"].size) == "163"
    assert format_dims((1, 3)) == "1x3" and format_dims(()) == "-" and format_dims(None) == "n/a"
    assert format_dims((7.5, 7.5)) == "7.5"  # a centre between two pixels


def test_a_global_field_says_all():
    # a linear layer sees the whole input: its field is the input's extent, marked (all)
    fields = receptive_field.annotate(analyze(load_spec(SPECS / "lenet5.yaml")))
    last = list(fields.by_name.values())[-1]
    assert last.status == "global" and format_size(last) == f"{format_dims(last.size)} (all)"


def test_megabytes_are_torchinfos_ten_to_the_sixth():
    assert (
        mb(177_830_000) == "177.83 MB" and mb(999) == "999 B" and mb(1500) == "1.50 kB" and mb(2 * 10**9) == "2.00 GB"
    )


def test_the_footer_gives_torchinfos_figure_for_resnet50():
    # torchinfo's published "Forward/backward pass size" for torchvision resnet50 at 1x3x224x224: 177.83 MB.
    estimate = memory.annotate(analyze(load_spec(SPECS / "resnet50.yaml")))
    line = memory_footer(estimate)
    assert line.startswith("Memory (float32, batch 1): input 602.11 kB | params ")  # 3*224*224*4 bytes
    assert "torchinfo's forward/backward pass size 177.83 MB" in line

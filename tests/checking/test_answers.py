"""Reading answers leniently: the slides' notations, rounded numbers, and a reason for what cannot be read."""

from __future__ import annotations

import pytest

from cnncalc.checking.answers import parse_count, parse_shape, read_sheet
from cnncalc.spec.yaml_source import parse_yaml


@pytest.mark.parametrize(
    ("written", "value", "rounded"),
    [
        (34944, 34944, False),
        ("34,944", 34944, False),
        ("34_944", 34944, False),
        ("35K", 35000, True),  # the slides' "35K" for conv1's 34,944 weights
        ("1.13M", 1130000, True),
        (2.3e9, 2300000000, True),
        ("2.3e9", 2300000000, True),
        ("62.4 m", 62400000, True),
        ("lots", None, False),
        (True, None, False),
    ],
)
def test_counts(written, value, rounded):
    assert parse_count(written) == (value, rounded)


@pytest.mark.parametrize(
    ("written", "shape"),
    [([96, 55, 55], (96, 55, 55)), ("96x55x55", (96, 55, 55)), ("55 × 55 × 96", (55, 55, 96)), (9216, (9216,)),
     ("[96, 55, 55]", (96, 55, 55)), ("big", None), ([96, 0, 55], None), ([True], None)],
)  # fmt: skip
def test_shapes(written, shape):
    assert parse_shape(written)[0] == shape


def sheet(text: str, layout: str = "chw"):
    return read_sheet(parse_yaml(text, "a.yaml"), "a.yaml", layout)


def test_layout_hwc_reads_the_slides_order_into_channels_first():
    read = sheet("layout: hwc\nlayers:\n  conv1: {output_shape: 55x55x96}\n")
    (given,) = read.givens
    assert read.layout == "hwc" and given.value == (96, 55, 55) and given.written == [55, 55, 96]
    assert sheet("layers:\n  conv1: {output_shape: 55x55x96}\n", layout="hwc").givens[0].value == (96, 55, 55)


def test_every_problem_is_kept_in_file_order_with_its_position():
    read = sheet("params: many\nvariant: 7\nlayers:\n  conv1: 3\n  pool1: {shape: [1]}\nlayout: sideways\n")
    assert read.variant == "7"
    assert [(g.key, str(g.position)) for g in read.givens] == [
        ("params", "a.yaml:1:9"),
        ("layers.conv1", "a.yaml:4:10"),
        ("layers.pool1.shape", "a.yaml:5:11"),
    ]
    assert "Did you mean `output_shape`?" in read.givens[2].problem
    assert read.notes == ["a.yaml:6:9: `layout` is chw or hwc; read as chw."]


def test_blank_answers_are_unanswered_not_unreadable():
    (given,) = sheet("layers:\n  conv1:\n    params:\n").givens
    assert given.blank and given.problem is None

"""`$name` substitution in blocks: whole references keep their type, expressions are integer arithmetic."""

import pytest

from cnncalc.errors import Position, SpecError
from cnncalc.spec.substitute import substitute
from cnncalc.spec.yaml_source import parse_yaml

POS = Position("t.yaml", 1, 1)


def sub(text: str, env: dict | None):
    return substitute(parse_yaml(text, "t.yaml"), env, POS, "b")


@pytest.mark.parametrize(
    ("written", "env", "value"),
    [
        ("$width", {"width": 64}, 64),
        ("$width * 4", {"width": 64}, 256),  # the contract's example
        ("$c // 2 + 1", {"c": 7}, 4),
        ("($k - 1) * $d + 1", {"k": 3, "d": 2}, 5),  # an effective kernel
        ("$c / 2", {"c": 8}, 4),  # a whole quotient stays an int
        ("$c / 4", {"c": 6}, 1.5),
        ("-$p", {"p": 1}, -1),
        ("$c % 3", {"c": 8}, 2),
    ],
)
def test_references_and_arithmetic(written, env, value):
    got = sub(f"a: {written}\n", env)["a"]
    assert got == value and type(got) is type(value)


def test_a_whole_reference_keeps_the_arguments_type():
    got = sub("k: $k\nb: $flag\n", {"k": [3, 5], "flag": False})
    assert got == {"k": [3, 5], "b": False}


def test_substitution_reaches_nested_lists_and_mappings_and_keeps_positions():
    got = sub("layers:\n  - conv: {out_channels: $w, padding: [[0, $p], [0, $p]]}\n", {"w": 8, "p": 1})
    conv = got["layers"][0]["conv"]
    assert conv == {"out_channels": 8, "padding": [[0, 1], [0, 1]]}
    assert conv.value_pos["out_channels"] == Position("t.yaml", 2, 26)


def test_text_without_a_reference_is_left_alone():
    assert sub("p: same\n", {"w": 1}) == {"p": "same"}


@pytest.mark.parametrize(
    ("written", "env", "gist"),
    [
        ("$w * 2", None, "not inside a block definition"),
        ("$x", {"w": 1}, "`$x` is not an argument of block `b` (its arguments: $w)"),
        ("$w ** 2", {"w": 3}, "cannot evaluate"),  # powers are not offered: a typo could explode
        ("$w // 0", {"w": 3}, "cannot evaluate"),
        ("__import__('os') or $w", {"w": 3}, "cannot evaluate"),
        ("$w * 2", {"w": "wide"}, "cannot evaluate"),
    ],
)
def test_errors_name_the_value_and_its_position(written, env, gist):
    with pytest.raises(SpecError) as info:
        sub(f"a: {written}\n", env)
    assert gist in info.value.message
    assert info.value.position == Position("t.yaml", 1, 4)

"""`$name` substitution: whole references keep their type; expressions (arithmetic, comparisons, conditionals and
the contract's functions) are evaluated safely."""

import pytest

from cnncalc.errors import Position, SpecError
from cnncalc.spec.substitute import Env, make_divisible, substitute
from cnncalc.spec.yaml_source import parse_yaml

POS = Position("t.yaml", 1, 1)


def sub(text: str, env: dict | None):
    scope = Env({}, None) if env is None else Env(env, "b")
    return substitute(parse_yaml(text, "t.yaml"), scope, POS)


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
        # Version 2: comparisons, and/or/not, conditionals, functions (Python's semantics).
        ('"$s == 1 and $c == $o"', {"s": 1, "c": 4, "o": 4}, True),
        ('"$s != 1 or not $se"', {"s": 1, "se": True}, False),
        ('"$w if $s > 1 else $c"', {"w": 3, "s": 2, "c": 9}, 3),
        ('"min($a, $b) + max($a, $b)"', {"a": 2, "b": 5}, 7),
        ("round($x)", {"x": 2.5}, 2),  # Python rounds half to even
        ("floor($x) + ceil($x)", {"x": 2.5}, 5),
        ("$p * 2", {"p": 0.1}, 0.2),  # a float where the argument takes one (dropout p)
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
        ("$flag + 1", {"flag": True}, "cannot evaluate"),  # a boolean is never a number
        ('"$w and $s == 1"', {"w": 3, "s": 1}, "cannot evaluate"),  # no truthiness
        ('"$w if $w else 1"', {"w": 3}, "cannot evaluate"),
        ("open($w)", {"w": 3}, "cannot evaluate"),
        ("$w * 10000000000 * 10000000000 * 10000000000", {"w": 3}, "far beyond any size"),
        ("$in_channels * 2", None, "outside every block"),
        # CI's fuzzing: a letter after the name made Python read `widthé`, a name no argument has (KeyError)
        ("$wé", {"w": 1}, "`$wé` is not an argument of block `b`"),
        ('"$w· + 1"', {"w": 1}, "`$w·` is no argument here"),  # U+00B7 continues a Python name, not \\w
    ],
)
def test_errors_name_the_value_and_its_position(written, env, gist):
    with pytest.raises(SpecError) as info:
        sub(f"a: {written}\n", env)
    assert gist in info.value.message
    assert info.value.position == Position("t.yaml", 1, 4)


@pytest.mark.parametrize(
    ("args", "value"),
    [
        # torchvision/models/_utils.py `_make_divisible`, worked by hand: round to the nearest multiple,
        # at least the divisor, and never more than 10% below the value.
        ((32 * 1.0, 8), 32),
        ((16 * 0.75, 8), 16),  # 12 + 4 = 16 -> 16
        ((10, 8), 16),  # 14 // 8 * 8 = 8 is below 0.9 * 10, so one divisor more
        ((3, 8), 8),  # at least min_value = divisor
        ((100, 8, 64), 104),
    ],
)
def test_make_divisible_is_torchvisions(args, value):
    assert make_divisible(*args) == value
    rest = "".join(f", {a}" for a in args[1:])
    assert sub(f'a: "make_divisible($v{rest})"\n', {"v": args[0]})["a"] == value

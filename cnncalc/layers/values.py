"""Concrete numbers given in a spec (`weights`, `bias_values`, `input: {values}`)."""

from __future__ import annotations

from math import prod
from typing import Any

from cnncalc.layers.base import Layer, Shape

_FLOAT_MAX = 1.7976931348623157e308


def nested_shape(values: Any) -> Shape | None:
    """Shape of rectangular nested lists of numbers, or None if ragged or not numeric."""
    if isinstance(values, bool):
        return None
    if isinstance(values, (int, float)):
        return () if abs(values) <= _FLOAT_MAX or values != values else None  # NumPy reads it as a float
    if not isinstance(values, list) or not values:
        return None
    shapes = {nested_shape(item) for item in values}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(values), *shapes.pop())  # type: ignore[misc]


def squeezable_to(given: Shape, expected: Shape) -> bool:
    """True when `given` is `expected` with some size-1 axes left out (a plain matrix)."""
    return prod(given) == prod(expected) and [d for d in given if d != 1] == [d for d in expected if d != 1]


def check_values_shape(layer: Layer, values: Any, expected: Shape, arg: str) -> None:
    """Raise a positioned error unless `values` can be read as an array of `expected` shape."""
    given = nested_shape(values)
    if given is None:
        raise layer.error(f"`{arg}` must be rectangular nested lists of numbers.", arg)
    if not squeezable_to(given, expected):
        raise layer.error(
            f"`{arg}` has shape {list(given)}, but this layer needs {list(expected)}.",
            arg,
            "Size-1 axes may be left out (a plain matrix for one channel and one filter).",
        )

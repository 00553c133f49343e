"""Load a spec: the top level (name, input, blocks, layers, expect) of an architecture file."""

from __future__ import annotations

from math import prod
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import Position, SpecError, approximate
from cnncalc.layers.base import MAX_SIZE
from cnncalc.layers.values import nested_shape
from cnncalc.spec.blocks import parse_blocks
from cnncalc.spec.builder import MAX_LAYERS, SpecBuilder
from cnncalc.spec.layer_count import LayerCounter
from cnncalc.spec.messages import did_you_mean, validation_error
from cnncalc.spec.model import Expect, Spec
from cnncalc.spec.substitute import substitute
from cnncalc.spec.yaml_source import YList, YMap, child_position, load_yaml_file, parse_yaml

TOP_LEVEL_KEYS = ("name", "description", "input", "blocks", "layers", "expect")


def load_spec(path: str | Path, display: str | None = None) -> Spec:
    """Read, parse and validate a spec file (raises SpecError with file:line:column)."""
    path = Path(path)
    name = display or str(path)
    return build_spec(load_yaml_file(path, name), name, default_name=path.stem)


def parse_spec(text: str, file: str = "<spec>", default_name: str = "spec") -> Spec:
    """Parse a spec given as text (for tests and tools)."""
    return build_spec(parse_yaml(text, file), file, default_name)


def build_spec(root: Any, file: str, default_name: str) -> Spec:
    start = Position(file, 1, 1)
    if not isinstance(root, YMap):
        raise SpecError(
            "a spec is a mapping with at least `input:` and `layers:`.",
            getattr(root, "pos", start),
            "See `cnncalc list` and the README for examples.",
        )
    for key in root:
        if key not in TOP_LEVEL_KEYS:
            guess = did_you_mean(key, TOP_LEVEL_KEYS)
            raise SpecError(
                f"unknown top-level key `{key}`.",
                root.key_pos[key],
                f"Did you mean `{guess}`?" if guess else f"The keys are: {', '.join(TOP_LEVEL_KEYS)}.",
            )
    for key in ("input", "layers"):
        if key not in root:
            raise SpecError(
                f"the spec has no `{key}:`.", root.pos, "A spec needs `input:` and a non-empty `layers:` list."
            )
    name = root.get("name", default_name)
    description = root.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise SpecError(f"`{key}` must be text.", child_position(root, key, root.pos))
    input_shape, input_values = parse_input(root["input"], child_position(root, "input", root.pos))
    builder = SpecBuilder(parse_blocks(root.get("blocks"), child_position(root, "blocks", root.pos)))
    layers_pos = child_position(root, "layers", root.pos)
    raw_layers = substitute(root["layers"], None, layers_pos, None)
    if not isinstance(raw_layers, YList) or not raw_layers:
        raise SpecError(
            "`layers` must be a non-empty list.", layers_pos, "Start each layer with `- `, e.g. `- conv: {...}`."
        )
    LayerCounter(builder, MAX_LAYERS).check(raw_layers)  # before building any (a block doubling itself...)
    layers = builder.build_layers(raw_layers, layers_pos, "", ())
    expect = None
    if root.get("expect") is not None:
        expect = parse_expect(root["expect"], child_position(root, "expect", root.pos), "expect")
    return Spec(
        name=name,
        file=file,
        input_shape=input_shape,
        layers=layers,
        description=description,
        input_values=input_values,
        expect=expect,
        expect_raw=root.get("expect"),
        source=root.pos,
        blocks=builder.blocks,
    )


def parse_expect(raw: Any, pos: Position, what: str) -> Expect:
    """Validate an `expect:` mapping (or an answers file) into an Expect."""
    if not isinstance(raw, YMap):
        raise SpecError(f"`{what}` must be a mapping such as `{{output_shape: [1000], params: 61100840}}`.", pos)
    try:
        return Expect.model_validate(dict(raw))
    except ValidationError as exc:
        raise validation_error(exc, what, raw, pos, Expect) from None


def parse_input(raw: Any, pos: Position) -> tuple[tuple[int, ...], Any]:
    """`[3, 227, 227]`, `{shape: [...]}` or `{values: ...}` -> (shape, values or None)."""
    shape_raw, values = raw, None
    if raw is None:
        raise SpecError("`input` is empty.", pos, "Give the input shape, channels first, e.g. `input: [3, 224, 224]`.")
    if isinstance(raw, YMap):
        for key in raw:
            if key not in ("shape", "values"):
                raise SpecError(f"`input` has no key `{key}`; it takes `shape` and/or `values`.", raw.key_pos[key])
        if "values" not in raw and "shape" not in raw:
            raise SpecError("`input` needs `shape` or `values`.", pos)
        shape_raw, values = raw.get("shape"), raw.get("values")
    shape = None
    if shape_raw is not None:
        shape_pos = child_position(raw, "shape", pos) if isinstance(raw, YMap) else pos
        if (
            not isinstance(shape_raw, list)
            or not 1 <= len(shape_raw) <= 4
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape_raw)
        ):
            raise SpecError(
                f"the input shape must be 1 to 4 positive integers, channels first ([C, H, W]); got {shape_raw!r}.",
                shape_pos,
                "For example `input: [3, 224, 224]`.",
            )
        if prod(shape_raw) > MAX_SIZE:
            raise SpecError(
                f"the input shape {shape_raw!r} holds {approximate(prod(shape_raw))} elements; a tensor holds at "
                f"most {MAX_SIZE:,} (what PyTorch and NumPy can index).",
                shape_pos,
            )
        shape = tuple(shape_raw)
    if values is None:
        if shape is None:  # `input: {values: }` left empty
            raise SpecError("`input` gives neither a shape nor values.", pos, "For example `input: [3, 224, 224]`.")
        return shape, None
    values_pos = child_position(raw, "values", pos)
    given = nested_shape(values)
    if given is None or not given:
        raise SpecError("`input.values` must be rectangular nested lists of numbers.", values_pos)
    # A plain vector or matrix is one channel; deeper nesting is channels-first as written.
    implied = (1, *given) if len(given) <= 2 else given
    if shape is None:
        if len(implied) > 4:
            raise SpecError(f"`input.values` has {len(given)} levels of nesting; at most 4 ([C, D, H, W]).", values_pos)
        return implied, values

    if prod(shape) != prod(given):
        raise SpecError(
            f"`input.values` holds {prod(given)} numbers (shape {list(given)}) but `shape` {list(shape)} "
            f"needs {prod(shape)}.",
            values_pos,
        )
    return shape, values

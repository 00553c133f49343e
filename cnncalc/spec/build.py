"""Load a spec: the top level (name, input, blocks, layers, expect) of an architecture file."""

from __future__ import annotations

from math import prod
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import LayerError, Position, SpecError, SpecErrors
from cnncalc.graph import too_large
from cnncalc.layers.values import nested_shape
from cnncalc.spec.blocks import parse_blocks
from cnncalc.spec.builder import MAX_LAYERS, SpecBuilder
from cnncalc.spec.layer_count import LayerCounter
from cnncalc.spec.messages import did_you_mean, validation_error
from cnncalc.spec.model import LOSSES, Expect, Spec
from cnncalc.spec.scope import Scope
from cnncalc.spec.yaml_source import (
    YList,
    YMap,
    child_position,
    key_position,
    load_yaml_file,
    parse_yaml,
    refuse_split_counts,
)

MAX_ERRORS = 10  # problems of one spec shown at once

TOP_LEVEL_KEYS = ("name", "description", "input", "blocks", "layers", "outputs", "expect", "quiz", "loss", "target")


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
    errors: list[SpecError] = []  # independent problems, all reported in one run
    guessed: set[str] = set()
    for key in root:
        if key not in TOP_LEVEL_KEYS:
            guess = did_you_mean(key, TOP_LEVEL_KEYS)
            guessed.add(f"the spec has no `{guess}:`.")  # the misspelling explains the missing key
            errors.append(
                SpecError(
                    f"unknown top-level key `{key}`.",
                    root.key_pos[key],
                    f"Did you mean `{guess}`?" if guess else f"The keys are: {', '.join(TOP_LEVEL_KEYS)}.",
                )
            )
    try:
        return _build(root, file, default_name, errors)
    except SpecError as error:
        more = error.errors if isinstance(error, SpecErrors) else [error]
        errors.extend(e for e in more if e.message not in guessed)
    raise _combined(errors)


def _combined(errors: list[SpecError]) -> SpecError:
    """One error, or all of them in file order (at most MAX_ERRORS)."""
    # A mistake inside a block's definition is one mistake, however many uses run into it.
    first: dict[tuple[object, str], SpecError] = {}
    for e in errors:  # the first is the whole spec's build, which names the use as the spec has it
        first.setdefault((e.position, e.message.split(" (in `")[0]), e)
    unique = list(first.values())
    unique.sort(key=lambda e: (e.position.line, e.position.column) if e.position else (0, 0))
    return unique[0] if len(unique) == 1 else SpecErrors(unique[:MAX_ERRORS])


def _build(root: YMap, file: str, default_name: str, errors: list[SpecError]) -> Spec:
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
    if "quiz" in root and not isinstance(root["quiz"], YMap):  # read by `cnncalc quiz` (cnncalc/classroom/quiz.py)
        raise SpecError("`quiz` is a mapping: `{vary: {conv1.kernel_size: [3, 5]}}`.", root.value_pos["quiz"])
    input_shape, input_values = parse_input(root["input"], child_position(root, "input", root.pos))
    builder = SpecBuilder(parse_blocks(root.get("blocks"), child_position(root, "blocks", root.pos)), input_shape)
    layers_pos = child_position(root, "layers", root.pos)
    raw_layers = root["layers"]
    if not isinstance(raw_layers, YList) or not raw_layers:
        raise SpecError(
            "`layers` must be a non-empty list.", layers_pos, "Start each layer with `- `, e.g. `- conv: {...}`."
        )
    LayerCounter(builder, MAX_LAYERS).check(raw_layers)  # before building any (a block doubling itself...)
    try:
        layers, scope = builder.build_top(raw_layers, layers_pos)
    except SpecError as error:
        item_errors = _item_errors(builder.blocks, input_shape, raw_layers, layers_pos)
        raise _combined([*errors, error, *item_errors]) from None
    if errors:
        raise _combined(errors)
    if root.get("outputs") is not None:
        builder.graph.outputs = parse_outputs(root["outputs"], child_position(root, "outputs", root.pos), scope)
    expect = None
    if root.get("expect") is not None:
        expect = parse_expect(root["expect"], child_position(root, "expect", root.pos), "expect")
    loss = root.get("loss")
    if loss is not None and loss not in LOSSES:
        raise SpecError(f"unknown loss `{loss}`.", root.value_pos["loss"], f"The losses are: {', '.join(LOSSES)}.")
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
        input_source=key_position(root, "input", root.pos),
        blocks=builder.blocks,
        graph=builder.graph,
        loss=loss,
        target=_plain_target(root.get("target"), child_position(root, "target", root.pos)),
    )


def _plain_target(raw: Any, pos: Position) -> Any:
    """`target:` as plain numbers (nested lists keep their shape, and must be rectangular); checked against the
    output's shape later."""
    plain = _plain_list(raw)
    if isinstance(plain, list) and nested_shape(plain) is None:
        raise SpecError(
            "`target` must be a number or rectangular nested lists of numbers (every row as long as the others).",
            pos,
            "For example `target: [[2, 0], [4, 4]]` for a [1, 2, 2] output.",
        )
    return plain


def _plain_list(raw: Any) -> Any:
    return [_plain_list(item) for item in raw] if isinstance(raw, list) else raw


def parse_outputs(raw: Any, pos: Position, scope: Scope) -> list[tuple[str, int]]:
    """`outputs: [p3, p4, p5]`: each name resolved as `from:` resolves it, at the top level."""
    if not isinstance(raw, YList) or not raw:
        raise SpecError("`outputs` must be a non-empty list of layer names, e.g. `outputs: [p3, p4, p5]`.", pos)
    found: list[tuple[str, int]] = []
    for name, item_pos in zip(raw, raw.item_pos):
        node = scope.resolve(name, item_pos, "outputs")
        if any(node == seen for _, seen in found):
            raise SpecError(f"`{name}` is listed twice in `outputs`.", item_pos)
        found.append((str(name), node))
    return found


def _item_errors(
    blocks: dict[str, Any], input_shape: tuple[int, ...], raw_layers: YList, pos: Position
) -> list[SpecError]:
    """Problems of every layer item, each built on its own (the builder stops at the first).

    Built alone, an item reads the network's input and sees no earlier layer, so its shape errors
    and unknown `from:` names may be artefacts; only the other problems are kept.
    """
    found: list[SpecError] = []
    for item, item_pos in zip(raw_layers, raw_layers.item_pos):
        single = YList([item])
        single.pos, single.item_pos = raw_layers.pos, [item_pos]
        try:
            SpecBuilder(blocks, input_shape).build_top(single, pos)
        except SpecErrors as errors:
            found.extend(errors.errors)
        except SpecError as error:
            found.append(error)
        if len(found) >= MAX_ERRORS:
            break
    return [e for e in found if not isinstance(e, LayerError) and "no earlier layer is named" not in e.message]


def parse_expect(raw: Any, pos: Position, what: str) -> Expect:
    """Validate an `expect:` mapping (or an answers file) into an Expect."""
    if not isinstance(raw, YMap):
        raise SpecError(f"`{what}` must be a mapping such as `{{output_shape: [1000], params: 61100840}}`.", pos)
    try:
        return Expect.model_validate(dict(raw))
    except ValidationError as exc:
        layers = raw.get("layers")
        for mapping in [raw, *(layers.values() if isinstance(layers, YMap) else [])]:
            if isinstance(mapping, YMap):
                refuse_split_counts(mapping)  # `params: 34,944` in `{...}`: say that, not "keys should be strings"
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
        problem = too_large(shape_raw)
        if problem:
            raise SpecError(f"the input shape {problem}", shape_pos)
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

"""Turn positioned YAML into a Spec: kinds, aliases, names, blocks, repeat, checks."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cnncalc.errors import Position, SpecError
from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS, BlockCall, Layer
from cnncalc.layers.values import nested_shape
from cnncalc.spec.model import Expect, Spec
from cnncalc.spec.substitute import substitute
from cnncalc.spec.yaml_source import YList, YMap, child_position, key_position, load_yaml_file, parse_yaml

TOP_LEVEL_KEYS = ("name", "description", "input", "blocks", "layers", "expect")
STRUCTURE_ARGS = {"residual": ("body", "shortcut"), "concat": ("branches",), "repeat": ("times", "layers")}
# Bounds that keep a hostile or mistaken file from hanging the tool.
MAX_LAYERS = 100_000
MAX_REPEAT = 10_000
MAX_NESTING = 64  # ResNet-50 nests 4 deep (block > residual > body > conv)


def load_spec(path: str | Path, display: str | None = None) -> Spec:
    """Read, parse and validate a spec file (raises SpecError with file:line:column)."""
    path = Path(path)
    name = display or str(path)
    return build_spec(load_yaml_file(path, name), name, default_name=path.stem)


def parse_spec(text: str, file: str = "<spec>", default_name: str = "spec") -> Spec:
    """Parse a spec given as text (for tests and tools)."""
    return build_spec(parse_yaml(text, file), file, default_name)


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """The closest known word, if one is close enough to be a likely typo."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


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
    from math import prod

    if prod(shape) != prod(given):
        raise SpecError(
            f"`input.values` holds {prod(given)} numbers (shape {list(given)}) but `shape` {list(shape)} "
            f"needs {prod(shape)}.",
            values_pos,
        )
    return shape, values


@dataclass
class BlockDef:
    """A parameterised block from `blocks:`."""

    name: str
    defaults: dict[str, Any]
    required: set[str]
    layers: YList
    pos: Position


def parse_blocks(raw: Any, pos: Position) -> dict[str, BlockDef]:
    if raw is None:
        return {}
    if not isinstance(raw, YMap):
        raise SpecError("`blocks` must be a mapping from block names to {args, layers}.", pos)
    blocks = {}
    for name, body in raw.items():
        where = raw.key_pos[name]
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"block name `{name}` must be a word (letters, digits, _).", where)
        if name in LAYER_KINDS or name in STRUCTURE_KINDS:
            raise SpecError(f"block name `{name}` is already a layer kind.", where, "Choose another name.")
        if not isinstance(body, YMap) or "layers" not in body:
            raise SpecError(
                f"block `{name}` needs `layers:` (and optionally `args:`).", child_position(raw, name, where)
            )
        for key in body:
            if key not in ("args", "layers"):
                raise SpecError(f"block `{name}` has no key `{key}`; it takes `args` and `layers`.", body.key_pos[key])
        args = body.get("args") or {}
        if isinstance(args, YList):  # `args: [width, stride]`: all required
            args = dict.fromkeys(args)
        if not isinstance(args, dict) or not all(isinstance(a, str) and a.isidentifier() for a in args):
            raise SpecError(
                f"`args` of block `{name}` must map argument names to defaults.", child_position(body, "args", where)
            )
        layers = body["layers"]
        if not isinstance(layers, YList) or not layers:
            raise SpecError(
                f"`layers` of block `{name}` must be a non-empty list.", child_position(body, "layers", where)
            )
        blocks[name] = BlockDef(name, dict(args), {a for a, v in args.items() if v is None}, layers, where)
    return blocks


@dataclass
class _Entry:
    """One list item of `layers:` before it is built: kind, arguments, name."""

    kind: str
    args: YMap
    name: str | None
    pos: Position


class SpecBuilder:
    """Builds layer trees, expanding blocks and repeats, naming every layer."""

    def __init__(self, blocks: dict[str, BlockDef]):
        self.blocks = blocks
        self.layer_count = 0
        self.paths: dict[str, Position] = {}

    def known_kinds(self) -> list[str]:
        return [*LAYER_KINDS, *STRUCTURE_KINDS, *self.blocks]

    def build_layers(self, items: Any, pos: Position, prefix: str, stack: tuple[str, ...]) -> list[Layer]:
        """Build a list of layer entries whose names get `prefix` (e.g. `layer1.0.`)."""
        if not isinstance(items, YList):
            raise SpecError("expected a list of layers (each item starting with `- `).", getattr(items, "pos", pos))
        entries = [self.entry(item, p) for item, p in zip(items, items.item_pos)]
        return [self.build(e, prefix + name, stack) for e, name in zip(entries, self.names(entries))]

    def build_group(self, items: Any, pos: Position, path: str, stack: tuple[str, ...]) -> list[Layer]:
        """A branch/iteration: a single unnamed layer takes the group's path itself."""
        if isinstance(items, YList) and len(items) == 1:
            entry = self.entry(items[0], items.item_pos[0])
            if entry.name is None:
                return [self.build(entry, path, stack)]
        return self.build_layers(items, pos, path + ".", stack)

    def entry(self, item: Any, pos: Position) -> _Entry:
        if isinstance(item, str):
            kind, args, name = item, YMap(), None
            args.pos, args.key_pos, args.value_pos = pos, {}, {}
        elif isinstance(item, YMap):
            keys = [k for k in item if k != "name"]
            if len(keys) != 1:
                stray = [str(k) for k in keys[1:] if k not in self.known_kinds()]
                under_kind = keys and item[keys[0]] is None and stray and len(stray) == len(keys) - 1
                raise SpecError(
                    f"a layer is a mapping with exactly one key, its kind; this one has {len(keys)} "
                    f"({', '.join(map(str, keys)) or 'none'}).",
                    pos,
                    # `- conv:` then its arguments at the same indentation: the classic YAML slip.
                    f"Indent {', '.join(f'`{k}`' for k in stray)} under `{keys[0]}:` (they are its arguments)."
                    if under_kind
                    else "Did you forget a `- ` before a layer? Each layer is its own list item.",
                )
            kind, args, name = keys[0], item[keys[0]], item.get("name")
            if args is None:
                args = YMap()
                args.pos, args.key_pos, args.value_pos = item.value_pos[kind], {}, {}
            if not isinstance(args, YMap):
                raise SpecError(
                    f"the arguments of `{kind}` must be a mapping, e.g. `- {kind}: {{...}}`; got {args!r}.",
                    item.value_pos[kind],
                )
            if "name" in args:
                if name is not None:  # `name:` both beside and inside the arguments: which one was meant?
                    raise SpecError(
                        "the layer's name is given twice, beside its arguments and inside them.",
                        item.key_pos["name"],
                        "Keep one `name:`.",
                    )
                name = args["name"]
                args = _without(args, "name")
        else:
            raise SpecError(
                f"a layer must be a kind (like `relu`) or a mapping (like `conv: {{...}}`); got {item!r}.", pos
            )
        if not isinstance(kind, str) or (
            kind not in LAYER_KINDS and kind not in STRUCTURE_KINDS and kind not in self.blocks
        ):
            guess = did_you_mean(kind, self.known_kinds())
            raise SpecError(
                f"unknown layer kind `{kind}`.",
                pos,
                f"Did you mean `{guess}`?" if guess else "`cnncalc schema` lists the kinds.",
            )
        if name is not None and (not isinstance(name, str) or not name or "." in name):
            raise SpecError(f"a layer name must be non-empty text without dots; got {name!r}.", pos)
        return _Entry(kind, args, name, pos)

    def names(self, entries: list[_Entry]) -> list[str]:
        """Explicit names, else `<kind><n>` counted per kind in this scope, skipping taken names."""
        taken: dict[str, Position] = {}
        for e in entries:
            if e.name is not None:
                if e.name in taken:
                    raise SpecError(f"two layers are named `{e.name}` (the other at line {taken[e.name].line}).", e.pos)
                taken[e.name] = e.pos
        counters: dict[str, int] = {}
        names = []
        for e in entries:
            if e.name is not None:
                names.append(e.name)
                continue
            base = LAYER_KINDS[e.kind].kind if e.kind in LAYER_KINDS else e.kind
            while True:
                counters[base] = counters.get(base, 0) + 1
                candidate = f"{base}{counters[base]}"
                if candidate not in taken:
                    break
            names.append(candidate)
        return names

    def build(self, e: _Entry, path: str, stack: tuple[str, ...]) -> Layer:
        if path.count(".") >= MAX_NESTING:
            raise SpecError(
                f"layers nest more than {MAX_NESTING} levels deep (structures and blocks inside each other).",
                e.pos,
                "Use `repeat:` for long chains instead of nesting.",
            )
        if path in self.paths:
            raise SpecError(f"the layer name `{path}` is used twice (also at line {self.paths[path].line}).", e.pos)
        self.paths[path] = e.pos
        local_name = path.rsplit(".", 1)[-1]
        if e.kind in LAYER_KINDS:
            self.layer_count += 1
            if self.layer_count > MAX_LAYERS:
                raise SpecError(
                    f"the network expands to more than {MAX_LAYERS:,} layers; refusing to go on.",
                    e.pos,
                    "Check the `times:` of `repeat` blocks.",
                )
            return self.leaf(LAYER_KINDS[e.kind], e, path, local_name)
        if e.kind in self.blocks:
            return self.block_call(e, path, local_name, stack)
        return self.structure(e, path, local_name, stack)

    def leaf(self, cls: type[Layer], e: _Entry, path: str, local_name: str) -> Layer:
        data, positions = canonical_args(cls, e)
        data["name"] = local_name
        try:
            layer = cls.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc, f"`{e.kind}`", e.args, e.pos, cls) from None
        return _placed(layer, path, e.pos, positions)

    def structure(self, e: _Entry, path: str, local_name: str, stack: tuple[str, ...]) -> Layer:
        allowed = STRUCTURE_ARGS[e.kind]
        for key in e.args:
            if key not in allowed:
                guess = did_you_mean(key, allowed)
                raise SpecError(
                    f"`{e.kind}` has no argument `{key}`.",
                    e.args.key_pos[key],
                    f"Did you mean `{guess}`?" if guess else f"It takes: {', '.join(allowed)}.",
                )
        arg_pos = {k: child_position(e.args, k, e.pos) for k in e.args}

        def need(key: str) -> Any:
            if key not in e.args:
                raise SpecError(f"`{e.kind}` needs `{key}:`.", e.pos)
            return e.args[key]

        data: dict[str, Any] = {"name": local_name}
        if e.kind == "residual":
            data["body"] = self.build_layers(need("body"), arg_pos["body"], path + ".", stack)
            shortcut = e.args.get("shortcut")
            data["shortcut"] = (
                [] if not shortcut else self.build_group(shortcut, arg_pos["shortcut"], path + ".shortcut", stack)
            )
        elif e.kind == "concat":
            branches = need("branches")
            if not isinstance(branches, YList) or not branches:
                raise SpecError("`branches` must be a non-empty list of layer lists.", arg_pos["branches"])
            data["branches"] = [
                [] if branch == [] else self.build_group(branch, p, f"{path}.{i}", stack)
                for i, (branch, p) in enumerate(zip(branches, branches.item_pos))
            ]
        else:  # repeat
            times = need("times")
            if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_REPEAT:
                raise SpecError(
                    f"`times` must be a whole number from 1 to {MAX_REPEAT:,}; got {times!r}.", arg_pos["times"]
                )
            data["times"] = times
            before = self.layer_count
            data["iterations"] = [self.build_group(need("layers"), arg_pos["layers"], f"{path}.0", stack)]
            if before + (self.layer_count - before) * times > MAX_LAYERS:  # refuse now, not after building them
                raise SpecError(
                    f"the network expands to more than {MAX_LAYERS:,} layers ({times:,} times "
                    f"{self.layer_count - before:,}); refusing to go on.",
                    arg_pos["times"],
                    "Check the `times:` of `repeat` blocks.",
                )
            data["iterations"] += [
                self.build_group(need("layers"), arg_pos["layers"], f"{path}.{i}", stack) for i in range(1, times)
            ]
        cls = STRUCTURE_KINDS[e.kind]
        try:
            layer = cls.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc, f"`{e.kind}`", e.args, e.pos, cls) from None
        return _placed(layer, path, e.pos, arg_pos)

    def block_call(self, e: _Entry, path: str, local_name: str, stack: tuple[str, ...]) -> Layer:
        block = self.blocks[e.kind]
        if e.kind in stack:
            chain = " -> ".join((*stack[stack.index(e.kind) :], e.kind))
            raise SpecError(f"block `{e.kind}` uses itself ({chain}).", e.pos, "A block may not contain itself.")
        for key in e.args:
            if key not in block.defaults:
                guess = did_you_mean(key, block.defaults)
                known = ", ".join(block.defaults) or "none"
                raise SpecError(
                    f"block `{e.kind}` has no argument `{key}` (its arguments: {known}).",
                    e.args.key_pos[key],
                    f"Did you mean `{guess}`?" if guess else None,
                )
        missing = sorted(block.required - set(e.args))
        if missing:
            raise SpecError(
                f"block `{e.kind}` needs the argument{'s' if len(missing) > 1 else ''} {', '.join(missing)}.", e.pos
            )
        env = {**block.defaults, **e.args}
        try:
            layers = substitute(block.layers, env, block.pos, e.kind)
            built = self.build_layers(layers, block.pos, path + ".", (*stack, e.kind))
        except SpecError as error:
            if not stack:  # the position is inside the block's definition: name the use that failed
                use = f"in `{path}`, the use of block `{e.kind}` at line {e.pos.line}"
                error.message = f"{error.message.rstrip('.')} ({use})."
            raise
        call = BlockCall.model_validate({"name": local_name, "block": e.kind, "args": env, "layers": built})
        return _placed(call, path, e.pos, {k: child_position(e.args, k, e.pos) for k in e.args})


def canonical_args(cls: type[Layer], e: _Entry) -> tuple[dict[str, Any], dict[str, Position]]:
    """Rename argument aliases (`filters` -> `out_channels`), refusing both at once."""
    data: dict[str, Any] = {}
    positions: dict[str, Position] = {}
    for key, value in e.args.items():
        canonical = cls.arg_aliases.get(key, key)
        if canonical in data:
            raise SpecError(
                f"`{e.kind}` is given both `{key}` and its synonym `{canonical}`.",
                e.args.key_pos[key],
                "Keep one of them.",
            )
        data[canonical] = value
        positions[canonical] = e.args.value_pos.get(key, e.pos)
    return data, positions


def _placed(layer: Layer, path: str, pos: Position, arg_positions: dict[str, Position]) -> Layer:
    layer._path, layer._source, layer._arg_sources = path, pos, arg_positions
    return layer


def _without(mapping: YMap, key: str) -> YMap:
    out = YMap((k, v) for k, v in mapping.items() if k != key)
    out.pos = mapping.pos
    out.key_pos = {k: p for k, p in mapping.key_pos.items() if k != key}
    out.value_pos = {k: p for k, p in mapping.value_pos.items() if k != key}
    return out


def validation_error(exc: ValidationError, what: str, raw: Any, pos: Position, model: type[BaseModel]) -> SpecError:
    """One clear, positioned message from pydantic's first error."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes its intended argument "missing"; the misspelling is the news.
    first = next((err for err in errors if err["type"] == "extra_forbidden"), errors[0])
    loc = first["loc"]
    field = loc[0] if loc else None
    aliases = getattr(model, "arg_aliases", {})
    field = next(
        (alias for alias, canon in aliases.items() if canon == field and isinstance(raw, YMap) and alias in raw), field
    )
    fields = [f for f in model.model_fields if f != "name"]
    if first["type"] == "extra_forbidden" and len(loc) > 1:  # a nested key, e.g. expect.layers.conv1.param
        container, inner = raw, model
        for part in loc[:-1]:
            container = container.get(part) if isinstance(container, dict) else container
            inner = _type_at(inner, part)
        known = [f for f in getattr(inner, "model_fields", {}) if f != "name"]
        guess = did_you_mean(loc[-1], known)
        return SpecError(
            f"{what}.{'.'.join(map(str, loc[:-1]))} has no key `{loc[-1]}`.",
            key_position(container, loc[-1], pos),
            f"Did you mean `{guess}`?" if guess else f"Its keys: {', '.join(known) or 'none'}.",
        )
    if first["type"] == "extra_forbidden":
        guess = did_you_mean(field, [*fields, *aliases])
        return SpecError(
            f"{what} has no argument `{field}`.",
            key_position(raw, field, pos),
            f"Did you mean `{guess}`?" if guess else f"Its arguments: {', '.join(fields) or 'none'}.",
        )
    info = model.model_fields.get(str(loc[0])) if loc else None
    description = info.description if info else None
    if first["type"] == "missing":
        needs = f" ({description})" if description else ""
        return SpecError(f"{what} needs the argument `{field}`{needs}.", pos)
    where = pos
    value: Any = raw
    followed: list[Any] = []  # the parts of `loc` that are keys/indexes in the YAML (not union tags)
    for part in loc:  # follow the path into the YAML for the best position
        if isinstance(value, (dict, list)) and (
            (isinstance(value, dict) and part in value)
            or (isinstance(part, int) and isinstance(value, list) and part < len(value))
        ):
            where = child_position(value, part, where)
            value = value[part]
            followed.append(part)
    same_field = [err for err in errors if err["loc"][:1] == loc[:1]]
    shown = raw.get(field) if isinstance(raw, YMap) and field in raw else first.get("input")
    if len(same_field) > 1 and description:
        return SpecError(f"{what} argument `{field}` must be {description}; got {shown!r}.", where)
    sub = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in followed[1:])
    return SpecError(
        f"{what} argument `{field}{sub}`: {first['msg'][0].lower()}{first['msg'][1:]}; got {first.get('input')!r}.",
        where,
    )


def _type_at(tp: Any, part: Any) -> Any:
    """The type found at `part` inside `tp`: a model's field, a dict's value or a list's item."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(str(part))
        return info.annotation if info else None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) is dict and len(args) == 2:
        return args[1]
    if typing.get_origin(tp) is list and args:
        return args[0]
    return next((found for a in args if (found := _type_at(a, part)) is not None), None)

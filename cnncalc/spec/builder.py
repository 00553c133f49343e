"""Build layer trees from positioned YAML: kinds, aliases, names, block uses, repeat, structures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import Position, SpecError
from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS, BlockCall, Layer
from cnncalc.spec.blocks import BlockDef
from cnncalc.spec.messages import did_you_mean, validation_error
from cnncalc.spec.substitute import substitute
from cnncalc.spec.yaml_source import YList, YMap, child_position

STRUCTURE_ARGS = {"residual": ("body", "shortcut"), "concat": ("branches",), "repeat": ("times", "layers")}
# Bounds that keep a hostile or mistaken file from hanging the tool.
MAX_LAYERS = 100_000
MAX_REPEAT = 10_000
MAX_NESTING = 64  # ResNet-50 nests 4 deep (block > residual > body > conv)


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
        # Layers passed as a block argument were written at the call site: they are built with the
        # caller's block stack, so `level: {inner: {level: ...}}` nests a block without recursion.
        self.arg_stacks: dict[int, tuple[Any, tuple[str, ...]]] = {}  # id -> (value kept alive, stack)

    def known_kinds(self) -> list[str]:
        return [*LAYER_KINDS, *STRUCTURE_KINDS, *self.blocks]

    def stack_of(self, value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
        """The block stack to build `value` with: its caller's if it was passed as a block argument."""
        kept = self.arg_stacks.get(id(value))
        return kept[1] if kept is not None and kept[0] is value else default

    def build_layers(self, items: Any, pos: Position, prefix: str, stack: tuple[str, ...]) -> list[Layer]:
        """Build a list of layer entries whose names get `prefix` (e.g. `layer1.0.`)."""
        if not isinstance(items, YList):
            raise SpecError("expected a list of layers (each item starting with `- `).", getattr(items, "pos", pos))
        stack = self.stack_of(items, stack)
        entries = [self.entry(item, p) for item, p in zip(items, items.item_pos)]
        stacks = [self.stack_of(item, stack) for item in items]
        return [self.build(e, prefix + name, s) for e, name, s in zip(entries, self.names(entries), stacks)]

    def build_group(self, items: Any, pos: Position, path: str, stack: tuple[str, ...]) -> list[Layer]:
        """A branch/iteration: a single unnamed layer takes the group's path itself."""
        if isinstance(items, YList) and len(items) == 1:
            entry = self.entry(items[0], items.item_pos[0])
            if entry.name is None:
                return [self.build(entry, path, self.stack_of(items[0], self.stack_of(items, stack)))]
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
                # `residual: [...]` / `repeat: [...]`: the list belongs under the structure's own key.
                list_key = {"residual": "body", "concat": "branches", "repeat": "layers"}.get(str(kind))
                raise SpecError(
                    f"the arguments of `{kind}` must be a mapping, e.g. `- {kind}: {{...}}`; got {args!r}.",
                    item.value_pos[kind],
                    f"Write `{kind}: {{{list_key}: [...]}}`." if list_key and isinstance(args, YList) else None,
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
        elif item is None:
            raise SpecError("an empty list item (`-` with nothing after it).", pos, "Remove it, or write a layer.")
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
        self.layer_count += 1  # every row of the table: layers, structures and block uses
        if self.layer_count > MAX_LAYERS:  # a backstop: LayerCounter refuses such a spec before building
            raise SpecError(f"the network expands to more than {MAX_LAYERS:,} layers; refusing to go on.", e.pos)
        if e.kind in LAYER_KINDS:
            return self.leaf(LAYER_KINDS[e.kind], e, path, local_name)
        if e.kind in self.blocks:
            return self.block_call(e, path, local_name, stack)
        return self.structure(e, path, local_name, stack)

    def leaf(self, cls: type[Layer], e: _Entry, path: str, local_name: str) -> Layer:
        data, positions = canonical_args(cls, e)
        data["name"] = local_name
        return _validated(cls, data, e, path, positions)

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
        return _validated(STRUCTURE_KINDS[e.kind], data, e, path, arg_pos)

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
        self.arg_stacks.update({id(v): (v, stack) for v in e.args.values() if isinstance(v, (YMap, YList))})
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


def _validated(cls: type[Layer], data: dict[str, Any], e: _Entry, path: str, positions: dict[str, Position]) -> Layer:
    """Validate a kind's arguments into its model, placed at `path`; errors point into the YAML."""
    try:
        layer = cls.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, f"`{e.kind}`", e.args, e.pos, cls) from None
    return _placed(layer, path, e.pos, positions)


def _placed(layer: Layer, path: str, pos: Position, arg_positions: dict[str, Position]) -> Layer:
    layer._path, layer._source, layer._arg_sources = path, pos, arg_positions
    return layer


def _without(mapping: YMap, key: str) -> YMap:
    out = YMap((k, v) for k, v in mapping.items() if k != key)
    out.pos = mapping.pos
    out.key_pos = {k: p for k, p in mapping.key_pos.items() if k != key}
    out.value_pos = {k: p for k, p in mapping.value_pos.items() if k != key}
    return out

"""Build the layer tree from positioned YAML and lower it into the graph, in one walk.

The tree (kinds, aliases, names, block uses, repeats, structures) is what reports show; the
graph (cnncalc/graph.py) is what every pass computes on. Both are made here together because a
block's layers may depend on the shapes so far (`$in_channels`), so each list is built with the
graph node it reads from. Structures are built from their own declarations (layer_args,
branch_args, wiring), never from a chain of kind names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import Position, SpecError
from cnncalc.graph import Graph
from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS, BlockCall, Layer, Repeat, Split, SplitSection, StructureKind
from cnncalc.spec.blocks import BlockDef
from cnncalc.spec.messages import did_you_mean, validation_error
from cnncalc.spec.scope import Names, Scope
from cnncalc.spec.substitute import Env, Lazy, substitute
from cnncalc.spec.yaml_source import YList, YMap, child_position

# Bounds that keep a hostile or mistaken file from hanging the tool.
MAX_LAYERS = 100_000
MAX_REPEAT = 10_000
MAX_NESTING = 64  # ResNet-50 nests 4 deep (block > residual > body > conv)
# Keys any layer, structure or block use may carry besides its kind's own arguments.
COMMON_KEYS = ("name", "from", "when", "trainable")


def takes_from_list(kind: str) -> bool:
    """Whether `kind` is a leaf merge, which `from: [a, b]` makes (a structure over `branches:` otherwise)."""
    cls = LAYER_KINDS.get(kind)
    return cls is not None and cls.takes_from_list


@dataclass
class _Entry:
    """One list item of `layers:` before it is built: kind, arguments, the common keys."""

    kind: str
    args: YMap
    name: str | None
    pos: Position
    common: dict[str, Any]
    common_pos: dict[str, Position]

    @property
    def is_from_merge(self) -> bool:
        return takes_from_list(self.kind) and isinstance(self.common.get("from"), list)


class SpecBuilder:
    """Builds layer trees and the graph, expanding blocks and repeats, naming every layer."""

    def __init__(self, blocks: dict[str, BlockDef], input_shape: tuple[int, ...]):
        self.blocks = blocks
        self.graph = Graph(input_shape)
        self.names = Names()
        self.layer_count = 0
        # Values passed as block arguments were written at the call site: they are built with the
        # caller's block stack, so `level: {inner: {level: ...}}` nests a block without recursion.
        self.arg_stacks: dict[int, tuple[Any, tuple[str, ...]]] = {}  # id -> (value kept alive, stack)

    def known_kinds(self) -> list[str]:
        return list(dict.fromkeys([*LAYER_KINDS, *STRUCTURE_KINDS, *self.blocks]))

    def stack_of(self, value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
        """The block stack to build `value` with: its caller's if it was passed as a block argument."""
        kept = self.arg_stacks.get(id(value))
        return kept[1] if kept is not None and kept[0] is value else default

    # --- lists -----------------------------------------------------------------------------------------

    def build_top(self, items: Any, pos: Position) -> tuple[list[Layer], Scope]:
        """The top-level `layers:`; returns them and the scope `outputs:` is resolved in."""
        scope = Scope("", 0, self.names)
        layers, out = self.build_list(items, pos, scope, Env({}, None), (), True)
        self.graph.outputs = [(self.graph.nodes[out].name if out else "input", out)]
        return layers, scope

    def build_list(
        self, items: Any, pos: Position, scope: Scope, env: Env, stack: tuple[str, ...], trainable: bool
    ) -> tuple[list[Layer], int]:
        """Build a list of layer entries in `scope` (names get its prefix); return them and the output node."""
        if not isinstance(items, YList):
            raise SpecError("expected a list of layers (each item starting with `- `).", getattr(items, "pos", pos))
        stack = self.stack_of(items, stack)
        entries: list[tuple[_Entry, tuple[str, ...]]] = []
        for item, item_pos in zip(items, items.item_pos):
            if isinstance(item, str) and "$" in item:  # `- $inner`: a layer passed as a block argument
                item = substitute(item, env, item_pos)
            entry = self.entry(item, item_pos, env)
            if self.present(entry, scope.prefix):
                entries.append((entry, self.stack_of(item, stack)))
        built, current = [], scope.input_node
        for (entry, entry_stack), name in zip(entries, self.auto_names([e for e, _ in entries])):
            path = scope.prefix + name
            layer, current = self.build(entry, path, scope, current, env, entry_stack, trainable)
            built.append(layer)
            self.names.nodes[path] = current
        return built, current

    def build_group(
        self, items: Any, pos: Position, path: str, src: int, scope: Scope, env: Env, stack: tuple[str, ...], tr: bool
    ) -> tuple[list[Layer], int]:
        """A branch/copy: a single unnamed layer takes the group's path itself; `input` is `src`."""
        inner = Scope(path + ".", src, self.names, scope)
        if isinstance(items, YList) and len(items) == 1 and not (isinstance(items[0], str) and "$" in items[0]):
            entry = self.entry(items[0], items.item_pos[0], env)
            if entry.name is None:
                if not self.present(entry, path + "."):
                    return [], src
                item_stack = self.stack_of(items[0], self.stack_of(items, stack))
                layer, out = self.build(entry, path, inner, src, env, item_stack, tr)
                self.names.nodes[path] = out
                return [layer], out
        if isinstance(items, YList) and not items:
            return [], src
        return self.build_list(items, pos, inner, env, stack, tr)

    def present(self, e: _Entry, prefix: str) -> bool:
        """Evaluate `when:`; a removed layer is remembered by name, to explain a `from:` to it."""
        if "when" not in e.common:
            return True
        when = e.common["when"]
        if not isinstance(when, bool):
            raise SpecError(
                f"`when:` must be true or false; it gives {when!r}.",
                e.common_pos["when"],
                'Write a comparison, e.g. `when: "$stride == 1"`, or a boolean argument (`when: $se`).',
            )
        if not when and e.name is not None:
            self.names.removed[prefix + e.name] = e.pos
        return when

    # --- one entry -------------------------------------------------------------------------------------

    def entry(self, item: Any, pos: Position, env: Env) -> _Entry:
        """Read one list item: its kind, its arguments and the common keys, substituted in `env`."""
        common: dict[str, Any] = {}
        common_pos: dict[str, Position] = {}
        if isinstance(item, str):
            kind, args = item, _empty_map(pos)
        elif isinstance(item, YMap):
            keys = [k for k in item if k not in COMMON_KEYS]
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
            kind, args = keys[0], item[keys[0]]
            for key in COMMON_KEYS:
                if key in item:
                    common[key], common_pos[key] = item[key], item.value_pos[key]
            if args is None:
                args = _empty_map(item.value_pos[kind])
            if not isinstance(args, YMap):
                # `residual: [...]` / `repeat: [...]`: the list belongs under the structure's own key.
                structure_kind = STRUCTURE_KINDS.get(str(kind))
                list_key = structure_kind.list_arg if structure_kind is not None else None
                raise SpecError(
                    f"the arguments of `{kind}` must be a mapping, e.g. `- {kind}: {{...}}`; got {args!r}.",
                    item.value_pos[kind],
                    f"Write `{kind}: {{{list_key}: [...]}}`." if list_key and isinstance(args, YList) else None,
                )
            for key in COMMON_KEYS:
                if key in args:
                    if key in common:  # both beside and inside the arguments: which one was meant?
                        raise SpecError(
                            f"the layer's {key} is given twice, beside its arguments and inside them.",
                            item.key_pos[key],
                            f"Keep one `{key}:`.",
                        )
                    common[key], common_pos[key] = args[key], args.value_pos[key]
            args = _without(args, COMMON_KEYS)
        elif item is None:
            raise SpecError("an empty list item (`-` with nothing after it).", pos, "Remove it, or write a layer.")
        else:
            raise SpecError(
                f"a layer must be a kind (like `relu`) or a mapping (like `conv: {{...}}`); got {item!r}.", pos
            )
        if not isinstance(kind, str) or kind not in self.known_kinds():
            guess = did_you_mean(kind, self.known_kinds())
            raise SpecError(
                f"unknown layer kind `{kind}`.",
                pos,
                f"Did you mean `{guess}`?" if guess else "`cnncalc schema` lists the kinds.",
            )
        common = {k: substitute(v, env, common_pos[k]) for k, v in common.items()}
        name = common.get("name")
        if name is not None and (not isinstance(name, str) or not name or "." in name):
            raise SpecError(f"a layer name must be non-empty text without dots; got {name!r}.", pos)
        if "trainable" in common and not isinstance(common["trainable"], bool):
            raise SpecError(f"`trainable` must be true or false; got {common['trainable']!r}.", common_pos["trainable"])
        if "from" in common:
            names = common["from"]
            if isinstance(names, list) and not (takes_from_list(kind) and kind not in self.blocks):
                merges = [k for k, cls in LAYER_KINDS.items() if cls.takes_from_list]
                raise SpecError(
                    f"`from:` of `{kind}` takes one layer name; a list of names is for "
                    f"{', '.join(merges[:-1])} and {merges[-1]}.",
                    common_pos["from"],
                )
            if isinstance(names, list) and len(names) < 2:
                raise SpecError(f"`{kind}: {{from: [...]}}` needs at least two layer names.", common_pos["from"])
        return _Entry(kind, args, name, pos, common, common_pos)

    def auto_names(self, entries: list[_Entry]) -> list[str]:
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
            joint = "_" if base[-1].isdigit() else ""  # `relu6_1`, not `relu61` (read as the 61st relu)
            while True:
                counters[base] = counters.get(base, 0) + 1
                candidate = f"{base}{joint}{counters[base]}"
                if candidate not in taken:
                    break
            names.append(candidate)
        return names

    def build(
        self, e: _Entry, path: str, scope: Scope, current: int, env: Env, stack: tuple[str, ...], trainable: bool
    ) -> tuple[Layer, int]:
        """Build one entry reading node `current` (or its `from:`); return it and its output node."""
        if path.count(".") >= MAX_NESTING:
            raise SpecError(
                f"layers nest more than {MAX_NESTING} levels deep (structures and blocks inside each other).",
                e.pos,
                "Use `repeat:` for long chains instead of nesting.",
            )
        if path in self.names.written:
            raise SpecError(
                f"the layer name `{path}` is used twice (also at line {self.names.written[path].line}).", e.pos
            )
        self.names.written[path] = e.pos
        trainable = trainable and e.common.get("trainable", True)
        if e.is_from_merge:
            inputs = [scope.resolve(name, e.common_pos["from"]) for name in e.common["from"]]
        else:
            inputs = [scope.resolve(e.common["from"], e.common_pos["from"]) if "from" in e.common else current]
        local_name = path.rsplit(".", 1)[-1]
        self.layer_count += 1  # every row of the table: layers, structures and block uses
        if self.layer_count > MAX_LAYERS:  # a backstop: LayerCounter refuses such a spec before building
            raise SpecError(f"the network expands to more than {MAX_LAYERS:,} layers; refusing to go on.", e.pos)
        if e.kind in self.blocks:
            layer, out = self.block_call(e, path, local_name, inputs[0], env, stack, trainable)
        elif e.kind in STRUCTURE_KINDS and not e.is_from_merge:
            layer, out = self.structure(STRUCTURE_KINDS[e.kind], e, path, inputs[0], scope, env, stack, trainable)
        else:
            cls = LAYER_KINDS[e.kind]
            data, positions = canonical_args(cls, substitute(e.args, env, e.args.pos), e.kind, e.pos)
            data["name"] = local_name
            layer = _validated(cls, data, e, path, positions)
            for arg, name in layer.extra_inputs().items():  # `upsample: {like: NAME}`: more graph inputs
                inputs.append(scope.resolve(name, positions.get(arg, e.pos), arg))
            out = self.graph.add(layer, inputs)
        at = layer.placement
        from_names = e.common["from"] if e.is_from_merge else [e.common["from"]] if "from" in e.common else []
        at.from_names = tuple(from_names)
        at.trainable, at.input_node, at.output_node = trainable, inputs[0], out
        return layer, out

    def structure(
        self,
        cls: type[StructureKind],
        e: _Entry,
        path: str,
        src: int,
        scope: Scope,
        env: Env,
        stack: tuple[str, ...],
        trainable: bool,
    ) -> tuple[Layer, int]:
        group_args = (*cls.layer_args, *cls.branch_args)
        spec_args = getattr(cls, "spec_args", None) or (
            *group_args,
            *(f for f in cls.model_fields if f != "name" and f not in group_args),
        )
        for key in e.args:
            if key not in spec_args:
                guess = did_you_mean(key, spec_args)
                raise SpecError(
                    f"`{e.kind}` has no argument `{key}`.",
                    e.args.key_pos[key],
                    f"Did you mean `{guess}`?" if guess else f"It takes: {', '.join(spec_args)}.",
                )
        # Layer lists are substituted as they are built (a repeat's copies each with their `$index`),
        # unless a whole list is an argument (`shortcut: $shortcut`).
        args = substitute(
            e.args, env, e.args.pos, skip=tuple(k for k, v in e.args.items() if _is_layer_list(k, v, cls))
        )
        arg_pos = {k: child_position(args, k, e.pos) for k in args}

        def need(key: str) -> Any:
            if key not in args:
                raise SpecError(f"`{e.kind}` needs `{key}:`.", e.pos)
            return args[key]

        if cls is Repeat:
            return self.repeat(e, path, src, scope, env, stack, trainable, need, arg_pos)
        # Validate the structure's own arguments first (its groups filled in below), so that its
        # nodes (a split's sections) can refer to it while its branches are built.
        data: dict[str, Any] = {"name": path.rsplit(".", 1)[-1]}
        branches: dict[str, YList] = {}
        for arg in cls.branch_args:
            raw = need(arg)
            if not isinstance(raw, YList) or not raw:
                raise SpecError(f"`{arg}` must be a non-empty list of layer lists.", arg_pos[arg])
            branches[arg] = raw
            data[arg] = [[] for _ in raw]
        for arg in cls.layer_args:
            data[arg] = []
            if cls.model_fields[arg].is_required():
                need(arg)
        data.update({k: v for k, v in args.items() if k not in group_args})
        layer = _validated(cls, data, e, path, arg_pos)
        assert isinstance(layer, StructureKind)
        outs: list[int] = []
        for arg in cls.layer_args:
            raw = args.get(arg)
            under = cls.group_paths.get(arg)
            if not raw:
                group: list[Layer] = []
                out = src
            elif under is None:  # `body`: its layers are named right under the structure
                group, out = self.build_list(
                    raw, arg_pos[arg], Scope(path + ".", src, self.names, scope), env, stack, trainable
                )
            else:
                group, out = self.build_group(raw, arg_pos[arg], f"{path}.{under}", src, scope, env, stack, trainable)
            setattr(layer, arg, group)
            outs.append(out)
        for arg, raw in branches.items():
            groups = []
            for i, (branch, p) in enumerate(zip(raw, raw.item_pos)):
                branch_src = self.graph.add(SplitSection(layer, i), [src]) if isinstance(layer, Split) else src
                group, out = self.build_group(branch, p, f"{path}.{i}", branch_src, scope, env, stack, trainable)
                groups.append(group)
                outs.append(out)
            setattr(layer, arg, groups)
        return layer, self.graph.add(layer, outs)

    def repeat(self, e, path, src, scope, env, stack, trainable, need, arg_pos) -> tuple[Layer, int]:
        times = need("times")
        if not isinstance(times, int) or isinstance(times, bool) or not 0 <= times <= MAX_REPEAT:
            raise SpecError(
                f"`times` must be a whole number from 0 to {MAX_REPEAT:,}; got {times!r}.", arg_pos["times"]
            )
        raw = need("layers")
        iterations, out = [], src
        before = self.layer_count
        for i in range(times):
            copy, out = self.build_group(
                raw,
                arg_pos["layers"],
                f"{path}.{i}",
                out,
                scope,
                env.with_values(index=i, times=times),
                stack,
                trainable,
            )
            iterations.append(copy)
            if i == 0 and before + (self.layer_count - before) * times > MAX_LAYERS:  # refuse now, not later
                raise SpecError(
                    f"the network expands to more than {MAX_LAYERS:,} layers ({times:,} times "
                    f"{self.layer_count - before:,}); refusing to go on.",
                    arg_pos["times"],
                    "Check the `times:` of `repeat` blocks.",
                )
        layer = _validated(
            Repeat, {"name": path.rsplit(".", 1)[-1], "times": times, "iterations": []}, e, path, arg_pos
        )
        layer.iterations = iterations  # type: ignore[attr-defined]
        return layer, out

    def block_call(
        self, e: _Entry, path: str, local_name: str, src: int, env: Env, stack: tuple[str, ...], trainable: bool
    ) -> tuple[Layer, int]:
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
        given = substitute(e.args, env, e.args.pos)  # evaluated where the use is written
        self.arg_stacks.update({id(v): (v, stack) for v in given.values() if isinstance(v, (YMap, YList))})
        # Defaults are evaluated inside the use, in order: each sees the given arguments, the defaults
        # before it and `$in_channels` (this use's input channels).
        body_env = Env({**given, "in_channels": Lazy(lambda: self.graph.shape(src)[0])}, e.kind)
        for key, default in block.defaults.items():
            if key not in given and default is not None:
                body_env[key] = substitute(default, body_env, block.pos)
        try:
            built, out = self.build_list(
                block.layers,
                block.pos,
                Scope(path + ".", src, self.names, None, boundary=True),
                body_env,
                (*stack, e.kind),
                trainable,
            )
        except SpecError as error:
            if not stack:  # the position is inside the block's definition: name the use that failed
                use = f"in `{path}`, the use of block `{e.kind}` at line {e.pos.line}"
                error.message = f"{error.message.rstrip('.')} ({use})."
            raise
        call = BlockCall.model_validate({"name": local_name, "block": e.kind, "args": dict(given), "layers": built})
        return _placed(call, path, e.pos, {k: child_position(e.args, k, e.pos) for k in e.args}), out


def canonical_args(
    cls: type[Layer], args: YMap, kind: str, pos: Position
) -> tuple[dict[str, Any], dict[str, Position]]:
    """Rename argument aliases (`filters` -> `out_channels`), refusing both at once."""
    data: dict[str, Any] = {}
    positions: dict[str, Position] = {}
    for key, value in args.items():
        canonical = cls.arg_aliases.get(key, key)
        if canonical in data:
            raise SpecError(
                f"`{kind}` is given both `{key}` and its synonym `{canonical}`.",
                args.key_pos[key],
                "Keep one of them.",
            )
        data[canonical] = value
        positions[canonical] = args.value_pos.get(key, pos)
    return data, positions


def _validated(cls: type[Layer], data: dict[str, Any], e: _Entry, path: str, positions: dict[str, Position]) -> Layer:
    """Validate a kind's arguments into its model, placed at `path`; errors point into the YAML."""
    try:
        layer = cls.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, f"`{e.kind}`", e.args, e.pos, cls) from None
    return _placed(layer, path, e.pos, positions)


def _placed(layer: Layer, path: str, pos: Position, arg_positions: dict[str, Position]) -> Layer:
    at = layer.placement
    at.path, at.source, at.arg_sources = path, pos, arg_positions
    return layer


def _is_layer_list(key: str, value: Any, cls: type[StructureKind]) -> bool:
    names = (*cls.layer_args, *cls.branch_args, *(("layers",) if cls is Repeat else ()))
    return key in names and not (isinstance(value, str) and "$" in value)


def _empty_map(pos: Position) -> YMap:
    args = YMap()
    args.pos, args.key_pos, args.value_pos = pos, {}, {}
    return args


def _without(mapping: YMap, keys: tuple[str, ...]) -> YMap:
    out = YMap((k, v) for k, v in mapping.items() if k not in keys)
    out.pos = mapping.pos
    out.key_pos = {k: p for k, p in mapping.key_pos.items() if k not in keys}
    out.value_pos = {k: p for k, p in mapping.value_pos.items() if k not in keys}
    return out

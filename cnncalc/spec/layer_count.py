"""How many layers a spec expands to, counted on the YAML before anything is built.

Building a layer validates a pydantic model (~0.1 ms); a block that uses another block twice, forty
levels deep, expands to 2^40 layers, and building even the first 100,000 of them takes seconds. So
the loader counts first: every row the table would show (layers, structures, block uses), with a
block use's count remembered per block and arguments, so a doubling chain costs one count per
block. Over MAX_LAYERS, the error names the innermost thing that multiplied past the limit: a
`repeat`'s `times:`, or a block use. Anything malformed counts as one layer; the builder that runs
afterwards reports it with its own message.
"""

from __future__ import annotations

from typing import Any

from cnncalc.errors import Position, SpecError, approximate
from cnncalc.layers import STRUCTURE_KINDS, Repeat
from cnncalc.spec.builder import MAX_REPEAT
from cnncalc.spec.substitute import Env, substitute
from cnncalc.spec.yaml_source import YList, YMap, child_position

MAX_COUNT_DEPTH = 80  # deeper than the builder's MAX_NESTING (64), which reports such nesting itself


class LayerCounter:
    def __init__(self, builder: Any, limit: int):
        self.builder = builder
        self.limit = limit
        self.memo: dict[tuple[Any, ...], int] = {}
        self.kept: list[Any] = []  # argument values whose id() is part of a memo key stay alive
        self.top: Position | None = None  # the top-level layer being counted, for messages

    def check(self, items: Any) -> int:
        """Count the top-level `layers:`; raise SpecError past the limit."""
        total = 0
        if not isinstance(items, YList):
            return 0
        env = Env({}, None)
        for item, pos in zip(items, items.item_pos):
            self.top = pos
            total += self.entry(item, pos, 0, env)
            if total > self.limit:
                raise SpecError(f"the network expands to more than {self.limit:,} layers; refusing to go on.", pos)
        return total

    def group(self, items: Any, depth: int, env: Env) -> int:
        if isinstance(items, str) and "$" in items:  # a whole list passed as a block argument
            try:
                items = substitute(items, env, Position("", 0, 0))
            except SpecError:
                return 1
        if not isinstance(items, YList):
            return 1 if isinstance(items, (YMap, str)) else 0
        total = 0
        for item, pos in zip(items, items.item_pos):
            total += self.entry(item, pos, depth, env)
            if total > self.limit:
                return total  # the caller reports (it knows what multiplied)
        return total

    def entry(self, item: Any, pos: Position, depth: int, env: Env) -> int:
        """The rows one list item expands to (`when:` is not evaluated: an upper bound)."""
        if depth > MAX_COUNT_DEPTH:
            return 1
        try:
            if isinstance(item, str) and "$" in item:
                item = substitute(item, env, pos)
            e = self.builder.entry(item, pos, env)
        except SpecError:
            return 1
        if e.kind in self.builder.blocks:
            return self.block_use(e, depth, env)
        if e.kind not in STRUCTURE_KINDS or e.is_from_merge:
            return 1
        cls = STRUCTURE_KINDS[e.kind]
        args = e.args
        if cls is not Repeat:
            total = 1 + sum(self.group(args.get(arg), depth + 1, env) for arg in cls.layer_args if args.get(arg))
            for arg in cls.branch_args:
                branches = args.get(arg)
                if isinstance(branches, YList):
                    total += sum(self.group(branch, depth + 1, env) for branch in branches)
            return total
        try:
            times = substitute(args.get("times"), env, e.pos)
        except SpecError:
            return 1
        if not isinstance(times, int) or isinstance(times, bool) or not 0 <= times <= MAX_REPEAT:
            return 1  # the builder says what `times` may be
        inner = self.group(args.get("layers"), depth + 1, env.with_values(index=0, times=times))
        count = 1 + times * inner
        if count > self.limit:
            raise SpecError(
                f"the network expands to more than {self.limit:,} layers: this `repeat` makes {times:,} copies "
                f"of {approximate(inner)} layers.",
                child_position(args, "times", e.pos),
                "Lower `times:`, or the layers inside the repeat.",
            )
        return count

    def block_use(self, e: Any, depth: int, env: Env) -> int:
        block = self.builder.blocks[e.kind]
        try:
            given = substitute(e.args, env, e.pos)
        except SpecError:
            return 1
        key = (e.kind, *sorted((name, self.fingerprint(value)) for name, value in given.items()))
        if key not in self.memo:
            # Shapes are not known here: `$in_channels` counts as 1 (only `when:` could depend on it).
            inside = Env({**given, "in_channels": 1}, e.kind)
            for name, default in block.defaults.items():
                if name not in given and default is not None:
                    try:
                        inside[name] = substitute(default, inside, block.pos)
                    except SpecError:
                        return 1
            self.memo[key] = 1 + self.group(block.layers, depth + 1, inside)
        count = self.memo[key]
        if count > self.limit:
            top = ""
            if self.top is not None and self.top.line != e.pos.line:
                top = f" (reached from the layer at line {self.top.line})"
            raise SpecError(
                f"the network expands to more than {self.limit:,} layers: this use of block `{e.kind}` alone "
                f"expands to at least {approximate(count)} layers{top}.",
                e.pos,
                "A block that uses another block several times multiplies its layers at every level; "
                "use fewer nested uses.",
            )
        return count

    def fingerprint(self, value: Any) -> Any:
        """An argument as part of a memo key: itself when hashable, else its identity (kept alive)."""
        if isinstance(value, (str, int, float, bool)) or value is None:
            return (type(value).__name__, value)
        self.kept.append(value)
        return ("id", id(value))

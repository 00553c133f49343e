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
from cnncalc.layers import LAYER_KINDS
from cnncalc.spec.builder import MAX_REPEAT
from cnncalc.spec.substitute import substitute
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
        for item, pos in zip(items, items.item_pos):
            self.top = pos
            total += self.entry(item, pos, 0)
            if total > self.limit:
                raise SpecError(f"the network expands to more than {self.limit:,} layers; refusing to go on.", pos)
        return total

    def group(self, items: Any, depth: int) -> int:
        if not isinstance(items, YList):
            return 1 if isinstance(items, (YMap, str)) else 0
        total = 0
        for item, pos in zip(items, items.item_pos):
            total += self.entry(item, pos, depth)
            if total > self.limit:
                return total  # the caller reports (it knows what multiplied)
        return total

    def entry(self, item: Any, pos: Position, depth: int) -> int:
        if depth > MAX_COUNT_DEPTH:
            return 1
        try:
            e = self.builder.entry(item, pos)
        except SpecError:
            return 1
        if e.kind in LAYER_KINDS:
            return 1
        if e.kind in self.builder.blocks:
            return self.block_use(e, depth)
        args = e.args
        if e.kind == "residual":
            shortcut = args.get("shortcut")
            return 1 + self.group(args.get("body"), depth + 1) + (self.group(shortcut, depth + 1) if shortcut else 0)
        if e.kind == "concat":
            branches = args.get("branches")
            if not isinstance(branches, YList):
                return 1
            return 1 + sum(self.group(branch, depth + 1) for branch in branches)
        times = args.get("times")  # repeat
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_REPEAT:
            return 1  # the builder says what `times` may be
        inner = self.group(args.get("layers"), depth + 1)
        count = 1 + times * inner
        if count > self.limit:
            raise SpecError(
                f"the network expands to more than {self.limit:,} layers: this `repeat` makes {times:,} copies "
                f"of {approximate(inner)} layers.",
                child_position(args, "times", e.pos),
                "Lower `times:`, or the layers inside the repeat.",
            )
        return count

    def block_use(self, e: Any, depth: int) -> int:
        block = self.builder.blocks[e.kind]
        env = {**block.defaults, **e.args}
        key = (e.kind, *sorted((name, self.fingerprint(value)) for name, value in env.items()))
        if key not in self.memo:
            try:
                layers = substitute(block.layers, env, block.pos, e.kind)
            except SpecError:
                return 1
            self.memo[key] = 1 + self.group(layers, depth + 1)
        count = self.memo[key]
        if count > self.limit:
            elsewhere = self.top is not None and self.top.line != e.pos.line
            top = f" (reached from the layer at line {self.top.line})" if elsewhere else ""
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

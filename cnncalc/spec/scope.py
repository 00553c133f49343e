"""Which layer a name in `from:`, `like:` or `outputs:` means: lexical scopes over the layer lists.

A name is looked up in the list being read, then in the enclosing lists (the nearest wins),
stopping at a block's boundary. Within a list a name may be dotted (`s1.c1`) to reach into a
nested list; at the top level a full path (`layer3.5.relu3`) works from anywhere outside blocks.
`input` is the input of the list being read. Only layers already built are known, so a graph
made this way has no cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnncalc.errors import Position, SpecError
from cnncalc.spec.messages import did_you_mean


@dataclass
class Names:
    """Every path built so far -> its output node; paths removed by `when:` -> where they were written."""

    nodes: dict[str, int] = field(default_factory=dict)
    written: dict[str, Position] = field(default_factory=dict)
    removed: dict[str, Position] = field(default_factory=dict)


@dataclass
class Scope:
    """One layer list: its path prefix (`layer1.0.`), its input node, and where lookups go next."""

    prefix: str
    input_node: int
    names: Names
    parent: Scope | None = None
    boundary: bool = False  # a block's own list: lookups stop here

    def frames(self) -> list[Scope]:
        found: list[Scope] = []
        frame: Scope | None = self
        while frame is not None:
            found.append(frame)
            if frame.boundary:
                break
            frame = frame.parent
        return found

    def resolve(self, name: object, pos: Position, what: str = "from") -> int:
        """The node a name refers to here, or a positioned error with a did-you-mean."""
        if not isinstance(name, str) or not name:
            raise SpecError(f"`{what}:` takes layer names; got {name!r}.", pos)
        if name == "input":
            return self.input_node
        frames = self.frames()
        for frame in frames:
            node = self.names.nodes.get(frame.prefix + name)
            if node is not None:
                return node
        for frame in frames:
            removed = self.names.removed.get(frame.prefix + name)
            if removed is not None:
                raise SpecError(
                    f"`{what}: {name}`: that layer (line {removed.line}) is absent here, because its `when:` is false.",
                    pos,
                    "Name a layer that exists for these arguments, or give the reference its own `when:`.",
                )
        visible = self.visible()
        guess = did_you_mean(name, visible)
        later = "" if not self.boundary else " Inside a block, only the block's own layers and `input` can be named."
        raise SpecError(
            f"`{what}: {name}`: no earlier layer is named `{name}` here.",
            pos,
            (f"Did you mean `{guess}`?" if guess else "Only layers written before this one can be named.") + later,
        )

    def visible(self) -> list[str]:
        """The names usable here (for did-you-mean), nearest list first."""
        found = ["input"]
        for frame in self.frames():
            found += [path[len(frame.prefix) :] for path in self.names.nodes if path.startswith(frame.prefix)]
        return list(dict.fromkeys(found))

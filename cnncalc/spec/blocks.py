"""Parameterised blocks from a spec's `blocks:` section (their uses are expanded by the builder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS
from cnncalc.spec.yaml_source import YList, YMap, child_position


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

"""JSON text for reports: indented to a depth, compact below it, so the C encoder does the work.

`json.dumps(indent=...)` falls back to the pure-Python encoder: at 10,000 layers almost half of `table --format
json`'s time. Here the outer levels are indented and every value below them (a layer's row) is one line from
the C encoder: the same data, readable, and linear in its size.
"""

from __future__ import annotations

import json
from typing import Any

_COMPACT = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "))


def dumps(value: Any, depth: int = 2, indent: int = 2, _level: int = 0) -> str:
    """`value` as JSON: dicts and lists indented down to `depth` levels, each deeper value on one line."""
    if _level >= depth or not isinstance(value, (dict, list)) or not value or _flat(value):
        return _COMPACT.encode(value)
    inner = " " * (indent * (_level + 1))
    if isinstance(value, dict):
        items = [
            f"{inner}{_COMPACT.encode(str(key))}: {dumps(item, depth, indent, _level + 1)}"
            for key, item in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [f"{inner}{dumps(item, depth, indent, _level + 1)}" for item in value]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(items) + "\n" + " " * (indent * _level) + closing


def _flat(value: Any) -> bool:
    """A list of plain values (a shape) stays on one line at any level."""
    return isinstance(value, list) and not any(isinstance(item, (dict, list)) for item in value)

"""Write a spec as readable YAML: one flow mapping per leaf, block style for structures."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
GROUP_KEYS = ("body", "shortcut", "branches")


@dataclass
class Entry:
    """One layer entry: its kind and arguments (`name`, `from`, groups of entries), and an id for `from:`."""

    kind: str
    args: dict[str, Any]
    item: int = 0


def scalar(value: Any) -> str:
    """A YAML scalar or flow sequence; text is double-quoted (JSON escapes) unless a plain identifier."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        return repr(value) if abs(value) != float("inf") else ("-.inf" if value < 0 else ".inf")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)


def write_spec(
    name: str, description: str, input_shape: tuple[int, ...], entries: list[Entry], outputs: list[str]
) -> str:
    """The spec text; `from:` values `@<id>` are replaced by the name of the entry with that id."""
    names = {entry.item: entry.args["name"] for entry in entries}
    lines = [f"name: {json.dumps(name)}", f"description: {json.dumps(description)}", f"input: {scalar(input_shape)}"]
    lines.append("layers:")
    for entry in entries:
        lines.extend(_entry_lines(entry, "  ", names))
    if outputs:
        lines.append(f"outputs: {scalar(outputs)}")
    return "\n".join(lines) + "\n"


def _ref(value: Any, names: dict[int, str]) -> Any:
    if isinstance(value, list):
        return [_ref(v, names) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        return names[int(value[1:])]
    return value


def _entry_lines(entry: Entry, indent: str, names: dict[int, str]) -> list[str]:
    args = {k: _ref(v, names) if k == "from" else v for k, v in entry.args.items() if v != "" or k != "name"}
    groups = {k: args.pop(k) for k in GROUP_KEYS if k in args}
    if not groups:
        if not args:
            return [f"{indent}- {entry.kind}"]
        inner = ", ".join(f"{k}: {scalar(v)}" for k, v in args.items())
        return [f"{indent}- {entry.kind}: {{{inner}}}"]
    lines = [f"{indent}- {entry.kind}:"]
    for k, v in args.items():
        lines.append(f"{indent}    {k}: {scalar(v)}")
    for key, value in groups.items():
        if key == "branches":
            lines.append(f"{indent}    branches:")
            for branch in value:
                if not branch:
                    lines.append(f"{indent}      - []")
                    continue
                sub: list[str] = []
                for child in branch:
                    sub.extend(_entry_lines(child, indent + "        ", names))
                sub[0] = f"{indent}      - - " + sub[0].lstrip()[2:]
                lines.extend(sub)
        elif not value:
            lines.append(f"{indent}    {key}: []")
        else:
            lines.append(f"{indent}    {key}:")
            for child in value:
                lines.extend(_entry_lines(child, indent + "      ", names))
    return lines

"""Glob patterns that cnncalc expands itself (shells on Windows, and quoted patterns in CI, pass them on):
one matcher for every command that takes them (`validate`, `check --answers`), so that the files a pattern
names are the same everywhere, and `**` is walked without looping through symbolic links."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

GLOB_CHARS = set("*?[")


def is_pattern(text: str) -> bool:
    """Whether `text` holds a glob character (`*`, `?`, `[`)."""
    return bool(GLOB_CHARS & set(text))


def walk(folder: Path) -> list[Path]:
    """Every non-folder entry under `folder` (hidden ones skipped), following links to folders but
    never into a folder already being walked or walked before (a link loop)."""
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            info = current.stat()
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue
        visited.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()  # follows links; False for dangling links and loops
            except OSError:
                is_dir = False
            if is_dir:
                pending.append(Path(entry.path))
            else:
                found.append(Path(entry.path))
    return found


def glob_paths(pattern: str) -> list[Path]:
    """Matches of `pattern`; `**` (any folders) is matched over a loop-safe walk, not glob's own."""
    if "**" not in pattern:
        return [Path(m) for m in sorted(glob.glob(pattern))]
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if is_pattern(part)), len(parts))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    regex = re.compile(_glob_regex(parts[fixed:]))
    candidates = walk(base)
    folders = {parent for path in candidates for parent in path.relative_to(base).parents if str(parent) != "."}
    matched = [base / rel for rel in folders if regex.fullmatch(rel.as_posix())]
    matched += [path for path in candidates if regex.fullmatch(path.relative_to(base).as_posix())]
    return sorted(set(matched))


def _glob_regex(parts: tuple[str, ...]) -> str:
    """A regex over `/`-separated relative paths for glob parts: `**` any folders, `*` `?` `[...]` in one name."""
    pieces = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            pieces.append(".*" if last else "(?:[^/]+/)*")
            continue
        name = ""
        j = 0
        while j < len(part):
            char = part[j]
            if char == "*":
                name += "[^/]*"
            elif char == "?":
                name += "[^/]"
            elif char == "[" and "]" in part[j + 2 :]:
                close = part.index("]", j + 2)
                inner = part[j + 1 : close].replace("\\", "\\\\")
                name += "[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]"
                j = close
            else:
                name += re.escape(char)
            j += 1
        pieces.append(name + ("" if last else "/"))
    return "".join(pieces)

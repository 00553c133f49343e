"""Read YAML into plain Python values that remember where each came from.

PyYAML silently keeps the last of two duplicate keys and expands aliases without
limit; both are refused here, so nothing the user wrote is lost or explodes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.resolver import Resolver

from cnncalc.errors import Position, SpecError

# Aliases are expanded into fresh values; a "billion laughs" file must be refused,
# not expanded. Real specs (ResNet-50 with blocks) use a few thousand nodes.
MAX_NODES = 200_000
# Real specs nest about 10 levels (block > residual > body > layer > arguments); deeper is hostile.
MAX_DEPTH = 100

# PyYAML (YAML 1.1) reads `5e9` and `5.0e9` (exponent without a sign) as strings; a PyTorch user means floats.
FLOAT_WITHOUT_DOT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


class _BoundedComposer(Composer):
    """PyYAML's composer with cnncalc's limits checked on the event stream, before anything is built.

    - nesting: checked as each list or mapping opens, so neither libyaml's own (larger) nesting limit
      nor Python's recursion limit is reached first;
    - values written in the file (MAX_NODES), so a huge file is refused early and not blamed on aliases;
    - aliases: one to a list or mapping that is still open (`&a {<<: *a}`) would be infinite.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.values = 0
        self.last_opened: tuple[Any, int] | None = None  # (mark, depth) of the last list or mapping opened
        self.open_anchors: list[str] = []
        self.path: list[str] = []  # keys and indexes of the open lists and mappings, for messages

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]  # the parser mixed in beside this class has it
        if isinstance(event, AliasEvent):
            return self.alias(event, parent, index)
        self.values += 1
        label = _label(index)
        if self.values > MAX_NODES:
            where = "".join([*self.path[1:], label]).lstrip(".")
            raise _Refused(
                f"the file holds more than {MAX_NODES:,} YAML values (numbers, texts, lists and mappings)"
                + (f"; the limit is reached in `{where}`." if where else "."),
                event.start_mark,
                "A spec describes layers: give the input as a shape (`input: [3, 224, 224]`) rather than "
                "values, and use `repeat:` or `blocks:` rather than copies of layers.",
            )
        if not isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            return super().compose_node(parent, index)
        self.depth += 1
        self.last_opened = (event.start_mark, self.depth)
        if self.depth > MAX_DEPTH:
            raise _Refused(
                f"the document nests lists and mappings more than {MAX_DEPTH} levels deep.",
                event.start_mark,
                "Use `repeat:` or `blocks:` instead of deep nesting.",
            )
        self.path.append(label)
        if event.anchor is not None:
            self.open_anchors.append(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.path.pop()
            if event.anchor is not None:
                self.open_anchors.pop()

    def alias(self, event: Any, parent: Any, index: Any) -> Any:
        if event.anchor in self.open_anchors:
            raise _Refused(
                f"the alias `*{event.anchor}` refers to a list or mapping that contains it, so it would never end.",
                event.start_mark,
                f"Merge or copy a mapping defined outside `&{event.anchor}`.",
            )
        if event.anchor not in self.anchors:
            raise _Refused(
                f"the alias `*{event.anchor}` refers to no anchor: `&{event.anchor}` must be defined before it.",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def _label(index: Any) -> str:
    """How a value's place in its parent reads in a path: `.key` or `[3]`."""
    if isinstance(index, int):
        return f"[{index}]"
    if isinstance(index, yaml.ScalarNode):
        return f".{index.value[:40]}"
    return ""


class _Refused(Exception):
    """A limit or a cycle found while composing; parse_yaml turns it into a SpecError."""

    def __init__(self, message: str, mark: Any, hint: str | None = None):
        super().__init__(message)
        self.message, self.mark, self.hint = message, mark, hint


class _PythonLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _BoundedComposer, Resolver):
    """Pure-Python PyYAML (no libyaml): used when PyYAML was built without it."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _BoundedComposer.__init__(self)
        Resolver.__init__(self)


try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]  # exists when libyaml was built
except ImportError:  # PyYAML built without libyaml
    _Loader: type = _PythonLoader
else:

    class _Loader(_BoundedComposer, _CParser, Resolver):  # type: ignore[no-redef]
        """libyaml's parser (fast), PyYAML's composer (above) over its events."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            Resolver.__init__(self)


# PyYAML's parser messages for the mistakes people make by hand, in plain words.
_INDENTATION = "Check the indentation: the items of one list, or the keys of one mapping, start in the same column."
_YAML_HINTS = {
    "could not find expected ':'": "Each line of a mapping is `key: value`; each layer starts with `- ` (`- relu`).",
    "expected '-' indicator": _INDENTATION,
    "expected <block end>": _INDENTATION,
    "mapping values are not allowed": (
        "A `: ` where a plain value was expected: write the kind with its colon (`- conv: {...}`), "
        "or quote a value that contains `: `."
    ),
}


class YMap(dict):
    """A mapping with the position of itself, its keys and its values."""

    pos: Position
    key_pos: dict[Any, Position]
    value_pos: dict[Any, Position]
    # In a `{...}` mapping, each unquoted key as written (`000` reads as the int 0): answers files look here
    # for a count written with thousands commas, which YAML splits into a number and keys (`34,944`).
    flow_keys: dict[Any, str] | None = None


class YList(list):
    """A sequence with the position of itself and of each item."""

    pos: Position
    item_pos: list[Position]


def refuse_split_counts(mapping: YMap) -> None:
    """`{params: 34,944}` is, to YAML, `params: 34` and a key `944`: refuse it rather than grade the 34."""
    written = mapping.flow_keys
    if not written:
        return
    keys = list(mapping)
    for i, key in enumerate(keys):
        value = mapping[key]
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        line = mapping.value_pos[key].line
        groups: list[str] = []
        for later in keys[i + 1 :]:  # the keys made of digits that follow the number on its line
            text = written.get(later, "")
            if not (text.isascii() and text.isdigit()) or mapping[later] is not None:
                break
            if mapping.key_pos[later].line != line:
                break
            groups.append(text)
        if groups:
            number = ",".join([str(value), *groups])
            raise SpecError(
                f"`{key}: {number}` reads as `{key}: {value}` followed by the key"
                f"{'s' if len(groups) > 1 else ''} {', '.join(f'`{g}`' for g in groups)}: inside `{{...}}` "
                "a comma separates entries, so a count cannot have thousands commas there.",
                mapping.value_pos[key],
                f'Write {number.replace(",", "")}, or quote it: "{number}".',
            )


def position_of(node: Any, default: Position) -> Position:
    """The position recorded on a YMap/YList, or `default` for a plain scalar."""
    return getattr(node, "pos", default)


def child_position(container: Any, key: Any, default: Position) -> Position:
    """Position of `container[key]` (a YMap key or a YList index)."""
    if isinstance(container, YMap):
        return container.value_pos.get(key, container.pos)
    if isinstance(container, YList) and isinstance(key, int) and 0 <= key < len(container.item_pos):
        return container.item_pos[key]
    return position_of(container, default)


def key_position(container: Any, key: Any, default: Position) -> Position:
    """Position of a key of a YMap (where a misspelt argument is)."""
    if isinstance(container, YMap):
        return container.key_pos.get(key, container.pos)
    return position_of(container, default)


# What an empty file is told it needs, by the kind of file being read.
WHAT_A_FILE_HOLDS = {
    "spec": "A spec needs at least `input:` and `layers:`.",
    "answers": "An answers file has the form of `expect:`, e.g. `layers: {conv1: {output_shape: [96, 55, 55]}}`.",
}
_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
# The characters YAML allows in a file (YAML 1.1's printable set, as PyYAML checks it).
_NOT_YAML = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def read_text(path: Path, display: str | None = None, kind: str = "spec") -> str:
    """Read a spec (or answers) file as UTF-8, turning every OS problem into a SpecError.

    Only regular files are read (a FIFO or /dev/zero would hang or never end), and at most
    `limits.max_file_bytes()` of them, checked before anything is parsed.
    """
    from cnncalc import limits

    name = display or str(path)
    start = Position(name, 1, 1)
    data = _read_regular_file(path, start, limits.max_file_bytes(), kind)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded).",
            Position(name, line, column),
            "Save the file as UTF-8.",
        ) from None
    if not text.strip():
        raise SpecError("the file is empty.", start, WHAT_A_FILE_HOLDS.get(kind))
    return text


def _read_regular_file(path: Path, start: Position, max_bytes: int, kind: str = "spec") -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise SpecError(
                f"this is a symbolic link to `{os.readlink(path)}`, which does not exist.",
                start,
                "Fix or remove the link.",
            ) from None
        raise SpecError("no such file.", Position(start.file, 0, 0)) from None  # no line to point at
    except IsADirectoryError:
        raise _folder(start, kind) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SpecError("this is a symbolic link loop (the link leads back to itself).", start) from None
        raise SpecError(f"the file cannot be read ({exc.strerror}).", start) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _folder(start, kind)
        if not stat.S_ISREG(info.st_mode):
            what = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise SpecError(f"this is {what}, not a regular file; cnncalc reads spec files only.", start)
        if info.st_size > max_bytes:
            raise _too_big(start, info.st_size, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= max_bytes:  # st_size may be 0 or stale (files in /proc, a file still growing)
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise _too_big(start, size, max_bytes, at_least=True)
        return b"".join(chunks)
    except OSError as exc:
        raise SpecError(f"the file cannot be read ({exc.strerror}).", start) from None
    finally:
        os.close(fd)


def _folder(start: Position, kind: str = "spec") -> SpecError:
    if kind == "answers":  # a folder of submissions is graded through a glob, not through `validate`
        pattern = Path(start.file) / "*.yaml"
        return SpecError("this is a folder, not an answers file.", start, f"Give a glob such as '{pattern}'.")
    return SpecError(
        "this is a folder, not a spec file.", start, "Give a .yaml file, or use `cnncalc validate` for folders."
    )


def _too_big(start: Position, size: int, max_bytes: int, at_least: bool = False) -> SpecError:
    from cnncalc import limits

    return SpecError(
        f"the file is {'more than ' if at_least else ''}{limits.format_bytes(size)}; files over "
        f"{limits.format_bytes(max_bytes)} are refused before parsing (a spec is a few kB).",
        start,
        f"To read it anyway, raise the limit: `--max-file-size 100MB` (or {limits.FILE_SIZE_ENV}=100MB).",
    )


def _check_characters(text: str, file: str) -> None:
    """A character YAML does not allow (NUL, a raw escape), at its line and column."""
    found = _NOT_YAML.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    code = ord(found.group())
    what = "a NUL character" if code == 0 else "a control character"
    raise SpecError(
        f"contains {what} (U+{code:04X}), which YAML does not allow in a file.",
        Position(file, line, column),
        'Remove it; inside a double-quoted value, write it as an escape such as "\\t".',
    )


def parse_yaml(text: str, file: str, kind: str = "spec") -> Any:
    """Parse YAML text into YMap/YList/scalars with positions, or raise SpecError."""
    _check_characters(text, file)
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except _Refused as exc:
        raise SpecError(exc.message, _position(file, exc.mark), exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        # libyaml's scanner reads up to 1,024 characters ahead, so on a line such as `[[[[...` its own
        # nesting limit can fire before the composer has seen level MAX_DEPTH: count the brackets it read.
        deeper = _flow_nesting_beyond_limit(text, loader and loader.last_opened, exc.problem_mark)
        raise (_too_deep(file, *deeper) if deeper else _yaml_error(exc, text, file)) from None
    except yaml.YAMLError:  # a reader error (characters are checked above), with no position of its own
        raise SpecError("invalid YAML: the file cannot be read as YAML text.", Position(file, 1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError("the file is empty.", Position(file, 1, 1), WHAT_A_FILE_HOLDS.get(kind))
    return _Converter(file).convert(node)


def _position(file: str, mark: Any) -> Position:
    return Position(file, mark.line + 1, mark.column + 1)


def _too_deep(file: str, line: int, column: int) -> SpecError:
    """`line`, `column`: 0-based, as PyYAML marks count."""
    return SpecError(
        f"the document nests lists and mappings more than {MAX_DEPTH} levels deep.",
        Position(file, line + 1, column + 1),
        "Use `repeat:` or `blocks:` instead of deep nesting.",
    )


def _flow_nesting_beyond_limit(text: str, opened: tuple[Any, int] | None, until: Any) -> tuple[int, int] | None:
    """0-based (line, column) of the `[` or `{` past MAX_DEPTH between the composer's last opened
    collection (`opened`: its mark and depth) and the scanner's error (`until`), or None.
    Quoted text and comments are skipped; brackets are counted as flow collections."""
    if opened is None or until is None:
        return None
    start, depth = opened
    line, column = start.line, start.column + 1
    i, end = start.index + 1, min(until.index + 1, len(text))
    quote = None
    while i < end:
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i, column = i + 2, column + 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"" and (i == 0 or text[i - 1] in " \t\n[{,:"):
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t\n"):
            while i < end and text[i] != "\n":
                i += 1
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, column
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line, column = line + 1, 0
        else:
            column += 1
        i += 1
    return None


def _yaml_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    """PyYAML's parse error as a SpecError at the culprit, with a plain-words hint for hand-made mistakes."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return SpecError(f"invalid YAML: {exc}.", Position(file, 1, 1))
    pos = Position(file, mark.line + 1, mark.column + 1)
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line[: len(line) - len(line.lstrip())]:
        tab = Position(file, mark.line + 1, line.index("\t") + 1)
        return SpecError(
            "invalid YAML: a tab in the indentation.", tab, "YAML indents with spaces only; replace it with spaces."
        )
    problem = (exc.problem or "invalid YAML").rstrip(".")
    context = f" ({exc.context})" if exc.context else ""
    hint = next((h for text_, h in _YAML_HINTS.items() if text_ in problem), None)
    if exc.context_mark and exc.context == "while scanning a simple key":
        # PyYAML marks the line after the culprit; the key it was scanning is what the user wrote.
        pos = Position(file, exc.context_mark.line + 1, exc.context_mark.column + 1)
    if exc.context_mark and (exc.context or "").startswith("while parsing a flow"):
        opened = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        hint = f"The bracket at {opened} is not closed, or a `,` is missing."
    return SpecError(f"invalid YAML: {problem}{context}.", pos, hint)


def load_yaml_file(path: Path, display: str | None = None, kind: str = "spec") -> Any:
    """Read and parse one YAML file with positions; `kind` ("spec" or "answers") shapes the messages."""
    return parse_yaml(read_text(path, display, kind), display or str(path), kind)


_STANDARD = "tag:yaml.org,2002:"
# The standard YAML tags cnncalc reads, by the kind of node they may stand on. (`merge` is the `<<` key,
# `value` the plain scalar `=`.) Anything else, `!!python/tuple` or a local `!thing`, is refused.
_SCALAR_TAGS = {_STANDARD + t for t in ("str", "int", "float", "bool", "null", "binary", "timestamp")}
_SEQUENCE_TAG = _STANDARD + "seq"
_MAPPING_TAG = _STANDARD + "map"


def short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/tuple` as written: `!!python/tuple`."""
    return "!!" + tag[len(_STANDARD) :] if tag.startswith(_STANDARD) else tag


class _Converter:
    """Turn a composed node graph into positioned Python values."""

    def __init__(self, file: str):
        self.file = file
        self.nodes_seen = 0
        self.depth = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def pos(self, node: yaml.Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: yaml.Node) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:  # the file itself holds fewer (the composer counts them): aliases
            raise SpecError(
                f"the document expands to more than {MAX_NODES:,} YAML values "
                "(aliases that refer to aliases multiply; is this a 'billion laughs' file?).",
                self.pos(node),
                "Use `repeat:` or `blocks:` instead of nested YAML aliases.",
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:  # as written it nests less deep (the composer checks): aliases
                raise SpecError(
                    f"with its aliases expanded, the document nests lists and mappings more than {MAX_DEPTH} "
                    "levels deep.",
                    self.pos(node),
                    "Use `repeat:` or `blocks:` instead of aliases inside aliases.",
                )
            if isinstance(node, yaml.MappingNode):
                self.check_tag(node, _MAPPING_TAG, "mapping")
                return self.mapping(node)
            self.check_tag(node, _SEQUENCE_TAG, "list")
            seq = YList(self.convert(item) for item in node.value)
            seq.pos = self.pos(node)
            seq.item_pos = [self.pos(item) for item in node.value]
            return seq
        finally:
            self.depth -= 1

    def check_tag(self, node: yaml.Node, allowed: str | set[str], what: str) -> None:
        if node.tag == allowed or (isinstance(allowed, set) and node.tag in allowed):
            return
        tag = short_tag(node.tag)
        known = node.tag.startswith(_STANDARD) and "/" not in node.tag[len(_STANDARD) :]
        raise SpecError(
            f"the YAML tag `{tag}` is not supported on a {what}: cnncalc reads plain YAML (lists, mappings, "
            "text, numbers, true/false and null)."
            if known
            else f"unknown YAML tag `{tag}`: cnncalc reads plain YAML (lists, mappings, text, numbers, true/false "
            "and null), and no tag runs code or builds objects.",
            self.pos(node),
            f"Remove `{tag}`.",
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STANDARD + "merge":  # `<<` where it merges nothing (not a mapping key)
            return node.value
        if node.tag == _STANDARD + "value":  # a plain `=`
            return node.value
        self.check_tag(node, _SCALAR_TAGS, "value")
        if node.tag == _STANDARD + "int":
            self.check_digits(node)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise SpecError(f"`{shown}` is not a valid `{short_tag(node.tag)}` value.", self.pos(node)) from None
        # libyaml marks a plain (unquoted) scalar with style '', pure-Python PyYAML with None.
        if isinstance(value, str) and not node.style and FLOAT_WITHOUT_DOT.match(value):
            return float(value)
        return value

    def check_digits(self, node: yaml.ScalarNode) -> None:
        """Python refuses to read integers longer than its digit limit (4,300 by default): say so."""
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
        digits = sum(char.isdigit() for char in node.value)
        if limit and digits > limit:
            raise SpecError(
                f"the integer `{node.value[:12]}...` has {digits:,} digits; cnncalc reads integers of at most "
                f"{limit:,} digits, and no size comes close.",
                self.pos(node),
            )

    def mapping(self, node: yaml.MappingNode) -> YMap:
        result = YMap()
        result.pos, result.key_pos, result.value_pos = self.pos(node), {}, {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _STANDARD + "merge":
                merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                continue
            key = self.convert(key_node)
            if isinstance(key, (YMap, YList)):
                raise SpecError("a mapping key must be a plain word, not a list or mapping.", self.pos(key_node))
            if key in result:
                first = result.key_pos[key]
                if node.flow_style and not key_node.style and key_node.value.isascii() and key_node.value.isdigit():
                    # `{params: 1,000, macs: 2,000}`: two keys `000` (see refuse_split_counts)
                    raise SpecError(
                        f"`{key_node.value}` reads as a key: inside `{{...}}` a comma separates entries, so a count "
                        "cannot have thousands commas there (`1,000` is 1 and a key `000`).",
                        self.pos(key_node),
                        'Write the numbers without commas, or quote them: "1,000".',
                    )
                raise SpecError(
                    f"duplicate key `{key}` (first given at line {first.line}, column {first.column}); "
                    "YAML would silently keep only the last one.",
                    self.pos(key_node),
                    "Remove or rename one of them.",
                )
            result[key] = self.convert(value_node)
            if node.flow_style and isinstance(key_node, yaml.ScalarNode) and not key_node.style:
                result.flow_keys = result.flow_keys or {}
                result.flow_keys[key] = key_node.value
            result.key_pos[key] = self.pos(key_node)
            result.value_pos[key] = self.pos(value_node)
        for source in merged:  # `<<: *defaults`: explicit keys win, as YAML specifies
            if not isinstance(source, yaml.MappingNode):
                raise SpecError("`<<` must merge a mapping.", self.pos(source))
            # Through convert(): merged mappings count against the limits like any other value.
            for key, value in self.convert(source).items():
                if key not in result:
                    result[key] = value
                    result.key_pos[key] = result.value_pos[key] = self.pos(source)
        return result

"""Read YAML into plain Python values that remember where each came from.

PyYAML silently keeps the last of two duplicate keys and expands aliases without
limit; both are refused here, so nothing the user wrote is lost or explodes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import MappingStartEvent, SequenceStartEvent
from yaml.resolver import Resolver

from cnncalc.errors import Position, SpecError

# Aliases are expanded into fresh values; a "billion laughs" file must be refused,
# not expanded. Real specs (ResNet-50 with blocks) use a few thousand nodes.
MAX_NODES = 200_000
# Real specs nest about 10 levels (block > residual > body > layer > arguments); deeper is hostile.
MAX_DEPTH = 100

# PyYAML (YAML 1.1) reads `5e9` and `5.0e9` (exponent without a sign) as strings; a PyTorch user means floats.
_FLOAT_WITHOUT_DOT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


class _BoundedComposer(Composer):
    """PyYAML's composer with cnncalc's nesting limit checked as each list or mapping opens.

    The limit fires on the event stream, before any node deeper than MAX_DEPTH is built, so
    neither libyaml's own (larger) nesting limit nor Python's recursion limit is reached first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.last_opened: tuple[Any, int] | None = None  # (mark, depth) of the last list or mapping opened

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if not isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            return super().compose_node(parent, index)
        self.depth += 1
        self.last_opened = (event.start_mark, self.depth)
        if self.depth > MAX_DEPTH:
            raise _TooDeep(event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _TooDeep(Exception):
    def __init__(self, mark: Any):
        super().__init__("too deep")
        self.mark = mark


class _PythonLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _BoundedComposer, Resolver):
    """Pure-Python PyYAML (no libyaml): used when PyYAML was built without it."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _BoundedComposer.__init__(self)
        Resolver.__init__(self)


try:
    from yaml.cyaml import CParser as _CParser
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


class YList(list):
    """A sequence with the position of itself and of each item."""

    pos: Position
    item_pos: list[Position]


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


def read_text(path: Path, display: str | None = None) -> str:
    """Read a spec file as UTF-8, turning every OS problem into a SpecError."""
    name = display or str(path)
    start = Position(name, 1, 1)
    if path.is_dir():
        raise SpecError(
            "is a folder, not a spec file.", start, "Give a .yaml file, or use `cnncalc validate` for folders."
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file.", start) from None
    except OSError as exc:
        raise SpecError(f"cannot be read ({exc.strerror}).", start) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded).",
            Position(name, line, column),
            "Save the file as UTF-8.",
        ) from None
    if not text.strip():
        raise SpecError("is empty.", start, "A spec needs at least `input:` and `layers:`.")
    return text


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text into YMap/YList/scalars with positions, or raise SpecError."""
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except _TooDeep as exc:
        raise _too_deep(file, exc.mark.line, exc.mark.column) from None
    except yaml.MarkedYAMLError as exc:
        # libyaml's scanner reads up to 1,024 characters ahead, so on a line such as `[[[[...` its own
        # nesting limit can fire before the composer has seen level MAX_DEPTH: count the brackets it read.
        deeper = _flow_nesting_beyond_limit(text, loader and loader.last_opened, exc.problem_mark)
        raise (_too_deep(file, *deeper) if deeper else _yaml_error(exc, text, file)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}.", Position(file, 1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError("is empty.", Position(file, 1, 1), "A spec needs at least `input:` and `layers:`.")
    return _Converter(file).convert(node)


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


def load_yaml_file(path: Path, display: str | None = None) -> Any:
    """Read and parse one YAML file with positions."""
    return parse_yaml(read_text(path, display), display or str(path))


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
        if self.nodes_seen > MAX_NODES:
            raise SpecError(
                f"the document expands to more than {MAX_NODES:,} YAML values "
                "(aliases that refer to aliases multiply; is this a 'billion laughs' file?).",
                self.pos(node),
                "Use `repeat:` or `blocks:` instead of nested YAML aliases.",
            )
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return self.scalar(node)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise SpecError(
                    f"the document nests lists and mappings more than {MAX_DEPTH} levels deep.",
                    self.pos(node),
                    "Use `repeat:` or `blocks:` instead of deep nesting.",
                )
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node)
            seq = YList(self.convert(item) for item in node.value)
            seq.pos = self.pos(node)
            seq.item_pos = [self.pos(item) for item in node.value]
            return seq
        finally:
            self.depth -= 1

    def scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise SpecError(f"invalid YAML value: {exc.problem}.", self.pos(node)) from None
        # libyaml marks a plain (unquoted) scalar with style '', pure-Python PyYAML with None.
        if isinstance(value, str) and not node.style and _FLOAT_WITHOUT_DOT.match(value):
            return float(value)
        return value

    def mapping(self, node: yaml.MappingNode) -> YMap:
        result = YMap()
        result.pos, result.key_pos, result.value_pos = self.pos(node), {}, {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                continue
            key = self.convert(key_node)
            if isinstance(key, (YMap, YList)):
                raise SpecError("a mapping key must be a plain word, not a list or mapping.", self.pos(key_node))
            if key in result:
                first = result.key_pos[key]
                raise SpecError(
                    f"duplicate key `{key}` (first given at line {first.line}, column {first.column}); "
                    "YAML would silently keep only the last one.",
                    self.pos(key_node),
                    "Remove or rename one of them.",
                )
            result[key] = self.convert(value_node)
            result.key_pos[key] = self.pos(key_node)
            result.value_pos[key] = self.pos(value_node)
        for source in merged:  # `<<: *defaults`: explicit keys win, as YAML specifies
            if not isinstance(source, yaml.MappingNode):
                raise SpecError("`<<` must merge a mapping.", self.pos(source))
            for key, value in self.mapping(source).items():
                if key not in result:
                    result[key] = value
                    result.key_pos[key] = result.value_pos[key] = self.pos(source)
        return result

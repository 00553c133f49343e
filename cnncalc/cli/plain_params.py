"""Plain coercion of option values (str, bool, int, float, Path, enum choices), without pydantic TypeAdapters;
flags shown in --help without a `<bool>` placeholder.

Recent typer builds a pydantic TypeAdapter for every option it coerces: about 1 ms each, plus the import of its
adapter module, which is most of the start-up cost left on `cnncalc table`. The options cnncalc declares need
no more than this module does; anything else is left to typer. Typer versions without adapters are untouched.
"""

from __future__ import annotations

import types
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import typer


def install(command: Any) -> None:
    """Coerce the command's parameters plainly from its next parse on (`--help` is made only then)."""
    parse = command.parse_args

    def parse_args(ctx: Any, args: list[str]) -> Any:
        plain_coercion(command, ctx)
        return parse(ctx, args)

    command.parse_args = parse_args


def plain_coercion(command: Any, ctx: Any = None) -> None:
    """Give each of the command's typer parameters a plain converter where its type is a simple one."""
    params = command.get_params(ctx) if ctx is not None else getattr(command, "params", ())
    for param in params:
        _plain_help(param)
        if getattr(param, "_runtime_param", 0) is not None or not hasattr(param, "type_descriptor"):
            continue  # another typer version, or already built
        descriptor = param.type_descriptor
        convert = _converter(descriptor.annotation, descriptor.parameter_info)
        if convert is not None:
            param._runtime_param = _Plain(convert)


def _plain_help(param: Any) -> None:
    """--help as click writes it: a flag takes no value (no `<bool>`), an argument reads SPEC, not {spec}, and
    has no type placeholder."""
    if getattr(param, "metavar", "") is not None:
        return
    if getattr(param, "is_flag", False):
        param.metavar = ""
    elif getattr(param, "param_type_name", "") == "option" and hasattr(param, "type_descriptor"):
        # typer 0.29: one word per kind of value (`N`, `PATH`), not its `<int range>`, `<path>` and `<str>`
        # beside the FILE and SIZE cnncalc names itself; choices stay `<table|json>`.
        word = VALUE_WORDS.get(_strip_optional(param.type_descriptor.annotation))
        if word is not None:
            param.metavar = word
    elif getattr(param, "param_type_name", "") == "argument" and param.name:
        # typer 0.29 adds the "..." of a variadic argument itself (`{SPECS}...`); click's metavar does not.
        adds_dots = hasattr(param, "_usage_display_name")
        param.metavar = param.name.upper() + ("..." if param.nargs != 1 and not adds_dots else "")
        if hasattr(param, "display_type_rich"):  # typer 0.29's type column: `<str>`, `<list[str]>` say nothing here
            param.display_type_rich = lambda ctx: None


VALUE_WORDS: dict[Any, str] = {int: "N", float: "X", Path: "PATH", str: "TEXT"}


class _Plain:
    """Duck-types typer's runtime parameter: `coerce(value, param, ctx)`."""

    __slots__ = ("convert",)

    def __init__(self, convert: Any) -> None:
        self.convert = convert

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        several = param.multiple or param.nargs == -1
        if value is None:
            return () if several else None
        if several:
            if isinstance(value, str):
                raise typer.BadParameter("Value must be an iterable.", ctx=ctx, param=param)
            return [self.convert(item, param, ctx) for item in value]
        return self.convert(value, param, ctx)


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return annotation


def _converter(annotation: Any, info: Any) -> Any:
    annotation = _strip_optional(annotation)
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation) or (None,)
    if getattr(info, "parser", None) is not None or annotation is None:
        return None
    if annotation is str:
        return _to_str
    if annotation is bool:
        return _to_bool
    if annotation in (int, float):
        if getattr(info, "clamp", False):
            return None
        return _number(annotation, getattr(info, "min", None), getattr(info, "max", None))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation, getattr(info, "case_sensitive", True))
    if annotation is Path and not _path_checks(info):
        return lambda value, _param, _ctx: value if isinstance(value, Path) else Path(_to_str(value, None, None))
    return None


def _path_checks(info: Any) -> bool:
    """Path options that ask typer to check the path (exists, readable, ...) keep typer's coercion."""
    return bool(
        getattr(info, "exists", False)
        or getattr(info, "file_okay", True) is not True
        or getattr(info, "dir_okay", True) is not True
        or getattr(info, "writable", False)
        or getattr(info, "readable", True) is not True
        or getattr(info, "resolve_path", False)
        or getattr(info, "allow_dash", False)
        or getattr(info, "path_type", None) is not None
    )


def _to_str(value: Any, _param: Any, _ctx: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _to_bool(value: Any, param: Any, ctx: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _to_str(value, None, None).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("", "0", "false", "f", "no", "n", "off"):
        return False
    raise typer.BadParameter(f"{value!r} is not a valid boolean.", ctx=ctx, param=param)


def _number(kind: type, low: Any, high: Any) -> Any:
    name = "integer" if kind is int else "float"

    def convert(value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kind):
            try:
                value = kind(str(value).strip())
            except ValueError:
                raise typer.BadParameter(f"{value!r} is not a valid {name}.", ctx=ctx, param=param) from None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = " and ".join(
                part
                for part in (f"x>={low}" if low is not None else "", f"x<={high}" if high is not None else "")
                if part
            )
            raise typer.BadParameter(f"{value} is not in the range {bounds}.", ctx=ctx, param=param)
        return value

    return convert


def _choice(enum: type[Enum], case_sensitive: bool) -> Any:
    def norm(text: str) -> str:
        return text if case_sensitive else text.casefold()

    by_value = {norm(str(member.value)): member for member in enum}

    def convert(value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, enum):
            return value
        member = by_value.get(norm(_to_str(value, None, None)))
        if member is None:
            choices = ", ".join(repr(str(member.value)) for member in enum)
            raise typer.BadParameter(f"{value!r} is not one of {choices}.", ctx=ctx, param=param)
        return member

    return convert

"""Clear, positioned messages: did-you-mean, and one paragraph from a pydantic ValidationError."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from cnncalc.errors import Position, SpecError
from cnncalc.spec.yaml_source import YMap, child_position, key_position

# Arguments of PyTorch's constructors that cnncalc reads from the input shape instead.
_FROM_THE_INPUT = {"in_channels", "in_features", "num_features"}

# Words people write for a known one that spelling distance gets wrong (`total_params` is closest to
# `max_params`, an upper bound; `pool` to `lppool`). Used only when the intended word is a choice.
_MEANT = {
    "total_params": "params",
    "num_params": "params",
    "n_params": "params",
    "parameters": "params",
    "total_macs": "macs",
    "total_flops": "flops",
    "shape": "output_shape",
    "output": "output_shape",
    "out_shape": "output_shape",
    "pool": "maxpool",
    "max_pool": "maxpool",
    "avg_pool": "avgpool",
}


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """The closest known word, if one is close enough to be a likely typo."""
    # Compared case-insensitively: PyTorch's class names (`ReLU`, `Linear`) are the commonest miss.
    by_lower: dict[str, str] = {}
    choices = list(choices)
    meant = _MEANT.get(str(word).lower())
    if meant in choices:
        return meant
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def validation_error(exc: ValidationError, what: str, raw: Any, pos: Position, model: type[BaseModel]) -> SpecError:
    """One clear, positioned message from pydantic's first error."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes its intended argument "missing"; the misspelling is the news.
    first = next((err for err in errors if err["type"] == "extra_forbidden"), errors[0])
    loc = first["loc"]
    field = loc[0] if loc else None
    aliases = getattr(model, "arg_aliases", {})
    field = next(
        (alias for alias, canon in aliases.items() if canon == field and isinstance(raw, YMap) and alias in raw), field
    )
    fields = [f for f in model.model_fields if f != "name"]
    if first["type"] == "extra_forbidden" and len(loc) > 1:  # a nested key, e.g. expect.layers.conv1.param
        container, inner = raw, model
        for part in loc[:-1]:
            container = container.get(part) if isinstance(container, dict) else container
            inner = _type_at(inner, part)
        known = [f for f in getattr(inner, "model_fields", {}) if f != "name"]
        guess = did_you_mean(loc[-1], known)
        return SpecError(
            f"{what}.{'.'.join(map(str, loc[:-1]))} has no key `{loc[-1]}`.",
            key_position(container, loc[-1], pos),
            f"Did you mean `{guess}`?" if guess else f"Its keys: {', '.join(known) or 'none'}.",
        )
    if first["type"] == "extra_forbidden":
        guess = did_you_mean(field, [*fields, *aliases])
        hint = f"Did you mean `{guess}`?" if guess else f"Its arguments: {', '.join(fields) or 'none'}."
        if field in _FROM_THE_INPUT:  # PyTorch's constructors need these; here the input shape gives them
            hint = f"It is taken from the layer's input shape; remove `{field}`."
        elif guess is None and "layers" in fields and isinstance(raw, YMap) and isinstance(raw.get(field), dict):
            # a layer's answers (`conv1: {params: ...}`) one level too high
            hint = f"Did you mean `layers: {{{field}: ...}}`?"
        return SpecError(f"{what} has no argument `{field}`.", key_position(raw, field, pos), hint)
    info = model.model_fields.get(str(loc[0])) if loc else None
    description = info.description if info else None
    if first["type"] == "missing":
        needs = f" ({description})" if description else ""
        return SpecError(f"{what} needs the argument `{field}`{needs}.", pos)
    where = pos
    value: Any = raw
    followed: list[Any] = []  # the parts of `loc` that are keys/indexes in the YAML (not union tags)
    for part in loc:  # follow the path into the YAML for the best position
        if isinstance(value, (dict, list)) and (
            (isinstance(value, dict) and part in value)
            or (isinstance(part, int) and isinstance(value, list) and part < len(value))
        ):
            where = child_position(value, part, where)
            value = value[part] if isinstance(value, dict) else value[int(part)]
            followed.append(part)
    same_field = [err for err in errors if err["loc"][:1] == loc[:1]]
    shown = raw.get(field) if isinstance(raw, YMap) and field in raw else first.get("input")
    if len(same_field) > 1 and description:
        return SpecError(f"{what} argument `{field}` must be {description}; got {shown!r}.", where)
    sub = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in followed[1:])
    requirement = _requirement(first)
    said = f" {requirement}" if requirement else f": {first['msg'][0].lower()}{first['msg'][1:]}"
    return SpecError(
        f"{what} argument `{field}{sub}`{said}; got {first.get('input')!r}.",
        where,
        _value_hint(loc, first.get("input")),
    )


# cnncalc's own words for pydantic's error types (its types are API; its messages are not).
_REQUIREMENTS = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "literal_error": "must be {expected}",
    "bool_not_number": "must be a number, not true or false",
    "nan_fill": "must be a number or .inf or -.inf, not NaN",
}


def _requirement(error: Any) -> str | None:
    """What the value must be, in cnncalc's words, or None for an error type not listed."""
    template = _REQUIREMENTS.get(error["type"])
    if template is None:
        return None
    ctx = error.get("ctx") or {}
    ctx = {k: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v for k, v in ctx.items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return None


def _value_hint(loc: tuple[Any, ...], value: Any) -> str | None:
    """The fix for two hand-written habits: a shape not written as a list, a number with thousands commas."""
    if "output_shape" in loc and not isinstance(value, list):
        return "Write a shape as a list, channels first: `[C, H, W]` (e.g. [96, 55, 55]), or `[F]` for a flat one."
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}(,\d{3})+", value.strip()):
        return f"Write the number without commas: {value.replace(',', '')} (or {value.replace(',', '_')})."
    return None


def _type_at(tp: Any, part: Any) -> Any:
    """The type found at `part` inside `tp`: a model's field, a dict's value or a list's item."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(str(part))
        return info.annotation if info else None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) is dict and len(args) == 2:
        return args[1]
    if typing.get_origin(tp) is list and args:
        return args[0]
    return next((found for a in args if (found := _type_at(a, part)) is not None), None)


def channels_last_hint(shape: tuple[int, ...]) -> str | None:
    """A warning for an input that looks height-width-channels (CS231n's `[32, 32, 3]`), else None."""
    # An image's height and width are large, its channels 1, 3 or 4; a latent [100, 1, 1] is channels-first.
    if len(shape) not in (3, 4) or shape[-1] not in (1, 3, 4) or min(shape[:-1]) < 8:
        return None
    meant = [shape[-1], *shape[:-1]]
    return f"input {list(shape)} looks channels-last; cnncalc is channels-first; did you mean {meant}?"

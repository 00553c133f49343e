"""Read an answers file leniently: every answer in it, each parsed or kept with the reason it cannot be.

One bad answer (an unknown key, a shape written oddly) makes that answer wrong, never the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cnncalc.checking.compare import BOUND_KEYS, EXACT_KEYS, LAYER_KEYS
from cnncalc.errors import Position, SpecError
from cnncalc.shown import shown
from cnncalc.spec.yaml_source import YMap, refuse_split_counts

LAYOUTS = ("chw", "hwc")
SHEET_KEYS = ("layout", "variant")  # what an answers file says about itself, besides the answers
MAX_PROBLEMS = 50  # unreadable answers reported per file; the rest are only counted
USAGE = "Give the spec first and the answers after --answers: `cnncalc check SPEC --answers ANSWERS.yaml`."

_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12}
_NUMBER = re.compile(r"([0-9][0-9_,]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)\s*([kmgbt])?", re.IGNORECASE)
_SHAPE_TEXT = re.compile(r"\[?\s*[0-9]+(?:\s*[x×*,]\s*[0-9]+)*\s*\]?")


@dataclass
class Given:
    """One answer as written: its question key, the value read from it, or why it cannot be read."""

    key: str  # `layers.conv1.output_shape`, `params`...
    quantity: str  # output_shape, params, ..., max_params; "" for a key that names no question
    layer: str | None
    written: Any  # as the student wrote it (in the sheet's layout), for display
    value: Any = None  # channels-first tuple, a count, or a bound; None when blank or unreadable
    position: Position | None = None
    problem: str | None = None  # why it cannot be graded as written
    rounded: bool = False  # written as 35K, 1.13M or 2.3e9

    @property
    def blank(self) -> bool:
        return self.written is None and self.problem is None


@dataclass
class AnswerSheet:
    """The answers of one file, with its own layout and variant id."""

    file: str
    givens: list[Given] = field(default_factory=list)
    layout: str = "chw"
    variant: str | None = None
    notes: list[str] = field(default_factory=list)
    variant_pos: Position | None = None  # where `variant:` is written, for a variant no quiz holds
    empty: bool = False  # the file holds nothing but blanks and comments


def load_sheet(path: Path, display: str, layout: str = "chw") -> AnswerSheet:
    """Read one answers file; SpecError only when the file cannot be read at all."""
    from cnncalc.spec.yaml_source import parse_yaml, read_text

    try:
        text = read_text(path, display, "answers")
    except SpecError as error:
        if error.message == "the file is empty.":  # against a key, an empty submission is graded: every answer missing
            return AnswerSheet(display, layout=layout, empty=True)
        raise
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return AnswerSheet(display, layout=layout, empty=True)
    raw = parse_yaml(text, display)
    return read_sheet(raw, display, layout)


def read_sheet(raw: Any, file: str, layout: str = "chw") -> AnswerSheet:
    """Every answer of a parsed answers file (the form of `expect:`), in file order."""
    start = Position(file, 1, 1)
    if not isinstance(raw, YMap):
        raise SpecError(
            "an answers file is a mapping such as `layers: {conv1: {output_shape: [96, 55, 55]}}`.",
            getattr(raw, "pos", start),
        )
    if looks_like_a_spec(raw):
        raise SpecError("this looks like a spec, not an answers file.", start, USAGE)
    sheet = AnswerSheet(file, layout=layout)
    if "layout" in raw:
        value = raw["layout"]
        if isinstance(value, str) and value.lower() in LAYOUTS:
            sheet.layout = value.lower()
        else:
            sheet.notes.append(f"{raw.value_pos['layout']}: `layout` is chw or hwc; read as {layout}.")
    if "variant" in raw and raw["variant"] is not None:
        sheet.variant, sheet.variant_pos = str(raw["variant"]), raw.value_pos["variant"]
    refuse_split_counts(raw)
    for key in raw:
        if key in SHEET_KEYS:
            continue
        if key == "layers":
            _read_layers(raw, sheet)
        elif key in EXACT_KEYS or key in BOUND_KEYS:
            sheet.givens.append(read_given(str(key), str(key), None, raw[key], raw.value_pos[key], sheet.layout))
        else:
            sheet.givens.append(_unknown(raw, key, [*EXACT_KEYS, *BOUND_KEYS, "layers", *SHEET_KEYS], None))
    unreadable = [g for g in sheet.givens if g.problem]
    if len(unreadable) > MAX_PROBLEMS:
        sheet.notes.append(f"{len(unreadable)} answers cannot be read; the first {MAX_PROBLEMS} are explained.")
        for g in unreadable[MAX_PROBLEMS:]:
            g.problem = "cannot be read."
    return sheet


def _read_layers(raw: YMap, sheet: AnswerSheet) -> None:
    layers = raw["layers"]
    if layers is None:
        return
    if not isinstance(layers, YMap):
        problem = "`layers` must be a mapping of layer names: `layers: {conv1: {output_shape: [96, 55, 55]}}`."
        sheet.givens.append(Given("layers", "", None, _shown(layers), None, raw.value_pos["layers"], problem))
        return
    for name, answers in layers.items():
        if answers is None:
            continue
        if not isinstance(answers, YMap):
            problem = f"`{shown(name)}` must hold its answers as a mapping: `{shown(name)}: {{params: ...}}`."
            key = f"layers.{name}"
            sheet.givens.append(Given(key, "", str(name), _shown(answers), None, layers.value_pos[name], problem))
            continue
        refuse_split_counts(answers)
        for quantity in answers:
            key = f"layers.{name}.{quantity}"
            if quantity in LAYER_KEYS:
                where = answers.value_pos[quantity]
                sheet.givens.append(read_given(key, str(quantity), str(name), answers[quantity], where, sheet.layout))
            else:
                sheet.givens.append(_unknown(answers, quantity, LAYER_KEYS, str(name)))


def empty_file(file: str) -> SpecError:
    """An answers file with nothing in it, where no key says what was asked: there is nothing to grade."""
    return SpecError(
        "the answers file is empty (or holds only comments): there is nothing to grade.",
        Position(file, 1, 1),
        "Fill in the blank `answers.yaml` that `cnncalc quiz` writes, or write the answers in the form the README "
        "gives: `layers: {conv1: {output_shape: [96, 55, 55], params: 34944}}`.",
    )


def looks_like_a_spec(raw: YMap) -> bool:
    """`input:` and a `layers:` list of layer kinds: a spec given where the answers were expected."""
    from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS

    items = raw.get("layers")
    if "input" not in raw or not isinstance(items, list):
        return False
    kinds = [
        item if isinstance(item, str) else next(iter(item), None) for item in items if isinstance(item, (str, dict))
    ]
    return any(kind in LAYER_KINDS or kind in STRUCTURE_KINDS for kind in kinds)


def _unknown(mapping: YMap, key: Any, known: Any, layer: str | None) -> Given:
    """A key that names no question: a wrong answer, with the closest real key."""
    from cnncalc.spec.messages import did_you_mean

    if layer is None and isinstance(mapping[key], dict):
        known = ["layers"]  # the only key that holds a mapping
    guess = did_you_mean(key, known)
    hint = f"Did you mean `{guess}`?" if guess else f"The keys are: {', '.join(known)}."
    if guess is None and layer is None and isinstance(mapping[key], dict):
        hint = f"Did you mean `layers: {{{shown(key)}: ...}}`?"  # a layer's answers one level too high
    where = f"layers.{shown(layer)}" if layer else "an answers file"
    problem = f"{where} has no key `{shown(key)}`. {hint}"
    full = f"layers.{layer}.{key}" if layer else str(key)
    return Given(full, "", layer, _shown(mapping[key]), None, mapping.key_pos[key], problem)


def read_given(key: str, quantity: str, layer: str | None, value: Any, where: Position, layout: str) -> Given:
    """Parse one answer's value: a shape (list or `55x55x96`) or a count (`34944`, `35K`, `1.13M`, `2.3e9`)."""
    if quantity.startswith("grad_"):
        from cnncalc.checking.gradients import read_grad_given

        return read_grad_given(key, quantity, layer, value, where)  # type: ignore[no-any-return]
    given = Given(key, quantity, layer, _shown(value), None, where)
    if value is None:
        return given  # blank: not answered
    if quantity == "output_shape":
        shape, written = parse_shape(value)
        if shape is None:
            given.problem = (
                f"`{shown(_shown(value))}` is not a shape; write it as a list, channels first, "
                "`[96, 55, 55]`, or `96x55x55` (`[F]` or a number for a flat one)."
            )
            return given
        given.written = list(written)
        given.value = (shape[-1], *shape[:-1]) if layout == "hwc" and len(shape) > 1 else shape
        return given
    number, rounded = parse_count(value)
    if number is None or number < 0:
        given.problem = f"`{shown(_shown(value))}` is not a count; write a whole number such as 34944 (or 35K)."
        return given
    given.value, given.rounded = number, rounded
    given.written = value if isinstance(value, (int, float)) and not isinstance(value, bool) else _shown(value)
    return given


def parse_count(value: Any) -> tuple[int | float | None, bool]:
    """(the number, whether it was written rounded): 34944, "34,944", 35K, 1.13M, 2.3e9."""
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int):
        return value, False
    if isinstance(value, float):
        return (int(value) if value.is_integer() else value), True
    if not isinstance(value, str):
        return None, False
    match = _NUMBER.fullmatch(value.strip())
    if match is None:
        return None, False
    digits, suffix = match.group(1).replace(",", "").replace("_", ""), match.group(2)
    try:
        number = Decimal(digits) * _SUFFIXES[suffix.lower()] if suffix else Decimal(digits)
    except InvalidOperation:
        return None, False
    rounded = bool(suffix) or "e" in digits.lower() or "." in digits
    return (int(number) if number == number.to_integral_value() else float(number)), rounded


def parse_shape(value: Any) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """(the shape as written, or None; the same for display): [96, 55, 55], "96x55x55", 9216 (flat)."""
    if isinstance(value, bool):
        return None, ()
    if isinstance(value, int) and value > 0:
        return (value,), (value,)
    if isinstance(value, list) and value and all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        shape = tuple(value)
    elif isinstance(value, str) and _SHAPE_TEXT.fullmatch(value.strip()):
        shape = tuple(int(n) for n in re.findall(r"[0-9]+", value))
    else:
        return None, ()
    return (shape, shape) if min(shape) > 0 else (None, ())


def _shown(value: Any) -> Any:
    """A value as JSON can show it (plain lists, numbers and text)."""
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _shown(v) for k, v in value.items()}
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)

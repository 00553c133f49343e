"""Generate problem sets: variants of a spec (sizes drawn from declared choices), each with its sheet and key.

What varies is declared in the spec's `quiz: {vary: {...}}` or given (instead) as `--vary conv1.kernel_size=3,5`:
`input_size` (every spatial dim), `input` (whole shapes) or `LAYER.ARGUMENT` of a layer named as in
`cnncalc table` (`conv1.stride`, `block1.conv2.stride`), edited where the spec writes that layer.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError, Position, SpecError
from cnncalc.layers.base import Layer
from cnncalc.shown import shown, shown_markdown
from cnncalc.spec.yaml_source import YList, YMap

MAX_VARIANTS = 1000
ATTEMPTS_PER_VARIANT = 50  # random draws tried per variant before giving up on finding a distinct valid one
QUESTION_TEXT = {  # each kind's class says which it asks (`Layer.asked`)
    "output_shape": "What is the output volume of {layer}?",
    "params": "How many parameters (weights and biases) does {layer} have?",
    "macs": "How many multiply-accumulates (MACs) does {layer} compute?",
}


@dataclass
class Variant:
    """One generated problem: its id, the choices drawn, its spec text and analysis."""

    number: int
    id: str
    choices: dict[str, Any]
    spec_text: str
    analysis: Analysis


def parse_vary(items: list[str]) -> dict[str, list[Any]]:
    """`--vary conv1.kernel_size=3,5` (and `input_size=32,64`) as {target: choices}."""
    vary: dict[str, list[Any]] = {}
    for item in items:
        target, sep, values = item.partition("=")
        choices = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not target.strip() or not choices or not all(v.isdigit() for v in choices):
            raise SpecError(
                f"--vary `{shown(item)}` is not TARGET=CHOICES.",
                hint="For example `--vary conv1.kernel_size=3,5` or `--vary input_size=32,64`.",
            )
        vary[target.strip()] = [int(v) for v in choices]
    return vary


def declared(raw: YMap, file: str) -> tuple[dict[str, list[Any]], bool]:
    """The spec's own `quiz:` block: {target: choices} and whether inexact tiling is allowed."""
    block = raw.get("quiz")
    if block is None:
        return {}, False
    where = raw.value_pos.get("quiz", Position(file, 1, 1))
    if not isinstance(block, YMap) or set(block) - {"vary", "allow_inexact"}:
        raise SpecError("`quiz` is `{vary: {TARGET: [choices]}, allow_inexact: false}`.", where)
    vary = block.get("vary") or {}
    if not isinstance(vary, YMap) or not all(isinstance(v, YList) and v for v in vary.values()):
        raise SpecError("`quiz.vary` maps each target to a list of choices: `conv1.kernel_size: [3, 5]`.", where)
    return {str(k): list(v) for k, v in vary.items()}, bool(block.get("allow_inexact", False))


def generate(
    path: Path, display: str, count: int, seed: int, vary: dict[str, list[Any]], allow_inexact: bool = False
) -> list[Variant]:
    """`count` distinct variants of the spec at `path`, reproducible from `seed`; each loads and tiles exactly."""
    from cnncalc.spec.yaml_source import load_yaml_file

    raw = load_yaml_file(path, display)
    if not isinstance(raw, YMap):
        raise SpecError("a spec is a mapping with at least `input:` and `layers:`.", Position(display, 1, 1))
    own, own_inexact = declared(raw, display)
    vary = vary or own  # the command line, when it says what varies, replaces the spec's declaration
    spots = _layer_spots(raw, display)
    if not vary:
        example = next((f"{n}.out_channels" for n, s in spots.items() if "out_channels" in _arguments(s[2])), None)
        raise SpecError(
            f"`{display}` declares nothing to vary.",
            Position(display, 1, 1),
            f"Add `quiz: {{vary: {{{example or 'input_size'}: [...]}}}}` to the spec, or pass "
            f"`--vary {example or 'input_size'}=CHOICES` (e.g. `=16,32,64`).",
        )
    if not 1 <= count <= MAX_VARIANTS:
        raise SpecError(f"--variants must be from 1 to {MAX_VARIANTS}.")
    plain = _plain(raw)
    cli_given = vary is not own
    where = {t: None if cli_given else _target_position(raw, t) for t in vary}
    places = {t: _check_target(t, spots, raw, where[t]) for t in vary}
    rng = random.Random(seed)
    targets = sorted(vary)
    seen: set[tuple[Any, ...]] = set()
    variants: list[Variant] = []
    for _ in range(count * ATTEMPTS_PER_VARIANT):
        if len(variants) == count:
            break
        choices = {target: rng.choice(vary[target]) for target in targets}
        drawn = tuple(repr(choices[t]) for t in targets)
        if drawn in seen:
            continue
        seen.add(drawn)
        number = len(variants) + 1
        made = _variant(plain, places, choices, number, f"s{seed}-v{number}", allow_inexact or own_inexact)
        if made is not None:
            variants.append(made)
    if len(variants) < count:
        one = len(variants) == 1
        raise SpecError(
            f"only {len(variants)} distinct {'variant' if one else 'variants'} of `{display}` "
            f"{'loads and tiles' if one else 'load and tile'} exactly; {count} were asked.",
            Position(display, 1, 1),
            "Give more choices to vary, fewer --variants, or --allow-inexact.",
        )
    return variants


def _plain(value: Any) -> Any:
    """Positioned YAML as plain dicts and lists, to edit and dump."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


Place = tuple[Any, ...]  # the keys and indices from the spec's root to a layer item


Spot = tuple[Position | None, list[str], Layer]  # where a layer is written, every name written there, the layer


def _arguments(layer: Layer) -> list[str]:
    """The arguments a spec may give a leaf layer; [] for a structure (a block's take its own `$args`)."""
    from cnncalc.layers.base import Structure

    return [] if isinstance(layer, Structure) else [f for f in type(layer).model_fields if f != "name"]


def _layer_spots(raw: YMap, display: str) -> dict[str, Spot]:
    """Each table name -> where its layer is written, every table name written there (a block used
    twice, or a repeat, writes one item for several layers), and the layer."""
    from cnncalc.layers.base import Structure
    from cnncalc.spec.build import build_spec

    spec = build_spec(raw, display, Path(display).stem)
    written: dict[Position | None, list[str]] = {}
    found: dict[str, Layer] = {}
    stack = list(reversed(spec.layers))
    while stack:
        layer = stack.pop()
        found[layer.path] = layer
        written.setdefault(layer.source, []).append(layer.path)
        if isinstance(layer, Structure):
            stack.extend(reversed([child for group in layer.groups() for child in group]))
    return {name: (layer.source, written[layer.source], layer) for name, layer in found.items()}


def _target_position(raw: YMap, target: str) -> Position | None:
    block = raw.get("quiz")
    vary = block.get("vary") if isinstance(block, YMap) else None
    return vary.key_pos.get(target) if isinstance(vary, YMap) else None


def _check_target(target: str, spots: dict[str, Spot], raw: Any, where: Position | None) -> Place | None:
    """Where in the spec a target's layer item is written (None for input_size and input); refuses a
    name that is no layer, an argument its kind does not take, and a layer written once for several
    (varying it would vary them all)."""
    from cnncalc.spec.messages import did_you_mean

    origin = "" if where else "--vary: "
    if target in ("input_size", "input"):
        if not isinstance(raw.get("input"), list):
            raise SpecError(
                f"{origin}`{target}` can vary only an input written as a shape list, `input: [3, 32, 32]`.", where
            )
        return None
    layer, _, argument = target.rpartition(".")
    if layer not in spots or not argument:
        layer = layer or target
        guess = did_you_mean(layer, list(spots))
        raise SpecError(
            f"{origin}cannot vary `{shown(target)}`: a target is input_size, input or LAYER.ARGUMENT, LAYER "
            "named as in `cnncalc table`.",
            where,
            f"Did you mean `{guess}.{argument or 'out_channels'}`?"
            if guess
            else f"Its layers: {', '.join(f'`{shown(n)}`' for n in list(spots)[:8])}{' ...' if len(spots) > 8 else ''}",
        )
    source, sharing, built = spots[layer]
    arguments = _arguments(built)
    aliases = getattr(type(built), "arg_aliases", {})
    if arguments and argument not in arguments:
        guess = aliases.get(argument) or did_you_mean(argument, arguments)
        raise SpecError(
            f"{origin}cannot vary `{shown(target)}`: `{shown(built.kind_label)}` has no argument `{shown(argument)}`.",
            where,
            f"Did you mean `{shown(layer)}.{guess}`?" if guess else f"Its arguments: {', '.join(arguments)}.",
        )
    place = _place_of(raw, source) if source is not None else None
    if len(sharing) > 1 or place is None:
        others = ", ".join(f"`{shown(n)}`" for n in sharing[:4] if n != layer) + (" ..." if len(sharing) > 5 else "")
        written = f" (at {source})" if source else ""
        raise SpecError(
            f"{origin}cannot vary `{shown(target)}`: `{shown(layer)}` is written once{written} for "
            f"{len(sharing)} layers, with {others}, so a variant would change them all.",
            where,
            "Vary an argument of the block use or repeat instead, or write the layers out separately.",
        )
    return place


def _place_of(raw: Any, source: Position) -> Place | None:
    """The keys and indices leading to the list item written at `source` (a layer's position)."""
    stack: list[tuple[Any, Place]] = [(raw, ())]
    while stack:
        node, place = stack.pop()
        if isinstance(node, YList):
            for i, item in enumerate(node):
                if i < len(node.item_pos) and node.item_pos[i] == source:
                    return (*place, i)
                stack.append((item, (*place, i)))
        elif isinstance(node, YMap):
            stack.extend((value, (*place, key)) for key, value in node.items())
    return None


def _variant(
    plain: dict[str, Any],
    places: dict[str, Place | None],
    choices: dict[str, Any],
    number: int,
    vid: str,
    allow_inexact: bool,
) -> Variant | None:
    """The spec with `choices` applied, or None if it does not load or does not tile exactly."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.spec.build import parse_spec

    data = copy.deepcopy(plain)
    data.pop("quiz", None)
    data.pop("expect", None)  # the spec's own answers would not hold, and would give the key away
    data["name"] = f"{plain.get('name', 'quiz')} (variant {vid})"
    data["description"] = f"Quiz variant {vid}: " + ", ".join(f"{k} = {v}" for k, v in choices.items())
    for target, value in choices.items():
        if target == "input_size":
            data["input"] = [data["input"][0], *([value] * (len(data["input"]) - 1))]
        elif target == "input":
            data["input"] = list(value)
        else:
            *path, index = places[target] or ()
            container = data
            for step in path:
                container = container[step]
            container[index] = _with_argument(container[index], target.rpartition(".")[2], value)
    text = _dump_yaml(data)
    try:
        analysis = analyze(parse_spec(text, f"variant {vid}", "quiz"))
    except CnncalcError:
        return None  # e.g. a kernel larger than its input: not a problem to give a class
    if not allow_inexact and any(row.warnings for row in analysis.leaves):
        return None  # a stride that drops rows: the formula's division would not be exact
    return Variant(number, vid, choices, text, analysis)


def _with_argument(item: Any, argument: str, value: Any) -> Any:
    """A layer item (`- relu`, `- conv: {...}`) with one argument set, replacing an alias of it."""
    from cnncalc.layers import LAYER_KINDS

    if isinstance(item, str):
        return {item: {argument: value}}
    kind = next(k for k in item if k != "name")
    args = dict(item[kind] or {})
    aliases = getattr(LAYER_KINDS.get(kind), "arg_aliases", {})
    for alias in [a for a, canon in aliases.items() if canon == argument and a in args]:
        del args[alias]
    args[argument] = value
    return {**item, kind: args}


# A layer name as a key of the answers template: plain when YAML reads it back as that same text, else quoted
# (`@c1`, `a: b`, `null`, `yes`, `1e3` would be invalid YAML, or read as something else).
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def _yaml_key(text: str) -> str:
    import json

    import yaml  # type: ignore[import-untyped]

    plain = _PLAIN_KEY.fullmatch(text) and yaml.safe_load(text) == text  # YAML's own resolver: `null`, `yes`...
    return text if plain else json.dumps(text)


def _dump_yaml(data: Any) -> str:
    """`data` as YAML that cnncalc reads back as the same values: PyYAML quotes what YAML would read as another
    type, and this also what cnncalc's reader takes for a float (`5e9`, FLOAT_WITHOUT_DOT)."""
    import yaml  # type: ignore[import-untyped]

    from cnncalc.spec.yaml_source import FLOAT_WITHOUT_DOT

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: Any, value: str) -> Any:
        style = '"' if FLOAT_WITHOUT_DOT.match(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=None, width=120, allow_unicode=False)


def questions(variant: Variant) -> list[tuple[str, LayerRow | None, str]]:
    """(question key, layer row or None for the network, quantity), in the network's order: the top-level
    layers', and those of every nested layer that varies."""
    varied = {target.rpartition(".")[0] for target in variant.choices}
    asked = [
        (f"layers.{row.name}.{quantity}", row, quantity)
        for row in variant.analysis.rows
        if row.leaf and (row.depth == 0 or row.name in varied)
        for quantity in row.layer.asked
    ]
    return [*asked, ("output_shape", None, "output_shape"), ("params", None, "params")]


def key_text(variant: Variant) -> str:
    """The answer key, in the answers format, with the variant id."""
    layers: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {}
    for _, row, quantity in questions(variant):
        source: Any = variant.analysis if row is None else row
        value = getattr(source, quantity)
        value = list(value) if quantity == "output_shape" else value
        if row is None:
            totals[quantity] = value
        else:
            layers.setdefault(row.name, {})[quantity] = value
    key = {"variant": variant.id, "layers": layers, **totals}
    body = _dump_yaml(key)
    return f"# Answer key for quiz variant {variant.id}: grade with `cnncalc check QUIZ_FOLDER --answers ...`.\n{body}"


def template_text(variant: Variant) -> str:
    """A blank answers file: every question's key with an empty value, the variant id filled in."""
    lines = [
        f"# Your answers for quiz variant {variant.id}. Fill in every value and keep the `variant:` line.",
        "# Shapes as a list or with x, channels first: [96, 55, 55] or 96x55x55 (with `layout: hwc`: 55x55x96).",
        f"variant: {variant.id}",
        "layout: chw",
        "layers:",
    ]
    current = None
    for _, row, quantity in questions(variant):
        if row is None:
            lines.append(f"{quantity}:")
            continue
        if row.name != current:
            lines.append(f"  {_yaml_key(row.name)}:")
            current = row.name
        lines.append(f"    {quantity}:")
    return "\n".join(lines) + "\n"


def problems_text(variant: Variant) -> str:
    """The problem sheet: the network as the slides describe it, then the numbered questions."""
    analysis = variant.analysis
    name = shown_markdown  # names are the spec's text, and the sheet is markdown
    lines = [f"# {name(analysis.spec.name)}", "", f"Input volume: {_slides_shape(analysis.spec.input_shape)}", ""]
    for number, top in enumerate((r for r in analysis.rows if r.depth == 0), start=1):
        lines.append(f"{number}. {name(top.name.upper())}: {name(top.layer.slides_text())}")
        inside = [r for r in top.leaves() if r is not top] if not top.leaf else []
        # a block's layers, varied or not
        lines += [f"   - {name(r.name.upper())}: {name(r.layer.slides_text())}" for r in inside]
    lines += ["", "## Questions", "", "Write your answers in `answers.yaml` (shapes channels first, `[C, H, W]`).", ""]
    for number, (key, row, quantity) in enumerate(questions(variant), start=1):
        if row is None:
            text = "What is the network's output shape?" if quantity == "output_shape" else ""
            text = text or "How many parameters does the whole network have?"
        else:
            text = QUESTION_TEXT[quantity].format(layer=name(row.name.upper()))
        lines.append(f"{number}. {text} (`{shown(key).replace('`', chr(39))}`)")
    return "\n".join(lines) + "\n"


def _slides_shape(shape: tuple[int, ...]) -> str:
    """[3, 227, 227] as the slides write it, 227x227x3, with the channels-first form beside it."""
    if len(shape) < 2:
        return str(list(shape))
    return f"{'x'.join(map(str, (*shape[1:], shape[0])))} (height x width x channels; channels first: {list(shape)})"


QUIZ_FILES = ("spec.yaml", "problems.md", "answers.yaml", "key.yaml")


def write_quiz(variants: list[Variant], out: Path, inputs: list[Path], replace: bool = False) -> list[Path]:
    """DIR/variant-K/{spec.yaml, problems.md, answers.yaml, key.yaml}; refuses to overwrite an input file, and
    (unless `replace`) a quiz already in DIR, whose keys may have been handed out; a replaced quiz's other
    variants are removed, so that the folder never mixes two quizzes."""
    from cnncalc.output_file import refuse_inputs, write_atomically

    old = sorted(out.glob("variant-*/key.yaml")) if out.is_dir() else []
    if old and not replace:
        raise SpecError(
            f"`{shown(out)}` already holds a quiz ({len(old)} variants); writing another into it would mix the two "
            "and `check` would grade against both.",
            hint="Write to a new folder, or add `--replace` to replace that quiz.",
        )
    written: list[Path] = []
    plan = []
    for variant in variants:
        folder = out / f"variant-{variant.number}"
        texts = dict(
            zip(QUIZ_FILES, (variant.spec_text, problems_text(variant), template_text(variant), key_text(variant)))
        )
        for name, text in texts.items():
            refuse_inputs(folder / name, inputs, "the quiz")
            plan.append((folder / name, text))
    folders = {path.parent for path, _ in plan}
    stale = [key.parent / name for key in old if key.parent not in folders for name in QUIZ_FILES]
    for path in stale:  # the replaced quiz's variants this one does not write again: removed, but never an input
        refuse_inputs(path, inputs, "the quiz's --replace")
    for path, text in plan:  # every path is checked before anything is written
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpecError(f"cannot create the folder `{shown(path.parent)}` ({exc.strerror}).") from None
        write_atomically(path, text)
        written.append(path)
    for path in stale:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    return written


def variant_folders(folder: Path) -> dict[str, Path]:
    """The variants of a quiz folder: variant id (from each key.yaml) -> its folder."""
    from cnncalc.spec.yaml_source import load_yaml_file

    found: dict[str, Path] = {}
    for key in sorted(folder.glob("variant-*/key.yaml")):
        raw = load_yaml_file(key, shown(key))
        if isinstance(raw, YMap) and raw.get("variant") is not None:
            found[str(raw["variant"])] = key.parent
    if not found:
        raise SpecError(
            f"`{shown(folder)}` holds no quiz variants (variant-K/key.yaml).",
            hint="Write one with `cnncalc quiz SPEC --variants N -o FOLDER`.",
        )
    return found

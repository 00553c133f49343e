"""The JSON Schema (draft 2020-12) of the spec format, built from the pydantic layer models.

For editors (yaml-language-server: completion, hover docs) and for CI tools. Inside `blocks:`
any number may be a `$argument` expression, so numeric positions also accept such strings;
the loader, not the schema, checks where they are allowed.
"""

from __future__ import annotations

import copy
from typing import Any

from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS, Layer

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ARGUMENT = {"$ref": "#/$defs/argument"}
LAYERS = {"$ref": "#/$defs/layers"}
_RELAXED_TYPES = ("integer", "number", "boolean", "array")
_HOISTED = ("title", "description", "default")


def spec_schema() -> dict[str, Any]:
    """The whole schema: top-level keys, the layer item (bare kind or one-key mapping), structures, blocks."""
    from cnncalc.spec.model import Expect

    defs: dict[str, Any] = {
        "argument": {
            "type": "string",
            "pattern": r"^.*\$.*$",
            "description": "a block argument (`$width`) or integer arithmetic on them (`$width * 4`)",
        },
        "shape": {
            "type": "array",
            "items": {"type": "integer", "exclusiveMinimum": 0},
            "minItems": 1,
            "maxItems": 4,
            "description": "channels-first shape without the batch: [C, L], [C, H, W] or [C, D, H, W]",
        },
        "layers": {
            "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/layer"}}, ARGUMENT],
            "description": "layers executed in order",
        },
    }
    for cls in dict.fromkeys(LAYER_KINDS.values()):  # kind aliases (`fc`) share their model's definition
        defs[cls.kind] = kind_arguments(cls, defs)
    defs.update(structure_defs())
    alternatives = [kind_item(kind, f"#/$defs/{cls.kind}", cls) for kind, cls in LAYER_KINDS.items()]
    alternatives += [kind_item(kind, f"#/$defs/{kind}", None) for kind in STRUCTURE_KINDS]
    known = sorted([*LAYER_KINDS, *STRUCTURE_KINDS])
    defs["layer"] = {
        "description": "a bare kind (`relu`), or a mapping with exactly one key, the kind, holding its arguments",
        "anyOf": [
            {"enum": sorted(LAYER_KINDS), "description": "a layer kind used with its defaults"},
            {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$", "description": "a block used bare"},
            *alternatives,
            block_use(known),
            {**ARGUMENT, "description": "in a block: an argument holding one layer (`$inner`)"},
        ],
    }
    expect = Expect.model_json_schema()
    defs.update(expect.pop("$defs", {}))
    defs["expect"] = expect
    return {
        "$schema": DRAFT,
        "title": "cnncalc architecture spec",
        "description": "A CNN described layer by layer; see the cnncalc README.",
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "layers"],
        "properties": {
            "name": {"type": "string", "description": "shown in reports; defaults to the file name"},
            "description": {"type": "string"},
            "input": {
                "description": "the input shape [C, H, W], or {shape: [...]} and/or {values: nested lists}",
                "anyOf": [
                    {"$ref": "#/$defs/shape"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"shape": {"$ref": "#/$defs/shape"}, "values": {"type": "array"}},
                        "minProperties": 1,
                    },
                ],
            },
            "blocks": {
                "type": "object",
                "description": "named, parameterised blocks, used like layer kinds",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["layers"],
                    "properties": {
                        "args": {
                            "description": "argument names to defaults (null: required), or a list of required names",
                            "anyOf": [
                                {"type": "object"},
                                {"type": "array", "items": {"type": "string"}},
                                {"type": "null"},
                            ],
                        },
                        "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "minItems": 1},
                    },
                },
            },
            "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "minItems": 1},
            "expect": {"$ref": "#/$defs/expect"},
            "loss": {
                "description": "the loss of `cnncalc run --backward` (default sum)",
                "enum": ["sum", "mse", "cross_entropy"],
            },
            "target": {
                "description": "the loss's target: numbers for mse (one, or one per output value), "
                "a class for cross_entropy"
            },
            "quiz": {
                "description": "what `cnncalc quiz` varies between problem-set variants",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "vary": {
                        "description": "input_size, input or LAYER.ARGUMENT (a top-level layer) -> the choices",
                        "type": "object",
                        "additionalProperties": {"type": "array", "minItems": 1},
                    },
                    "allow_inexact": {
                        "description": "also accept variants whose strides drop rows (default false)",
                        "type": "boolean",
                    },
                },
            },
        },
        "$defs": defs,
    }


def kind_arguments(cls: type[Layer], defs: dict[str, Any]) -> dict[str, Any]:
    """A kind's argument mapping: its pydantic schema plus argument aliases (`filters`, `kernel`...)."""
    schema = copy.deepcopy(cls.model_json_schema())
    defs.update(schema.pop("$defs", {}))
    properties = schema.setdefault("properties", {})
    for name, prop in properties.items():
        properties[name] = allow_arguments(prop)
    required = schema.pop("required", [])
    either = []
    for alias, canonical in cls.arg_aliases.items():
        if canonical in properties:
            properties[alias] = {**copy.deepcopy(properties[canonical]), "description": f"synonym of `{canonical}`"}
    for field in required:
        synonyms = [alias for alias, canonical in cls.arg_aliases.items() if canonical == field]
        either.append({"anyOf": [{"required": [name]} for name in (field, *synonyms)]})
    if either:
        schema["allOf"] = either
    schema["title"] = cls.kind
    schema["description"] = (cls.summary or cls.__doc__ or "").strip()
    return schema


def kind_item(kind: str, ref: str, cls: type[Layer] | None) -> dict[str, Any]:
    """`{conv: {...}, name: ...}`: exactly the kind key (and an optional `name`)."""
    needs_arguments = cls is None or any(f.is_required() for f in cls.model_fields.values())
    arguments = {"$ref": ref} if needs_arguments else {"anyOf": [{"$ref": ref}, {"type": "null"}]}
    return {
        "type": "object",
        "properties": {kind: arguments, "name": {"type": "string"}},
        "required": [kind],
        "additionalProperties": False,
    }


def block_use(known: list[str]) -> dict[str, Any]:
    """`{my_block: {width: 64}}`: a block defined under `blocks:` (any key that is not a kind)."""
    return {
        "type": "object",
        "description": "a use of a block defined under `blocks:`",
        "minProperties": 1,
        "maxProperties": 2,
        "propertyNames": {"not": {"enum": known}},
        "additionalProperties": {"anyOf": [{"type": "object"}, {"type": "null"}, {"type": "string"}]},
    }


def structure_defs() -> dict[str, Any]:
    """`residual`, `concat` and `repeat`, whose arguments are lists of layers."""
    name = {"type": "string"}
    return {
        "residual": {
            "type": "object",
            "description": "output = body(x) + shortcut(x); the shortcut defaults to the identity",
            "additionalProperties": False,
            "required": ["body"],
            "properties": {"name": name, "body": LAYERS, "shortcut": {"anyOf": [LAYERS, {"type": "null"}]}},
        },
        "concat": {
            "type": "object",
            "description": "channel-wise concatenation of branches; an empty branch [] is the identity",
            "additionalProperties": False,
            "required": ["branches"],
            "properties": {"name": name, "branches": {"type": "array", "items": LAYERS, "minItems": 1}},
        },
        "repeat": {
            "type": "object",
            "description": "the same layers `times` times in sequence (each copy with its own weights)",
            "additionalProperties": False,
            "required": ["times", "layers"],
            "properties": {
                "name": name,
                "times": {"anyOf": [{"type": "integer", "minimum": 1}, ARGUMENT]},
                "layers": LAYERS,
            },
        },
    }


def allow_arguments(node: Any) -> Any:
    """Let every number, boolean or list in `node` also be a `$argument` string (block bodies)."""
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "items" in node:
        node["items"] = allow_arguments(node["items"])
    if "prefixItems" in node:
        node["prefixItems"] = [allow_arguments(n) for n in node["prefixItems"]]
    if "anyOf" in node:
        node["anyOf"] = [allow_arguments(n) for n in node["anyOf"]]
        if ARGUMENT not in node["anyOf"]:
            node["anyOf"].append(ARGUMENT)
        return node
    if node.get("type") in _RELAXED_TYPES:
        outer = {key: node.pop(key) for key in _HOISTED if key in node}
        return {**outer, "anyOf": [node, ARGUMENT]}
    return node  # strings, and `Any` (weights): a `$argument` is accepted already

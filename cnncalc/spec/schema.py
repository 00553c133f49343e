"""The JSON Schema (draft 2020-12) of the spec format, built from the pydantic layer models.

For editors (yaml-language-server: completion, hover docs) and for CI tools. Inside `blocks:`
any number may be a `$argument` expression, so numeric positions also accept such strings;
the loader, not the schema, checks where they are allowed.
"""

from __future__ import annotations

import copy
from typing import Any

from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS, Layer, Repeat

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ARGUMENT = {"$ref": "#/$defs/argument"}
LAYERS = {"$ref": "#/$defs/layers"}
_RELAXED_TYPES = ("integer", "number", "boolean", "array")
_HOISTED = ("title", "description", "default")


def spec_schema() -> dict[str, Any]:
    """The whole schema: top-level keys, the layer item (bare kind or one-key mapping), structures, blocks."""
    from cnncalc.spec.model import LOSSES, Expect

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
    defs.update(common_defs())
    for cls in dict.fromkeys(LAYER_KINDS.values()):  # kind aliases (`fc`) share their model's definition
        defs[cls.kind] = kind_arguments(cls, defs)
    alternatives = [
        kind_item(kind, f"#/$defs/{cls.kind}", cls) for kind, cls in LAYER_KINDS.items() if kind not in STRUCTURE_KINDS
    ]
    # `add`, `multiply` and `concat` are a leaf with a `from:` list, or a structure over `branches:`.
    alternatives += [
        {
            "anyOf": [
                kind_item(kind, f"#/$defs/{kind}_from", LAYER_KINDS[kind]),
                kind_item(kind, f"#/$defs/{kind}", None),
            ]
        }
        if kind in LAYER_KINDS
        else kind_item(kind, f"#/$defs/{kind}", None)
        for kind in STRUCTURE_KINDS
    ]
    for kind in STRUCTURE_KINDS:
        if kind in LAYER_KINDS:
            defs[f"{kind}_from"] = defs.pop(kind)
            defs[f"{kind}_from"]["required"] = ["from"]
            defs[f"{kind}_from"]["properties"]["from"] = {"$ref": "#/$defs/from_list"}
    defs.update(structure_defs())
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
            "outputs": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "description": "the layers the network returns (FPN levels, auxiliary heads); default: the last",
            },
            "expect": {"$ref": "#/$defs/expect"},
            "loss": {
                "description": "the loss of `cnncalc run --backward` (default sum)",
                "enum": list(LOSSES),
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
    properties.update(COMMON)
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


def kind_item(kind: str, ref: str, cls: type[Layer] | None = None) -> dict[str, Any]:
    """`{conv: {...}, name: ...}`: exactly the kind key (and an optional `name`)."""
    needs_arguments = cls is None or any(f.is_required() for f in cls.model_fields.values())
    arguments = {"$ref": ref} if needs_arguments else {"anyOf": [{"$ref": ref}, {"type": "null"}]}
    return {
        "type": "object",
        "properties": {kind: arguments, **COMMON},
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


COMMON: dict[str, Any] = {key: {"$ref": f"#/$defs/common_{key}"} for key in ("name", "from", "when", "trainable")}


def common_defs() -> dict[str, Any]:
    """What any layer, structure or block use may carry besides its own arguments."""
    return {
        "common_name": {"type": "string", "description": "row name; default `<kind><n>`"},
        "common_from": {
            "type": "string",
            "description": "read this earlier layer (a name in this list or an enclosing one, a dotted path, or "
            "`input`) instead of the previous one",
        },
        "from_list": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 2,
            "description": "the earlier layers to merge",
        },
        "common_when": {
            "anyOf": [{"type": "boolean"}, ARGUMENT],
            "description": 'inside a block: the layer exists only where this is true (`"$stride == 1"`)',
        },
        "common_trainable": {
            "anyOf": [{"type": "boolean"}, ARGUMENT],
            "description": "false: its parameters count as non-trainable (requires_grad=False)",
        },
    }


def structure_defs() -> dict[str, Any]:
    """Each structure's arguments from its declaration: layer lists, branch lists and its own fields."""
    defs: dict[str, Any] = {}
    for kind, cls in STRUCTURE_KINDS.items():
        properties: dict[str, Any] = dict(COMMON)
        required: list[str] = []
        if cls is Repeat:
            properties["times"] = {"anyOf": [{"type": "integer", "minimum": 0}, ARGUMENT]}
            properties["layers"] = LAYERS
            required = ["times", "layers"]
        else:
            for arg in cls.layer_args:
                properties[arg] = {"anyOf": [LAYERS, {"type": "null"}]}
                if cls.model_fields[arg].is_required():
                    required.append(arg)
            for arg in cls.branch_args:
                properties[arg] = {"type": "array", "items": LAYERS, "minItems": 1}
                required.append(arg)
            for name, field in cls.model_fields.items():
                if name not in properties and name != "name":
                    schema = copy.deepcopy(cls.model_json_schema()["properties"][name])
                    properties[name] = allow_arguments(schema)
                    if field.is_required():
                        required.append(name)
        defs[kind] = {
            "type": "object",
            "description": (cls.summary or cls.__doc__ or "").strip(),
            "additionalProperties": False,
            "required": required,
            "properties": properties,
        }
    return defs


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

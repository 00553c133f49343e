"""`$name` substitution inside block definitions, with safe integer arithmetic."""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.spec.yaml_source import YList, YMap

MAX_EXPRESSION = 500  # characters, once the arguments are filled in
MAX_VALUE = 10**30  # no size or count in a real network comes near
_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_OPERATORS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def substitute(value: Any, env: dict[str, Any] | None, pos: Position, block: str | None) -> Any:
    """Replace `$name` references in a positioned YAML value with the block's arguments."""
    if isinstance(value, YMap):
        out = YMap((k, substitute(v, env, out_pos(value, k, pos), block)) for k, v in value.items())
        out.pos, out.key_pos, out.value_pos = value.pos, value.key_pos, value.value_pos
        return out
    if isinstance(value, YList):
        out_list = YList(substitute(v, env, p, block) for v, p in zip(value, value.item_pos))
        out_list.pos, out_list.item_pos = value.pos, value.item_pos
        return out_list
    if isinstance(value, str) and "$" in value:
        return _evaluate(value, env, pos, block)
    return value


def out_pos(mapping: YMap, key: Any, default: Position) -> Position:
    return mapping.value_pos.get(key, default)


def _evaluate(text: str, env: dict[str, Any] | None, pos: Position, block: str | None) -> Any:
    names = _REFERENCE.findall(text)
    if env is None:
        raise SpecError(
            f"`{text}` refers to a block argument, but it is not inside a block definition.",
            pos,
            "Define the layers under `blocks:` with `args:`, or write the number.",
        )
    for name in names:
        if name not in env:
            known = ", ".join(f"${n}" for n in env) or "none"
            raise SpecError(f"`${name}` is not an argument of block `{block}` (its arguments: {known}).", pos)
    whole = _REFERENCE.fullmatch(text.strip())
    if whole:  # `$width` alone keeps the argument's own type (a list, a bool...)
        return env[whole.group(1)]
    expression = _REFERENCE.sub(lambda m: f"({env[m.group(1)]!r})", text)
    if len(expression) > MAX_EXPRESSION:
        raise SpecError(
            f"the expression `{text[:40]}...` is {len(expression):,} characters long (at most {MAX_EXPRESSION:,}).",
            pos,
            "Block arguments take short integer arithmetic such as `$width * 4`.",
        )
    try:
        result = _arith(ast.parse(expression, mode="eval").body)
    except _OutOfRange as exc:
        raise SpecError(f"`{text}` gives {exc}, far beyond any size or count.", pos) from None
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError) as exc:
        raise SpecError(
            f"cannot evaluate `{text}` (as `{expression}`): {exc}.",
            pos,
            "Only numbers, block arguments and + - * / // % ( ) are allowed.",
        ) from None
    if isinstance(result, float) and result.is_integer():
        return int(result)
    return result


def _arith(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _bounded(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _bounded(_OPERATORS[type(node.op)](_arith(node.left), _arith(node.right)))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _bounded(_OPERATORS[type(node.op)](_arith(node.operand)))
    raise ValueError("only integer arithmetic is allowed")


class _OutOfRange(ArithmeticError):
    pass


def _bounded(value: int | float) -> int | float:
    """Every intermediate result stays a finite number (and an integer short enough to print)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _OutOfRange("a number that is not finite")
    if abs(value) > MAX_VALUE:
        raise _OutOfRange(f"a number beyond {MAX_VALUE:.0e}")
    return value

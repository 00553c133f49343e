"""`$name` substitution in spec values, with a small, safe expression language.

Expressions are Python syntax restricted to numbers, booleans, quoted text, `$names`,
`+ - * / // %`, comparisons, `and`/`or`/`not`, `A if COND else B` and a few functions
(`min`, `max`, `round`, `floor`, `ceil`, `make_divisible`). No truthiness: `and`, `or`, `not`
and conditions take booleans, and a boolean is never a number.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.spec.yaml_source import YList, YMap

# A name as Python's parser reads the expression: `$widthé` is `widthé`, not `width` followed by `é`.
_REFERENCE = re.compile(r"\$([^\W\d]\w*)")
_PLACEHOLDER = "_cnncalc_"
# Far beyond any real size or count, far below Python's 4,300-digit int/str conversion limit.
MAX_MAGNITUDE = 10**30
MAX_TEXT = 1000  # characters in one expression


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision's `_make_divisible`: round to a multiple of divisor, never more than 10% down."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "make_divisible": make_divisible,
}


class Lazy:
    """An environment value computed on first use (`$in_channels` needs the shapes so far)."""

    def __init__(self, compute: Callable[[], Any]):
        self.compute = compute
        self.value: Any = None
        self.done = False

    def get(self) -> Any:
        if not self.done:
            self.value, self.done = self.compute(), True
        return self.value


class Env(dict):
    """The `$names` visible where a value is written; `block` is the enclosing block's name, if any."""

    def __init__(self, values: dict[str, Any], block: str | None):
        super().__init__(values)
        self.block = block

    def with_values(self, **more: Any) -> Env:
        return Env({**self, **more}, self.block)

    def value(self, name: str) -> Any:
        found = self[name]
        return found.get() if isinstance(found, Lazy) else found


def substitute(value: Any, env: Env, pos: Position, skip: tuple[str, ...] = ()) -> Any:
    """Replace `$name` references in a positioned YAML value; keys in `skip` stay as written."""
    if isinstance(value, YMap):
        out = YMap((k, v if k in skip else substitute(v, env, value.value_pos.get(k, pos))) for k, v in value.items())
        out.pos, out.key_pos, out.value_pos = value.pos, value.key_pos, value.value_pos
        return out
    if isinstance(value, YList):
        out_list = YList(substitute(v, env, p) for v, p in zip(value, value.item_pos))
        out_list.pos, out_list.item_pos = value.pos, value.item_pos
        return out_list
    if isinstance(value, str) and "$" in value:
        return evaluate(value, env, pos)
    return value


def evaluate(text: str, env: Env, pos: Position) -> Any:
    """The value of one `$...` expression in `env`."""
    for name in _REFERENCE.findall(text):
        if name not in env:
            raise _unknown(name, env, pos)
    whole = _REFERENCE.fullmatch(text.strip())
    if whole:  # `$width` alone keeps the argument's own type (a list, a bool, a layer...)
        return env.value(whole.group(1))
    if len(text) > MAX_TEXT:
        raise SpecError(f"an expression of {len(text):,} characters is too long (at most {MAX_TEXT:,}).", pos)
    source = _REFERENCE.sub(lambda m: _PLACEHOLDER + m.group(1), text)
    try:
        tree = ast.parse(source.strip(), mode="eval").body
        result = _Evaluator(env, text).eval(tree)
    except (SyntaxError, MemoryError):  # MemoryError: CPython's parser on absurdly nested parentheses
        raise SpecError(
            f"cannot read the expression `{text}`.",
            pos,
            "Expressions use numbers, $arguments, + - * / // %, comparisons, and/or/not, `A if C else B` "
            f"and {', '.join(FUNCTIONS)}; in a YAML flow mapping quote an expression that has a comma.",
        ) from None
    except _OutOfRange as exc:
        raise SpecError(f"`{text}` gives {exc}, far beyond any size or count.", pos) from None
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError) as exc:
        raise SpecError(f"cannot evaluate `{text}`: {exc or 'it nests too deeply'}.", pos) from None
    if isinstance(result, float) and result.is_integer() and abs(result) <= MAX_MAGNITUDE:
        return int(result)
    return result


def _unknown(name: str, env: Env, pos: Position) -> SpecError:
    if env.block is None:
        if name == "in_channels":
            return SpecError(
                "`$in_channels` is used outside every block.",
                pos,
                "It is the channel count of a block use's input, so it exists only inside `blocks:`.",
            )
        if not env:
            return SpecError(
                f"`${name}` refers to a block argument, but it is not inside a block definition.",
                pos,
                "Define the layers under `blocks:` with `args:`, or write the number.",
            )
    known = ", ".join(f"${n}" for n in env if n != "in_channels") or "none"
    if env.block:
        return SpecError(f"`${name}` is not an argument of block `{env.block}` (its arguments: {known}).", pos)
    return SpecError(f"`${name}` is not defined here (known here: {known}).", pos)


class _OutOfRange(ArithmeticError):
    pass


class _Evaluator:
    """Walks the parsed expression; anything not listed is refused."""

    def __init__(self, env: Env, text: str):
        self.env, self.text = env, text

    def eval(self, node: ast.AST) -> Any:
        value = self._eval(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE:
            raise _OutOfRange(f"a number beyond {MAX_MAGNITUDE:.0e}")
        if isinstance(value, float) and not math.isfinite(value):
            raise _OutOfRange("a number that is not finite")
        return value

    def number(self, node: ast.AST) -> int | float:
        value = self.eval(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{value!r} is not a number")
        return value

    def boolean(self, node: ast.AST) -> bool:
        value = self.eval(node)
        if not isinstance(value, bool):
            raise TypeError(f"{value!r} is not true or false (write a comparison such as `$x == 1`)")
        return value

    def _eval(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool, str)):
            return node.value
        if isinstance(node, ast.Name) and node.id.startswith(_PLACEHOLDER):
            if node.id[len(_PLACEHOLDER) :] not in self.env:  # a character the parser joins to the name (`·`)
                raise TypeError(f"`${node.id[len(_PLACEHOLDER) :]}` is no argument here")
            value = self.env.value(node.id[len(_PLACEHOLDER) :])
            if isinstance(value, (YMap, YList, list, dict)):
                raise TypeError(f"`${node.id[len(_PLACEHOLDER) :]}` is not a number")
            return value
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return _ARITHMETIC[type(node.op)](self.number(node.left), self.number(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self.boolean(node.operand)
            if isinstance(node.op, ast.USub):
                return -self.number(node.operand)
            if isinstance(node.op, ast.UAdd):
                return +self.number(node.operand)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self.boolean(v) for v in node.values)
            return any(self.boolean(v) for v in node.values)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
            left = self.eval(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.eval(right_node)
                if not _COMPARISONS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.boolean(node.test) else self.eval(node.orelse)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
        ):
            return FUNCTIONS[node.func.id](*(self.number(arg) for arg in node.args))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            raise ValueError(f"`{node.func.id}` is not a function here (known: {', '.join(FUNCTIONS)})")
        raise ValueError(f"`{ast.unparse(node)}` is not allowed in an expression")

"""Homework on the backward pass: `grad_shape`, `grad_weights_shape` and `grad_values` per layer.

`grad_shape` is the shape of dL/dX (the layer's input gradient, the shape of its input);
`grad_weights_shape` that of dL/dW; `grad_values` the values of dL/dW for a layer with weights,
else of dL/dX (batch axis dropped). The loss is the spec's `loss:` (default: the output's sum).
Values are computed in float64 and compared with a relative tolerance of 1e-4. A `trainable: false`
layer's weights get no gradient (torch leaves `.grad` None): its dL/dW answers are `none`.
"""

from __future__ import annotations

from typing import Any

from cnncalc.checking.compare import Answer
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import Position
from cnncalc.layers.values import nested_shape
from cnncalc.shown import shown

GRAD_KEYS = ("grad_shape", "grad_weights_shape", "grad_values")
RTOL, ATOL = 1e-4, 1e-6
NONE = "none"  # the answer for a frozen layer's dL/dW: there is no gradient
_cache: dict[int, tuple[Analysis, Any]] = {}  # id(analysis) -> (analysis, Gradients): one backward pass each


def read_grad_given(key: str, quantity: str, layer: str | None, value: Any, where: Position) -> Any:
    """Parse a gradient answer: a shape for the *_shape keys, nested numbers for grad_values."""
    from cnncalc.checking.answers import Given, _shown, parse_shape

    given = Given(key, quantity, layer, _shown(value), None, where)
    if value is None:
        return given
    if quantity != "grad_shape" and isinstance(value, str) and value.strip().lower() == NONE:
        given.value = given.written = NONE
        return given
    if quantity.endswith("_shape"):
        shape, written = parse_shape(value)
        if shape is None:
            given.problem = f"`{shown(_shown(value))}` is not a shape; write it as a list, `[1, 3, 4]`."
        else:
            given.value, given.written = shape, list(written)
        return given
    if not _numeric(value):
        given.problem = f"`{shown(_shown(value))}` is not a list of numbers, e.g. `[[24, 30], [48, 54]]`."
        return given
    if nested_shape(value) is None:
        given.problem = (
            f"`{shown(_shown(value))}` is not a rectangular array: every row at one depth needs the same length and "
            "nesting, e.g. `[[24, 30], [48, 54]]`."
        )
        return given
    given.value = value
    return given


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numeric(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def gradients_of(analysis: Analysis):
    """The spec's backward pass in float64 (computed once per analysis)."""
    import numpy as np

    from cnncalc.executor.backward import run_backward

    found = _cache.get(id(analysis))
    if found is None or found[0] is not analysis:
        found = (analysis, run_backward(analysis.spec, dtype=np.float64)[2])
        _cache.clear()  # one spec at a time: a class's answers are graded against the same analysis
        _cache[id(analysis)] = found
    return found[1]


def judge_gradient(analysis: Analysis, row: LayerRow | None, given: Any) -> Answer:
    """Right or wrong, with the worked formula of the gradient asked for."""
    import numpy as np

    if row is None or not row.leaf:
        hint = "Gradients are asked per leaf layer (`cnncalc table` lists them)."
        return Answer(given.key, given.written, None, False, hint=hint, position=given.position)
    record = gradients_of(analysis).record(row.name)
    weights = record.param_grad("weights") if record is not None else None
    grad_input = record.grad_inputs[0][0] if record is not None else None
    frozen = record is not None and record.frozen_role("weights")
    if given.quantity == "grad_shape":
        actual: Any = list(row.input_shape)
    elif frozen:
        actual = NONE  # dL/dW is asked (grad_values means dL/dW for a layer with weights), and there is none
    elif given.quantity == "grad_weights_shape":
        actual = list(weights.shape) if weights is not None else None
    else:
        array = weights if weights is not None else grad_input
        actual = None if array is None else _plain(array)
    formula = formula_for(row, given.quantity, weights is not None)
    if frozen and given.quantity != "grad_shape":
        formula = ["`trainable: false`: W gets no gradient (torch: requires_grad=False, .grad is None)"]
    if given.problem or given.written is None:
        status = "" if given.problem else "unanswered"
        hint = given.problem or "Not answered."
        return Answer(given.key, given.written, actual, False, formula, hint, position=given.position, status=status)
    if actual is None:
        if given.quantity == "grad_weights_shape":
            why = f"`{row.name}` has no weights, so no dL/dW."
        else:
            why = "The loss does not depend on this layer: its gradient is zero."
        return Answer(given.key, given.written, None, False, formula, why, position=given.position)
    if NONE in (actual, given.value):
        correct = given.value == actual
    elif given.quantity.endswith("_shape"):
        correct = list(given.value) == actual
    else:
        mine, theirs = np.squeeze(np.asarray(given.value, float)), np.squeeze(np.asarray(actual, float))
        correct = mine.shape == theirs.shape and np.allclose(mine, theirs, rtol=RTOL, atol=ATOL)  # size-1 axes aside
    answer = Answer(given.key, given.written, actual, bool(correct), position=given.position)
    if not answer.correct:
        answer.formula = formula
        if actual == NONE:
            answer.hint = (
                f"`{shown(row.name)}` is frozen (`trainable: false`): its weights get no gradient; answer `none`."
            )
        elif given.value == NONE:
            answer.hint = f"`{shown(row.name)}` is trained: its gradient exists."
        elif given.quantity == "grad_values" and np.asarray(given.value, float).size != np.asarray(actual).size:
            answer.hint = (
                f"The gradient has {np.asarray(actual).size} values, the answer {np.asarray(given.value).size}."
            )
    return answer


def _plain(array) -> Any:
    """Nested lists, whole numbers as ints, others to 7 significant digits (as `run` shows them)."""

    def plain(item: Any) -> Any:
        if isinstance(item, list):
            return [plain(inner) for inner in item]
        rounded = float(f"{item:.7g}")
        return int(rounded) if rounded.is_integer() else rounded

    return plain(array.tolist())


def formula_for(row: LayerRow, quantity: str, has_weights: bool) -> list[str]:
    """The worked formula: the shapes here, the gradient's own from the layer's kind (`Layer.backward_formula`)."""
    if quantity == "grad_shape":
        return [f"dL/dX has the shape of the layer's input X: {list(row.input_shape)}"]
    if quantity == "grad_weights_shape":
        return ["dL/dW has the shape of W", *[line for line in row.explain() if line.startswith("params")]]
    return row.layer.backward_formula(row.input_shape, has_weights and quantity == "grad_values")

"""Grade an answer sheet: points per question, error carried forward, a tolerance for rounded numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.checking.answers import AnswerSheet, Given, load_sheet, read_given
from cnncalc.checking.compare import Answer, CheckResult, _formula, _judge, _plain, _whole
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError, Position, SpecError
from cnncalc.shown import shown
from cnncalc.spec.yaml_source import YMap

DEFAULT_CARRY_FORWARD = 0.5
RULE_KEYS = ("points", "carry_forward", "tolerance")  # what only a key file (the TA's) may say


@dataclass
class Rules:
    """How answers earn points; without a key file every answer given is a question worth 1."""

    questions: list[Given] | None = None  # the key's questions, in its order
    points: dict[str, float] = field(default_factory=dict)
    default_points: float = 1.0
    carry_forward: float = DEFAULT_CARRY_FORWARD  # part of the points for an error carried forward
    tolerance: float = 0.0  # relative, for counts; 0 = exact
    variant: str | None = None
    file: str | None = None

    def points_for(self, key: str) -> float:
        return self.points.get(key, self.default_points)


def grade(analysis: Analysis, sheet: AnswerSheet, rules: Rules | None = None) -> CheckResult:
    """Judge every answer of `sheet` (or every question of the key) and give each its points."""
    rules = rules or Rules()
    by_key = {g.key: g for g in sheet.givens}
    shapes = {g.layer: g.value for g in sheet.givens if g.quantity == "output_shape" and g.layer and g.value}
    result = CheckResult(analysis.spec.name, [], file=sheet.file, variant=sheet.variant, notes=list(sheet.notes))
    if rules.variant is not None and sheet.variant is not None and sheet.variant != rules.variant:
        result.notes.append(
            f"these answers are for variant {shown(sheet.variant)} but are graded against variant {rules.variant}."
        )
    asked = rules.questions if rules.questions is not None else sheet.givens
    for question in asked:
        given = by_key.get(question.key, Given(question.key, question.quantity, question.layer, None))
        answer = judge(analysis, given, sheet.layout, shapes, rules)
        answer.max_points = _whole(rules.points_for(question.key))
        answer.points = _whole(_earned(answer, rules))
        result.answers.append(answer)
    if not result.answers and not sheet.givens:
        result.notes.append("the file holds no answers.")
    if rules.questions is not None:  # answers the key does not ask about: judged, worth nothing
        keys = {q.key for q in rules.questions}
        for given in sheet.givens:
            if given.key not in keys:
                answer = judge(analysis, given, sheet.layout, shapes, rules)
                answer.points, answer.max_points = 0, 0
                answer.hint = " ".join(filter(None, [answer.hint, "(Not a question of the key: no points.)"]))
                result.answers.append(answer)
    return result


def _earned(answer: Answer, rules: Rules) -> float:
    full = answer.max_points or 0
    if answer.correct:
        return full
    return full * rules.carry_forward if answer.status == "carried_forward" else 0


def judge(analysis: Analysis, given: Given, layout: str, shapes: dict[str, Any], rules: Rules) -> Answer:
    """One answer: right, wrong (with formula and hint), carried forward, or unanswered."""
    row = analysis.row(given.layer) if given.layer else None
    if given.layer and row is None and given.quantity:
        from cnncalc.spec.messages import did_you_mean

        guess = did_you_mean(given.layer, [r.name for r in analysis.rows])
        fix = f"Did you mean `{guess}`?" if guess else "`cnncalc table` shows the layer names."
        problem = f"there is no layer named `{shown(given.layer)}` in `{shown(analysis.spec.name)}`. {fix}"
        return Answer(given.key, given.written, None, False, hint=problem, position=given.position, status="wrong")
    if given.quantity.startswith("grad_"):
        from cnncalc.checking.gradients import judge_gradient

        return judge_gradient(analysis, row, given)
    actual = _actual(analysis, row, given.quantity)
    shown_value = _in_layout(actual, layout) if given.quantity == "output_shape" else actual
    if given.problem or not given.quantity:
        answer = Answer(given.key, given.written, shown_value, False, hint=given.problem, position=given.position)
        answer.formula = _formula(analysis, row, given.quantity) if given.quantity in _QUANTITIES else []
        return answer
    if given.blank:
        return Answer(
            given.key, None, shown_value, False, hint="Not answered.", position=given.position, status="unanswered"
        )
    if given.quantity.startswith("max_"):
        bound, actual_count = given.value, getattr(analysis, given.quantity[4:])
        ok = actual_count <= bound
        formula = [f"{given.quantity[4:]} = {actual_count:,} {'<=' if ok else '>'} {given.quantity} {bound:,}"]
        return Answer(given.key, _plain(bound), actual_count, ok, formula, position=given.position)
    if given.quantity != "output_shape" and rules.tolerance and _close(given.value, actual, rules.tolerance):
        answer = Answer(given.key, given.written, shown_value, True, position=given.position)
        answer.formula = [f"{actual:,} is within {rules.tolerance:.0%} of {given.written}"]
        return answer
    answer = _judge(analysis, row, given.quantity, given.key, given.value, given.position)
    answer.expected, answer.actual = given.written, shown_value
    if answer.correct:
        return answer
    if given.rounded and not answer.hint:
        answer.hint = f"{given.written} is rounded; the exact count is asked (a key or `--tolerance` may allow it)."
    source = carried_from(analysis, row, given, shapes)
    if source is not None:
        answer.status = "carried_forward"
        earlier = _in_layout(shapes[source], layout)
        note = f"Right from your own `{source}` output shape {earlier}: error carried forward."
        answer.hint = " ".join(filter(None, [note, answer.hint]))
    return answer


_QUANTITIES = ("output_shape", "params", "trainable_params", "macs", "flops")


def _actual(analysis: Analysis, row: LayerRow | None, quantity: str) -> Any:
    if quantity not in _QUANTITIES:
        return None
    value = getattr(analysis if row is None else row, quantity)
    return list(value) if quantity == "output_shape" else value


def _in_layout(shape: Any, layout: str) -> Any:
    shape = list(shape)
    return [*shape[1:], shape[0]] if layout == "hwc" and len(shape) > 1 else shape


def _close(given: float, actual: int, tolerance: float) -> bool:
    return abs(given - actual) <= tolerance * abs(actual)


def carried_from(analysis: Analysis, row: LayerRow | None, given: Given, shapes: dict[str, Any]) -> str | None:
    """The earlier layer whose (wrong) answered output shape makes this answer right, if any.

    Only through a plain chain of leaf layers (no branch or block in between), as graders do by hand.
    """
    if row is None or not row.leaf or given.quantity not in ("output_shape", "params", "macs", "flops"):
        return None
    index = analysis.rows.index(row)
    between: list[LayerRow] = []
    for earlier in reversed(analysis.rows[:index]):
        if not earlier.leaf or earlier.depth != row.depth:
            return None
        if earlier.name in shapes:
            break
        between.append(earlier)
    else:
        return None
    start = tuple(shapes[earlier.name])
    if start == tuple(earlier.output_shape):
        return None  # the earlier answer is right: nothing wrong to carry
    try:
        shape = start
        for layer_row in reversed(between):
            shape = layer_row.layer.output_shape(shape)
        layer = row.layer
        if given.quantity == "output_shape":
            follows = tuple(layer.output_shape(shape)) == tuple(given.value)
        elif given.quantity == "params":
            follows = layer.param_count(shape) == given.value
        else:
            outs = {tuple(layer.output_shape(shape))}
            own = shapes.get(row.name)
            if own:
                outs.add(tuple(own))
            factor = 2 if given.quantity == "flops" else 1
            follows = any(factor * layer.macs(shape, out) == given.value for out in outs)
    except (CnncalcError, ArithmeticError, ValueError, TypeError, IndexError):
        return None  # the student's shape cannot go through this layer
    return earlier.name if follows else None


def load_rules(path: Path, display: str, analysis: Analysis | None = None) -> Rules:
    """Read a key file: the questions (answers form), `points`, `carry_forward`, `tolerance`, `variant`.

    With `analysis`, every value the key gives must be what cnncalc computes (a key that disagrees is refused).
    """
    from cnncalc.checking.answers import read_sheet
    from cnncalc.spec.yaml_source import load_yaml_file

    raw = load_yaml_file(path, display)
    if not isinstance(raw, YMap):
        raise SpecError("a key file is a mapping: the answers, and optionally `points:`.", Position(display, 1, 1))
    answers = YMap({k: v for k, v in raw.items() if k not in RULE_KEYS})
    answers.pos, answers.key_pos, answers.value_pos = raw.pos, raw.key_pos, raw.value_pos
    sheet = read_sheet(answers, display)
    problems = [f"{g.position}: {g.problem}" for g in sheet.givens if g.problem] + sheet.notes
    rules = Rules(questions=sheet.givens, variant=sheet.variant, file=display)
    problems += _read_rule_values(raw, rules)
    if analysis is not None and not problems:
        problems += [
            f"{a.position}: the key says {a.expected} for `{a.key}`, but cnncalc computes {a.actual}."
            for a, g in zip(grade(analysis, sheet).answers, sheet.givens)
            if not g.blank and not a.correct
        ]
    if problems:
        raise SpecError(
            f"the key file cannot be used: {' '.join(problems[:10])}", raw.pos, _more(len(problems) - 10)
        ) from None
    return rules


def _read_rule_values(raw: YMap, rules: Rules) -> list[str]:
    problems: list[str] = []
    points = raw.get("points")
    known = [g.key for g in rules.questions or []]
    if isinstance(points, (int, float)) and not isinstance(points, bool) and points >= 0:
        rules.default_points = float(points)
    elif isinstance(points, YMap):
        for key, value in points.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                problems.append(f"{points.value_pos[key]}: points must be a number >= 0; got {shown(repr(value))}.")
            elif key == "default":
                rules.default_points = float(value)
            elif key not in known:
                from cnncalc.spec.messages import did_you_mean

                guess = did_you_mean(key, known)
                fix = f" Did you mean `{guess}`?" if guess else ""
                where = points.key_pos[key]
                problems.append(f"{where}: `points` names `{shown(key)}`, not a question of the key.{fix}")
            else:
                rules.points[str(key)] = float(value)
    elif points is not None:
        problems.append(f"{raw.value_pos['points']}: `points` is a number, or `{{question: points}}`.")
    for name in ("carry_forward", "tolerance"):
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            setattr(rules, name, float(value))
        else:
            problems.append(f"{raw.value_pos[name]}: `{name}` is a fraction from 0 to 1; got {shown(repr(value))}.")
    return problems


def _more(count: int) -> str | None:
    return f"({count} more problems not shown.)" if count > 0 else None


def grade_file(analysis: Analysis, path: Path, display: str, rules: Rules | None = None, layout: str = "chw"):
    """Read and grade one answers file (SpecError only when it cannot be read at all)."""
    return grade(analysis, load_sheet(path, display, layout), rules)


__all__ = ["Rules", "carried_from", "grade", "grade_file", "judge", "load_rules", "read_given"]

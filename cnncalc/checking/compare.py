"""Compare an Expect (a spec's `expect:` or a homework answers file) with the computed Analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.checking.mistakes import Question, hint_for, mistake_for
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import Position, SpecError
from cnncalc.spec.model import Expect
from cnncalc.spec.yaml_source import YMap

EXACT_KEYS = ("output_shape", "params", "trainable_params", "buffers", "macs", "flops")
BOUND_KEYS = {"max_params": "params", "max_macs": "macs", "max_flops": "flops"}
LAYER_KEYS = ("output_shape", "params", "macs", "flops", "grad_shape", "grad_weights_shape", "grad_values")
GRAD_KEYS = LAYER_KEYS[4:]  # judged by checking/gradients.py (a backward pass)
MAX_TERMS = 6  # terms shown in a summed formula before "..."


@dataclass
class Answer:
    """One judged answer: what was given, the right value, and why when wrong."""

    key: str  # e.g. `layers.conv1.output_shape`, `params`, `max_macs`
    given: Any  # the student's answer
    correct_value: Any  # cnncalc's value (`correct` is the verdict)
    correct: bool
    formula: list[str] = field(default_factory=list)
    hint: str | None = None
    mistake: str | None = None  # name of the classic mistake recognised, if any
    position: Position | None = None
    status: str = ""  # right, wrong, carried_forward, unanswered ("" = right/wrong from `correct`)
    points: float | None = None  # earned, when graded with points
    max_points: float | None = None

    @property
    def state(self) -> str:
        return self.status or ("right" if self.correct else "wrong")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            # The legacy keys are backwards (`expected` was the answer given, `actual` the right value) and kept
            # as they were for scripts that read them; `given` and `correct_value` say what they hold.
            "expected": self.given,
            "actual": self.correct_value,
            "given": self.given,
            "correct_value": self.correct_value,
            "correct": self.correct,
            "status": self.state,
            "points": self.points,
            "max_points": self.max_points,
            "formula": self.formula,
            "hint": self.hint,
            "mistake": self.mistake,
            "position": str(self.position) if self.position else None,
        }


@dataclass
class CheckResult:
    """All answers of one spec or answers file; `error` when the file could not be read at all."""

    name: str
    answers: list[Answer]
    file: str | None = None
    variant: str | None = None
    notes: list[str] = field(default_factory=list)  # file-level remarks (a layout not understood...)
    error: str | None = None

    @property
    def passed(self) -> bool:
        # an answers file with no answers at all is not a pass (a spec's empty `expect:` checks nothing)
        return self.error is None and all(a.correct for a in self.answers) and bool(self.answers or not self.file)

    @property
    def wrong(self) -> list[Answer]:
        return [a for a in self.answers if not a.correct]

    @property
    def score(self) -> float | None:
        return None if self.error else _whole(sum(a.points or 0 for a in self.answers))

    @property
    def max_score(self) -> float | None:
        return None if self.error else _whole(sum(a.max_points or 0 for a in self.answers))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "passed": self.passed}
        if self.file is not None:
            out.update(file=self.file, score=self.score, max_score=self.max_score, variant=self.variant)
            out.update(notes=self.notes, error=self.error)
        out["answers"] = [a.to_dict() for a in self.answers]
        return out


def _whole(value: float) -> float:
    """Points as JSON and CSV show them: 3 rather than 3.0."""
    rounded = round(value, 6)
    return int(rounded) if float(rounded).is_integer() else rounded


def load_answers(path: str | Path) -> tuple[Expect, YMap]:
    """Read a separate answers file (the form of `expect:`), positions kept for messages."""
    from cnncalc.spec.build import parse_expect
    from cnncalc.spec.yaml_source import load_yaml_file

    raw = load_yaml_file(Path(path), str(path), kind="answers")
    return parse_expect(raw, getattr(raw, "pos", Position(str(path), 1, 1)), "answers"), raw


def check_expect(
    analysis: Analysis, expect: Expect, raw: Any = None, unknown: list[SpecError] | None = None
) -> CheckResult:
    """Judge every answer in `expect`; `raw` is its positioned YAML (for file:line:column).

    A layer name the spec does not have raises, or, given the list `unknown`, is put there and skipped."""
    raw = raw if isinstance(raw, YMap) else None
    rows = _answered_rows(analysis, expect, raw, unknown)
    answers: list[Answer] = []
    for key in EXACT_KEYS:
        given = getattr(expect, key)
        if given is not None:
            answers.append(_judge(analysis, None, key, key, given, _value_pos(raw, key)))
    for key, quantity in BOUND_KEYS.items():
        bound = getattr(expect, key)
        if bound is not None:
            actual = getattr(analysis, quantity)
            formula = [f"{quantity} = {actual:,} {'<=' if actual <= bound else '>'} {key} {_number(bound)}"]
            answers.append(Answer(key, _plain(bound), actual, actual <= bound, formula, position=_value_pos(raw, key)))
    layers_raw = raw.get("layers") if raw is not None else None
    for name, layer_expect in expect.layers.items():
        if name not in rows:
            continue  # in `unknown`
        layer_raw = layers_raw.get(name) if isinstance(layers_raw, YMap) else None
        for key in LAYER_KEYS:
            given = getattr(layer_expect, key)
            if given is not None:
                where = _value_pos(layer_raw, key)
                if key in GRAD_KEYS:
                    from cnncalc.checking.gradients import judge_gradient, read_grad_given

                    parsed = read_grad_given(f"layers.{name}.{key}", key, name, given, where)  # type: ignore[arg-type]
                    answers.append(judge_gradient(analysis, rows[name], parsed))
                    continue
                answers.append(_judge(analysis, rows[name], key, f"layers.{name}.{key}", given, where))
    return CheckResult(analysis.spec.name, answers)


def _answered_rows(
    analysis: Analysis, expect: Expect, raw: YMap | None, unknown: list[SpecError] | None = None
) -> dict[str, LayerRow]:
    """The rows the answers name; an unknown name is an error with the closest real one (raised, or kept)."""
    from cnncalc.spec.messages import did_you_mean

    rows = {row.name: row for row in analysis.rows}
    layers_raw = raw.get("layers") if raw is not None else None
    for name in expect.layers:
        if name not in rows:
            guess = did_you_mean(name, rows)
            where = layers_raw.key_pos.get(name) if isinstance(layers_raw, YMap) else None
            error = SpecError(
                f"there is no layer named `{name}` in `{analysis.spec.name}`.",
                where or (raw.pos if raw is not None else None),
                f"Did you mean `{guess}`?" if guess else "`cnncalc table` shows the layer names.",
            )
            if unknown is None:
                raise error
            unknown.append(error)
    return rows


def _judge(analysis: Analysis, row: LayerRow | None, quantity: str, key: str, given: Any, where: Any) -> Answer:
    actual = _actual(analysis, row, quantity)
    answer = Answer(key, _plain(given), _plain(actual), _plain(given) == _plain(actual), position=where)
    if not answer.correct:
        answer.formula = _formula(analysis, row, quantity)
        question = Question(quantity, given, actual, analysis, row)
        answer.hint, answer.mistake = hint_for(question), mistake_for(question)
    return answer


def _actual(analysis: Analysis, row: LayerRow | None, quantity: str) -> Any:
    source: Any = analysis if row is None else row
    return getattr(source, quantity)


def _formula(analysis: Analysis, row: LayerRow | None, quantity: str) -> list[str]:
    """The worked formula lines relevant to `quantity` (from LayerRow.explain() for a leaf)."""
    if row is not None and row.leaf:
        lines = row.explain()
        if quantity == "output_shape":
            return [line for line in lines if not line.startswith(("params", "macs"))]
        if quantity == "params":
            return [line for line in lines if line.startswith("params")]
        macs = [line for line in lines if line.startswith("macs")] or [f"macs = {row.macs:,}"]
        return macs if quantity == "macs" else [*macs, f"flops = 2 * macs = 2 * {row.macs:,} = {row.flops:,}"]
    if quantity == "output_shape":
        last = analysis.leaves[-1] if row is None else row
        return [f"output of `{last.name}`: {list(last.output_shape)}"]
    from cnncalc.checking.variants import leaves_under

    terms = [(leaf.name, getattr(leaf, quantity)) for leaf in leaves_under(analysis, row)]
    terms = [(name, value) for name, value in terms if value]
    shown = " + ".join(f"{value:,} ({name})" for name, value in terms[:MAX_TERMS])
    more = f" + ... ({len(terms) - MAX_TERMS} more layers)" if len(terms) > MAX_TERMS else ""
    total = _actual(analysis, row, quantity)
    return [f"{quantity} = {shown or '0'}{more} = {total:,}"]


def _value_pos(mapping: YMap | None, key: str) -> Position | None:
    if not isinstance(mapping, YMap):
        return None
    return mapping.value_pos.get(key, mapping.pos)


def _plain(value: Any) -> Any:
    """Shapes as lists, whole floats as ints: what JSON shows and what compares."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"

"""Grade an answer sheet: points per question, error carried forward, a tolerance for rounded numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.checking.answers import AnswerSheet, Given, load_sheet, read_given
from cnncalc.checking.compare import Answer, CheckResult, _formula, _judge, _plain, _whole
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError, Position, SpecError, SpecErrors
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
    answer.given, answer.correct_value = given.written, shown_value
    if answer.correct:
        return answer
    if given.rounded and not answer.hint:
        answer.hint = f"{given.written} is rounded; the exact count is asked (a key or `--tolerance` may allow it)."
    sources = carried_from(analysis, row, given, shapes)
    if sources:
        answer.status = "carried_forward"
        own = [f"`{shown(name)}` output shape {_in_layout(shapes[name], layout)}" for name in sources[:3]]
        more = f" (and {len(sources) - 3} more)" if len(sources) > 3 else ""
        note = f"Right from your own {' and '.join(own)}{more}: error carried forward."
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


_CARRIED = ("output_shape", "params", "trainable_params", "macs", "flops")
_UNUSABLE = (CnncalcError, ArithmeticError, ValueError, TypeError, IndexError, AssertionError)


def carried_from(analysis: Analysis, row: LayerRow | None, given: Given, shapes: dict[str, Any]) -> list[str]:
    """The layers whose (wrong) answered output shapes make this answer right; [] when none do.

    Follows the graph (residuals, concats, branches, blocks): a layer left unanswered is recomputed from
    the student's answers before it; where a shape it depends on can be neither, nothing is carried.
    """
    if row is None or given.quantity not in _CARRIED or given.value is None:
        return []
    node = row.layer.output_node
    if given.quantity == "output_shape":
        student = StudentShapes(analysis, shapes, skip=node)  # the answer judged is not its own evidence
        found = student.infer(node)
        return student.sources(*analysis.graph.nodes[node].inputs) if found == tuple(given.value) else []
    student = StudentShapes(analysis, shapes)
    factor = 2 if given.quantity == "flops" else 1
    if row.leaf:
        counts = _counts(student, row, given.quantity, own=True)
        used = analysis.graph.nodes[node].inputs
    else:  # a structure's count is its leaves', each from the student's shapes around it
        leaves = list(row.leaves())
        per_leaf = [_counts(student, leaf, given.quantity, own=False) for leaf in leaves]
        counts = {sum(next(iter(c)) for c in per_leaf)} if all(per_leaf) else set()
        used = tuple(leaf.layer.output_node for leaf in leaves)
    return student.sources(*used) if given.value in {factor * c for c in counts} else []


def _counts(student: StudentShapes, row: LayerRow, quantity: str, own: bool) -> set[int]:
    """A leaf's params or MACs from the student's shapes ({} when they cannot be had); with `own`, MACs
    from its recomputed output shape and from the student's own answered one."""
    layer, node = row.layer, student.graph.nodes[row.layer.output_node]
    try:
        inputs = [student.shape(i) for i in node.inputs]
        if any(s is None for s in inputs):
            return set()
        first = inputs[0]
        assert first is not None
        if quantity in ("params", "trainable_params"):
            return {layer.param_count(first) if quantity == "params" or layer.trainable else 0}
        outs = {student.infer(node.index)} | ({student.answered_shape(node.index)} if own else set())
        return {layer.macs(first, out) for out in outs if out is not None}
    except _UNUSABLE:
        return set()  # the student's shapes cannot go through this layer


class StudentShapes:
    """Every node's shape as the student's answers make it: the answered output shape, else the node's
    shape rule over its inputs' (None where an input's is unknown or the rule refuses them)."""

    def __init__(self, analysis: Analysis, shapes: dict[str, Any], skip: int | None = None) -> None:
        self.graph = analysis.graph
        self.true = self.graph.shapes()
        self.answered: dict[int, tuple[str, tuple[int, ...]]] = {}
        depth: dict[int, int] = {}
        for row in analysis.rows:  # several rows share a node (a block and its last layer): the innermost wins
            node = row.layer.output_node
            if row.name in shapes and node != skip and row.depth > depth.get(node, -1):
                self.answered[node], depth[node] = (row.name, tuple(shapes[row.name])), row.depth
        self._shapes: dict[int, tuple[int, ...] | None] = {}
        self._wrong: dict[int, frozenset[int]] = {}  # the wrongly answered nodes each shape comes from

    def answered_shape(self, index: int) -> tuple[int, ...] | None:
        return self.answered[index][1] if index in self.answered else None

    def shape(self, index: int) -> tuple[int, ...] | None:
        """Node `index`'s shape from the student's answers (a loop, not recursion: graphs are deep)."""
        stack = [index]
        while stack:
            i = stack[-1]
            if i in self._shapes:
                stack.pop()
            elif i in self.answered:
                stack.pop()
                self._shapes[i] = shape = self.answered[i][1]
                self._wrong[i] = frozenset() if shape == tuple(self.true[i]) else frozenset({i})
            elif self.graph.nodes[i].op is None:
                stack.pop()
                self._shapes[i], self._wrong[i] = tuple(self.graph.input_shape), frozenset()
            else:
                pending = [j for j in self.graph.nodes[i].inputs if j not in self._shapes]
                if pending:
                    stack.extend(pending)
                    continue
                stack.pop()
                self._shapes[i] = self.infer(i)
                self._wrong[i] = frozenset().union(*(self._wrong[j] for j in self.graph.nodes[i].inputs))
        return self._shapes[index]

    def infer(self, index: int) -> tuple[int, ...] | None:
        """Node `index`'s shape rule over its inputs' student shapes (its own answer not consulted)."""
        node = self.graph.nodes[index]
        if node.op is None:
            return tuple(self.graph.input_shape)
        inputs = [self.shape(i) for i in node.inputs]
        if any(s is None for s in inputs):
            return None
        try:
            return tuple(node.op.infer([s for s in inputs if s is not None]))
        except _UNUSABLE:
            return None

    def sources(self, *indices: int) -> list[str]:
        """The wrongly answered layers the shapes of `indices` come from, in execution order."""
        for i in indices:
            self.shape(i)
        wrong = sorted(frozenset().union(*(self._wrong[i] for i in indices)))
        return [self.answered[i][0] for i in wrong]


def load_rules(path: Path, display: str, analysis: Analysis | None = None) -> Rules:
    """Read a key file: the questions (answers form), `points`, `carry_forward`, `tolerance`, `variant`.

    With `analysis`, every value the key gives must be what cnncalc computes (a key that disagrees is refused).
    """
    from cnncalc.checking.answers import looks_like_a_spec, read_sheet
    from cnncalc.spec.yaml_source import load_yaml_file

    raw = load_yaml_file(path, display)
    if not isinstance(raw, YMap):
        raise SpecError("a key file is a mapping: the answers, and optionally `points:`.", Position(display, 1, 1))
    if looks_like_a_spec(raw):  # the answers file's wording would point at --answers
        raise SpecError(
            "this looks like a spec, not a key file.",
            Position(display, 1, 1),
            "A key is the answers form with every answer (and optionally `points:`), as `cnncalc quiz` writes "
            "key.yaml: `cnncalc check SPEC --answers ANSWERS.yaml --key KEY.yaml`.",
        )
    answers = YMap({k: v for k, v in raw.items() if k not in RULE_KEYS})
    answers.pos, answers.key_pos, answers.value_pos = raw.pos, raw.key_pos, raw.value_pos
    sheet = read_sheet(answers, display)
    problems: list[tuple[Position | None, str]] = [(g.position, g.problem) for g in sheet.givens if g.problem]
    layout_at = raw.value_pos.get("layout")
    for note in sheet.notes:  # the layout note carries its position in its text: one position, not two
        if layout_at is not None and note.startswith(f"{layout_at}: "):
            problems.append((layout_at, note[len(f"{layout_at}: ") :]))
        else:
            problems.append((raw.pos, note))
    rules = Rules(questions=sheet.givens, variant=sheet.variant, file=display)
    problems += _read_rule_values(raw, rules)
    if analysis is not None and not problems:
        problems += [
            (a.position, f"the key says {a.given} for `{a.key}`, but cnncalc computes {a.correct_value}.")
            for a, g in zip(grade(analysis, sheet).answers, sheet.givens)
            if not g.blank and not a.correct
        ]
    if problems:
        listed = problems[:10]
        errors = [SpecError(f"the key file cannot be used: {text}", where or raw.pos, None) for where, text in listed]
        errors[-1].hint = _more(len(problems) - 10)
        raise (errors[0] if len(errors) == 1 else SpecErrors(errors)) from None
    return rules


def _read_rule_values(raw: YMap, rules: Rules) -> list[tuple[Position | None, str]]:
    problems: list[tuple[Position | None, str]] = []
    points = raw.get("points")
    known = [g.key for g in rules.questions or []]
    if isinstance(points, (int, float)) and not isinstance(points, bool) and points >= 0:
        rules.default_points = float(points)
    elif isinstance(points, YMap):
        for key, value in points.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                problems.append((points.value_pos[key], f"points must be a number >= 0; got {shown(repr(value))}."))
            elif key == "default":
                rules.default_points = float(value)
            elif key not in known:
                from cnncalc.spec.messages import did_you_mean

                guess = did_you_mean(key, known)
                fix = f" Did you mean `{guess}`?" if guess else ""
                where = points.key_pos[key]
                problems.append((where, f"`points` names `{shown(key)}`, not a question of the key.{fix}"))
            else:
                rules.points[str(key)] = float(value)
    elif points is not None:
        problems.append((raw.value_pos["points"], "`points` is a number, or `{question: points}`."))
    for name in ("carry_forward", "tolerance"):
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            setattr(rules, name, float(value))
        else:
            problems.append((raw.value_pos[name], f"`{name}` is a fraction from 0 to 1; got {shown(repr(value))}."))
    return problems


def _more(count: int) -> str | None:
    return f"({count} more problems not shown.)" if count > 0 else None


def grade_file(analysis: Analysis, path: Path, display: str, rules: Rules | None = None, layout: str = "chw"):
    """Read and grade one answers file (SpecError only when it cannot be read at all)."""
    return grade(analysis, load_sheet(path, display, layout), rules)


__all__ = ["Rules", "StudentShapes", "carried_from", "grade", "grade_file", "judge", "load_rules", "read_given"]

"""Grade a whole class: many answers files against one spec (or a quiz's variants), a summary, a gradebook."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.checking.answers import empty_file, load_sheet
from cnncalc.checking.compare import CheckResult, _whole
from cnncalc.checking.grading import Rules, grade, load_rules
from cnncalc.engine.propagate import Analysis
from cnncalc.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, CnncalcError, Position, SpecError
from cnncalc.globs import glob_paths, is_pattern
from cnncalc.shown import shown

if TYPE_CHECKING:
    from collections.abc import Callable

    from cnncalc.spec.model import Spec

Found = list[tuple[Path, str] | CheckResult]  # expand_answers: each file (path, display name), or a bad pattern
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def expand_answers(patterns: list[str]) -> Found:
    """(path, display name) for every file the patterns name, globs expanded here, each file once;
    a pattern that matches nothing becomes an unreadable result in its place.

    Expand once: what is graded and what `--gradebook` refuses to overwrite (`answer_files`) must be the same files.
    """
    found: Found = []
    seen: set[Path] = set()
    for given in patterns:
        path = Path(given)
        if path.exists() or not is_pattern(given):
            matches = [path]
        else:
            matches = [match for match in glob_paths(given) if match.is_file()]
            if not matches:
                found.append(unreadable(given, f"{shown(given)}: error: the pattern matches no files."))
        for match in matches:
            try:
                key = match.resolve()
            except (RuntimeError, OSError):  # a link loop (RuntimeError before Python 3.13): reading it says so
                key = match.absolute()
            if key not in seen:
                seen.add(key)
                found.append((match, shown(match)))
    return found


def answer_files(found: Found) -> list[Path]:
    """The files `expand_answers` found: the inputs an output must not replace."""
    return [item[0] for item in found if not isinstance(item, CheckResult)]


def unreadable(display: str, why: str, name: str = "") -> CheckResult:
    return CheckResult(name, [], file=shown(display), error=shown(why))


class Grader:
    """Grades answer sheets against one spec's analysis and one set of rules."""

    def __init__(self, analysis: Analysis, rules: Rules, layout: str = "chw"):
        self.analysis, self.rules, self.layout = analysis, rules, layout
        self.name = analysis.spec.name

    def grade(self, path: Path, display: str) -> CheckResult:
        try:
            sheet = load_sheet(path, display, self.layout)
            if sheet.empty and not self.asks_questions:
                raise empty_file(display)
            analysis, rules = self.target(sheet.variant, sheet.variant_pos or Position(display, 1, 1))
            return grade(analysis, sheet, rules)
        except CnncalcError as error:
            if error.position is None:  # every line about a file starts with where in it
                error.position = Position(display, 1, 1)
            return unreadable(display, error.render(), self.name)

    @property
    def asks_questions(self) -> bool:
        """Whether a key says what is asked (then an empty file is graded, every answer missing)."""
        return self.rules.questions is not None

    def target(self, variant: str | None, where: Position) -> tuple[Analysis, Rules]:
        return self.analysis, self.rules

    def inputs(self) -> list[Path]:
        """The files grading reads besides the answers (the spec), which no output may replace."""
        return [Path(self.analysis.spec.file)]


class QuizGrader(Grader):
    """Grades each sheet against the variant its `variant:` names, in a folder written by `cnncalc quiz`."""

    def __init__(self, folder: Path, overrides: dict[str, Any], layout: str = "chw"):
        from cnncalc.classroom.quiz import variant_folders

        self.folder, self.overrides, self.layout = folder, overrides, layout
        self.variants = variant_folders(folder)  # id -> variant folder
        self.loaded: dict[str, tuple[Analysis, Rules]] = {}
        self.name = shown(folder)

    asks_questions = False  # which key applies is known only from the file's own `variant:`

    def target(self, variant: str | None, where: Position) -> tuple[Analysis, Rules]:
        if variant is None or variant not in self.variants:
            ids = sorted(self.variants, key=_by_number)
            known = ", ".join(ids[:5]) + (f" ... ({len(ids)} in all)" if len(ids) > 5 else "")
            said = f"names variant `{shown(variant)}`" if variant else "has no `variant:` line"
            raise SpecError(f"the answers file {said}; {shown(self.folder)} holds variants {known}.", where)
        if variant not in self.loaded:
            from cnncalc.engine.propagate import analyze
            from cnncalc.spec.build import load_spec

            folder = self.variants[variant]
            analysis = analyze(load_spec(folder / "spec.yaml", shown(folder / "spec.yaml")))
            rules = load_rules(folder / "key.yaml", shown(folder / "key.yaml"), analysis)
            for name, value in self.overrides.items():
                setattr(rules, name, value)
            self.loaded[variant] = analysis, rules
        return self.loaded[variant]

    def inputs(self) -> list[Path]:
        """Every file of the quiz (its sheets and blank templates too): a gradebook never replaces one."""
        from cnncalc.classroom.quiz import QUIZ_FILES

        return [folder / name for folder in self.variants.values() for name in QUIZ_FILES]


def _by_number(variant: str) -> list[tuple[int, str]]:
    """`s2026-v2` before `s2026-v10`: the numbers in an id compare as numbers, the rest as text."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"([0-9]+)", variant)]


def grader_for(
    spec: str,
    key: Path | None,
    overrides: dict[str, Any],
    layout: str,
    own: bool,
    load: Callable[[str], Spec],
) -> Grader:
    """One spec analysed once (with its key's rules), or a quiz folder's variants; `load` reads a spec by name."""
    folder = Path(spec)
    if folder.is_dir() and any(folder.glob("variant-*/key.yaml")):
        if own or key is not None:
            raise SpecError(
                f"`{shown(spec)}` is a folder: a quiz folder grades answers files against each variant's key.",
                hint="Give `--answers 'submissions/*.yaml'` (and no --key: each variant has its own).",
            )
        return QuizGrader(folder, overrides, layout)
    from cnncalc.engine.propagate import analyze

    analysis = analyze(load(spec))
    rules = load_rules(key, shown(key), analysis) if key is not None else Rules()
    for name, value in overrides.items():
        setattr(rules, name, value)
    return Grader(analysis, rules, layout)


def grade_own_expect(grader: Grader) -> CheckResult:
    """The spec's own `expect:` block, graded like an answers file."""
    from cnncalc.checking.answers import read_sheet

    loaded = grader.analysis.spec
    if loaded.expect_raw is None:
        raise SpecError(
            f"`{loaded.name}` has no `expect:` block and no answers file was given.",
            loaded.source,
            "Pass `--answers answers.yaml`, or add `expect:` to the spec.",
        )
    result = grade(grader.analysis, read_sheet(loaded.expect_raw, loaded.file, grader.layout), grader.rules)
    result.file = None  # the output stays the spec check it always was
    return result


def grade_all(grader: Grader, found: Found) -> list[CheckResult]:
    """One result per answers file `expand_answers` found, in the order given (globs sorted)."""
    return [item if isinstance(item, CheckResult) else grader.grade(*item) for item in found]


def exit_code(results: list[CheckResult]) -> int:
    """2 if any file could not be read, else 1 if any answer is wrong, else 0."""
    if any(r.error for r in results):
        return EXIT_BAD_INPUT
    return EXIT_OK if results and all(r.passed for r in results) else EXIT_CHECK_FAILED


@dataclass
class ClassSummary:
    """Mean score, and how many students made each classic mistake (or missed each question)."""

    files: int
    graded: int
    unreadable: int
    mean_score: float | None
    mean_max_score: float | None
    passed: int
    mistakes: dict[str, int] = field(default_factory=dict)  # mistake -> files where it appears
    carried_forward: int = 0  # files with at least one error carried forward
    wrong_per_question: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(results: list[CheckResult]) -> ClassSummary:
    graded = [r for r in results if r.error is None]
    mistakes: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for result in graded:
        # each mistake once per file, in answer order: a set's order changed from run to run (string hashing),
        # and with it the order of tied counts in the summary
        mistakes.update(list(dict.fromkeys(a.mistake for a in result.answers if a.mistake)))
        wrong.update(a.key for a in result.answers if not a.correct)
    mean = _whole(sum(r.score or 0 for r in graded) / len(graded)) if graded else None
    mean_max = _whole(sum(r.max_score or 0 for r in graded) / len(graded)) if graded else None
    return ClassSummary(
        files=len(results),
        graded=len(graded),
        unreadable=len(results) - len(graded),
        mean_score=mean,
        mean_max_score=mean_max,
        passed=sum(r.passed for r in graded),
        mistakes=dict(mistakes.most_common()),
        carried_forward=sum(any(a.state == "carried_forward" for a in r.answers) for r in graded),
        wrong_per_question=dict(wrong.most_common()),
    )


def gradebook_rows(results: list[CheckResult]) -> list[list[str]]:
    """`file, score, max_score`, then the points of each question (in first-seen order), one row per file."""
    questions: dict[str, None] = {}
    for result in results:
        questions.update((a.key, None) for a in result.answers if a.max_points)
    rows = [["file", "score", "max_score", *questions]]
    for result in results:
        earned = {a.key: a.points for a in result.answers}
        cells = [result.file or "", result.score, result.max_score, *(earned.get(q) for q in questions)]
        rows.append([_cell(c) for c in cells])
    return [[_cell(c) for c in rows[0]], *rows[1:]]


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: no formula, no control characters."""
    text = "" if value is None else shown(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_gradebook(results: list[CheckResult], path: Path, inputs: list[Path]) -> None:
    """Write the gradebook CSV atomically; refuse a path that is one of the inputs."""
    import csv
    import io

    from cnncalc.output_file import refuse_inputs, write_atomically

    refuse_inputs(path, inputs, "the gradebook")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(gradebook_rows(results))
    write_atomically(path, buffer.getvalue(), "the gradebook")

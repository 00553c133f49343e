"""`cnncalc check`'s output: a CheckResult's table (one row per answer, the working for wrong ones), one line
per file and the class summary, or the JSON; unreadable files to stderr. rich is imported for the table only."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cnncalc.checking.classroom import ClassSummary, exit_code, summarize
from cnncalc.checking.compare import CheckResult
from cnncalc.errors import EXIT_BAD_INPUT
from cnncalc.shown import shown

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

MARKS = {
    "right": ("✓", "green"),
    "wrong": ("✗", "bold red"),
    "carried_forward": ("↪", "yellow"),
    "unanswered": ("✗", "bold red"),
}
MAX_LISTED = 8  # wrong answers named on a file's one-line result


def print_check(results: list[CheckResult], as_json: bool = False, details: bool = False) -> int:
    """Print the results (JSON or the table; each unreadable file's error to stderr) and give the exit code.

    One file: its full table (or its JSON, as it always was); several: a line each (`details`: each table), then
    the class summary. A single unreadable file is the usual one-paragraph error, nothing else."""
    several = len(results) > 1
    if not several and results[0].error:
        return _print_error(results[0])
    if as_json:
        for result in results:
            if result.error:
                _print_error(result)
        print(check_json(results))
    else:
        from cnncalc.report.console import console as make_console

        console = make_console(highlight=False)
        for result in results:
            if result.error:
                _print_error(result)
            else:
                console.print(render_check(result) if details or not several else result_line(result))
        if several:
            console.print(render_summary(summarize(results)))
    return exit_code(results)


def check_json(results: list[CheckResult]) -> str:
    """One file's report, or `{"results": [...], "summary": {...}}` for several."""
    import json  # here, not at the top: the table never needs it

    if len(results) > 1:
        report = {"results": [r.to_dict() for r in results], "summary": summarize(results).to_dict()}
    else:
        report = results[0].to_dict()
    return json.dumps(report, indent=2)


def _print_error(result: CheckResult) -> int:
    print(result.error, file=sys.stderr)
    return EXIT_BAD_INPUT


def show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(map(shown, value)) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return shown(value)


def render_check(result: CheckResult) -> RenderableType:
    """✓/✗ per answer in a table; below it, each wrong answer's formula and hint."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    if result.error:
        return Text(f"✗ {result.error}", style="bold red")
    title = f"Answers in {result.file} for {shown(result.name)}" if result.file else f"Answers for {shown(result.name)}"
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("Question", no_wrap=True)
    table.add_column("Your answer", justify="right")
    table.add_column("Correct", justify="right")
    with_points = any(a.max_points not in (None, 1) or a.state == "carried_forward" for a in result.answers)
    if with_points:
        table.add_column("Points", justify="right")
    for answer in result.answers:
        mark, style = MARKS[answer.state]
        cells = [Text(mark, style=style), Text(shown(answer.key))]
        cells += [Text(show(answer.given)), Text(show(answer.correct_value))]
        if with_points:
            cells.append(Text(f"{_number(answer.points)}/{_number(answer.max_points)}"))
        table.add_row(*cells)
    parts: list[RenderableType] = [Text(f"note: {note}", style="yellow") for note in result.notes]
    parts.append(table)
    for answer in result.wrong:
        mark, style = MARKS[answer.state]
        where = f" ({answer.position})" if answer.position else ""
        block = Text()
        block.append(f"{mark} ", style=style)
        block.append(
            f"{shown(answer.key)}{where}: you gave {show(answer.given)}, correct is {show(answer.correct_value)}"
        )
        parts.append(block)
        # Indented as a block, so that a line the terminal is too narrow for continues at the indentation.
        parts += [Padding(Text(shown(line)), (0, 0, 0, 4), expand=False) for line in answer.formula]
        if answer.hint:
            parts.append(Padding(Text(f"Hint: {shown(answer.hint)}", style="yellow"), (0, 0, 0, 4), expand=False))
    right = len(result.answers) - len(result.wrong)
    score = f"; score {_number(result.score)}/{_number(result.max_score)}" if with_points else ""
    status = "bold green" if result.passed else "bold red"
    parts.append(Text(f"{right}/{len(result.answers)} right{score}", style=status))
    return Group(*parts)


def result_line(result: CheckResult) -> Text:
    """One line per file: its score and which answers are wrong, with the mistake recognised."""
    from rich.text import Text

    if result.error:
        return Text(f"✗ {result.error}", style="bold red")
    mark, style = ("✓", "green") if result.passed else ("✗", "bold red")
    line = Text()
    line.append(f"{mark} ", style=style)
    line.append(f"{result.file}: {_number(result.score)}/{_number(result.max_score)}")
    wrong = [f"{shown(a.key)}{_why(a.state, a.mistake)}" for a in result.wrong if a.state != "unanswered"]
    if wrong:
        more = f", {len(wrong) - MAX_LISTED} more" if len(wrong) > MAX_LISTED else ""
        line.append(f"  wrong: {', '.join(wrong[:MAX_LISTED])}{more}")
    unanswered = sum(a.state == "unanswered" for a in result.answers)
    if unanswered:
        line.append(f"  unanswered: {unanswered}")
    for note in result.notes:
        line.append(f"\n    note: {note}", style="yellow")
    return line


def _why(state: str, mistake: str | None) -> str:
    if state == "carried_forward":
        return " (carried forward)"
    return f" ({mistake})" if mistake else ""


def render_summary(summary: ClassSummary) -> RenderableType:
    """The class at a glance: mean score, then how many students made each classic mistake."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    lines: list[RenderableType] = [
        Text(
            f"Class: {summary.files} file{'s' if summary.files != 1 else ''}, {summary.graded} graded, "
            f"{summary.unreadable} unreadable; mean score {_number(summary.mean_score)}/"
            f"{_number(summary.mean_max_score)}; {summary.passed} all right; "
            f"{summary.carried_forward} with an error carried forward.",
            style="bold",
        )
    ]
    if summary.mistakes:
        table = Table(title="Classic mistakes", title_justify="left", header_style="bold")
        table.add_column("Mistake")
        table.add_column("Students", justify="right")
        for name, count in summary.mistakes.items():
            table.add_row(Text(name), Text(str(count)))
        lines.append(table)
    return Group(*lines)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{round(value, 2):g}"

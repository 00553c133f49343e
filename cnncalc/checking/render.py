"""The rich rendering of a CheckResult: one row per answer, with the working for wrong ones."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cnncalc.checking.compare import CheckResult
from cnncalc.shown import shown


def show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_check(result: CheckResult) -> RenderableType:
    """✓/✗ per answer in a table; below it, each wrong answer's formula and hint.

    Names from the spec or the answers are shown as Text (never read as rich markup or :emoji:
    codes), with control characters escaped (cnncalc.shown).
    """
    table = Table(title=Text(shown(f"Answers for {result.name}")), title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("Question", no_wrap=True)
    table.add_column("Your answer", justify="right")
    table.add_column("Correct", justify="right")
    for answer in result.answers:
        mark = Text("✓", style="green") if answer.correct else Text("✗", style="bold red")
        table.add_row(mark, Text(shown(answer.key)), Text(shown(show(answer.expected))), Text(show(answer.actual)))
    parts: list[RenderableType] = [table]
    for answer in result.wrong:
        where = f" ({answer.position})" if answer.position else ""
        block = Text()
        block.append("✗ ", style="bold red")
        block.append(shown(f"{answer.key}{where}: you gave {show(answer.expected)}, correct is {show(answer.actual)}"))
        for line in answer.formula:
            block.append(f"\n    {shown(line)}")
        if answer.hint:
            block.append(f"\n    Hint: {shown(answer.hint)}", style="yellow")
        parts.append(block)
    right = len(result.answers) - len(result.wrong)
    parts.append(Text(f"{right}/{len(result.answers)} right", style="bold green" if result.passed else "bold red"))
    return Group(*parts)

"""The rich rendering of a CheckResult: one row per answer, with the working for wrong ones."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cnncalc.checking.compare import CheckResult


def show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_check(result: CheckResult) -> RenderableType:
    """✓/✗ per answer in a table; below it, each wrong answer's formula and hint."""
    table = Table(title=f"Answers for {result.name}", title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("Question", no_wrap=True)
    table.add_column("Your answer", justify="right")
    table.add_column("Correct", justify="right")
    for answer in result.answers:
        mark = Text("✓", style="green") if answer.correct else Text("✗", style="bold red")
        table.add_row(mark, answer.key, show(answer.expected), show(answer.actual))
    parts: list[RenderableType] = [table]
    for answer in result.wrong:
        where = f" ({answer.position})" if answer.position else ""
        block = Text()
        block.append("✗ ", style="bold red")
        block.append(f"{answer.key}{where}: you gave {show(answer.expected)}, correct is {show(answer.actual)}")
        for line in answer.formula:
            block.append(f"\n    {line}")
        if answer.hint:
            block.append(f"\n    Hint: {answer.hint}", style="yellow")
        parts.append(block)
    right = len(result.answers) - len(result.wrong)
    parts.append(Text(f"{right}/{len(result.answers)} right", style="bold green" if result.passed else "bold red"))
    return Group(*parts)

"""`cnncalc check SPEC [--answers FILE...]`: mark homework answers (or a spec's `expect:`) right or wrong."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from cnncalc.cli.common import Layout, handles_errors, load, max_file_size_option


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


@handles_errors
def check(
    spec: str = typer.Argument(
        ..., help="A spec file, a shipped spec's name (see `cnncalc list`), or a folder written by `cnncalc quiz`."
    ),
    answers: list[str] = typer.Option(
        None,
        "--answers",
        "-a",
        metavar="FILE",
        help="Answers files (the form of `expect:`); repeat it, or a glob ('subs/*.yaml'). Default: the spec's own.",
    ),
    key: Path = typer.Option(None, "--key", help="A key file: the questions, points:, carry_forward:, tolerance:."),
    carry_forward: float = typer.Option(
        None, "--carry-forward", min=0, max=1, help="Part of the points for an error carried forward (default 0.5)."
    ),
    tolerance: float = typer.Option(
        None, "--tolerance", min=0, max=1, help="Accept counts within this fraction (0.01 = 1%) of the right one."
    ),
    layout: Layout = typer.Option(Layout.chw, help="Shape order of the answers: chw [96, 55, 55] or hwc 55x55x96."),
    gradebook: Path = typer.Option(None, "--gradebook", help="Write a CSV: file, score, max_score, each question."),
    details: bool = typer.Option(False, "--details", help="With several files, show every file's full table."),
    format: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f", help="Output format."),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Mark each answer right or wrong, with the worked formula and a hint for classic mistakes."""
    from cnncalc.checking import classroom

    overrides = {k: v for k, v in (("carry_forward", carry_forward), ("tolerance", tolerance)) if v is not None}
    grader = classroom.grader_for(spec, key, overrides, layout.value, not answers, load)
    found = classroom.expand_answers(answers or [])  # once: the files graded are the files the outputs refuse
    results = classroom.grade_all(grader, found) if answers else [classroom.grade_own_expect(grader)]
    if gradebook is not None:
        inputs = [Path(spec), *([key] if key else []), *grader.inputs(), *classroom.answer_files(found)]
        classroom.write_gradebook(results, gradebook, inputs)
    from cnncalc.report.check import print_check

    raise typer.Exit(print_check(results, format is CheckFormat.json, details))

"""`cnncalc quiz SPEC --variants N --seed S -o DIR`: problem sets, one folder per variant, with keys."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, max_file_size_option


@handles_errors
def quiz(
    spec: str = typer.Argument(..., help="A spec file, or the name of a shipped spec (see `cnncalc list`)."),
    variants: int = typer.Option(..., "--variants", "-n", min=1, help="How many variants to write."),
    seed: int = typer.Option(0, "--seed", help="The same seed writes the same variants."),
    out: Path = typer.Option(..., "--output", "-o", help="Folder to write DIR/variant-K/ into."),
    vary: list[str] = typer.Option(
        None,
        "--vary",
        metavar="TARGET=CHOICES",
        help="What varies, besides the spec's `quiz:`: TARGET=CHOICES, e.g. conv1.kernel_size=3,5.",
    ),
    allow_inexact: bool = typer.Option(
        False, "--allow-inexact", help="Also accept variants whose strides drop rows (a tiling warning)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace the quiz the folder already holds (its variant-K folders)."
    ),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Write N variants of a spec: spec.yaml, problems.md, a blank answers.yaml and key.yaml each."""
    from cnncalc.classroom.quiz import generate, parse_vary, write_quiz
    from cnncalc.cli.terminal import prose
    from cnncalc.shown import shown
    from cnncalc.zoo import resolve_spec

    path = resolve_spec(spec)
    made = generate(path, shown(spec), variants, seed, parse_vary(vary or []), allow_inexact)
    write_quiz(made, out, [path], replace)
    lines = []
    for variant in made:
        choices = ", ".join(f"{k}={v}" for k, v in variant.choices.items())
        lines.append(f"{shown(out / f'variant-{variant.number}')}: variant {variant.id} ({shown(choices)})")
    lines.append("Grade with:")
    typer.echo(prose("\n".join(lines)))
    # a command to copy: its own line, never broken (pasting two halves would run it without the gradebook)
    typer.echo(f"  cnncalc check {shown(out)} --answers 'SUBMISSIONS/*.yaml' --gradebook grades.csv")

"""`cnncalc table SPEC`: the per-layer table with totals."""

from __future__ import annotations

import typer

from cnncalc.cli.common import Layout, OutputFormat, handles_errors, load
from cnncalc.errors import SpecError


def parse_columns(text: str | None, default: tuple[str, ...]) -> list[str]:
    from cnncalc.report.columns import COLUMNS
    from cnncalc.spec.build import did_you_mean

    if not text:
        return list(default)
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    for key in chosen:
        if key not in COLUMNS:
            guess = did_you_mean(key, COLUMNS)
            raise SpecError(
                f"unknown column `{key}`.",
                hint=f"Did you mean `{guess}`?" if guess else f"Columns: {', '.join(COLUMNS)}.",
            )
    return chosen


@handles_errors
def table(
    spec: str = typer.Argument(..., help="A spec file, or the name of a shipped spec (see `cnncalc list`)."),
    format: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    layout: Layout = typer.Option(Layout.chw, help="Shape order for display: chw [96, 55, 55] or hwc 55x55x96."),
    explain: bool = typer.Option(False, "--explain", help="Show each layer's formulas with the numbers filled in."),
    columns: str = typer.Option(None, help="Comma-separated columns, e.g. name,output,params."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings (e.g. a stride that drops rows) as errors."),
) -> None:
    """Print every layer's output shape, parameters and MACs, with totals."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.report.columns import DEFAULT_COLUMNS

    analysis = analyze(load(spec), strict=strict)
    chosen = parse_columns(columns, DEFAULT_COLUMNS)
    if format is OutputFormat.json:
        from cnncalc.report.json_report import render_json

        typer.echo(render_json(analysis))
    elif format is OutputFormat.markdown:
        from cnncalc.report.text_formats import render_markdown

        typer.echo(render_markdown(analysis, chosen, layout.value), nl=False)
    elif format is OutputFormat.csv:
        from cnncalc.report.text_formats import render_csv

        typer.echo(render_csv(analysis, chosen, layout.value), nl=False)
    else:
        from rich.console import Console

        from cnncalc.report.table import render_table

        Console().print(render_table(analysis, chosen, layout.value, explain))

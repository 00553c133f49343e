"""The typer app: wiring only. Each command lives in its own module."""

from __future__ import annotations

import typer

from cnncalc.cli import check, diff, draw, export, import_, plot, quiz, run, schema, table, validate, verify, zoo_list

app = typer.Typer(
    name="cnncalc",
    help="What a convolutional network does to its input: shapes, parameters and compute, layer by layer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("table")(table.table)
app.command("list")(zoo_list.list_specs)
app.command("draw")(draw.draw)
app.command("plot")(plot.plot)
app.command("verify")(verify.verify)
app.command("run")(run.run)
app.command("check")(check.check)
app.command("validate")(validate.validate)
app.command("schema")(schema.schema)
app.command("quiz")(quiz.quiz)
app.command("import")(import_.import_model)
app.command("export")(export.export)
app.command("diff")(diff.diff)


def main() -> None:
    app()

"""`cnncalc schema`: print (or write) the JSON Schema of the spec format, for editors and CI."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors


@handles_errors
def schema(
    output: Path = typer.Option(None, "--output", "-o", help="Write the schema to this file instead of printing it."),
) -> None:
    """Print the JSON Schema (draft 2020-12) of spec files, for editors (yaml-language-server's `$schema`) and CI."""
    import json  # here, not at the top: every command module loads at start-up

    from cnncalc.output_file import check_output, write_atomically
    from cnncalc.shown import shown
    from cnncalc.spec.schema import spec_schema

    if output is not None:
        check_output(output, [], (".json",), "the JSON Schema")  # never over a spec such as s.yaml
    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    write_atomically(output, text)
    typer.echo(shown(f"wrote {output}"), err=True)  # as draw, plot, import and export say it

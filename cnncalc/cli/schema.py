"""`cnncalc schema`: print (or write) the JSON Schema of the spec format, for editors and CI."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors
from cnncalc.errors import SpecError


@handles_errors
def schema(
    output: Path = typer.Option(None, "--output", "-o", help="Write the schema to this file instead of printing it."),
) -> None:
    """Print the JSON Schema (draft 2020-12) of spec files, e.g. for `# yaml-language-server: $schema=...`."""
    import json  # here, not at the top: every command module loads at start-up

    from cnncalc.spec.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write `{output}` ({exc.strerror}).") from None
    typer.echo(f"Wrote {output}.", err=True)

"""Command-line interface: a thin typer layer over the library."""

from cnncalc.cli.app import app, main

__all__ = ["app", "main"]

"""Command-line interface: a thin typer layer over the library."""

import os

# The CLI uses no pydantic plugins; skipping their entry-point scan saves ~50 ms of start-up.
# Set here, not in the library, so programs importing cnncalc keep their own plugins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from cnncalc.cli.app import app, main

__all__ = ["app", "main"]

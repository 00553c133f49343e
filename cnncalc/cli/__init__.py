"""Command-line interface: a thin typer layer over the library."""

import os
import sys
import types

# The CLI uses no pydantic plugins; skipping their entry-point scan saves ~50 ms of start-up.
# Set here, not in the library, so programs importing cnncalc keep their own plugins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
if os.environ["PYDANTIC_DISABLE_PLUGINS"] in ("__all__", "1", "true") and "pydantic.plugin._loader" not in sys.modules:
    # pydantic imports its plugin loader (and with it importlib.metadata, email, socket, zipfile: ~15 ms) for
    # its first validator even when plugins are disabled. With all of them disabled it returns no plugins:
    # this stand-in says the same without those imports.
    _no_plugins = types.ModuleType("pydantic.plugin._loader")
    _no_plugins.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules["pydantic.plugin._loader"] = _no_plugins

from cnncalc.cli.app import app, main

__all__ = ["app", "main"]

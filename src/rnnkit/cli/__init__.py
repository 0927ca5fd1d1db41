"""rnnkit's command line (``rnnkit --help``)."""

from rnnkit.cli.main import app, main

__all__ = ["app", "main"]

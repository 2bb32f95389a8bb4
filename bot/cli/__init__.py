"""`formabot`, the command line: `main` builds the group; one module per family of commands;
`imports` reads the catalogue, companies and contacts files."""

from __future__ import annotations

from bot.cli.main import cli, main

__all__ = ["cli", "main"]

"""`formabot shell`: the conversation in a terminal."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from bot.channels.console import ConsoleChannel
from bot.context import build_context


@click.command()
@click.option("--as", "name", default="console", show_default=True,
              help="Who you are in the conversation; each name is a separate person.")
@click.option("--attachments", type=click.Path(path_type=Path, file_okay=False),
              help="Where calendar files are written (default: a temporary folder).")
@click.pass_obj
def shell(state, name: str, attachments: Path | None) -> None:
    """Talk to the bot in the terminal: type a number, a /command or text; /quit leaves.

    Reads from a pipe too, one input per line, so a script can drive it.
    """
    context = build_context(state.config)
    folder = attachments or Path(tempfile.gettempdir()) / "formabot-attachments"
    interactive = sys.stdin.isatty()
    channel = ConsoleChannel(context, name=name.strip() or "console", attachments_dir=folder,
                             write=click.echo)

    def prompt() -> None:
        if interactive:
            click.echo("> ", nl=False)

    channel.run(sys.stdin, prompt=prompt)


commands = [shell]

"""`formabot shell`: the conversation in a terminal, notifications included."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import TextIO

import click

from bot.channels.console import ConsoleChannel
from bot.channels.console_outbox import ConsoleOutbox
from bot.context import build_context

IDLE_PUMP_SECONDS = 1.0


@click.command()
@click.option("--as", "name", default="console", show_default=True,
              help="Who you are in the conversation; each name is a separate person.")
@click.option("--attachments", type=click.Path(path_type=Path, file_okay=False),
              help="Where calendar files are written (default: a temporary folder).")
@click.pass_obj
def shell(state, name: str, attachments: Path | None) -> None:
    """Talk to the bot in the terminal: type a number, a /command or text; /quit leaves.

    With no Telegram or WhatsApp credentials set, the announcements, reminders and
    waiting-list notices this person receives are shown too, as they fall due. Reads from a
    pipe too, one input per line, so a script can drive it.
    """
    config = state.config
    context = build_context(config)
    folder = attachments or Path(tempfile.gettempdir()) / "formabot-attachments"
    channel = ConsoleChannel(context, name=name.strip() or "console", attachments_dir=folder,
                             write=click.echo)
    outbox = None if config.served_channels else ConsoleOutbox(config, context.db, channel)
    try:
        asyncio.run(_converse(channel, outbox, sys.stdin))
    finally:
        context.db.close()


async def _converse(channel: ConsoleChannel, outbox: ConsoleOutbox | None,
                    stream: TextIO) -> None:
    """Each line is handled, then the outbox runs, so what it caused is shown before the
    next prompt; at a terminal the outbox also runs while the person thinks."""
    interactive = stream.isatty()

    def prompt() -> None:
        if interactive:
            click.echo("> ", nl=False)
            channel.at_prompt = True

    channel.greet(notifications=outbox is not None)
    if outbox is not None:
        outbox.start()
        await outbox.pump()
    idle = (asyncio.create_task(_pump_while_idle(outbox, prompt))
            if outbox is not None and interactive else None)
    try:
        while True:
            prompt()
            line = await asyncio.to_thread(stream.readline)
            channel.at_prompt = False
            if not line or line.strip().lower() in ("/quit", "/exit"):
                break
            if line.strip():
                channel.send(line)
            if outbox is not None:
                await outbox.pump()
    finally:
        if idle is not None:
            idle.cancel()
            await asyncio.gather(idle, return_exceptions=True)


async def _pump_while_idle(outbox: ConsoleOutbox, prompt) -> None:
    """What falls due while the person is reading or typing is shown then, with the prompt
    again after it."""
    while True:
        await asyncio.sleep(IDLE_PUMP_SECONDS)
        shown = outbox.channel.shown_count
        await outbox.pump()
        if outbox.channel.shown_count != shown:
            prompt()


commands = [shell]

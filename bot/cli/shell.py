"""`formabot shell`: the conversation in a terminal, notifications included."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

import click

from bot.channels.console import ConsoleChannel
from bot.channels.console_outbox import ConsoleOutbox
from bot.context import build_context

IDLE_PUMP_SECONDS = 1.0


@click.command()
@click.option(
    "--as",
    "name",
    default="console",
    show_default=True,
    help="Who you are in the conversation; each name is a separate person.",
)
@click.option(
    "--attachments",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where calendar files are written (default: a temporary folder).",
)
@click.pass_obj
def shell(state, name: str, attachments: Path | None) -> None:
    """Talk to the bot in the terminal: type a number, a /command or text; /quit leaves.

    With no Telegram or WhatsApp credentials set, the announcements, reminders and
    waiting-list notices this person receives are shown too, as they fall due. Reads from a
    pipe too, one input per line, so a script can drive it.
    """
    config = state.config
    context = build_context(config)
    channel = ConsoleChannel(
        context,
        name=name.strip() or "console",
        attachments_dir=attachments or default_attachments(),
        write=click.echo,
    )
    outbox = None if config.served_channels else ConsoleOutbox(config, context.db, channel)
    try:
        channel.greet(notifications=outbox is not None)
        asyncio.run(converse(channel, outbox, _lines_of(sys.stdin), interactive=sys.stdin.isatty()))
    finally:
        context.db.close()


def default_attachments() -> Path:
    return Path(tempfile.gettempdir()) / "formabot-attachments"


def _lines_of(stream: TextIO) -> Callable[[], Awaitable[str]]:
    """The stream's next line, read in a worker thread ("" at its end)."""
    return lambda: asyncio.to_thread(stream.readline)


class TerminalLines:
    """The next line typed at a terminal ("" at its end), read on the event loop itself
    rather than in a thread: a stop (Ctrl-C, SIGTERM) never waits for Enter."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.ended = False

    async def __call__(self) -> str:
        while b"\n" not in self.pending and not self.ended:
            await self._readable()
            chunk = os.read(self.fd, 4096)
            self.ended = not chunk
            self.pending += chunk
        line, newline, self.pending = self.pending.partition(b"\n")
        return line.decode("utf-8", "replace") + newline.decode()

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(self.fd, ready)
        try:
            await readable
        finally:
            loop.remove_reader(self.fd)


async def converse(
    channel: ConsoleChannel,
    outbox: ConsoleOutbox | None,
    read_line: Callable[[], Awaitable[str]],
    *,
    interactive: bool,
) -> None:
    """Each line is handled, then the outbox runs, so what it caused is shown before the
    next prompt; at a terminal the outbox also runs while the person thinks."""

    def prompt() -> None:
        if interactive:
            click.echo("> ", nl=False)
            channel.at_prompt = True

    if outbox is not None:
        outbox.start()
        await outbox.pump()
    idle = (
        asyncio.create_task(_pump_while_idle(outbox, prompt))
        if outbox is not None and interactive
        else None
    )
    try:
        while True:
            prompt()
            line = await read_line()
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

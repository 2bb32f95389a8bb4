"""`formabot run`: serve the conversation on the configured channels until SIGINT/SIGTERM.

With no platform's credentials it still serves: the web app, and the outbox of the console
(what a `formabot shell` person receives); at a terminal, a console conversation runs in the
foreground meanwhile, and /quit stops it all.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from bot import app
from bot.channels.console import ConsoleChannel
from bot.channels.console_outbox import ConsoleOutbox
from bot.cli.shell import TerminalLines, converse, default_attachments
from bot.cli.telegram_errors import operator_errors
from bot.config import Config, ConfigError
from bot.context import build_context
from bot.ops import logs

log = logging.getLogger("formabot")

CONSOLE_PERSON = "console"


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Log every update handled (debug level).")
@click.pass_obj
def run(state, verbose: bool) -> None:
    """Run the bot on the channels whose credentials are set.

    With none set, it serves the web app and sends the console's notifications (to people
    in `formabot shell`); at a terminal, you talk to the bot here meanwhile (/quit stops)."""
    config = state.config
    configure_logging(verbose, config.log.format)
    foreground = not config.served_channels and sys.stdin.isatty()
    with operator_errors(config.telegram):
        try:
            asyncio.run(_serve_until_signalled(config, foreground=foreground))
        except ConfigError as error:
            raise click.ClickException(str(error)) from error


async def _serve_until_signalled(config: Config, *, foreground: bool = False) -> None:
    """SIGINT and SIGTERM only set an event: the update being handled runs to its end."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if not foreground:
            await app.serve(config, stop)
            return
        ready = asyncio.Event()
        talking = asyncio.create_task(_talk_once_ready(config, ready, stop))
        try:
            await app.serve(config, stop, ready=ready, foreground=True)
        finally:
            talking.cancel()
            (outcome,) = await asyncio.gather(talking, return_exceptions=True)
            if isinstance(outcome, Exception):
                log.error("console conversation failed", exc_info=outcome)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _talk_once_ready(config: Config, ready: asyncio.Event, stop: asyncio.Event) -> None:
    """The console conversation at this terminal, once everything serves; its end (/quit,
    end of input) stops the bot. The running outbox sends; this only shows."""
    await ready.wait()
    context = build_context(config)
    try:
        channel = ConsoleChannel(
            context, name=CONSOLE_PERSON, attachments_dir=default_attachments(), write=click.echo
        )
        channel.greet(
            notifications=True, program="formabot run", leaving="/quit or Ctrl-C stops formabot run"
        )
        await converse(
            channel,
            ConsoleOutbox(config, context.db, channel, dispatch=False),
            TerminalLines(sys.stdin.fileno()),
            interactive=True,
        )
    finally:
        context.db.close()
        stop.set()


def configure_logging(verbose: bool, kind: str = "text") -> None:
    """One line per event to stderr, as text or JSON (`[log] format`). httpx logs each
    request URL, which contains the bot token: it is kept to warnings so that the token
    never reaches a log (`bot.ops.logs.QUIET_LOGGERS`)."""
    logs.configure(kind, verbose=verbose)


commands = [run]

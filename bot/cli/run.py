"""`formabot run`: serve the conversation on the configured channels until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import click

from bot import app
from bot.cli.telegram_errors import operator_errors
from bot.config import ConfigError
from bot.ops import logs


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Log every update handled (debug level).")
@click.pass_obj
def run(state, verbose: bool) -> None:
    """Run the bot on the channels whose credentials are set."""
    config = state.config
    if not config.served_channels:
        raise click.ClickException(app.no_channel_message())
    configure_logging(verbose, config.log.format)
    with operator_errors(config.telegram):
        try:
            asyncio.run(_serve_until_signalled(config))
        except ConfigError as error:
            raise click.ClickException(str(error)) from error


async def _serve_until_signalled(config) -> None:
    """SIGINT and SIGTERM only set an event: the update being handled runs to its end."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await app.serve(config, stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def configure_logging(verbose: bool, kind: str = "text") -> None:
    """One line per event to stderr, as text or JSON (`[log] format`). httpx logs each
    request URL, which contains the bot token: it is kept to warnings so that the token
    never reaches a log (`bot.ops.logs.QUIET_LOGGERS`)."""
    logs.configure(kind, verbose=verbose)


commands = [run]

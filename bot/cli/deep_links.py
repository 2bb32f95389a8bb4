"""`formabot sessions link ID`: the t.me link that opens the bot on a session, with its QR
code, for posters and emails. Attached to the `sessions` group in `bot.cli.catalogue`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from bot.channels.telegram import fetch_username
from bot.channels.telegram.deep_links import qr_text, save_qr_png, session_link
from bot.cli.telegram_errors import operator_errors
from bot.config import TELEGRAM_TOKEN_ENV, Config
from storage import catalogue


@click.command("link")
@click.argument("session_id")
@click.option(
    "--png",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the QR code to this PNG file instead of drawing it in the terminal.",
)
@click.option(
    "--username",
    help="The bot's username (default: asked from Telegram, which needs the token).",
)
@click.pass_obj
def link_command(state, session_id: str, png: Path | None, username: str | None) -> None:
    """Print the Telegram link (and QR code) that opens the bot on session SESSION_ID."""
    config = state.config
    if catalogue.session(state.db, session_id) is None:
        raise click.ClickException(
            f"no session {session_id!r}; `formabot sessions list` shows the ids"
        )
    name = (username or _username(config)).lstrip("@")
    try:
        link = session_link(name, session_id)
    except ValueError as error:
        raise click.ClickException(f"no Telegram link for {session_id!r}: {error}") from error
    click.echo(link)
    if png is not None:
        save_qr_png(link, png)
        click.echo(f"QR code written to {png}")
    else:
        click.echo(qr_text(link), nl=False)


def _username(config: Config) -> str:
    if not config.telegram.token:
        raise click.ClickException(
            f"set {TELEGRAM_TOKEN_ENV} so the bot's username can be asked from Telegram,"
            " or give it with --username"
        )
    with operator_errors(
        config.telegram, unreachable_hint="; give the bot's username with --username"
    ):
        return asyncio.run(fetch_username(config.telegram))

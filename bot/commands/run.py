"""`formabot run`: serve the conversation on the configured channels."""

from __future__ import annotations

import click

from bot.config import TELEGRAM_TOKEN_ENV


@click.command()
@click.pass_obj
def run(state) -> None:
    """Run the bot on the channels whose credentials are set."""
    config = state.config
    if not config.telegram.token:
        raise click.ClickException(
            f"no channel to serve: set {TELEGRAM_TOKEN_ENV} to your bot's token from @BotFather"
            " (see README, 'Telegram')"
        )
    raise click.ClickException("the Telegram channel is not built yet")


commands = [run]

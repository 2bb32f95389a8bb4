"""Builds the handlers' `Context` from the configuration (shared by every channel)."""

from __future__ import annotations

from bot.config import Config
from handlers import Context
from handlers.brand import Brand
from storage import open_database
from storage.audience import ALL_CHANNELS


def build_context(config: Config) -> Context:
    return Context(
        db=open_database(config.bot.database),
        timezone=config.bot.timezone,
        default_language=config.bot.default_language,
        page_size=config.bot.page_size,
        channels=notification_channels(config),
        quiet_hours=config.bot.quiet_hours,
        brand=Brand(
            name=config.brand.name, federation=config.brand.federation, school=config.brand.school
        ),
    )


def notification_channels(config: Config) -> tuple[str, ...]:
    """Where notifications may go: the channels served; all of them, the console included,
    when none is (a trial with no credentials, where `formabot shell` shows a console
    person what they receive; a CLI run without the bot's credentials). The running bot
    settles rows on a channel it does not serve."""
    return config.served_channels or ALL_CHANNELS

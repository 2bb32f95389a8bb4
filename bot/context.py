"""Builds the handlers' `Context` from the configuration (shared by every channel)."""

from __future__ import annotations

from bot.config import Config
from handlers import Context
from handlers.brand import Brand
from storage import open_database
from storage.audience import DEFAULT_CHANNELS


def build_context(config: Config) -> Context:
    return Context(
        db=open_database(config.bot.database),
        timezone=config.bot.timezone,
        default_language=config.bot.default_language,
        page_size=config.bot.page_size,
        channels=notification_channels(config),
        brand=Brand(name=config.brand.name, federation=config.brand.federation,
                    school=config.brand.school),
    )


def notification_channels(config: Config) -> tuple[str, ...]:
    """Where notifications may go: the channels served; all of them when none is (the
    console, a CLI run without the bot's credentials; the running bot settles rows on a
    channel it does not serve)."""
    return config.served_channels or DEFAULT_CHANNELS

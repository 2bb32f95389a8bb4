"""Builds the handlers' `Context` from the configuration (shared by every channel)."""

from __future__ import annotations

from bot.config import Config
from handlers import Context
from storage import open_database


def build_context(config: Config) -> Context:
    return Context(
        db=open_database(config.bot.database),
        timezone=config.bot.timezone,
        default_language=config.bot.default_language,
        page_size=config.bot.page_size,
    )

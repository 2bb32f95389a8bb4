"""The python-telegram-bot `Application` and `Bot`, pointed at `[telegram] base_url`.

Every request goes through the configured base URL, so the bot runs unchanged against
Telegram, a local Bot API server, or the tests' fake one.
"""

from __future__ import annotations

from telegram import Bot
from telegram.ext import Application

from bot.channels.telegram.ordering import PerPersonOrder
from bot.channels.telegram.pacing import SharedPace
from bot.config import TelegramSettings


def build_application(settings: TelegramSettings) -> Application:
    """No JobQueue (our scheduler is APScheduler, docs/architecture.md) and, in webhook mode,
    no Updater: updates then arrive through our own Starlette app. Different people's updates are
    handled concurrently, each person's in order (`PerPersonOrder`); requests are paced by
    `SharedPace` (see `pace_of`), which the composition root attaches to the outbox."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .job_queue(None)
        .rate_limiter(SharedPace())
        .concurrent_updates(PerPersonOrder())
    )
    if settings.mode == "webhook":
        builder = builder.updater(None)
    return builder.build()


def pace_of(application: Application) -> SharedPace:
    """The application's `SharedPace`, to attach to the outbox's Telegram limits."""
    limiter = application.bot.rate_limiter
    if not isinstance(limiter, SharedPace):
        raise TypeError("the application was not built by build_application")
    return limiter


async def fetch_username(settings: TelegramSettings) -> str:
    """The bot's @username, asked with getMe (links must name the bot)."""
    async with Bot(
        settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url
    ) as bot:
        return bot.username

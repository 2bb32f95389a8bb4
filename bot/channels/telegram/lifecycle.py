"""Starting and stopping the Telegram channel, by long polling or behind our webhook.

Stopping loses nothing: polling stops fetching first, then the updates already fetched are
handled (PTB's `Application.stop` drains its queue) and marked read; in webhook mode the web
server stops accepting first and Telegram keeps what it could not deliver for next time.
"""

from __future__ import annotations

from sqlite_utils import Database
from telegram.ext import Application

from bot.channels.telegram.adapter import ALLOWED_UPDATES
from bot.channels.telegram.commands import register_commands, register_coordinator_commands
from bot.channels.telegram.inbound import CHANNEL
from bot.config import TelegramSettings
from storage import coordinators

POLL_TIMEOUT_SECONDS = 30


async def start(application: Application, language: str, db: Database | None = None) -> None:
    """`prepare`, then `receive` by long polling (in webhook mode, `set_webhook` follows once
    the server listens)."""
    await prepare(application, language, db)
    await receive(application)


async def prepare(application: Application, language: str, db: Database | None = None) -> None:
    """getMe (a wrong token fails here, clearly) and the command menus — with `db`, the
    coordinators' own, scoped to their chats. No update is taken yet."""
    await application.initialize()
    await register_commands(application.bot, language)
    if db is not None:
        await register_coordinator_commands(
            application.bot, coordinators.chats(db, CHANNEL), language
        )


async def receive(application: Application) -> None:
    """Start handling updates: fetched by long polling, or posted to our webhook."""
    await application.start()
    if application.updater is not None:
        await application.updater.start_polling(
            timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
        )


async def set_webhook(application: Application, settings: TelegramSettings) -> None:
    """Tell Telegram where to post updates, with the secret it must echo in every request."""
    await application.bot.set_webhook(
        url=settings.webhook_url,
        secret_token=settings.webhook_secret,
        allowed_updates=ALLOWED_UPDATES,
    )


async def stop(application: Application) -> None:
    """Stop fetching, finish the updates in hand, close the HTTP clients. Safe after a failed
    or partial start."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    # After a failed getMe the Application never counted as initialized, and its shutdown
    # skips the bot; the bot's HTTP clients are open all the same.
    await application.bot.shutdown()

"""The command menu Telegram shows beside the text field, in each person's app language."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from handlers.commands import public_commands
from handlers.i18n import LANGUAGES

log = logging.getLogger(__name__)


async def register_commands(bot: Bot, default_language: str) -> None:
    """setMyCommands once per language (fr, ar, en by the app's `language_code`), and once
    without a language for everyone else. A failure is logged: the bot still answers."""
    try:
        for language in LANGUAGES:
            await bot.set_my_commands(_menu(public_commands(language)), language_code=language)
        await bot.set_my_commands(_menu(public_commands(default_language)))
    except TelegramError as error:
        log.warning("could not register the command menu with Telegram: %s", error)


def _menu(commands: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in commands]

"""The command menu Telegram shows beside the text field, in each person's app language.

Coordinators get their own menu, scoped to their private chat (`BotCommandScopeChat`): the
public commands plus /announce, /scheduled, /report and /roster, in the language of their
profile. Nobody else ever sees those in the menu.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from handlers.commands import coordinator_commands, public_commands
from handlers.i18n import LANGUAGES
from storage.coordinators import CoordinatorChat

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


async def register_coordinator_commands(
    bot: Bot, chats: Iterable[CoordinatorChat], default_language: str
) -> None:
    """One chat-scoped menu per coordinator. A chat scope outranks the language menus, so it
    carries the public commands too. A coordinator Telegram refuses (never wrote to the bot)
    is logged and skipped; the others still get theirs."""
    for chat in chats:
        if not chat.chat_id.lstrip("-").isdigit():
            log.warning("coordinator %s has no Telegram chat id yet: no menu", chat.coordinator_id)
            continue
        language = chat.language if chat.language in LANGUAGES else default_language
        menu = _menu([*public_commands(language), *coordinator_commands(language)])
        try:
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(int(chat.chat_id)))
        except TelegramError as error:
            log.warning(
                "could not register the menu of coordinator %s: %s", chat.coordinator_id, error
            )


def _menu(commands: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in commands]

"""How a `Reply` looks on Telegram: HTML-escaped text in pieces Telegram accepts, keyboards.

Pure functions, so that the rules (escaping, the 4,096 limit, the 64-byte button data) are
tested without a network.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.constants import MessageLimit

from bot.channels.splitting import split_text, utf16_length
from handlers.types import ACTION_MAX_BYTES, Choice

MESSAGE_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4,096


def escape(text: str) -> str:
    """Plain text made safe for parse_mode HTML: every <, >, & and quote becomes an entity."""
    return html.escape(text)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return utf16_length(text)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain `text` as escaped HTML messages, each at most `limit` long once escaped.

    The text is cut before escaping, so a cut never falls inside an entity, but the escaped
    length is what is measured (an `&` costs 5).
    """
    return [
        escape(piece)
        for piece in split_text(text, limit, lambda piece: utf16_length(escape(piece)))
    ]


def inline_keyboard(choices: Iterable[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row (long French and Arabic labels stay readable on a phone)."""
    rows = []
    for choice in choices:
        data = choice.action.encode()
        if len(data.encode()) > ACTION_MAX_BYTES:
            raise ValueError(f"callback_data over {ACTION_MAX_BYTES} bytes: {data!r}")
        rows.append([InlineKeyboardButton(choice.label, callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


def phone_keyboard(label: str) -> ReplyKeyboardMarkup:
    """The one-time "share my phone number" keyboard: Telegram sends the verified number."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )

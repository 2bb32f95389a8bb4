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

from handlers.types import ACTION_MAX_BYTES, Choice

MESSAGE_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4,096
# Coarsest first: a long text is cut between paragraphs, then lines, then words.
_SEPARATORS = ("\n\n", "\n", " ")


def escape(text: str) -> str:
    """Plain text made safe for parse_mode HTML: every <, >, & and quote becomes an entity."""
    return html.escape(text)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int) -> bool:
    return telegram_length(escape(text)) <= limit


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain `text` as escaped HTML messages, each at most `limit` long once escaped.

    The text is cut before escaping, so a cut never falls inside an entity, but the escaped
    length is what is measured (an `&` costs 5). Cuts fall between paragraphs, else lines,
    else words; only a single word longer than a message is cut mid-word.
    """
    pieces = (piece.strip() for piece in _pieces(text, limit, _SEPARATORS))
    return [escape(piece) for piece in pieces if piece]


def _pieces(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if _fits(text, limit):
        return [text]
    if not separators:
        return _hard_cut(text, limit)
    separator, finer = separators[0], separators[1:]
    parts = text.split(separator)
    if len(parts) == 1:
        return _pieces(text, limit, finer)
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if _fits(candidate, limit):
            current = candidate
            continue
        if current:
            chunks.append(current)
        if _fits(part, limit):
            current = part
        else:
            *done, current = _pieces(part, limit, finer)
            chunks.extend(done)
    if current:
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for character in text:
        cost = telegram_length(escape(character))
        if size + cost > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(character)
        size += cost
    chunks.append("".join(current))
    return chunks


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

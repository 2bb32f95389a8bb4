"""Telegram's refusals, worded once for the operator of every command that calls Telegram."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from telegram.error import InvalidToken, NetworkError

from bot.config import TELEGRAM_TOKEN_ENV, TelegramSettings


@contextmanager
def operator_errors(telegram: TelegramSettings, *, unreachable_hint: str = "") -> Iterator[None]:
    """A refused token or an unreachable server becomes one line, never a traceback."""
    try:
        yield
    except InvalidToken as error:
        raise click.ClickException(
            f"Telegram refused the token in {TELEGRAM_TOKEN_ENV}; copy it again from @BotFather"
        ) from error
    except NetworkError as error:
        raise click.ClickException(
            f"cannot reach Telegram at {telegram.base_url} ({error.message}){unreachable_hint}"
        ) from error

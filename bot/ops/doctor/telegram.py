"""Telegram accepts the token (getMe through `[telegram] base_url`, as `run` does at start), and
webhook mode has its secret."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.config import TELEGRAM_TOKEN_ENV, TELEGRAM_WEBHOOK_SECRET_ENV, TelegramSettings
from bot.ops.doctor.findings import Finding, redacted


async def check_telegram(settings: TelegramSettings, timeout: float) -> list[Finding]:
    if not settings.token:
        return [Finding("SKIP", "telegram", f"not configured ({TELEGRAM_TOKEN_ENV} is not set)")]
    findings = [await _get_me(settings, timeout)]
    if settings.mode == "webhook" and not settings.webhook_secret:
        findings.append(
            Finding(
                "FAIL",
                "telegram",
                f"webhook mode without {TELEGRAM_WEBHOOK_SECRET_ENV}",
                f"set {TELEGRAM_WEBHOOK_SECRET_ENV} to a random secret (1-256 characters among"
                " A-Z, a-z, 0-9, _ and -)",
            )
        )
    return findings


async def _get_me(settings: TelegramSettings, timeout: float) -> Finding:
    """getMe through `[telegram] base_url`, as `run` does at start."""

    def request() -> HTTPXRequest:
        return HTTPXRequest(
            connection_pool_size=1,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )

    where = f"[telegram] base_url = {settings.base_url}"
    bot = Bot(
        settings.token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        request=request(),
        get_updates_request=request(),
    )
    try:
        async with _quiet("telegram"), bot:
            return Finding(
                "OK", "telegram", f"token accepted: bot @{bot.username} ({settings.mode})"
            )
    except InvalidToken:
        fix = (
            "copy the token again from @BotFather (/mybots, API Token) into the environment"
            " file, then restart the service"
        )
        if settings.base_url != TelegramSettings.base_url:
            fix += f"; or correct {where}: any server but a Bot API answers 404 too"
        return Finding(
            "FAIL", "telegram", f"Telegram refused the token in {TELEGRAM_TOKEN_ENV}", fix
        )
    except TimedOut:
        return Finding(
            "FAIL",
            "telegram",
            f"no answer from Telegram within {timeout:g} s ({where})",
            "check the server's network and firewall (outgoing"
            " HTTPS), or try again with a longer --timeout",
        )
    except NetworkError as error:
        said = redacted(error.message, settings.token)
        return Finding(
            "FAIL",
            "telegram",
            f"cannot reach Telegram ({said}; {where})",
            "check the server's network, DNS and firewall (outgoing HTTPS), and"
            " [telegram] base_url",
        )
    except TelegramError as error:
        said = redacted(error.message, settings.token)
        return Finding(
            "FAIL",
            "telegram",
            f"Telegram answered getMe with an error: {said}",
            "check [telegram] base_url and the token",
        )


@contextlib.asynccontextmanager
async def _quiet(*loggers: str) -> AsyncIterator[None]:
    """The libraries' own error logs (with tracebacks) held back: the finding says it all."""
    saved = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)

"""Telegram through python-telegram-bot 22: long polling by default, webhook optional.

`build_application` and `TelegramChannel` are wired by the composition root (`bot.app`);
`lifecycle` starts and stops them; `links` makes t.me deep links and their QR codes.
"""

from __future__ import annotations

from bot.channels.telegram.adapter import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram.application import build_application, fetch_username

__all__ = ["ALLOWED_UPDATES", "TelegramChannel", "build_application", "fetch_username"]

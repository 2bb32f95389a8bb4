"""t.me deep links that open the bot on a session or a topic, and their QR codes."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from telegram.helpers import create_deep_linked_url


def session_link(username: str, session_id: str) -> str:
    """`https://t.me/<bot>?start=session_<id>`; ValueError when the id cannot be a payload
    (Telegram allows 64 characters among A-Z, a-z, 0-9, _ and -)."""
    return create_deep_linked_url(username.lstrip("@"), f"session_{session_id}")


def topic_link(username: str, slug: str) -> str:
    return create_deep_linked_url(username.lstrip("@"), f"topic_{slug}")


def qr_text(link: str) -> str:
    """The QR code drawn with block characters, for a terminal."""
    out = io.StringIO()
    segno.make(link, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def save_qr_png(link: str, path: Path) -> None:
    """A PNG large enough for a printed poster."""
    segno.make(link, error="m").save(str(path), kind="png", scale=10, border=4)

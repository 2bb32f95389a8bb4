"""Inbound provider messages already handled, so that a webhook retried is handled once.

Twilio retries a webhook it believes failed (a timeout, a 5xx): the same `MessageSid` then
arrives twice. The first arrival is recorded here; the second is answered but not handled.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from storage.zones import to_utc_text


def first_time(db: Database, message_sid: str, *, now: datetime) -> bool:
    """Record `message_sid`; True the first time it is seen, False on a retry."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO inbound_messages (message_sid, received_at) VALUES (?, ?)",
        [message_sid, to_utc_text(now)],
    )
    return cursor.rowcount > 0


def prune(db: Database, *, before: datetime) -> int:
    """Forget sids older than `before` (Twilio stops retrying within minutes)."""
    cursor = db.execute("DELETE FROM inbound_messages WHERE received_at < ?", [to_utc_text(before)])
    return cursor.rowcount

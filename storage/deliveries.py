"""The outbox: one row per (announcement, contact, channel) before any request is made.

The UNIQUE key is the idempotency key: enqueuing twice inserts nothing the second time.
A row is `sending` only while its request is in flight; a row found `sending` at start was
interrupted by a crash and becomes `unknown` (reported, never resent blindly).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from storage import announcements as announcements_store
from storage import audience as audience_store
from storage.announcements import Announcement
from storage.db import write_transaction
from storage.zones import from_utc_text, to_utc_text

STATUSES = ("pending", "sending", "sent", "delivered", "read", "failed", "skipped", "unknown")
DONE = ("sent", "delivered", "read")
# No worker touches a row in these again (a WhatsApp callback may still move sent → read).
FINAL_STATUSES = (*DONE, "failed", "skipped", "unknown")


@dataclass(frozen=True)
class Delivery:
    id: int
    announcement_id: int
    contact_id: int
    identity_id: int | None
    channel: str
    address: str
    language: str
    urgent: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    reason: str
    provider_message_id: str | None


@dataclass(frozen=True)
class Report:
    """What a coordinator sees: counts per status and, for the rows that did not arrive, why."""

    announcement_id: int
    counts: dict[str, int]
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def outstanding(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)


_COLUMNS = (
    "id, announcement_id, contact_id, identity_id, channel, address, language, urgent,"
    " status, attempts, next_attempt_at, reason, provider_message_id"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    values = list(row)
    values[7] = bool(values[7])
    values[10] = from_utc_text(values[10])
    return Delivery(*values)


# Between two pages of an audience, the writer lets go of the lock for a moment: SQLite's busy
# handler does not queue the connections waiting for it, it polls them (after 1, 2, 5 … up to
# 100 ms), so a writer that takes the lock again at once may keep a conversation's write out
# for several pages. Measured with 50,000 rows: waits of up to 0.36 s without, 0.08 s with.
PAGE_PAUSE_SECONDS = 0.005

_INSERT = """
    INSERT OR IGNORE INTO deliveries (announcement_id, contact_id, identity_id, channel, address,
                                      language, urgent, next_attempt_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# An audience's row, unless the contact has one already, on whichever channel: two releases
# of one announcement (a resumed release, the CLI and the bot at once) give one copy each,
# even if the person wrote on their other channel in between.
_ENQUEUE = """
    INSERT OR IGNORE INTO deliveries (announcement_id, contact_id, identity_id, channel, address,
                                      language, urgent, next_attempt_at, created_at, updated_at)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
    WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE announcement_id = ?1 AND contact_id = ?2)
"""


def enqueue(
    db: Database,
    announcement: Announcement,
    *,
    now: datetime,
    channels: tuple[str, ...] = audience_store.DEFAULT_CHANNELS,
    default_language: str = "fr",
    page_size: int = 250,
    pause: float = PAGE_PAUSE_SECONDS,
) -> int:
    """Write the announcement's rows, a page of recipients per transaction; returns rows added.

    A page of 250 rows holds the write lock for a few milliseconds (the page is read before
    the lock is taken, and `pause` follows each full page), so whoever else writes meanwhile —
    the conversation, the dispatchers — waits for a page, never for the whole audience. Small
    pages matter: a writer that finds the lock taken polls with growing sleeps (SQLite's busy
    handler), on the bot's event loop; with 1,000-row pages some of the bot's writes missed
    window after window and a reply waited over a second (tests/bench/broadcast.py, 100,000
    recipients: reply p99 1.3 s with 1,000 rows, 46-52 ms with 250). The pause lasts as long
    as the page took to read and write (`pause` at least): the lock is free half the time at
    least, however slow the disk, and the bot sending the first rows meanwhile gets half a
    core at least on a small machine (the release stays far ahead of any rate: 100,000 rows
    in about 12 s). Enqueuing
    again adds only the rows missing: it resumes a release that was interrupted. Each page
    looks at the announcement first: once cancelled (`skip_pending`), no row is added."""
    stamp = to_utc_text(now)
    started = time.monotonic()
    added = 0
    began = time.monotonic()
    for page in audience_store.pages(
        db,
        announcement.audience,
        channels=channels,
        default_language=default_language,
        page_size=page_size,
    ):
        rows = [
            (
                announcement.id,
                recipient.contact_id,
                recipient.identity_id,
                recipient.channel,
                recipient.address,
                recipient.language,
                int(announcement.urgent),
                stamp,
                stamp,
                stamp,
            )
            for recipient in page
        ]
        with write_transaction(db):
            if not _may_release(db, announcement.id):
                break
            added += db.conn.executemany(_ENQUEUE, rows).rowcount
            announcements_store.renew_release(  # still writing: the claim holds
                db, announcement.id, now=now + timedelta(seconds=time.monotonic() - started)
            )
        if len(page) == page_size:  # more may follow: the others' turn, as long as ours
            time.sleep(max(pause, time.monotonic() - began))
        began = time.monotonic()
    return added


def _may_release(db: Database, announcement_id: int) -> bool:
    return _status_of(db, announcement_id) in ("scheduled", "sending")


def _status_of(db: Database, announcement_id: int) -> str | None:
    row = db.execute("SELECT status FROM announcements WHERE id = ?", [announcement_id]).fetchone()
    return row[0] if row else None


def skip_pending(
    db: Database,
    announcement_id: int,
    *,
    reason: str,
    now: datetime,
    batch: int = 1000,
    pause: float = PAGE_PAUSE_SECONDS,
) -> int:
    """Skip the announcement's pending rows, a batch per transaction; returns how many. A
    broadcast stopped early may have 100,000 of them: one statement would hold the write
    lock for a second. Rows taken meanwhile by a dispatcher go out, as if stopped a moment
    later; rows an `enqueue` wrote before the announcement left `sending` are skipped."""
    skipped = 0
    while True:
        cursor = db.execute(
            "UPDATE deliveries SET status = 'skipped', reason = ?, updated_at = ? WHERE id IN ("
            " SELECT id FROM deliveries WHERE announcement_id = ? AND status = 'pending'"
            " LIMIT ?)",
            [reason, to_utc_text(now), announcement_id, batch],
        )
        skipped += cursor.rowcount
        if cursor.rowcount < batch:
            return skipped
        time.sleep(pause)


def reroute(
    db: Database, delivery: Delivery, *, channels: tuple[str, ...], now: datetime
) -> str | None:
    """A copy of `delivery` on the contact's other active channel; that channel, if any
    (none for a cancelled announcement)."""
    if _status_of(db, delivery.announcement_id) in (None, "cancelled"):
        return None
    other = audience_store.preferred_identity(
        db, delivery.contact_id, channels=channels, excluding=delivery.channel
    )
    if other is None:
        return None
    identity_id, channel, address = other
    stamp = to_utc_text(now)
    db.execute(
        _INSERT,
        [
            delivery.announcement_id,
            delivery.contact_id,
            identity_id,
            channel,
            address,
            delivery.language,
            int(delivery.urgent),
            stamp,
            stamp,
            stamp,
        ],
    )
    return channel


def reroute_with_reason(
    db: Database, delivery: Delivery, reason: str, *, channels: tuple[str, ...], now: datetime
) -> str:
    """`reroute`, and `reason` telling where the notification went instead, if anywhere: the
    reason a row that will not go on its own channel is closed with."""
    other = reroute(db, delivery, channels=channels, now=now)
    return f"{reason}; sent on {other} instead" if other else reason


def settle_unserved(
    db: Database, *, served: tuple[str, ...], now: datetime, batch: int = 500
) -> int:
    """Pending rows on a channel this deployment does not serve (written by a CLI run without
    the bot's credentials, which could not know) go to the person's served channel when they
    have one, else are skipped with that reason; how many were settled. Otherwise they would
    wait for ever, and their announcement would never be reported as gone out."""
    unserved = tuple(channel for channel in audience_store.ALL_CHANNELS if channel not in served)
    if not unserved or not served:
        return 0
    settled = 0
    while True:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE status = 'pending'"
            f" AND channel IN ({', '.join('?' * len(unserved))}) ORDER BY id LIMIT ?",
            [*unserved, batch],
        ).fetchall()
        if not rows:
            return settled
        with write_transaction(db):
            for delivery in map(_delivery, rows):
                reason = reroute_with_reason(
                    db,
                    delivery,
                    f"{delivery.channel} is not served by this deployment",
                    channels=served,
                    now=now,
                )
                mark_skipped(db, delivery.id, now=now, reason=reason)
        settled += len(rows)


def get(db: Database, delivery_id: int) -> Delivery | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", [delivery_id]).fetchone()
    return _delivery(row) if row else None


def of_announcement(db: Database, announcement_id: int) -> list[Delivery]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE announcement_id = ? ORDER BY id",
        [announcement_id],
    ).fetchall()
    return [_delivery(row) for row in rows]


# The pending urgent rows alone (migration 0007): named, because without ANALYZE's figures
# SQLite prefers deliveries_due, on which the urgent rows are found by reading every pending
# row of the channel (100,000 table lookups mid-broadcast, at each poll during quiet hours).
_URGENT_INDEX = " INDEXED BY deliveries_urgent_due"


def due(
    db: Database,
    channel: str,
    *,
    now: datetime,
    limit: int,
    urgent_only: bool = False,
    excluding: frozenset[int] | set[int] = frozenset(),
) -> list[Delivery]:
    """Pending rows whose time has come, oldest first, leaving out those already in flight."""
    params: list[object] = [channel, to_utc_text(now)]
    where, index = "", ""
    if urgent_only:  # quiet hours: only the few urgent rows, found on their own index
        where, index = " AND urgent = 1", _URGENT_INDEX
    if excluding:
        where += f" AND id NOT IN ({', '.join('?' * len(excluding))})"
        params += sorted(excluding)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM deliveries{index} WHERE channel = ? AND status = 'pending'"
        f" AND next_attempt_at <= ?{where} ORDER BY next_attempt_at, id LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [_delivery(row) for row in rows]


def next_due_at(db: Database, channel: str, *, urgent_only: bool = False) -> datetime | None:
    """When the next pending row of `channel` may be sent (None when nothing is pending)."""
    index, extra = (_URGENT_INDEX, " AND urgent = 1") if urgent_only else ("", "")
    row = db.execute(
        f"SELECT min(next_attempt_at) FROM deliveries{index} WHERE channel = ?"
        f" AND status = 'pending'{extra}",
        [channel],
    ).fetchone()
    return from_utc_text(row[0]) if row and row[0] else None


def skip_reason(db: Database, delivery: Delivery) -> str | None:
    """Why a row must not be sent any more (its announcement cancelled, opted out since,
    identity blocked), else None. A cancel skips the pending rows in batches; one taken
    before its batch is caught here."""
    row = db.execute(
        """
        SELECT c.consent_at IS NOT NULL AND c.opted_out_at IS NULL, i.active,
               (SELECT status FROM announcements WHERE id = ?)
        FROM contacts c LEFT JOIN identities i ON i.id = ? WHERE c.id = ?
        """,
        [delivery.announcement_id, delivery.identity_id, delivery.contact_id],
    ).fetchone()
    if row is None:
        return "contact erased"
    if row[2] == "cancelled":
        return "cancelled"
    if not row[0]:
        return "opted out"
    if not row[1]:
        return "blocked"
    return None


def _update(
    db: Database,
    delivery_id: int,
    now: datetime,
    sets: str,
    params: list[object],
    *,
    from_status: str,
) -> bool:
    cursor = db.execute(
        f"UPDATE deliveries SET {sets}, updated_at = ? WHERE id = ? AND status = ?",
        [*params, to_utc_text(now), delivery_id, from_status],
    )
    return cursor.rowcount > 0


def mark_sending(db: Database, delivery_id: int, *, now: datetime) -> bool:
    """Committed before the request: only a pending row can start, and only once."""
    return _update(
        db,
        delivery_id,
        now,
        "status = 'sending', sending_at = ?",
        [to_utc_text(now)],
        from_status="pending",
    )


def mark_sending_many(db: Database, delivery_ids: list[int], *, now: datetime) -> set[int]:
    """Many `mark_sending` in one transaction (one commit, one fsync at most, where each row
    had its own); the ids marked, i.e. those that were still pending."""
    if not delivery_ids:
        return set()
    stamp = to_utc_text(now)
    with write_transaction(db):
        return {
            row_id
            for (row_id,) in db.conn.execute(
                "UPDATE deliveries SET status = 'sending', sending_at = ?, updated_at = ?"
                f" WHERE id IN ({', '.join('?' * len(delivery_ids))}) AND status = 'pending'"
                " RETURNING id",
                [stamp, stamp, *delivery_ids],
            ).fetchall()
        }


def mark_sent(
    db: Database, delivery_id: int, *, now: datetime, provider_message_id: str | None
) -> None:
    _update(
        db,
        delivery_id,
        now,
        "status = 'sent', sent_at = ?, provider_message_id = ?, attempts = attempts + 1,"
        " reason = ''",
        [to_utc_text(now), provider_message_id],
        from_status="sending",
    )


def mark_sent_many(db: Database, rows: list[tuple[int, str | None]], *, now: datetime) -> None:
    """Many `mark_sent` in one transaction: (delivery id, provider message id) pairs."""
    stamp = to_utc_text(now)
    with write_transaction(db):
        db.conn.executemany(
            "UPDATE deliveries SET status = 'sent', sent_at = ?, provider_message_id = ?,"
            " attempts = attempts + 1, reason = '', updated_at = ?"
            " WHERE id = ? AND status = 'sending'",
            [(stamp, provider_id, stamp, delivery_id) for delivery_id, provider_id in rows],
        )


def retry_later(
    db: Database,
    delivery_id: int,
    *,
    now: datetime,
    at: datetime,
    reason: str,
    count_attempt: bool = True,
) -> None:
    """Back to pending until `at`; a rate-limit answer does not count as a failed attempt."""
    increment = ", attempts = attempts + 1" if count_attempt else ""
    _update(
        db,
        delivery_id,
        now,
        f"status = 'pending', next_attempt_at = ?, reason = ?{increment}",
        [to_utc_text(at), reason],
        from_status="sending",
    )


def mark_failed(db: Database, delivery_id: int, *, now: datetime, reason: str) -> None:
    _update(
        db,
        delivery_id,
        now,
        "status = 'failed', reason = ?, attempts = attempts + 1",
        [reason],
        from_status="sending",
    )


def mark_skipped(
    db: Database, delivery_id: int, *, now: datetime, reason: str, from_status: str = "pending"
) -> None:
    """Never to be sent: before its turn (`pending`) or refused by the channel's own rules
    once taken (`sending`)."""
    _update(
        db, delivery_id, now, "status = 'skipped', reason = ?", [reason], from_status=from_status
    )


def mark_interrupted_unknown(db: Database, *, now: datetime) -> dict[int, int]:
    """Rows left `sending` by a crash become `unknown`; returns how many per announcement."""
    with write_transaction(db):  # it reads, then writes: the lock first
        rows = db.execute(
            "SELECT announcement_id, count(*) FROM deliveries WHERE status = 'sending'"
            " GROUP BY announcement_id"
        ).fetchall()
        db.execute(
            "UPDATE deliveries SET status = 'unknown', updated_at = ?,"
            " reason = 'interrupted while sending: may or may not have arrived'"
            " WHERE status = 'sending'",
            [to_utc_text(now)],
        )
    return dict(rows)


def awaiting_display(
    db: Database, channel: str, address: str, *, limit: int = 50
) -> list[Delivery]:
    """Rows handed to `address` on a channel that shows them itself (the console) and not yet
    shown: `sent`, oldest first. Showing one is reported like a WhatsApp callback
    (`record_status(..., "delivered")`)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM deliveries WHERE channel = ? AND address = ?"
        " AND status = 'sent' ORDER BY id LIMIT ?",
        [channel, address, limit],
    ).fetchall()
    return [_delivery(row) for row in rows]


def record_status(
    db: Database, provider_message_id: str, status: str, *, now: datetime, reason: str = ""
) -> bool:
    """A status callback from the provider (WhatsApp delivered/read/failed)."""
    if status not in ("delivered", "read", "failed"):
        raise ValueError(f"not a callback status: {status!r}")
    cursor = db.execute(
        "UPDATE deliveries SET status = ?, reason = ?, updated_at = ?"
        " WHERE provider_message_id = ? AND status IN ('sent', 'delivered', 'unknown')",
        [status, reason, to_utc_text(now), provider_message_id],
    )
    return cursor.rowcount > 0


def in_progress(db: Database, announcement_id: int) -> bool | None:
    """Whether the announcement still has rows to send (pending or sending); None while it
    has no row at all. Two index lookups, where `report` counts every row: cheap enough to
    ask ten times a second of a 100,000-row broadcast."""
    if (
        db.execute(
            "SELECT 1 FROM deliveries WHERE announcement_id = ? LIMIT 1", [announcement_id]
        ).fetchone()
        is None
    ):
        return None
    return (
        db.execute(
            "SELECT 1 FROM deliveries WHERE announcement_id = ?"
            " AND status IN ('pending', 'sending') LIMIT 1",
            [announcement_id],
        ).fetchone()
        is not None
    )


def report(db: Database, announcement_id: int) -> Report:
    counts = dict(
        db.execute(
            "SELECT status, count(*) FROM deliveries WHERE announcement_id = ? GROUP BY status",
            [announcement_id],
        ).fetchall()
    )
    reasons: dict[str, Counter[str]] = {}
    for status, reason, number in db.execute(
        """
        SELECT status, reason, count(*) FROM deliveries
        WHERE announcement_id = ? AND status IN ('failed', 'skipped', 'unknown')
        GROUP BY status, reason
        """,
        [announcement_id],
    ):
        reasons.setdefault(status, Counter())[reason or "unknown"] += number
    return Report(announcement_id, counts, {key: dict(value) for key, value in reasons.items()})

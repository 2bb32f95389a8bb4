"""What `/healthz` and `/metrics` read from the database: can it take a write, how many
delivery rows are in each state, and how long the outbox's due rows have waited.

Each question is one statement on the deliveries index (channel, status, next_attempt_at):
about 20 ms for 200,000 rows, 120 ms for a million. The bot asks them in a worker thread, on
a connection of its own (`connection`), so that a scrape never holds up its event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from storage.db import open_database, write_transaction
from storage.zones import from_utc_text, to_utc_text

# Where a check gets its connection: `opening(path)` in the bot, `borrowed(db)` in a test.
Connect = Callable[[], AbstractContextManager[Database]]


def opening(path: str | Path) -> Connect:
    """A new connection for each check, closed after it (the schema is the bot's business)."""

    @contextmanager
    def connect() -> Iterator[Database]:
        db = open_database(path, migrate=False)
        try:
            yield db
        finally:
            db.close()

    return connect


def borrowed(db: Database) -> Connect:
    """An open connection, used as it is and left open."""
    return lambda: nullcontext(db)


def probe_write(db: Database) -> None:
    """Raise `sqlite3.Error` unless the database takes a write now: not read-only, the write
    lock obtained within the busy timeout (`write_transaction`'s `BEGIN IMMEDIATE` waits for
    another writer, where a plain transaction could fail at once), and the write committed —
    a write rolled back never reaches the disk, so it cannot find it full. What it leaves is
    the one row of `health_probe`, with the time of the last probe."""
    with write_transaction(db):
        db.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, datetime('now'))"
            " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
        )


def counts_by_status(db: Database) -> dict[tuple[str, str], int]:
    """(channel, status) → rows, for every pair that has any."""
    rows = db.execute(
        "SELECT channel, status, count(*) FROM deliveries GROUP BY channel, status"
    ).fetchall()
    return {(channel, status): count for channel, status, count in rows}


@dataclass(frozen=True)
class Backlog:
    """A channel's pending rows: how many, how many are due, and the oldest due time; for
    all of them, and for the urgent ones alone (quiet hours hold the rest)."""

    pending: int = 0
    due: int = 0
    oldest_due: datetime | None = None
    oldest_urgent_due: datetime | None = None
    urgent_due: int = 0


def backlog(db: Database, channel: str, *, now: datetime) -> Backlog:
    """Two statements, each on an index alone (`deliveries_due`; the urgent rows on the
    partial `deliveries_urgent_due`): one statement asking both read every pending row's
    table entry for its `urgent` column, 100,000 lookups a scrape during a broadcast."""
    stamp = to_utc_text(now)
    params = {"now": stamp, "channel": channel}
    pending, due, oldest = db.execute(
        """
        SELECT count(*), count(CASE WHEN next_attempt_at <= :now THEN 1 END),
               min(CASE WHEN next_attempt_at <= :now THEN next_attempt_at END)
        FROM deliveries WHERE channel = :channel AND status = 'pending'
        """,
        params,
    ).fetchone()
    urgent_due, urgent = db.execute(
        """
        SELECT count(*), min(next_attempt_at) FROM deliveries INDEXED BY deliveries_urgent_due
        WHERE channel = :channel AND status = 'pending' AND urgent = 1
          AND next_attempt_at <= :now
        """,
        params,
    ).fetchone()
    return Backlog(
        pending=pending,
        due=due,
        oldest_due=from_utc_text(oldest) if oldest else None,
        oldest_urgent_due=from_utc_text(urgent) if urgent else None,
        urgent_due=urgent_due,
    )

"""Forgetting old outbox rows and old inbound message ids, so the database stays small.

A delivery row is kept while it can still matter: while it is `pending` or `sending` (the
outbox's work and its crash evidence), and while its announcement is still `scheduled` or
`sending` (its report is still being written). Only rows in a final state, last changed
before the cut-off, go. The announcement itself stays, so the coordinator's listing keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.deliveries import FINAL_STATUSES
from storage.zones import to_utc_text

# Every status a delivery can end in (storage/migrations.py, 0004): never pending or sending.
# Announcements whose rows are still being sent or reported on.
OPEN_ANNOUNCEMENTS = ("scheduled", "sending")

_DELIVERIES_WHERE = f"""
    FROM deliveries
    WHERE status IN ({", ".join(f"'{status}'" for status in FINAL_STATUSES)})
      AND updated_at < ?
      AND announcement_id NOT IN (
          SELECT id FROM announcements
          WHERE status IN ({", ".join(f"'{status}'" for status in OPEN_ANNOUNCEMENTS)}))
"""
_INBOUND_WHERE = "FROM inbound_messages WHERE received_at < ?"
# Rows deleted in one transaction.
BATCH = 5_000


@dataclass(frozen=True)
class Pruned:
    """How many rows went (or, counted only, would go) from each table."""

    deliveries: int
    inbound_messages: int

    @property
    def total(self) -> int:
        return self.deliveries + self.inbound_messages


def count(db: Database, *, before: datetime, inbound_before: datetime | None = None) -> Pruned:
    """What `prune` with the same arguments would delete, deleting nothing."""
    deliveries = db.execute(
        f"SELECT count(*) {_DELIVERIES_WHERE}", [to_utc_text(before)]
    ).fetchone()[0]
    inbound = db.execute(
        f"SELECT count(*) {_INBOUND_WHERE}", [to_utc_text(inbound_before or before)]
    ).fetchone()[0]
    return Pruned(deliveries, inbound)


def prune(
    db: Database, *, before: datetime, inbound_before: datetime | None = None, batch: int = BATCH
) -> Pruned:
    """Delete final delivery rows last changed before `before`, and inbound message ids
    received before `inbound_before` (default: `before`), `batch` rows a transaction."""
    deliveries = _delete(db, _DELIVERIES_WHERE, to_utc_text(before), batch)
    inbound = _delete(db, _INBOUND_WHERE, to_utc_text(inbound_before or before), batch)
    return Pruned(deliveries, inbound)


def _delete(db: Database, where: str, cut: str, batch: int) -> int:
    """The rows are found first, reading only; then deleted in short transactions, so that
    the running bot's writes wait milliseconds, not the whole prune (SQLite has one writer at
    a time). Each delete checks the conditions again: a row changed meanwhile stays."""
    found = [row[0] for row in db.execute(f"SELECT rowid {where}", [cut])]
    deleted = 0
    for start in range(0, len(found), batch):
        chunk = found[start : start + batch]
        with db.atomic():
            deleted += db.execute(
                f"DELETE {where} AND rowid IN ({', '.join('?' * len(chunk))})", [cut, *chunk]
            ).rowcount
    return deleted

"""Announcements: what is to be said, to whom, and when.

Broadcasts written by coordinators and notices derived from sessions (reminders, confirm
requests, cancellations, promotions) are the same kind of row, so the scheduler and the
outbox treat them alike. Texts are per language, `"*"` meaning "every other language".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from storage.audience import Audience
from storage.zones import from_utc_text, to_utc_text

KINDS = (
    "announcement",
    "reminder",
    "confirm_request",
    "cancellation",
    "promotion",
    "report",
    "notice",
)
SESSION_NOTICES = ("reminder", "confirm_request")
STATUSES = ("scheduled", "sending", "sent", "cancelled", "missed")


@dataclass(frozen=True)
class Announcement:
    id: int
    kind: str
    texts: dict[str, str]
    audience: Audience
    session_id: str | None
    offset_key: str | None
    due_at: datetime
    urgent: bool
    status: str
    note: str
    created_by: str
    created_at: str

    def text_for(self, language: str) -> str:
        texts = self.texts
        return (
            texts.get(language)
            or texts.get("*")
            or texts.get("fr")
            or next(iter(texts.values()), "")
        )

    @property
    def job_id(self) -> str:
        """The scheduler's id for this row: deterministic, so a rebuild replaces, never adds."""
        if self.kind in SESSION_NOTICES and self.offset_key:
            return f"reminder-{self.session_id}-{self.offset_key}"
        return f"announcement-{self.id}"


def _announcement(row: dict[str, Any]) -> Announcement:
    return Announcement(
        id=row["id"],
        kind=row["kind"],
        texts=json.loads(row["texts"]),
        audience=Audience.from_json(row["audience"]),
        session_id=row["session_id"],
        offset_key=row["offset_key"],
        due_at=from_utc_text(row["due_at"]),
        urgent=bool(row["urgent"]),
        status=row["status"],
        note=row["note"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def create(
    db: Database,
    *,
    texts: dict[str, str],
    audience: Audience,
    due_at: datetime,
    created_by: str,
    now: datetime,
    kind: str = "announcement",
    session_id: str | None = None,
    urgent: bool = False,
) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    stamp = to_utc_text(now)
    cursor = db.execute(
        """
        INSERT INTO announcements (kind, texts, audience, session_id, due_at, urgent,
                                   created_by, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            kind,
            json.dumps(texts, ensure_ascii=False),
            audience.to_json(),
            session_id,
            to_utc_text(due_at),
            int(urgent),
            created_by,
            stamp,
            stamp,
        ],
    )
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid


def get(db: Database, announcement_id: int) -> Announcement | None:
    rows = list(db.query("SELECT * FROM announcements WHERE id = ?", [announcement_id]))
    return _announcement(rows[0]) if rows else None


def session_notice(db: Database, session_id: str, offset_key: str) -> Announcement | None:
    """The reminder (or confirm request) of `session_id` at `offset_key` ("1d"), if any."""
    rows = list(
        db.query(
            "SELECT * FROM announcements WHERE session_id = ? AND offset_key = ?",
            [session_id, offset_key],
        )
    )
    return _announcement(rows[0]) if rows else None


def scheduled(db: Database) -> list[Announcement]:
    """Rows still waiting for their time, soonest first: what the scheduler derives jobs from."""
    rows = db.query("SELECT * FROM announcements WHERE status = 'scheduled' ORDER BY due_at, id")
    return [_announcement(row) for row in rows]


def due(db: Database, *, now: datetime) -> list[Announcement]:
    """Scheduled rows whose time has come (through the index on status and due time), but
    for those another process is releasing (see `claim_release`)."""
    stamp = to_utc_text(now)
    rows = db.query(
        "SELECT * FROM announcements WHERE status = 'scheduled' AND due_at <= ?"
        " AND (releasing_until IS NULL OR releasing_until <= ?)"
        " ORDER BY due_at, id",
        [stamp, stamp],
    )
    return [_announcement(row) for row in rows]


def listing(
    db: Database,
    *,
    kinds: tuple[str, ...] = KINDS,
    statuses: tuple[str, ...] = STATUSES,
    limit: int = 50,
) -> list[Announcement]:
    """The latest announcements of `kinds` in `statuses`, newest due first."""
    kind_marks = ", ".join("?" * len(kinds))
    status_marks = ", ".join("?" * len(statuses))
    rows = db.query(
        f"SELECT * FROM announcements WHERE kind IN ({kind_marks})"
        f" AND status IN ({status_marks}) ORDER BY due_at DESC, id DESC LIMIT ?",
        [*kinds, *statuses, limit],
    )
    return [_announcement(row) for row in rows]


# How long a release's claim on an announcement lasts without being renewed: the writer
# renews it at each page of rows (a few milliseconds apart), so only a writer that died or
# hung loses it. Long enough for a page that waits out the 5 s busy timeout.
RELEASE_LEASE = timedelta(seconds=60)


def claim_release(
    db: Database, announcement_id: int, *, now: datetime, lease: timedelta = RELEASE_LEASE
) -> bool:
    """Become the one process writing the announcement's rows, unless another holds an
    unexpired claim (`formabot announce` while the bot's scheduler finds it due)."""
    cursor = db.execute(
        "UPDATE announcements SET releasing_until = ? WHERE id = ?"
        " AND (releasing_until IS NULL OR releasing_until <= ?)",
        [to_utc_text(now + lease), announcement_id, to_utc_text(now)],
    )
    return cursor.rowcount > 0


def renew_release(
    db: Database, announcement_id: int, *, now: datetime, lease: timedelta = RELEASE_LEASE
) -> None:
    db.execute(
        "UPDATE announcements SET releasing_until = ? WHERE id = ?",
        [to_utc_text(now + lease), announcement_id],
    )


def end_release(db: Database, announcement_id: int) -> None:
    db.execute("UPDATE announcements SET releasing_until = NULL WHERE id = ?", [announcement_id])


def set_status(
    db: Database,
    announcement_id: int,
    status: str,
    *,
    now: datetime,
    note: str | None = None,
    only_from: tuple[str, ...] = (),
) -> bool:
    """Move to `status`; with `only_from`, only when the row is in one of those states."""
    guard, params = "", []
    if only_from:
        guard = f" AND status IN ({', '.join('?' * len(only_from))})"
        params = list(only_from)
    cursor = db.execute(
        f"UPDATE announcements SET status = ?, note = coalesce(?, note), updated_at = ?"
        f" WHERE id = ?{guard}",
        [status, note, to_utc_text(now), announcement_id, *params],
    )
    return cursor.rowcount > 0


def finish_sent(db: Database, *, now: datetime) -> list[int]:
    """Mark `sent` the announcements being sent that have no row left to send; the ids of
    those this call finished (another process or channel may have finished some first)."""
    rows = db.execute(
        """
        SELECT a.id FROM announcements a WHERE a.status = 'sending' AND NOT EXISTS (
            SELECT 1 FROM deliveries d WHERE d.announcement_id = a.id
              AND d.status IN ('pending', 'sending'))
        """
    ).fetchall()
    return [
        announcement_id
        for (announcement_id,) in rows
        if set_status(db, announcement_id, "sent", now=now, only_from=("sending",))
    ]

"""Registrations of contacts to sessions, with a timestamp per status reached.

A seat is held by a registration that is registered, confirmed, attended or no_show; when
a session is full, new registrations wait in order of their waitlisting time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.zones import now_utc, to_utc_text

STATUSES = (
    "interested",
    "registered",
    "waitlisted",
    "confirmed",
    "declined",
    "cancelled",
    "attended",
    "no_show",
)
SEAT_HOLDING = ("registered", "confirmed", "attended", "no_show")
ACTIVE = (*SEAT_HOLDING, "waitlisted")


@dataclass(frozen=True)
class Registration:
    id: int
    contact_id: int | None
    session_id: str
    status: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class RegisterOutcome:
    status: str  # registered | waitlisted | already
    waitlist_position: int | None = None


def _registration(row: dict[str, Any]) -> Registration:
    return Registration(
        row["id"],
        row["contact_id"],
        row["session_id"],
        row["status"],
        row["created_at"],
        row["updated_at"],
    )


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def of(db: Database, contact_id: int, session_id: str) -> Registration | None:
    rows = list(
        db.query(
            "SELECT * FROM registrations WHERE contact_id = ? AND session_id = ?",
            [contact_id, session_id],
        )
    )
    return _registration(rows[0]) if rows else None


def of_contact(db: Database, contact_id: int) -> list[Registration]:
    rows = db.query(
        """
        SELECT r.* FROM registrations r JOIN sessions s ON s.id = r.session_id
        WHERE r.contact_id = ? ORDER BY s.starts_at, s.id
        """,
        [contact_id],
    )
    return [_registration(row) for row in rows]


def seats_taken(db: Database, session_id: str) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM registrations"
            f" WHERE session_id = ? AND status IN {_in(SEAT_HOLDING)}",
            [session_id],
        ).fetchone()[0]
    )


def waitlist_position(db: Database, contact_id: int, session_id: str) -> int | None:
    row = db.execute(
        """
        SELECT count(*) FROM registrations w, registrations me
        WHERE me.contact_id = ? AND me.session_id = ? AND me.status = 'waitlisted'
          AND w.session_id = me.session_id AND w.status = 'waitlisted'
          AND (w.waitlisted_at < me.waitlisted_at
               OR (w.waitlisted_at = me.waitlisted_at AND w.id <= me.id))
        """,
        [contact_id, session_id],
    ).fetchone()
    return row[0] or None


def _set_status(db: Database, contact_id: int, session_id: str, status: str) -> None:
    now = to_utc_text(now_utc())
    db.execute(
        f"""
        INSERT INTO registrations (contact_id, session_id, status, created_at, updated_at,
                                   {status}_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (contact_id, session_id) WHERE contact_id IS NOT NULL DO UPDATE SET
            status = excluded.status, updated_at = excluded.updated_at,
            {status}_at = excluded.{status}_at
        """,
        [contact_id, session_id, status, now, now, now],
    )


def mark_interested(db: Database, contact_id: int, session_id: str) -> bool:
    """Record interest unless the contact already holds or waits for a seat."""
    with db.atomic():
        current = of(db, contact_id, session_id)
        if current and current.status in ACTIVE:
            return False
        _set_status(db, contact_id, session_id, "interested")
        return True


def register(db: Database, contact_id: int, session_id: str, capacity: int) -> RegisterOutcome:
    with db.atomic():
        current = of(db, contact_id, session_id)
        if current and current.status in ACTIVE:
            return RegisterOutcome("already", waitlist_position(db, contact_id, session_id))
        if seats_taken(db, session_id) < capacity:
            _set_status(db, contact_id, session_id, "registered")
            return RegisterOutcome("registered")
        _set_status(db, contact_id, session_id, "waitlisted")
        return RegisterOutcome("waitlisted", waitlist_position(db, contact_id, session_id))


def cancel(db: Database, contact_id: int, session_id: str, capacity: int) -> int | None:
    """Cancel a registration; when it freed a seat, the first waitlisted contact takes it.

    Returns the id of the promoted contact, if any.
    """
    with db.atomic():
        current = of(db, contact_id, session_id)
        if current is None or current.status not in (*ACTIVE, "interested"):
            return None
        _set_status(db, contact_id, session_id, "cancelled")
        if current.status not in SEAT_HOLDING:
            return None
        return promote_from_waitlist(db, session_id, capacity)


def promote_from_waitlist(db: Database, session_id: str, capacity: int) -> int | None:
    if seats_taken(db, session_id) >= capacity:
        return None
    row = db.execute(
        """
        SELECT contact_id FROM registrations
        WHERE session_id = ? AND status = 'waitlisted' AND contact_id IS NOT NULL
        ORDER BY waitlisted_at, id LIMIT 1
        """,
        [session_id],
    ).fetchone()
    if row is None:
        return None
    _set_status(db, row[0], session_id, "registered")
    return int(row[0])


def counts_by_status(db: Database, session_id: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT status, count(*) FROM registrations WHERE session_id = ? GROUP BY status",
        [session_id],
    )
    return dict(rows.fetchall())


def confirm(db: Database, contact_id: int, session_id: str) -> bool:
    """A seat holder says they will come; False when they hold no seat."""
    with db.atomic():
        current = of(db, contact_id, session_id)
        if current is None or current.status not in ("registered", "confirmed"):
            return False
        if current.status == "registered":
            _set_status(db, contact_id, session_id, "confirmed")
        return True


@dataclass(frozen=True)
class DeclineOutcome:
    declined: bool
    promoted_contact_id: int | None = None


def decline(db: Database, contact_id: int, session_id: str, capacity: int) -> DeclineOutcome:
    """A seat holder cannot come: the seat is freed and the first waitlisted contact takes it."""
    with db.atomic():
        current = of(db, contact_id, session_id)
        if current is None or current.status not in ("registered", "confirmed", "waitlisted"):
            return DeclineOutcome(False)
        _set_status(db, contact_id, session_id, "declined")
        if current.status == "waitlisted":
            return DeclineOutcome(True)
        return DeclineOutcome(True, promote_from_waitlist(db, session_id, capacity))

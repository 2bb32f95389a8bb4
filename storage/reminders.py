"""Reminders derived from sessions: one row per (session, offset), recomputed from the catalogue.

The database is the truth: syncing again after a session moved updates the due time of the
reminders not yet sent; a cancelled session's reminders are cancelled and one cancellation
notice (offset key "cancel") replaces them. Short offsets are urgent, so that quiet hours do
not hold back a "2 hours before" reminder until after the session began.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from storage import catalogue
from storage.audience import Audience
from storage.catalogue import Session
from storage.registrations import ACTIVE, SEAT_HOLDING
from storage.zones import to_utc_text

URGENT_BELOW = timedelta(days=1)
CANCEL_KEY = "cancel"
ACTOR = "system:reminders"


def _upsert(
    db: Database,
    session: Session,
    key: str,
    kind: str,
    due_at: datetime,
    *,
    urgent: bool,
    audience: Audience,
    status: str,
    note: str,
    now: datetime,
) -> None:
    stamp = to_utc_text(now)
    db.execute(
        """
        INSERT INTO announcements (kind, texts, audience, session_id, offset_key, due_at, urgent,
                                   status, note, created_by, created_at, updated_at)
        VALUES (?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (session_id, offset_key) WHERE offset_key IS NOT NULL DO UPDATE SET
            kind = excluded.kind, due_at = excluded.due_at, urgent = excluded.urgent,
            updated_at = excluded.updated_at
        WHERE announcements.status = 'scheduled'
          AND (announcements.due_at != excluded.due_at OR announcements.kind != excluded.kind)
        """,
        [
            kind,
            audience.to_json(),
            session.id,
            key,
            to_utc_text(due_at),
            int(urgent),
            status,
            note,
            ACTOR,
            stamp,
            stamp,
        ],
    )


def sync_session(
    db: Database, session: Session, *, offsets: dict[str, timedelta], confirm_at: str, now: datetime
) -> None:
    """Bring the session's reminder rows in line with its time and status."""
    with db.atomic():
        if session.status == "cancelled":
            db.execute(
                "UPDATE announcements SET status = 'cancelled', note = 'session cancelled',"
                " updated_at = ? WHERE session_id = ? AND kind IN ('reminder', 'confirm_request')"
                " AND status = 'scheduled'",
                [to_utc_text(now), session.id],
            )
            if session.starts_at > now:
                _upsert(
                    db,
                    session,
                    CANCEL_KEY,
                    "cancellation",
                    now,
                    urgent=True,
                    audience=Audience(registrants=session.id, statuses=ACTIVE),
                    status="scheduled",
                    note="",
                    now=now,
                )
            return
        for key, offset in offsets.items():
            due_at = session.starts_at - offset
            late = due_at <= now
            _upsert(
                db,
                session,
                key,
                "confirm_request" if key == confirm_at else "reminder",
                due_at,
                urgent=offset < URGENT_BELOW,
                audience=Audience(registrants=session.id, statuses=SEAT_HOLDING),
                status="cancelled" if late else "scheduled",
                note="already past when the session was first seen" if late else "",
                now=now,
            )


def sync_all(
    db: Database, *, offsets: dict[str, timedelta], confirm_at: str, now: datetime
) -> None:
    """Every session not yet started, and the cancelled ones that still have reminders."""
    for session in catalogue.all_sessions(db):
        if session.starts_at <= now:
            continue
        sync_session(db, session, offsets=offsets, confirm_at=confirm_at, now=now)

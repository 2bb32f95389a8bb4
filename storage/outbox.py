"""An announcement falling due becomes delivery rows — or is dropped, by the misfire rule.

One function decides, used by the scheduler's job, by the rebuild at start and by the CLI:
- a broadcast more than `grace` late (the bot was down) is `missed`, audited and reported;
- a reminder whose session has started (or was cancelled) is dropped;
- otherwise its rows are written (idempotently) and it is `sending`.
One process writes them at a time: the release claims the announcement first (a lease it
renews at each page, `announcements.claim_release`); a release that finds it claimed (the
bot's scheduler while `formabot announce` writes them) leaves it to that process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage import announcements, audit, catalogue, deliveries
from storage.audience import DEFAULT_CHANNELS, Audience
from storage.db import write_transaction
from storage.zones import to_utc_text

ACTOR = "system:outbox"
# For rows released the moment they are written (times are stored to the second).
IMMEDIATE_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Release:
    announcement_id: int
    outcome: str  # enqueued | missed | dropped | not_scheduled | releasing
    rows: int = 0
    note: str = ""


def release(
    db: Database,
    announcement_id: int,
    *,
    now: datetime,
    grace: timedelta,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    default_language: str = "fr",
) -> Release:
    announcement = announcements.get(db, announcement_id)
    if announcement is None or announcement.status not in ("scheduled", "sending"):
        return Release(announcement_id, "not_scheduled")
    if announcement.kind in announcements.SESSION_NOTICES:
        session = catalogue.session(db, announcement.session_id or "")
        if session is None or session.status == "cancelled" or session.starts_at <= now:
            note = "dropped: the session has started or is cancelled"
            announcements.set_status(
                db, announcement_id, "cancelled", now=now, note=note, only_from=("scheduled",)
            )
            return Release(announcement_id, "dropped", note=note)
    elif announcement.status == "scheduled" and now - announcement.due_at > grace:
        late = now - announcement.due_at
        note = f"missed: due {to_utc_text(announcement.due_at)}, {_hours(late)} late"
        announcements.set_status(
            db, announcement_id, "missed", now=now, note=note, only_from=("scheduled",)
        )
        audit.record(
            db,
            actor=ACTOR,
            action="announcement.missed",
            subject=f"announcement:{announcement_id}",
            created_by=announcement.created_by,
            due_at=to_utc_text(announcement.due_at),
        )
        return Release(announcement_id, "missed", note=note)
    if not announcements.claim_release(db, announcement_id, now=now):
        return Release(
            announcement_id, "releasing", note="its rows are being written by another process"
        )
    # A release that fails keeps its claim until the lease lapses: then the next resumes it.
    rows = deliveries.enqueue(
        db, announcement, now=now, channels=channels, default_language=default_language
    )
    with write_transaction(db):
        announcements.set_status(
            db, announcement_id, "sending", now=now, only_from=("scheduled", "sending")
        )
        announcements.end_release(db, announcement_id)
    return Release(announcement_id, "enqueued", rows)


def _hours(late: timedelta) -> str:
    return f"{late.total_seconds() / 3600:.1f} h"


def notify_promotion(
    db: Database,
    *,
    session_id: str,
    contact_id: int,
    now: datetime,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
) -> Release:
    """Tell a contact promoted from the waiting list, through the outbox, right away."""
    announcement_id = announcements.create(
        db,
        kind="promotion",
        texts={},
        audience=Audience(contacts=(contact_id,)),
        due_at=now,
        created_by=ACTOR,
        now=now,
        session_id=session_id,
    )
    return release(db, announcement_id, now=now, grace=IMMEDIATE_GRACE, channels=channels)


def notify_report(
    db: Database, *, about: int, contact_id: int, channel: str, text: str, now: datetime
) -> Release:
    """Send `text` (the final report of announcement `about`, already in the coordinator's
    language) to the coordinator's identity on `channel`, through the outbox, right away."""
    return _tell(
        db,
        "report",
        contact_id=contact_id,
        channel=channel,
        text=text,
        now=now,
        audited=("announcement.report_sent", f"announcement:{about}"),
        key="report",
    )


def notify(
    db: Database, *, contact_id: int, channel: str, text: str, reason: str, now: datetime
) -> Release:
    """Send `text` (a notice already worded in the contact's language, e.g. "your link code
    was used") to the contact's identity on `channel`, through the outbox, right away; urgent,
    since it says something happened to their profile. `reason` names it in the audit."""
    return _tell(
        db,
        "notice",
        contact_id=contact_id,
        channel=channel,
        text=text,
        now=now,
        audited=("notice.sent", f"contact:{contact_id}"),
        key="announcement",
        reason=reason,
    )


def _tell(
    db: Database,
    kind: str,
    *,
    contact_id: int,
    channel: str,
    text: str,
    now: datetime,
    audited: tuple[str, str],
    key: str,
    **details: object,
) -> Release:
    """One urgent message, already worded, to one identity: an announcement of its own
    (so that it goes through the outbox like any other), audited, released at once."""
    announcement_id = announcements.create(
        db,
        kind=kind,
        texts={"*": text},
        audience=Audience(contacts=(contact_id,)),
        due_at=now,
        created_by=ACTOR,
        now=now,
        urgent=True,
    )
    action, subject = audited
    audit.record(
        db, actor=ACTOR, action=action, subject=subject, **{**details, key: announcement_id}
    )
    return release(db, announcement_id, now=now, grace=IMMEDIATE_GRACE, channels=(channel,))

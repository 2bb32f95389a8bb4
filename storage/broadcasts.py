"""What a coordinator does to an announcement, the same from the CLI and from a chat.

Each function makes the library call and writes the audit entry under the coordinator's
name (`cli:<user>`, `telegram:<id>`…), so no front end can forget the audit or do the
work differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage import announcements, audit, deliveries
from storage.audience import DEFAULT_CHANNELS, Audience, preview
from storage.outbox import IMMEDIATE_GRACE, Release, release
from storage.zones import to_utc_text


@dataclass(frozen=True)
class Published:
    announcement_id: int
    recipients: int
    release: Release | None  # None when scheduled for later, or left to the scheduler


def publish(
    db: Database,
    *,
    texts: dict[str, str],
    audience: Audience,
    due_at: datetime,
    created_by: str,
    now: datetime,
    session_id: str | None = None,
    urgent: bool = False,
    default_language: str = "fr",
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    release_now: bool = True,
) -> Published:
    """Create the announcement; when it is due now, write its delivery rows at once — unless
    `release_now` is False: then it stays `scheduled`, due now, and the running bot's scheduler
    releases it within a second, in a worker thread. A chat uses that: its handler runs on the
    bot's event loop, where writing a large audience would hold up every conversation."""
    recipients = sum(preview(db, audience, channels=channels).values())
    announcement_id = announcements.create(
        db,
        texts=texts,
        audience=audience,
        due_at=due_at,
        created_by=created_by,
        now=now,
        session_id=session_id,
        urgent=urgent,
    )
    audit.record(
        db,
        actor=created_by,
        action="announcement.create",
        subject=f"announcement:{announcement_id}",
        audience=audience.describe(),
        due_at=to_utc_text(due_at),
        recipients=recipients,
    )
    outcome = None
    if release_now and due_at <= now:
        outcome = release(
            db,
            announcement_id,
            now=now,
            grace=IMMEDIATE_GRACE,
            channels=channels,
            default_language=default_language,
        )
    return Published(announcement_id, recipients, outcome)


def cancel(
    db: Database, announcement_id: int, *, actor: str, now: datetime, skip_rows: bool = True
) -> bool:
    """Cancel a scheduled announcement (or stop one being sent); False when it is too late.

    The status first, so that a release still writing rows adds no more and a dispatcher
    skips any row it takes; then the pending rows are skipped a batch at a time (the write
    lock is never held for long). On the bot's event loop (`skip_rows=False`) that sweep is
    left to the dispatchers, which skip the rows as they reach them, without a request."""
    if not announcements.set_status(
        db,
        announcement_id,
        "cancelled",
        now=now,
        note="cancelled",
        only_from=("scheduled", "sending"),
    ):
        return False
    if skip_rows:
        deliveries.skip_pending(db, announcement_id, reason="cancelled", now=now)
    audit.record(
        db, actor=actor, action="announcement.cancel", subject=f"announcement:{announcement_id}"
    )
    return True


def report(db: Database, announcement_id: int, *, actor: str) -> deliveries.Report:
    """The delivery counts of an announcement; looking is audited too."""
    result = deliveries.report(db, announcement_id)
    audit.record(
        db, actor=actor, action="announcement.report", subject=f"announcement:{announcement_id}"
    )
    return result

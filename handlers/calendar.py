"""`.ics` files for a session, made with the icalendar library (times in UTC)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from handlers.types import Attachment
from storage.catalogue import Session


def session_ics(session: Session, title: str, *, stamp: datetime) -> Attachment:
    calendar = Calendar()
    calendar.add("prodid", "-//formabot//training sessions//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{session.id}@formabot")
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", title)
    if session.place:
        event.add("location", session.place)
    if session.status == "cancelled":
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return Attachment(f"{session.id}.ics", calendar.to_ical(), "text/calendar")

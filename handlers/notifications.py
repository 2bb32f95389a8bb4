"""Notifications as replies: what an announcement, a reminder or a notice says to one person.

The outbox renders each row here, in the recipient's language, just before sending it, so a
session that moved or was renamed is shown as it is now. Channels render the `Reply`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.i18n import format_span, t
from handlers.sessions import title_of
from handlers.types import Action, Choice, Reply
from storage.announcements import Announcement
from storage.catalog import Session


def _choice(language: str, label: str, name: str, *args: str) -> Choice:
    return Choice(t(language, label), Action(name, tuple(args)))


def render(announcement: Announcement, session: Session | None, language: str,
           zone: ZoneInfo) -> Reply:
    """The message for one recipient of `announcement` (session given when it names one)."""
    if session is None:
        return Reply(announcement.text_for(language), language=language)
    title = title_of(session, language)
    when = format_span(session.starts_at, session.ends_at, zone, language)
    place = session.place
    kind = announcement.kind
    if kind == "confirm_request":
        text = t(language, "Reminder: {title}, {when}, {place}. Will you attend?",
                 title=title, when=when, place=place)
        choices = (_choice(language, "Confirm", "att_yes", session.id),
                   _choice(language, "Can't come", "att_no", session.id))
    elif kind == "reminder":
        text = t(language, "Reminder: {title}, {when}, {place}.", title=title, when=when,
                 place=place)
        choices = (_choice(language, "Details", "s", session.id),)
    elif kind == "cancellation":
        text = t(language, "The session {title} ({when}) is cancelled. We are sorry for the"
                           " inconvenience.", title=title, when=when)
        choices = ()
    elif kind == "promotion":
        text = t(language, "Good news: a seat is free for {title} ({when}). You are now"
                           " registered.", title=title, when=when)
        choices = (_choice(language, "Details", "s", session.id),)
    else:
        text = f"{announcement.text_for(language)}\n\n{title} — {when}"
        choices = (_choice(language, "Register", "reg", session.id),
                   _choice(language, "Details", "s", session.id))
    return Reply(text, choices, language=language)

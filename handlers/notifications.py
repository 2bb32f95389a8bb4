"""Notifications as replies: what an announcement, a reminder or a notice says to one person.

The outbox renders each row here, in the recipient's language, just before sending it, so a
session that moved or was renamed is shown as it is now. Channels render the `Reply`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.i18n import N_, format_span, t, tn
from handlers.reasons import reason_line
from handlers.sessions import title_of
from handlers.types import Action, Choice, Reply
from storage.announcements import Announcement
from storage.catalogue import Session
from storage.deliveries import Report

# What a coordinator reads at the end of a broadcast: a line per outcome that happened.
FINAL_COUNTS = (
    ("sent", N_("Sent: {count}")),
    ("delivered", N_("Delivered: {count}")),
    ("read", N_("Read: {count}")),
    ("failed", N_("Failed: {count}")),
    ("skipped", N_("Skipped: {count}")),
    ("unknown", N_("Unknown: {count}")),
)


def _choice(language: str, label: str, name: str, *args: str) -> Choice:
    return Choice(t(language, label), Action(name, tuple(args)))


def render(
    announcement: Announcement, session: Session | None, language: str, zone: ZoneInfo
) -> Reply:
    """The message for one recipient of `announcement` (session given when it names one)."""
    if session is None:
        return Reply(announcement.text_for(language), language=language)
    title = title_of(session, language)
    when = format_span(session.starts_at, session.ends_at, zone, language)
    place = session.place
    kind = announcement.kind
    choices: tuple[Choice, ...]
    if kind == "confirm_request":
        text = t(
            language,
            "Reminder: {title}, {when}, {place}. Will you attend?",
            title=title,
            when=when,
            place=place,
        )
        choices = (
            _choice(language, N_("Confirm"), "att_yes", session.id),
            _choice(language, N_("Can't come"), "att_no", session.id),
        )
    elif kind == "reminder":
        text = t(
            language, "Reminder: {title}, {when}, {place}.", title=title, when=when, place=place
        )
        choices = (_choice(language, N_("Details"), "s", session.id),)
    elif kind == "cancellation":
        text = t(
            language,
            "The session {title} ({when}) is cancelled. We are sorry for the inconvenience.",
            title=title,
            when=when,
        )
        choices = ()
    elif kind == "promotion":
        text = t(
            language,
            "Good news: a seat is free for {title} ({when}). You are now registered.",
            title=title,
            when=when,
        )
        choices = (_choice(language, N_("Details"), "s", session.id),)
    else:
        text = "\n\n".join(
            (
                announcement.text_for(language),
                t(language, "{title} — {when}", title=title, when=when),
            )
        )
        choices = (
            _choice(language, N_("Register"), "reg", session.id),
            _choice(language, N_("Details"), "s", session.id),
        )
    return Reply(text, choices, language=language)


def final_report(announcement: Announcement, report: Report, language: str) -> str:
    """What the coordinator who started a broadcast is told once it has gone out: the
    counts, and why the rows that did not arrive did not (reasons are the outbox's own
    words, in `language` where they are ours: `handlers.reasons`)."""
    lines = [
        tn(
            language,
            "Announcement #{id} has gone out to {count} recipient.",
            "Announcement #{id} has gone out to {count} recipients.",
            report.total,
            id=announcement.id,
        )
    ]
    if excerpt := _excerpt(announcement.text_for(language)):
        lines.append(t(language, "\u201c{excerpt}\u201d", excerpt=excerpt))
    for status, label in FINAL_COUNTS:
        if report.counts.get(status):
            lines.append(t(language, label, count=report.counts[status]))
            lines += [
                "  " + reason_line(language, reason, number)
                for reason, number in report.reasons.get(status, {}).items()
            ]
    return "\n".join(lines)


def _excerpt(text: str, width: int = 60) -> str:
    """The first line of a text, cut at `width`, so the coordinator knows which one it was."""
    lines = text.strip().splitlines()
    if not lines:
        return ""
    first = lines[0]
    return first[:width] + "…" if len(first) > width or len(lines) > 1 else first

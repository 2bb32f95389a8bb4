"""`/roster SESSION`: who registered for a session, as a CSV file to open in a spreadsheet.

The rows and the CSV layout are the CLI's (`storage.rosters`); the file is UTF-8 with a byte
order mark, because that is how Excel knows to read accents and Arabic names correctly.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from handlers import views
from handlers.context import Context
from handlers.i18n import format_span, t
from handlers.sessions import STATUS_LABELS, title_of
from handlers.types import Action, Attachment, Choice, Reply
from storage import catalog, rosters
from storage.contacts import Contact

SESSIONS_SHOWN = 8
# A roster is also wanted for the session that just ended (attendance, certificates).
RECENT = timedelta(days=30)
STATUS_COLUMN = rosters.COLUMNS.index("status")


def choose(context: Context, contact: Contact, *, lead: str | None = None) -> list[Reply]:
    """`/roster` alone: the sessions to choose from, recent ones included."""
    sessions = catalog.upcoming_sessions(context.db, after=context.now() - RECENT,
                                         limit=SESSIONS_SHOWN)
    choices = [Choice(f"{title_of(session, contact.language)} · "
                      f"{session.starts_at.astimezone(context.zone):%d/%m}",
                      Action("ro", (session.id,))) for session in sessions]
    text = t(contact.language, "Which session's roster? Choose it, or send /roster followed by"
                               " the session's id.")
    return [Reply("\n\n".join(filter(None, (lead, text))), (*choices, views.back_to_menu(contact)),
                  language=views.lang(contact))]


def export(context: Context, contact: Contact, session_id: str, actor: str) -> list[Reply]:
    language = contact.language
    session = catalog.session(context.db, session_id.strip().lower()) if session_id else None
    if session is None:
        if not session_id:
            return choose(context, contact)
        return choose(context, contact, lead=t(language, "There is no session \u201c{id}\u201d.",
                                               id=session_id[:40]))
    rows = rosters.export(context.db, session.id, actor=actor)
    title = title_of(session, language)
    when = format_span(session.starts_at, session.ends_at, context.zone, language)
    if not rows:
        return [views.menu(contact, t(language, "Nobody has registered for {title} ({when})"
                                                " yet.", title=title, when=when))]
    counts = Counter(str(row[STATUS_COLUMN]) for row in rows)
    summary = ", ".join(f"{t(language, STATUS_LABELS.get(status, status))} {number}"
                        for status, number in sorted(counts.items()))
    text = t(language, "Roster of {title} ({when}): {summary}. In all: {count}.",
             title=title, when=when, count=len(rows), summary=summary)
    document = Attachment(f"roster-{session.id}.csv",
                          rosters.to_csv(rows).encode("utf-8-sig"), "text/csv")
    return [Reply(text, (views.back_to_menu(contact),), attachments=(document,),
                  language=views.lang(contact))]

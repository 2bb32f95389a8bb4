"""`/roster SESSION`: who registered for a session, as a CSV file to open in a spreadsheet.

The rows are the CLI's (`storage.rosters`) and so is the file (`document`, which `formabot
roster --csv` writes too): headers, roles and statuses in the reader's language, times local
to the federation's zone, laid out and neutralised by `handlers.exports` so that French Excel
opens it in columns and no cell a person typed can act as a formula.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from handlers import exports, views
from handlers.context import Context
from handlers.coordinator_views import ROLE_LABELS
from handlers.i18n import N_, format_span, t
from handlers.sessions import STATUS_LABELS, title_of
from handlers.types import Action, Attachment, Choice, Reply
from storage import catalogue, rosters
from storage.contacts import Contact
from storage.zones import from_utc_text

SESSIONS_SHOWN = 8
# A roster is also wanted for the session that just ended (attendance, certificates).
RECENT = timedelta(days=30)
STATUS_COLUMN = rosters.COLUMNS.index("status")
# The header of each of `rosters.COLUMNS`, in the reader's language.
HEADERS = (
    N_("Name"),
    N_("Company"),
    N_("Role"),
    N_("Phone"),
    N_("Status"),
    N_("Registered on"),
    N_("Confirmed on"),
    N_("Declined on"),
)
TIME_COLUMNS = frozenset(
    rosters.COLUMNS.index(column) for column in ("registered_at", "confirmed_at", "declined_at")
)
ROLE_COLUMN = rosters.COLUMNS.index("role")
# Local date and time as each language's spreadsheet reads them as a date (day first in
# Morocco and France, Latin digits, 24-hour clock).
TIME_FORMATS = {"fr": "%d/%m/%Y %H:%M", "ar": "%d/%m/%Y %H:%M", "en": "%Y-%m-%d %H:%M"}


def document(
    session_id: str, rows: list[rosters.Row], language: str | None, zone: ZoneInfo
) -> Attachment:
    """The roster as the CSV file a coordinator opens: `roster-<session>.csv`."""
    table = [
        [_cell(index, value, language, zone) for index, value in enumerate(row)] for row in rows
    ]
    content = exports.csv_document([t(language, header) for header in HEADERS], table)
    return Attachment(f"roster-{session_id}.csv", content, exports.MIME_TYPE)


def _cell(index: int, value: str | None, language: str | None, zone: ZoneInfo) -> str:
    if value is None or value == "":
        return ""
    if index in TIME_COLUMNS:
        return (
            from_utc_text(value)
            .astimezone(zone)
            .strftime(TIME_FORMATS.get(language or "fr", TIME_FORMATS["fr"]))
        )
    if index == STATUS_COLUMN and value in STATUS_LABELS:
        return t(language, STATUS_LABELS[value])
    if index == ROLE_COLUMN and value in ROLE_LABELS:
        return t(language, ROLE_LABELS[value])
    return value


def choose(context: Context, contact: Contact, *, lead: str | None = None) -> list[Reply]:
    """`/roster` alone: the sessions to choose from, recent ones included."""
    sessions = catalogue.upcoming_sessions(
        context.db, after=context.now() - RECENT, limit=SESSIONS_SHOWN
    )
    choices = [
        Choice(
            f"{title_of(session, contact.language)} · "
            f"{session.starts_at.astimezone(context.zone):%d/%m}",
            Action("ro", (session.id,)),
        )
        for session in sessions
    ]
    text = t(
        contact.language,
        "Which session's roster? Choose it, or send /roster followed by the session's id.",
    )
    return [
        Reply(
            "\n\n".join(filter(None, (lead, text))),
            (*choices, views.back_to_menu(contact)),
            language=views.lang(contact),
        )
    ]


def export(context: Context, contact: Contact, session_id: str, actor: str) -> list[Reply]:
    language = contact.language
    session = catalogue.session(context.db, session_id.strip().lower()) if session_id else None
    if session is None:
        if not session_id:
            return choose(context, contact)
        return choose(
            context,
            contact,
            lead=t(language, "There is no session \u201c{id}\u201d.", id=session_id[:40]),
        )
    rows = rosters.export(context.db, session.id, actor=actor)
    title = title_of(session, language)
    when = format_span(session.starts_at, session.ends_at, context.zone, language)
    if not rows:
        return [
            views.menu(
                contact,
                t(
                    language,
                    "Nobody has registered for {title} ({when}) yet.",
                    title=title,
                    when=when,
                ),
            )
        ]
    counts = Counter(str(row[STATUS_COLUMN]) for row in rows)
    summary = ", ".join(
        f"{t(language, STATUS_LABELS.get(status, status))} {number}"
        for status, number in sorted(counts.items())
    )
    text = t(
        language,
        "Roster of {title} ({when}): {summary}. In all: {count}.",
        title=title,
        when=when,
        count=len(rows),
        summary=summary,
    )
    attachment = document(session.id, rows, language, context.zone)
    return [
        Reply(
            text,
            (views.back_to_menu(contact),),
            attachments=(attachment,),
            language=views.lang(contact),
        )
    ]

"""The values filled into an approved template (`ContentVariables`), per notification kind.

Templates are written once in Twilio's Content Template Builder with numbered placeholders;
this is the contract between them and formabot (docs/whatsapp.md, "The 24-hour window and
templates"):

- announcement: {{1}} the announcement text, {{2}} the session title, {{3}} its dates
- reminder, confirm_request: {{1}} title, {{2}} dates, {{3}} place
- cancellation, promotion: {{1}} title, {{2}} dates

WhatsApp refuses a variable with a line break, a tab or more than four spaces in a row, so
every value is one line. confirm_request templates carry two quick-reply buttons whose ids
are `att_yes` and `att_no`: pressed, they come back as inbound `ButtonPayload`s.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from handlers.i18n import format_span
from handlers.sessions import title_of
from storage.announcements import Announcement
from storage.catalogue import Session

VALUE_MAX = 1_000


def template_value(text: str) -> str:
    """`text` as WhatsApp takes a variable: whitespace runs as one space, at most VALUE_MAX."""
    return " ".join(text.split())[:VALUE_MAX]


def content_variables(
    announcement: Announcement, session: Session | None, language: str, zone: ZoneInfo
) -> str:
    """The JSON object of template variables for one recipient."""
    values: list[str] = []
    if announcement.kind == "announcement":
        values.append(announcement.text_for(language))
    if session is not None:
        values += [
            title_of(session, language),
            format_span(session.starts_at, session.ends_at, zone, language),
        ]
        if announcement.kind in ("reminder", "confirm_request"):
            values.append(session.place)
    elif announcement.kind != "announcement":
        values.append(announcement.text_for(language))
    return json.dumps(
        {str(number): template_value(value) or "-" for number, value in enumerate(values, start=1)},
        ensure_ascii=False,
    )

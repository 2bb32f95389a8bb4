"""`/report [ID]`: what became of an announcement, as the CLI's `formabot report` counts it.

Without an id, the latest announcement that has gone out or is going out: a scheduled one
has nothing to count yet, and a withdrawn or missed one is not what "how did it go?" asks.
The counts come from `storage.broadcasts.report`, which audits the look.
"""

from __future__ import annotations

from handlers import views
from handlers.context import Context
from handlers.i18n import N_, format_when, t
from handlers.notifications import FINAL_COUNTS
from handlers.reasons import reason_line
from handlers.types import Reply, whole_number
from storage import announcements, broadcasts
from storage.announcements import Announcement
from storage.contacts import Contact

ANNOUNCEMENT_STATUS = {
    "scheduled": N_("scheduled"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "cancelled": N_("withdrawn"),
    "missed": N_("missed"),
}
# The six counts always shown (a zero is information too), then the ones still moving.
COUNTS = FINAL_COUNTS
IN_PROGRESS = ("pending", "sending")


GONE_OUT = ("sending", "sent")


def _latest(context: Context) -> Announcement | None:
    rows = announcements.listing(context.db, kinds=("announcement",), statuses=GONE_OUT, limit=1)
    return rows[0] if rows else None


def show(context: Context, contact: Contact, argument: str, actor: str) -> list[Reply]:
    language = contact.language
    number = whole_number(argument.lstrip("#"))
    if argument and number is None:
        return [
            views.menu(
                contact,
                t(language, "Usage: /report, or /report followed by an announcement number."),
            )
        ]
    if number is not None:
        row = announcements.get(context.db, number)
        if row is None:
            return [views.menu(contact, t(language, "There is no announcement #{id}.", id=number))]
    else:
        row = _latest(context)
        if row is None:
            return [views.menu(contact, t(language, "No announcement has gone out yet."))]
    result = broadcasts.report(context.db, row.id, actor=actor)
    lines = [
        t(
            language,
            "Announcement #{id}, {status}, {when}:",
            id=row.id,
            status=t(language, ANNOUNCEMENT_STATUS.get(row.status, row.status)),
            when=format_when(row.due_at, context.zone, language),
        )
    ]
    for status, label in COUNTS:
        lines.append(t(language, label, count=result.counts.get(status, 0)))
        lines += [
            "    " + reason_line(language, reason, number)
            for reason, number in result.reasons.get(status, {}).items()
        ]
    waiting = sum(result.counts.get(status, 0) for status in IN_PROGRESS)
    if waiting:
        lines.append(t(language, "Still to send: {count}", count=waiting))
    return [
        Reply(
            "\n".join(lines),
            (views.choice(contact, "Refresh", "rp", str(row.id)), views.back_to_menu(contact)),
            replaces_menu=True,
            language=views.lang(contact),
        )
    ]

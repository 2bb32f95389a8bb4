"""`/scheduled`: the announcements waiting for their time, each with a Cancel button.

Cancelling asks once more (a tap on a phone is easily a mistake) and then goes through the
same library call as `formabot announcements cancel`, audit entry included.
"""

from __future__ import annotations

from handlers import coordinator_views, views
from handlers.context import Context
from handlers.i18n import format_when, t, tn
from handlers.types import Action, Choice, Reply, whole_number
from storage import announcements, broadcasts
from storage.announcements import Announcement
from storage.contacts import Contact

SHOWN = 10


def _waiting(context: Context) -> list[Announcement]:
    """Coordinators' broadcasts only: reminders are derived from sessions, not cancelled here."""
    return [row for row in announcements.scheduled(context.db) if row.kind == "announcement"]


def _line(context: Context, contact: Contact, row: Announcement) -> str:
    language = contact.language
    return (
        f"#{row.id} — {format_when(row.due_at, context.zone, language)} — "
        f"{coordinator_views.audience(context, language, row.audience)} — "
        f"\u201c{coordinator_views.excerpt(row.text_for(views.lang(contact)))}\u201d"
    )


def listing(
    context: Context, contact: Contact, *, lead: str | None = None, replaces_menu: bool = False
) -> list[Reply]:
    rows = _waiting(context)
    language = contact.language
    head = [lead] if lead else []
    if not rows:
        return [
            views.menu(contact, "\n\n".join([*head, t(language, "No announcement is scheduled.")]))
        ]
    lines = [t(language, "Scheduled announcements:")]
    lines += [_line(context, contact, row) for row in rows[:SHOWN]]
    if len(rows) > SHOWN:
        lines.append(tn(language, "…and {count} more.", "…and {count} more.", len(rows) - SHOWN))
    choices = [
        Choice(t(language, "Cancel #{id}", id=row.id), Action("sc_ask", (str(row.id),)))
        for row in rows[:SHOWN]
    ]
    return [
        Reply(
            "\n\n".join([*head, "\n".join(lines)]),
            (*choices, views.back_to_menu(contact)),
            replaces_menu=replaces_menu,
            language=views.lang(contact),
        )
    ]


def _scheduled(context: Context, argument: str) -> Announcement | None:
    number = whole_number(argument)
    row = announcements.get(context.db, number) if number is not None else None
    return row if row is not None and row.kind == "announcement" else None


def ask_cancel(context: Context, contact: Contact, argument: str) -> list[Reply]:
    row = _scheduled(context, argument)
    if row is None or row.status != "scheduled":
        return listing(context, contact, lead=t(contact.language, "This button has expired."))
    return [
        Reply(
            t(contact.language, "Cancel this announcement? It will not be sent.")
            + "\n\n"
            + _line(context, contact, row),
            (
                views.choice(contact, "Yes, withdraw it", "sc_yes", str(row.id)),
                views.choice(contact, "No, keep it scheduled", "sc_list"),
            ),
            replaces_menu=True,
            language=views.lang(contact),
        )
    ]


def cancel(context: Context, contact: Contact, argument: str, actor: str) -> list[Reply]:
    row = _scheduled(context, argument)
    if row is None:
        return listing(context, contact, lead=t(contact.language, "This button has expired."))
    if not broadcasts.cancel(
        context.db, row.id, actor=actor, now=context.now(), skip_rows=False
    ):  # handlers run on the bot's loop
        lead = t(
            contact.language,
            "Announcement #{id} can no longer be cancelled: it has"
            " gone out or was cancelled already.",
            id=row.id,
        )
    else:
        lead = t(
            contact.language, "Announcement #{id} is cancelled: it will not be sent.", id=row.id
        )
    return listing(context, contact, lead=lead, replaces_menu=True)

"""Confirm or decline attendance, from the buttons of the confirm-request reminder.

A decline frees the seat at once; the first waitlisted person takes it and is told through
the outbox (a promotion notice), like every other notification.
"""

from __future__ import annotations

from handlers import views
from handlers.context import Context
from handlers.i18n import t
from handlers.sessions import title_of
from handlers.types import Reply
from storage import audit, catalogue, outbox, registrations
from storage.contacts import Contact


def confirm(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    if not registrations.confirm(context.db, contact.id, session.id):
        return [views.menu(contact, t(contact.language, "You hold no seat for this session."))]
    audit.record(
        context.db,
        actor=f"contact:{contact.id}",
        action="attendance.confirm",
        subject=f"session:{session.id}",
    )
    return [
        views.menu(
            contact,
            t(
                contact.language,
                "Thank you, your attendance at {title} is confirmed.",
                title=title_of(session, contact.language),
            ),
        )
    ]


def decline(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    outcome = registrations.decline(context.db, contact.id, session.id, session.capacity)
    if not outcome.declined:
        return [views.menu(contact, t(contact.language, "You hold no seat for this session."))]
    audit.record(
        context.db,
        actor=f"contact:{contact.id}",
        action="attendance.decline",
        subject=f"session:{session.id}",
        promoted=outcome.promoted_contact_id,
    )
    if outcome.promoted_contact_id is not None:
        outbox.notify_promotion(
            context.db,
            session_id=session.id,
            contact_id=outcome.promoted_contact_id,
            now=context.now(),
            channels=context.channels,
        )
    return [
        views.menu(
            contact,
            t(
                contact.language,
                "Noted: your seat for {title} is released. Thank you for telling us.",
                title=title_of(session, contact.language),
            ),
        )
    ]

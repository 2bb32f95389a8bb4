"""Stop, start again, and forget me: the person's control over their data and notifications."""

from __future__ import annotations

from handlers import views
from handlers.context import Context
from handlers.i18n import t
from handlers.types import Reply
from storage import audit
from storage import contacts as contacts_store
from storage.contacts import Contact
from storage.zones import to_utc_text


def stop(context: Context, contact: Contact) -> list[Reply]:
    """Opt out of every notification, at once, and say so in one message."""
    if contact.opted_out_at is None:
        contacts_store.update(context.db, contact.id, opted_out_at=to_utc_text(context.now()))
        audit.record(context.db, actor=f"contact:{contact.id}", action="privacy.opt_out",
                     subject=f"contact:{contact.id}")
    return [
        views.say(
            contact,
            "Done: you will receive no more notifications. Send /start if you want them back.",
            views.choice(contact, "Turn notifications back on", "start"),
        )
    ]


def start_again(context: Context, contact: Contact) -> Contact:
    """Opt back in after a stop; consent given earlier still stands."""
    if contact.opted_out_at is not None:
        contacts_store.update(context.db, contact.id, opted_out_at=None)
        audit.record(context.db, actor=f"contact:{contact.id}", action="privacy.opt_in",
                     subject=f"contact:{contact.id}")
    fresh = contacts_store.get(context.db, contact.id)
    assert fresh is not None
    return fresh


def ask_forget(context: Context, contact: Contact) -> list[Reply]:
    contacts_store.set_state(context.db, contact.id, {**contact.state, "confirm_forget": True})
    return [
        views.say(
            contact,
            "This erases your name, phone number, company, topics and the link between you and"
            " your registrations. It cannot be undone. Erase your data?",
            views.choice(contact, "Yes, erase my data", "forget_yes"),
            views.choice(contact, "No, keep my data", "forget_no"),
        )
    ]


def forget(context: Context, contact: Contact) -> list[Reply]:
    """Erase after the confirmation was asked for; a stray button alone erases nothing."""
    if not contact.state.get("confirm_forget"):
        return ask_forget(context, contact)
    goodbye = t(
        contact.language,
        "Your personal data has been erased. Goodbye! If you write again, we will start afresh.",
    )
    contacts_store.erase(context.db, contact.id)
    return [Reply(goodbye, language=views.lang(contact))]


def keep(context: Context, contact: Contact) -> list[Reply]:
    state = {key: value for key, value in contact.state.items() if key != "confirm_forget"}
    contacts_store.set_state(context.db, contact.id, state)
    return [views.menu(contact, t(contact.language, "Nothing was erased."))]

"""Stop, start again, and forget me: the person's control over their data and notifications."""

from __future__ import annotations

from handlers import onboarding, views
from handlers.context import Context
from handlers.i18n import t
from handlers.types import Reply
from storage import contacts as contacts_store
from storage.contacts import Contact
from storage.zones import to_utc_text


def decide(context: Context, contact: Contact, *, agreed: bool, via: str) -> Contact:
    """Store what the person said about notifications (yes or no), audited, and return the
    contact as stored: every reply about notifications is then worded from what this returns.

    `via` says how it came (consent button, stop keyword…) for the audit; a consent records
    the question's wording in the person's language, as the law asks.
    """
    details: dict[str, str] = {"language": views.lang(contact)}
    if agreed:
        details["wording"] = onboarding.consent_question(context, contact).text
    contacts_store.set_consent(
        context.db, contact.id, agreed=agreed, at=to_utc_text(context.now()), via=via, **details
    )
    fresh = contacts_store.get(context.db, contact.id)
    assert fresh is not None
    return fresh


def state_line(contact: Contact) -> str:
    """One sentence saying whether we send this person notifications, from the stored state."""
    if contact.may_be_notified:
        return t(
            contact.language,
            "Notifications are on: you will receive the training"
            " announcements and reminders. Send STOP at any time to"
            " stop them.",
        )
    if contact.consent_at is None:
        return t(
            contact.language,
            "Understood: we will not send you any notifications. You can"
            " still look at the sessions and register. If you change"
            " your mind, send /start.",
        )
    return t(
        contact.language,
        "Done: you will receive no more notifications. Send /start if you want them back.",
    )


def then_continue(context: Context, contact: Contact, lead: str) -> list[Reply]:
    """`lead`, then what the person was doing: the onboarding question still open, or the
    menu, so that no answer about notifications leaves anyone without a next step."""
    if onboarding.next_step(context, contact) is not None:
        return onboarding.prompt(context, contact, lead=lead)
    return [views.menu(contact, lead)]


def answer_consent(context: Context, contact: Contact, answer: str) -> list[Reply]:
    """The consent question's buttons, pressed now or long after (Telegram keeps old buttons;
    a typed number can press one on WhatsApp).

    A no is always applied: it is an objection, honoured at once. A yes gives consent to
    someone who has not given it; it does not quietly undo a STOP: that person is asked
    whether they want notifications back.
    """
    if answer == "no":
        contact = decide(context, contact, agreed=False, via="consent button")
        return then_continue(context, contact, state_line(contact))
    if answer != "yes":
        return then_continue(context, contact, t(contact.language, "This button has expired."))
    if contact.consent_at is not None and contact.opted_out_at is not None:
        return [
            views.say(
                contact,
                "You asked us to stop sending you notifications. Do you want them back?",
                views.choice(contact, "Turn notifications back on", "start"),
                views.choice(contact, "Keep them off", "menu"),
            )
        ]
    asked = onboarding.next_step(context, contact) == "consent"
    contact = decide(context, contact, agreed=True, via="consent button")
    lead = t(contact.language, "Thank you.") if asked else state_line(contact)
    return then_continue(context, contact, lead)


def stop(context: Context, contact: Contact) -> list[Reply]:
    """Opt out of every notification, at once, and say so in one message."""
    contact = decide(context, contact, agreed=False, via="stop")
    return then_continue(context, contact, state_line(contact))


def start_again(context: Context, contact: Contact) -> Contact:
    """Opt back in after a stop (what /start and START are said to do); consent given earlier
    still stands. Someone who never consented is not opted in by this: they are asked."""
    if contact.consent_at is None:
        return contact
    return decide(context, contact, agreed=True, via="start")


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

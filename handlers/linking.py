"""One person, two channels: linking a Telegram and a WhatsApp identity into one contact.

Two proofs are accepted: the phone number shared on Telegram (verified by Telegram) matching
a contact's number, or a one-time code — `/link` (or LINK) on one channel gives a 6-digit code
valid ten minutes, and `LINK 123456` said on the other merges the two. Once linked, the person
chooses where notifications go; by default, the channel they used last.
"""

from __future__ import annotations

from handlers import brand, onboarding, views
from handlers.context import Context
from handlers.i18n import N_, t
from handlers.types import Reply
from storage import contacts as contacts_store
from storage import links
from storage.contacts import Contact

CHANNEL_NAMES = {"telegram": N_("Telegram"), "whatsapp": N_("WhatsApp")}


def link(context: Context, contact: Contact, argument: str, channel: str) -> list[Reply]:
    """`/link` (a code to say on the other channel) or `/link 123456` (say it here)."""
    if channel not in CHANNEL_NAMES:
        return [views.say(contact, "Linking works between Telegram and WhatsApp.")]
    if argument:
        return _redeem(context, contact, argument)
    if links.channels_of(context.db, contact.id) >= set(CHANNEL_NAMES):
        return [_preference_question(contact, lead=t(
            contact.language, "Your Telegram and WhatsApp are already linked."))]
    code = links.issue_code(context.db, contact.id, channel, now=context.now())
    other = t(contact.language, CHANNEL_NAMES["whatsapp" if channel == "telegram" else "telegram"])
    text = brand.link_instruction(context.brand, contact.language, code=code, other=other)
    return [Reply(text, language=views.lang(contact))]


def _redeem(context: Context, contact: Contact, code: str) -> list[Reply]:
    found = links.redeem_code(context.db, code.strip(), now=context.now())
    if found is None:
        return [views.say(contact, "This code is not valid or has expired. Send LINK on your"
                                   " other channel to get a new one.")]
    issuer_id, _ = found
    if issuer_id == contact.id:
        return [views.say(contact, "Send this code on your other channel, not here.")]
    shared = links.channels_of(context.db, issuer_id) & links.channels_of(context.db, contact.id)
    if shared:
        channel = t(contact.language, CHANNEL_NAMES[min(shared)])
        return [views.say(contact, "These two profiles both use {channel}: they cannot be"
                                   " linked.", channel=channel)]
    issuer = contacts_store.get(context.db, issuer_id)
    if issuer is None:
        return [views.say(contact, "This code is not valid or has expired. Send LINK on your"
                                   " other channel to get a new one.")]
    keep, absorb = issuer, contact
    if (onboarding.next_step(context, issuer) is not None
            and onboarding.next_step(context, contact) is None):
        keep, absorb = contact, issuer
    return _merged(context, keep, absorb)


def can_absorb(context: Context, contact: Contact, owner: Contact) -> bool:
    """Whether `contact` may disappear into `owner` with nothing lost: one Telegram or
    WhatsApp identity only, on a channel `owner` is not on, and no registration or
    notification of its own."""
    identities = contacts_store.identities_of(context.db, contact.id)
    return (len(identities) == 1 and identities[0].channel in CHANNEL_NAMES
            and identities[0].channel not in links.channels_of(context.db, owner.id)
            and not links.has_history(context.db, contact.id))


def merge_by_phone(context: Context, owner: Contact, contact: Contact) -> list[Reply]:
    """The phone shared here is `owner`'s: this identity joins that profile."""
    return _merged(context, owner, contact)


def _merged(context: Context, keep: Contact, absorb: Contact) -> list[Reply]:
    links.merge(context.db, keep=keep.id, absorb=absorb.id, actor=f"contact:{absorb.id}")
    kept = contacts_store.get(context.db, keep.id)
    assert kept is not None
    lead = t(kept.language, "Done: your Telegram and WhatsApp now share one profile.")
    if onboarding.next_step(context, kept) is not None:
        return onboarding.prompt(context, kept, lead=lead)
    return [_preference_question(kept, lead=lead)]


def _preference_question(contact: Contact, *, lead: str) -> Reply:
    question = t(contact.language, "Where should notifications reach you?")
    return Reply(
        text=f"{lead}\n\n{question}",
        choices=(views.choice(contact, "On Telegram", "pref", "telegram"),
                 views.choice(contact, "On WhatsApp", "pref", "whatsapp"),
                 views.choice(contact, "Where I wrote last", "pref", "last")),
        language=views.lang(contact),
    )


def prefer(context: Context, contact: Contact, choice: str) -> list[Reply]:
    """Record where notifications go first; the other channel stays the fallback."""
    if choice == "last":
        links.set_preferred_channel(context.db, contact.id, None)
        return [views.menu(contact, t(contact.language, "Notifications will reach you where"
                                                        " you wrote last."))]
    if choice not in CHANNEL_NAMES:
        return [views.menu(contact, t(contact.language, "This button has expired."))]
    links.set_preferred_channel(context.db, contact.id, choice)
    return [views.menu(contact, t(contact.language, "Notifications will reach you on"
                                                    " {channel}.",
                                  channel=t(contact.language, CHANNEL_NAMES[choice])))]

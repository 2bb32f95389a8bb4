"""One person, two channels: linking a Telegram and a WhatsApp identity into one contact.

Two proofs are accepted: the phone number shared on Telegram (verified by Telegram) matching
a contact's number, or a one-time code — `/link` (or LINK) on one channel gives a 10-digit code
(shown `48291-03756`) valid ten minutes, and `LINK 48291-03756` said on the other merges the
two. Once linked, the person chooses where notifications go; by default, the channel they used
last.

A code is a key to someone's profile, so (storage.account_links) an identity that says five wrong
codes within an hour cannot link for an hour, and the person whose code was used is told on
the channel where they asked for it, through the outbox like every other notice: if it was
not them, they know at once.
"""

from __future__ import annotations

import unicodedata

from handlers import brand, onboarding, views
from handlers.context import Context
from handlers.i18n import CHANNEL_NAMES, t
from handlers.types import Reply
from storage import account_links, outbox
from storage import contacts as contacts_store
from storage.contacts import Contact


def link(
    context: Context, contact: Contact, argument: str, channel: str, address: str
) -> list[Reply]:
    """`/link` (a code to say on the other channel) or `/link 48291-03756` (say it here)."""
    if channel not in account_links.CHANNELS:
        return [views.say(contact, "Linking works between Telegram and WhatsApp.")]
    if argument:
        return _redeem(context, contact, argument, channel, address)
    if account_links.channels_of(context.db, contact.id) >= set(account_links.CHANNELS):
        return [
            _preference_question(
                contact, lead=t(contact.language, "Your Telegram and WhatsApp are already linked.")
            )
        ]
    code = account_links.issue_code(context.db, contact.id, channel, now=context.now())
    other = t(contact.language, CHANNEL_NAMES["whatsapp" if channel == "telegram" else "telegram"])
    text = brand.link_instruction(
        context.brand, contact.language, code=shown_code(code), other=other
    )
    return [Reply(text, language=views.lang(contact))]


def shown_code(code: str) -> str:
    """`4829103756` as `48291-03756`: easier to read and type, and one run of digits even in
    an Arabic sentence (a space would let the two halves swap places there)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def typed_code(text: str) -> str | None:
    """The digits of a code as typed: with or without its dash or spaces, in Latin or
    Arabic-Indic digits; None when it holds anything else or not CODE_DIGITS digits."""
    digits = [str(unicodedata.decimal(character)) for character in text if character.isdecimal()]
    if (
        any(
            not (character.isdecimal() or character.isspace() or character in "-\u2010\u2011")
            for character in text
        )
        or len(digits) != account_links.CODE_DIGITS
    ):
        return None
    return "".join(digits)


def _redeem(
    context: Context, contact: Contact, text: str, channel: str, address: str
) -> list[Reply]:
    code = typed_code(text)
    if code is None:  # not a code at all: no guess to count
        return [
            views.say(
                contact,
                "A link code has {count} digits, like {example}. Send LINK"
                " on your other channel to get one.",
                count=account_links.CODE_DIGITS,
                example=shown_code("4829103756"),
            )
        ]
    found = account_links.redeem_code(
        context.db,
        code,
        channel=channel,
        address=address,
        now=context.now(),
        actor=f"contact:{contact.id}",
    )
    if isinstance(found, account_links.Refused) and found.locked_until is not None:
        until = found.locked_until.astimezone(context.zone)
        return [
            views.say(
                contact,
                "Too many wrong codes: for your security, linking is paused"
                " until {time}. Then send LINK on your other channel to get"
                " a new code.",
                time=until.strftime("%H:%M"),
            )
        ]
    if isinstance(found, account_links.Refused):
        return [
            views.say(
                contact,
                "This code is not valid or has expired. Send LINK on your"
                " other channel to get a new one.",
            )
        ]
    issuer_id = found.contact_id
    if issuer_id == contact.id:
        return [views.say(contact, "Send this code on your other channel, not here.")]
    shared = account_links.channels_of(context.db, issuer_id) & account_links.channels_of(
        context.db, contact.id
    )
    if shared:
        channel = t(contact.language, CHANNEL_NAMES[min(shared)])
        return [
            views.say(
                contact,
                "These two profiles both use {channel}: they cannot be linked.",
                channel=channel,
            )
        ]
    issuer = contacts_store.get(context.db, issuer_id)
    if issuer is None:
        return [
            views.say(
                contact,
                "This code is not valid or has expired. Send LINK on your"
                " other channel to get a new one.",
            )
        ]
    keep, absorb = issuer, contact
    if (
        onboarding.next_step(context, issuer) is not None
        and onboarding.next_step(context, contact) is None
    ):
        keep, absorb = contact, issuer
    replies = _merged(context, keep, absorb)
    _tell_the_owner(context, keep.id, found.channel, channel, address)
    return replies


def _tell_the_owner(
    context: Context, contact_id: int, owner_channel: str, used_on: str, address: str
) -> None:
    """The person who asked for the code is told, on the channel where they asked, that it
    was used and where: if it was not them, they know at once whom to warn."""
    owner = contacts_store.get(context.db, contact_id)
    if owner is None:
        return
    where = CHANNEL_NAMES[used_on]
    if used_on == "whatsapp":  # the number says who; a Telegram user id says nothing
        where = f"{where} \u2068{address}\u2069"
    text = t(
        owner.language,
        "Your link code has just been used on {where}: your Telegram and"
        " WhatsApp now share one profile. If this was not you, tell the"
        " training team right away.",
        where=where,
    )
    outbox.notify(
        context.db,
        contact_id=owner.id,
        channel=owner_channel,
        text=text,
        reason="link_code_used",
        now=context.now(),
    )


def can_absorb(context: Context, contact: Contact, owner: Contact) -> bool:
    """Whether `contact` may disappear into `owner` with nothing lost: one Telegram or
    WhatsApp identity only, on a channel `owner` is not on, and no registration or
    notification of its own."""
    identities = contacts_store.identities_of(context.db, contact.id)
    return (
        len(identities) == 1
        and identities[0].channel in account_links.CHANNELS
        and identities[0].channel not in account_links.channels_of(context.db, owner.id)
        and not account_links.has_history(context.db, contact.id)
    )


def merge_by_phone(context: Context, owner: Contact, contact: Contact) -> list[Reply]:
    """The phone shared here is `owner`'s: this identity joins that profile."""
    return _merged(context, owner, contact)


def _merged(context: Context, keep: Contact, absorb: Contact) -> list[Reply]:
    account_links.merge(context.db, keep=keep.id, absorb=absorb.id, actor=f"contact:{absorb.id}")
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
        choices=(
            views.choice(contact, "On Telegram", "pref", "telegram"),
            views.choice(contact, "On WhatsApp", "pref", "whatsapp"),
            views.choice(contact, "Where I wrote last", "pref", "last"),
        ),
        language=views.lang(contact),
    )


def prefer(context: Context, contact: Contact, choice: str) -> list[Reply]:
    """Record where notifications go first; the other channel stays the fallback."""
    if choice == "last":
        account_links.set_preferred_channel(context.db, contact.id, None)
        return [
            views.menu(
                contact, t(contact.language, "Notifications will reach you where you wrote last.")
            )
        ]
    if choice not in account_links.CHANNELS:
        return [views.menu(contact, t(contact.language, "This button has expired."))]
    account_links.set_preferred_channel(context.db, contact.id, choice)
    return [
        views.menu(
            contact,
            t(
                contact.language,
                "Notifications will reach you on {channel}.",
                channel=t(contact.language, CHANNEL_NAMES[choice]),
            ),
        )
    ]

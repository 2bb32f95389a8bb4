"""Maps what a person said or pressed to the feature that answers it.

Every input gets an answer in the person's language: an unknown command, a stale button or
text we do not understand all lead back to the menu, and an unexpected error is logged and
answered politely rather than surfacing as a traceback. When the database cannot take a
write (a full disk, a lock held past the wait), the person is asked to try again in a few
minutes, in their language when it can still be read: nothing they said was lost to a bug.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from handlers import (
    attendance,
    brand,
    coordination,
    coordinator_router,
    flood,
    keywords,
    linking,
    onboarding,
    privacy,
    sessions,
    topics,
    views,
)
from handlers.commands import coordinator_commands, public_commands
from handlers.context import Context
from handlers.i18n import N_, t
from handlers.onboarding import LANGUAGE_NAMES
from handlers.phones import InvalidPhone, normalize_phone
from handlers.types import Inbound, Reply, whole_number
from storage import contacts as contacts_store
from storage.contacts import Contact
from storage.db import unavailable

log = logging.getLogger(__name__)

_SESSION_PAYLOAD = re.compile(r"^session_([a-z0-9][a-z0-9_-]{0,39})$")
_TOPIC_PAYLOAD = re.compile(r"^topic_([a-z0-9][a-z0-9_-]{0,29})$")
TEXT_MAX = 4_000

Feature = Callable[[Context, Contact, tuple[str, ...]], list[Reply]]


SORRY = N_("Sorry, something went wrong on our side. Please try again.")
TRY_LATER = N_("Sorry, we cannot take your message right now. Please try again in a few minutes.")


def handle(context: Context, inbound: Inbound) -> list[Reply]:
    """The replies to one inbound message or button press."""
    held = flood.screen(context, inbound)  # someone writing too fast: nothing else runs
    if held is not None:
        return held
    try:
        contact, created = contacts_store.resolve(
            context.db, channel=inbound.channel, address=inbound.address, chat_id=inbound.chat_id
        )
    except Exception as error:
        if unavailable(error):
            return try_later(context, inbound, error)
        log.exception(
            "handler failed before the contact was known", extra={"channel": inbound.channel}
        )
        language = context.default_language
        return [Reply(t(language, SORRY), language=language)]
    try:
        return _route(context, contact, inbound, created)
    except Exception as error:
        if unavailable(error):
            return try_later(context, inbound, error)
        log.exception(
            "handler failed for contact %s", contact.id, extra={"channel": inbound.channel}
        )
        return [views.menu(contact, t(contact.language, SORRY))]


def try_later(context: Context, inbound: Inbound, error: BaseException) -> list[Reply]:
    """The answer while the database cannot take a write (`storage.db.unavailable`): "try
    again in a few minutes" in the person's language — read if the database still reads,
    else the default — and one log line for the operator, without a traceback: the cause is
    the disk or another writer, not this code."""
    log.warning(
        "database %s (%s): a %s message was answered 'try again later'",
        unavailable(error),
        error,
        inbound.channel,
        extra={"channel": inbound.channel},
    )
    language = context.default_language
    try:
        found = contacts_store.identity(context.db, inbound.channel, inbound.address)
        contact = contacts_store.get(context.db, found.contact_id) if found else None
        if contact is not None and contact.language:
            language = contact.language
    except Exception as unread:  # a database that no longer reads either: the default
        log.debug("language of the person not read: %s", unread)
    return [Reply(t(language, TRY_LATER), language=language)]


def _route(context: Context, contact: Contact, inbound: Inbound, created: bool) -> list[Reply]:
    inbound = keywords.as_command(inbound)  # MENU, STOP, ARRÊT, توقف… at any step
    if coordinator_router.claims(context, contact, inbound):
        return coordinator_router.handle(context, contact, inbound)
    if inbound.command is not None and inbound.command.lower() == "link":
        return _then_menu(
            context,
            contact,
            linking.link(
                context, contact, inbound.argument.strip(), inbound.channel, inbound.address
            ),
        )
    if inbound.command is not None:
        return _command(
            context, contact, inbound.command.lower(), inbound.argument.strip(), inbound
        )
    if inbound.action is not None:
        return _action(context, contact, inbound.action.name, inbound.action.args, inbound)
    if inbound.phone is not None:
        return _phone(context, contact, inbound.phone)
    return _text(context, contact, inbound.text or "", created)


def _then_menu(context: Context, contact: Contact, replies: list[Reply]) -> list[Reply]:
    """`replies`, their last one carrying the menu when it offers no way on by itself (a
    refused code, a message to say on the other channel) and onboarding is done."""
    if not replies or replies[-1].choices or onboarding.next_step(context, contact) is not None:
        return replies
    fresh = contacts_store.get(context.db, contact.id)
    if fresh is None:
        return replies
    return [*replies[:-1], views.menu(fresh, replies[-1].text)]


# --- commands -----------------------------------------------------------------------------


def _command(
    context: Context, contact: Contact, command: str, argument: str, inbound: Inbound
) -> list[Reply]:
    if command == "start":
        return _start(context, contact, argument)
    if command == "stop":
        return privacy.stop(context, contact)
    if command == "forget":
        return privacy.ask_forget(context, contact)
    if command == "cancel":
        return _cancel(context, contact)
    if onboarding.next_step(context, contact) is not None:
        return onboarding.prompt(context, contact, lead=_finish_first(contact))
    simple: dict[str, Callable[[], list[Reply]]] = {
        "menu": lambda: [views.menu(contact)],
        "help": lambda: [_help(context, contact, inbound)],
        "sessions": lambda: sessions.browse(context, contact),
        "my": lambda: sessions.mine(context, contact),
        "topics": lambda: [topics.toggles(context, contact)],
        "language": lambda: [onboarding.language_question(contact)],
    }
    if command in simple:
        return simple[command]()
    typed = "/" + command[:32]
    return [views.menu(contact, t(contact.language, "Unknown command {command}.", command=typed))]


def _cancel(context: Context, contact: Contact) -> list[Reply]:
    """/cancel, ANNULER, إلغاء: leave whatever was being asked (an erase confirmation, a
    company search) and see the menu; during onboarding, the question still open."""
    state = {
        key: value
        for key, value in contact.state.items()
        if key not in ("confirm_forget", "company_query")
    }
    if state != contact.state:
        contacts_store.set_state(context.db, contact.id, state)
        contact = contacts_store.get(context.db, contact.id) or contact
    if onboarding.next_step(context, contact) is not None:
        return onboarding.prompt(context, contact, lead=_finish_first(contact))
    return [views.menu(contact, t(contact.language, "Cancelled. What would you like to do?"))]


def _finish_first(contact: Contact) -> str:
    return t(contact.language, "Let's finish setting up first.")


def _start(context: Context, contact: Contact, payload: str) -> list[Reply]:
    """/start, START, the menu's notifications button, or an entry link (`/start <payload>`).

    A plain start turns notifications back on after a STOP, as the STOP reply said it would,
    and says so; someone who declined is asked the consent question again. An entry link only
    opens what it points to: following a link is not a yes to notifications.
    """
    valid_payload = payload if _payload_target(payload) else ""
    was_opted_out = contact.opted_out_at is not None
    if not valid_payload:
        contact = privacy.start_again(context, contact)
    declined = contact.consent_at is None and contact.opted_out_at is not None
    if declined and not valid_payload:
        return [onboarding.consent_question(context, contact)]
    if onboarding.next_step(context, contact) is not None:
        if valid_payload:
            contacts_store.set_state(
                context.db, contact.id, {**contact.state, "pending": valid_payload}
            )
            contact = contacts_store.get(context.db, contact.id) or contact
        welcome = brand.welcome(context.brand, contact.language)
        if was_opted_out and contact.may_be_notified:
            welcome = privacy.state_line(contact)
        return onboarding.prompt(
            context, contact, lead=None if contact.language is None else welcome
        )
    if valid_payload:
        return _open_payload(context, contact, valid_payload)
    if was_opted_out:
        return [
            views.menu(
                contact,
                t(
                    contact.language,
                    "Welcome back, {name}: notifications are on again.",
                    name=contact.name,
                ),
            )
        ]
    return [views.menu(contact, t(contact.language, "Welcome back, {name}.", name=contact.name))]


def _payload_target(payload: str) -> tuple[str, str] | None:
    if match := _SESSION_PAYLOAD.match(payload):
        return "session", match.group(1)
    if match := _TOPIC_PAYLOAD.match(payload):
        return "topic", match.group(1)
    return None


def _open_payload(context: Context, contact: Contact, payload: str) -> list[Reply]:
    target = _payload_target(payload)
    if target is None:
        return [views.menu(contact)]
    kind, key = target
    if kind == "session":
        return sessions.card(context, contact, key)
    return topics.follow(context, contact, key)


def _help(context: Context, contact: Contact, inbound: Inbound) -> Reply:
    """The commands this person may type: a coordinator (by the identity they write from)
    also reads theirs, which no menu button leads to."""
    lines = [brand.help_intro(context.brand, contact.language)]
    lines += [
        f"/{command} — {description}"
        for command, description in public_commands(views.lang(contact))
    ]
    if coordination.is_coordinator(context, inbound):
        lines += ["", t(contact.language, "Coordinators' commands:")]
        lines += [
            f"/{command} — {description}"
            for command, description in coordinator_commands(views.lang(contact))
        ]
    return views.menu(contact, "\n".join(lines))


# --- buttons ------------------------------------------------------------------------------


def _action(
    context: Context, contact: Contact, name: str, args: tuple[str, ...], inbound: Inbound
) -> list[Reply]:
    first = args[0] if args else ""
    anytime: dict[str, Callable[[], list[Reply]]] = {
        "lang": lambda: onboarding.choose_language(context, contact, first),
        "consent": lambda: _after_onboarding_step(
            context, privacy.answer_consent(context, contact, first), contact
        ),
        "stop": lambda: privacy.stop(context, contact),
        "start": lambda: _start(context, contact, ""),
        "pref": lambda: linking.prefer(context, contact, first),
        "forget": lambda: privacy.ask_forget(context, contact),
        "forget_yes": lambda: privacy.forget(context, contact),
        "forget_no": lambda: privacy.keep(context, contact),
    }
    if name in anytime:
        return anytime[name]()
    step = onboarding.next_step(context, contact)
    if step is not None:
        return _onboarding_action(context, contact, name, first)
    if name == "tp_done" and not contact.state.get("topics_chosen"):
        return _onboarding_action(context, contact, name, first)
    features: dict[str, Callable[[], list[Reply]]] = {
        "menu": lambda: [views.menu(contact)],
        "help": lambda: [_help(context, contact, inbound)],
        "language": lambda: [onboarding.language_question(contact)],
        "topics": lambda: [topics.toggles(context, contact)],
        "tp": lambda: topics.toggle(context, contact, first, onboarding=False),
        "tp_done": lambda: [views.menu(contact, topics.summary(context, contact))],
        "ss": lambda: sessions.browse(
            context, contact, whole_number(first) or 0, replaces_menu=True
        ),
        "sa": lambda: sessions.browse(
            context, contact, whole_number(first) or 0, replaces_menu=True, every_topic=True
        ),
        "s": lambda: sessions.card(context, contact, first),
        "int": lambda: sessions.interested(context, contact, first),
        "reg": lambda: sessions.register(context, contact, first),
        "can": lambda: sessions.ask_cancel(context, contact, first),
        "can_yes": lambda: sessions.cancel(context, contact, first),
        "ics": lambda: sessions.calendar_file(context, contact, first),
        "my": lambda: sessions.mine(context, contact),
        "att_yes": lambda: attendance.confirm(context, contact, first),
        "att_no": lambda: attendance.decline(context, contact, first),
        "phone": lambda: [
            Reply(
                t(contact.language, "Press the button below to share your phone number."),
                request_phone=True,
                language=views.lang(contact),
            )
        ],
    }
    if name in features and (first or name not in _NEEDS_ARGUMENT):
        return features[name]()
    return [views.menu(contact, t(contact.language, "This button has expired."))]


_NEEDS_ARGUMENT = {"tp", "s", "int", "reg", "can", "can_yes", "ics", "att_yes", "att_no"}


def _onboarding_action(context: Context, contact: Contact, name: str, first: str) -> list[Reply]:
    if name == "co":
        replies = onboarding.pick_company(context, contact, first)
    elif name == "co_none":
        replies = onboarding.pick_company(context, contact, None)
    elif name == "role":
        replies = onboarding.pick_role(context, contact, first)
    elif name == "tp" and onboarding.next_step(context, contact) in ("topics", None):
        replies = topics.toggle(context, contact, first, onboarding=True)
    elif name == "tp_done" and onboarding.next_step(context, contact) in ("topics", None):
        replies = []
        contact = onboarding.finish(context, contact)
    else:
        return onboarding.prompt(context, contact, lead=_finish_first(contact))
    return _after_onboarding_step(context, replies, contact)


def _after_onboarding_step(context: Context, replies: list[Reply], contact: Contact) -> list[Reply]:
    """When the last step was just answered: welcome, then what the entry link asked for."""
    contact = contacts_store.get(context.db, contact.id) or contact
    if onboarding.next_step(context, contact) is not None or contact.state.get("welcomed"):
        return replies
    pending = contact.state.get("pending", "")
    state = {key: value for key, value in contact.state.items() if key != "pending"}
    contacts_store.set_state(
        context.db, contact.id, {**state, "welcomed": True, "topics_chosen": True}
    )
    contact = contacts_store.get(context.db, contact.id) or contact
    if contact.may_be_notified:
        done = t(
            contact.language,
            "You are all set, {name}! {topics}",
            name=contact.name,
            topics=topics.summary(context, contact),
        )
    else:
        done = t(
            contact.language,
            "You are all set, {name}! You can look at the sessions and register from the menu.",
            name=contact.name,
        )
    welcome = views.menu(contact, done)
    if pending:
        return [*replies, *_open_payload(context, contact, pending)]
    return [*replies, welcome]


# --- a shared phone number and free text --------------------------------------------------


def _phone(context: Context, contact: Contact, raw: str) -> list[Reply]:
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        return [views.menu(contact, t(contact.language, "This phone number does not look valid."))]
    owner = contacts_store.find_by_phone(context.db, phone)
    if owner is not None and owner.id != contact.id:
        if linking.can_absorb(context, contact, owner):  # the same person, seen elsewhere
            return linking.merge_by_phone(context, owner, contact)
        return [
            views.menu(
                contact, t(contact.language, "This number is already linked to another profile.")
            )
        ]
    contacts_store.update(context.db, contact.id, phone=phone)
    return [views.menu(contact, t(contact.language, "Thank you, your number is saved."))]


def _text(context: Context, contact: Contact, text: str, created: bool) -> list[Reply]:
    step = onboarding.next_step(context, contact)
    if len(text) > TEXT_MAX:
        too_long = t(contact.language, "That message is too long for me.")
        if step is not None:  # the question again, not a menu whose buttons all say "finish"
            return onboarding.prompt(context, contact, lead=too_long)
        return [views.menu(contact, too_long)]
    if step is not None:
        if created or step in ("language", "consent"):
            return onboarding.prompt(context, contact)
        return _after_onboarding_step(
            context, onboarding.answer_text(context, contact, text), contact
        )
    return [
        views.menu(contact, t(contact.language, "Sorry, I did not understand. Here is the menu."))
    ]


__all__ = ["LANGUAGE_NAMES", "handle"]

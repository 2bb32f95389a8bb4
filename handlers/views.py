"""Small builders shared by the features: the main menu, and replies in a contact's language."""

from __future__ import annotations

from handlers.i18n import t
from handlers.types import Action, Choice, Reply
from storage.contacts import Contact


def lang(contact: Contact, default: str = "fr") -> str:
    return contact.language or default


def choice(contact: Contact, label: str, name: str, *args: str) -> Choice:
    return Choice(t(contact.language, label), Action(name, tuple(args)))


def menu_choices(contact: Contact) -> tuple[Choice, ...]:
    if contact.may_be_notified:
        notifications = choice(contact, "Stop notifications", "stop")
    elif contact.consent_at is None:  # said no at first: asked again, never opted in by this
        notifications = choice(contact, "Receive notifications", "start")
    else:
        notifications = choice(contact, "Turn notifications back on", "start")
    return (
        choice(contact, "Upcoming sessions", "ss", "0"),
        choice(contact, "My sessions", "my"),
        choice(contact, "My topics", "topics"),
        choice(contact, "Share my phone number", "phone"),
        choice(contact, "Language", "language"),
        choice(contact, "Help", "help"),
        notifications,
        choice(contact, "Erase my data", "forget"),
    )


def menu(contact: Contact, text: str | None = None) -> Reply:
    """The main menu, optionally after a line of text."""
    return Reply(
        text=text or t(contact.language, "What would you like to do?"),
        choices=menu_choices(contact),
        language=lang(contact),
    )


def say(contact: Contact, message: str, /, *choices: Choice, **values: object) -> Reply:
    return Reply(
        text=t(contact.language, message, **values), choices=choices, language=lang(contact)
    )


def back_to_menu(contact: Contact) -> Choice:
    return choice(contact, "Menu", "menu")

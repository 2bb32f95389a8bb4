"""The numbered options shown last to a person, and what they answer: a number or words.

The options live in the contact's conversation state (`wa_options`: label and encoded
action per number), so that an answer after a restart, or hours later, still means what the
person saw. Words count when they are the option's label (or its start, or a whole-word part
of it) for exactly one option, in any case and with or without accents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlite_utils import Database

from handlers.keywords import normalise
from handlers.types import Action, Choice
from storage import contacts as contacts_store
from storage.contacts import Contact

STATE_KEY = "wa_options"
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_PUNCTUATION = re.compile(r"[^\w\s]")
MIN_WORDS = 2  # characters typed before a start of a label counts


def save(db: Database, contact: Contact, choices: Sequence[Choice]) -> None:
    """Remember `choices` as the options now shown (none: the person is typing freely)."""
    fresh = contacts_store.get(db, contact.id)
    if fresh is None:  # erased by what was just handled
        return
    state = {key: value for key, value in fresh.state.items() if key != STATE_KEY}
    if choices:
        state[STATE_KEY] = [[choice.label, choice.action.encode()] for choice in choices]
    if state != fresh.state:
        contacts_store.set_state(db, contact.id, state)


def shown(contact: Contact) -> list[tuple[str, Action]]:
    """(label, action) of the options shown last, in their numbered order."""
    options: list[tuple[str, Action]] = []
    for item in contact.state.get(STATE_KEY, []):
        if isinstance(item, list) and len(item) == 2:
            action = Action.decode(str(item[1]))
            if action is not None:
                options.append((str(item[0]), action))
    return options


def _words(text: str) -> str:
    """Only the words: "Oui, j’accepte" and "OUI J'ACCEPTE" are the same answer."""
    return " ".join(_PUNCTUATION.sub(" ", normalise(text)).split())


def match(text: str, options: Sequence[tuple[str, Action]]) -> Action | None:
    """The action `text` picks among `options`, or None when it picks none (or several)."""
    if not options:
        return None
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1))
        return options[index - 1][1] if 1 <= index <= len(options) else None
    words = _words(text)
    if len(words) < MIN_WORDS:
        return None
    labels = [(_words(label), action) for label, action in options]
    for test in (
        lambda label: label == words,
        lambda label: label.startswith(words),
        lambda label: re.search(rf"(?<!\w){re.escape(words)}(?!\w)", label) is not None,
    ):
        found = [action for label, action in labels if test(label)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None

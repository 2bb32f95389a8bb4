"""Every keyword a person may type (as the README lists them, accents and all), what each must
do, and a person to walk them with: the same table for every channel's test."""

from __future__ import annotations

import re

from sqlite_utils import Database

from handlers.i18n import t
from handlers.keywords import KEYWORDS, normalise
from storage import companies, contacts
from storage.contacts import Contact
from storage.zones import to_utc_text
from tests.conftest import NOW

WORDS: dict[str, tuple[str, ...]] = {
    "menu": ("MENU", "القائمة", "قائمة"),
    "help": ("AIDE", "HELP", "مساعدة"),
    "stop": ("STOP", "ARRET", "ARRÊT", "ARRÊTER", "توقف", "قف"),
    "start": ("START", "DÉMARRER", "ابدأ"),
    "link": ("LINK", "LIER", "ربط"),
    "cancel": ("CANCEL", "ANNULER", "إلغاء"),
}
LANGUAGES = ("fr", "ar", "en")
NAME = "Amina Alaoui"


def every_keyword_is_walked() -> bool:
    """The table covers the keywords the handlers know, and no more."""
    walked = {normalise(word): command for command, words in WORDS.items() for word in words}
    known = {normalise(word): command for word, command in KEYWORDS.items()}
    return walked == known


def onboarded(db: Database, *, channel: str, address: str, language: str) -> int:
    """Someone who finished onboarding in `language` and consented, known on `channel`."""
    contact_id = contacts.create(
        db,
        name=NAME,
        role="manager",
        language=language,
        company_id=companies.by_member_id(db, "M001").id,
        consent_at=to_utc_text(NOW),
        state={"welcomed": True, "topics_chosen": True},
    )
    contacts.attach_identity(db, contact_id, channel=channel, address=address)
    return contact_id


def problems(
    command: str, word: str, language: str, channel: str, text: str, contact: Contact
) -> list[str]:
    """What is wrong with the answer to `word` (the empty list when it did its job)."""
    expected: dict[str, bool] = {}
    if command == "menu":
        expected["menu"] = t(language, "What would you like to do?") in text
    elif command == "help":
        expected["command list"] = "/sessions" in text
    elif command == "stop":
        expected["stop said"] = (
            t(
                language,
                "Done: you will receive no more notifications. Send /start if you want them back.",
            )
            in text
        )
        expected["stopped"] = not contact.may_be_notified
    elif command == "start":
        expected["start said"] = (
            t(language, "Welcome back, {name}: notifications are on again.", name=NAME) in text
        )
        expected["started"] = contact.may_be_notified
    elif command == "link":
        if channel == "console":
            expected["console says"] = (
                t(language, "Linking works between Telegram and WhatsApp.") in text
            )
        else:
            expected["code"] = re.search(r"\b\d{5}-\d{5}\b", text) is not None
    elif command == "cancel":
        expected["menu"] = t(language, "Cancelled. What would you like to do?") in text
    return [
        f"{word!r} in {language} on {channel}: no {what} in {text!r}"
        for what, ok in expected.items()
        if not ok
    ]

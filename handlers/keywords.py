"""Keywords a person may type at any step, on any channel: MENU, HELP, STOP, START, LINK,
CANCEL.

On WhatsApp there are no commands or buttons outside a message, so a word alone must do:
STOP (and its French and Arabic forms) must stop notifications at once, whatever the bot was
asking. A keyword is the whole message, trimmed, in any case and with or without accents;
"stop the reminders" is not one. LINK takes a code after it (digits, a dash or spaces: the
linking module checks it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from handlers.types import Inbound

# keyword (normalised) → the command it stands for.
KEYWORDS: dict[str, str] = {
    "menu": "menu",
    "القائمة": "menu",
    "قائمة": "menu",
    "aide": "help",
    "help": "help",
    "مساعدة": "help",
    "stop": "stop",
    "arret": "stop",
    "arreter": "stop",
    "توقف": "stop",
    "قف": "stop",
    "start": "start",
    "demarrer": "start",
    "ابدأ": "start",
    "ابدا": "start",
    "link": "link",
    "lier": "link",
    "ربط": "link",
    "cancel": "cancel",
    "annuler": "cancel",
    "إلغاء": "cancel",
}
_WITH_CODE = re.compile(r"^(\S+)\s+(\d[\d -]*)$")


def normalise(text: str) -> str:
    """Lower case, accents and Arabic diacritics removed, inner spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFKC", bare).split())


# The keywords as `normalise` leaves them: "القائمة" is looked up as "القايمة" (its hamza is a
# combining mark once decomposed), so a key written with one would never match.
_NORMALISED = {normalise(word): command for word, command in KEYWORDS.items()}


def command_for(text: str) -> tuple[str, str] | None:
    """(command, argument) when `text` is a keyword, e.g. ("stop", ""), ("link", "48291-03756")."""
    words = normalise(text)
    if words in _NORMALISED:
        return _NORMALISED[words], ""
    match = _WITH_CODE.match(words)
    if match and _NORMALISED.get(match.group(1)) == "link":
        return "link", match.group(2)
    return None


def as_command(inbound: Inbound) -> Inbound:
    """`inbound` itself, or the command its text stands for when the text is a keyword."""
    found = command_for(inbound.text) if inbound.text is not None else None
    if found is None:
        return inbound
    return replace(inbound, text=None, command=found[0], argument=found[1])

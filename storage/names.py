"""The one cleaning of a name, whichever way it enters: onboarding, an import, the CLI.

A name is shown to coordinators in chat, in a roster opened in a spreadsheet and on an
operator's terminal. A control character there is an attack, not a letter: an escape sequence
(`\\x1b[31m`) repaints or hides a terminal's text, and a bidi override (U+202E) or embedding
shows "Ali\u202eevil" as "Alilive" — digits of a phone number or of a code reversed, a name
disguised as another. So every name-like value (a person's name, a company's name, city and
sector, the company a person typed) goes through `clean_name` before it is checked or stored,
and the storage functions that write such values apply it again, so that no path can skip it.

Kept: every letter, mark, digit, punctuation and symbol, and the two joiners (ZWNJ U+200C,
ZWJ U+200D) that some scripts and emoji sequences need. Removed: every other control,
format, surrogate, private-use and unassigned character (bidi overrides, embeddings,
isolates and marks included). Whitespace runs (tabs, line breaks) become one space.
"""

from __future__ import annotations

import unicodedata

_JOINERS = frozenset("\u200c\u200d")


def clean_name(text: str) -> str:
    """`text` without control or bidi characters, its spaces collapsed, in Unicode NFC."""
    kept = "".join(
        character
        if character.isspace() or unicodedata.category(character)[0] != "C" or character in _JOINERS
        else ""
        for character in unicodedata.normalize("NFC", text)
    )
    return " ".join(kept.split())

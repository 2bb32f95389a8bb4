"""Errors for the operator stay on one line, whatever the text they quote.

A CSV cell, a TOML key or a section name may hold a line break or another control character;
an error message quoting it would then spread over several lines (or hide part of itself), and
the operator reads one error per line.
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters shown escaped (`\\n`, `\\x1b`);
    spaces and every printable character kept as they are."""
    return "".join(
        character if character.isprintable() or character == " " else repr(character)[1:-1]
        for character in text
    )

"""Who people read as the sender: the federation's name from `[brand]`, never the product's.

Every sentence that names the sender is chosen here, so that the wording stays natural both
with a configured brand ("Formation FIMME", "FIMME", "École FIMME") and without one, when it
falls back on the catalogue's "the federation" and its school.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import t


@dataclass(frozen=True)
class Brand:
    """`[brand]` in the configuration; every field may be empty."""

    name: str = ""
    federation: str = ""
    school: str = ""

    @property
    def sender(self) -> str:
        """What people read as the sender: the name, else the federation's, else the school's."""
        return self.name or self.federation or self.school

    @property
    def organisers(self) -> tuple[str, ...]:
        """The federation and the school when named and not already the sender itself."""
        return tuple(
            value for value in (self.federation, self.school) if value and value != self.sender
        )


def welcome(brand: Brand, language: str | None) -> str:
    """The first line a new person reads."""
    if brand.sender:
        return t(
            language,
            "Welcome! This is {sender}, the training programme's assistant.",
            sender=brand.sender,
        )
    return t(language, "Welcome! This is the federation's training programme assistant.")


def consent_question(brand: Brand, language: str | None) -> str:
    """What a person agrees to: who sends what, and how to stop it."""
    if brand.sender and brand.organisers:
        return t(
            language,
            "{sender} sends the training announcements and session reminders of"
            " {organisers}. May we send you these notifications? You can stop"
            " them at any time with STOP.",
            sender=brand.sender,
            organisers=_and(brand.organisers, language),
        )
    if brand.sender:
        return t(
            language,
            "{sender} sends training announcements and session reminders. May we"
            " send you these notifications? You can stop them at any time with"
            " STOP.",
            sender=brand.sender,
        )
    return t(
        language,
        "We send the training announcements and session reminders of the"
        " federation and its engineering school. May we send you these"
        " notifications? You can stop them at any time with STOP.",
    )


def help_intro(brand: Brand, language: str | None) -> str:
    """The first line of /help."""
    if brand.sender:
        return t(
            language,
            "{sender} keeps you informed about training sessions. You can use the"
            " buttons, or these commands:",
            sender=brand.sender,
        )
    return t(
        language,
        "We keep you informed about the federation's training sessions. You can"
        " use the buttons, or these commands:",
    )


def link_instruction(brand: Brand, language: str | None, *, code: str, other: str) -> str:
    """How to say a link code on the other channel, naming whom to send it to."""
    if brand.sender:
        return t(
            language,
            "Your code is {code}. Within 10 minutes, send \u201cLINK {code}\u201d"
            " to {sender} on {other}: both will then share one profile.",
            code=code,
            sender=brand.sender,
            other=other,
        )
    return t(
        language,
        "Your code is {code}. Within 10 minutes, send \u201cLINK {code}\u201d to"
        " us on {other}: both will then share one profile.",
        code=code,
        other=other,
    )


def _and(names: tuple[str, ...], language: str | None) -> str:
    if len(names) == 1:
        return names[0]
    return t(language, "{first} and {second}", first=names[0], second=names[1])

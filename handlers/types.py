"""What comes into the handlers and what goes out: the same for every channel.

A channel adapter turns what arrives into an `Inbound` and renders each `Reply` for its
medium; it decides nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

_ACTION_NAME = re.compile(r"^[a-z_]{1,12}$")
_ACTION_ARG = re.compile(r"^[A-Za-z0-9_.\-]{0,48}$")
ACTION_MAX_BYTES = 64
NUMBER_MAX_DIGITS = 18  # every such number fits SQLite's 64-bit INTEGER


def whole_number(text: str) -> int | None:
    """`text` as a row id, a page or an announcement number when it is one, else None.

    `str.isdigit` also says yes to "²" (which `int` refuses) and to twenty digits (which
    SQLite refuses): typed numbers and button arguments go through here instead. Decimal
    digits of any script count, so "٣" is 3.
    """
    if not text.isdecimal() or len(text) > NUMBER_MAX_DIGITS:
        return None
    return int(text)


def storable(text: str) -> str:
    """`text` with any lone UTF-16 surrogate (which JSON may carry, and which SQLite cannot
    store) replaced by U+FFFD; a well-formed text comes back as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


@dataclass(frozen=True)
class Action:
    """A button's meaning: a short name and its arguments, compact enough for Telegram's
    64-byte `callback_data` once encoded as `name:arg:arg`."""

    name: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        return ":".join((self.name, *self.args))

    @classmethod
    def decode(cls, data: str) -> Action | None:
        """The action encoded in `data`, or None when it is not one we could have made."""
        if not data or len(data.encode("utf-8", "surrogatepass")) > ACTION_MAX_BYTES:
            return None
        name, *args = data.split(":")
        if not _ACTION_NAME.match(name) or not all(_ACTION_ARG.match(arg) for arg in args):
            return None
        return cls(name, tuple(args))


@dataclass(frozen=True)
class Choice:
    label: str
    action: Action


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Inbound:
    """One thing a person said or pressed, on one channel.

    Exactly one of `command`, `action`, `text` or `phone` is set. `address` is how the
    channel knows the person (Telegram user id, WhatsApp E.164 number, console name).
    """

    channel: str
    address: str
    command: str | None = None
    argument: str = ""
    action: Action | None = None
    text: str | None = None
    phone: str | None = None
    chat_id: str | None = None

    def __post_init__(self) -> None:
        """Whatever a channel passes on can be stored and shown: no lone surrogates."""
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and value != (clean := storable(value)):
                object.__setattr__(self, field.name, clean)


@dataclass(frozen=True)
class Reply:
    """One message to show. `text` is plain text (channels escape it for their markup);
    `choices` are buttons; `replaces_menu` says this reply may edit the message whose
    button was pressed instead of sending a new one (topic toggles, paging)."""

    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    request_phone: bool = False
    replaces_menu: bool = False
    language: str = "fr"

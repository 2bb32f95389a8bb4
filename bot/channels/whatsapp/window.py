"""WhatsApp's 24-hour rule: which form a notification may take for one person, now.

Free-form text may be sent only within 24 hours of the person's last message to us; outside
that window only an approved template (a `ContentSid`) may be sent, and with no template for
this kind of notification in the person's language, nothing may be sent at all. Pure: the
sender gives the facts, this decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
# Twilio checks the window when it sends, a moment after we decide: keep a little margin.
MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class FreeForm:
    """Inside the window: the rendered text, numbered options and all."""


@dataclass(frozen=True)
class Template:
    content_sid: str


@dataclass(frozen=True)
class Skip:
    reason: str


Form = FreeForm | Template | Skip


def choose_form(
    kind: str,
    language: str,
    last_inbound_at: datetime | None,
    now: datetime,
    templates: Mapping[str, Mapping[str, str]],
    *,
    margin: timedelta = MARGIN,
) -> Form:
    """The form a `kind` notification to a person writing in `language` may take at `now`."""
    if last_inbound_at is not None and now < last_inbound_at + WINDOW - margin:
        return FreeForm()
    sid = templates.get(kind, {}).get(language)
    if sid:
        return Template(sid)
    return Skip(f"outside the 24-hour window and no WhatsApp template for {kind} in {language}")

"""What Twilio posts for one WhatsApp message, as an `Inbound`. Translation only.

`From` is `whatsapp:+212…`; the text is `Body`; a template's quick-reply button comes back as
`ButtonPayload` (an encoded action, e.g. `att_yes`), with `OriginalRepliedMessageSid` naming
the notification it was under. A text is, in this order: a keyword (left as text: the
handlers know them), a `/command`, one of the numbered options shown last, or free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from bot.channels.whatsapp import options
from handlers.keywords import command_for
from handlers.phones import InvalidPhone, normalize_phone
from handlers.types import Action, Inbound

CHANNEL = "whatsapp"
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:\s+(.*))?$", re.DOTALL)
# Buttons whose payload names the session through the message they were pressed under.
SESSION_BUTTONS = ("att_yes", "att_no", "s", "reg")
SessionOf = Callable[[str], str | None]


def sender_number(form: Mapping[str, str]) -> str | None:
    """The sender's E.164 number from `From` (`whatsapp:+212612345678`), or None."""
    raw = form.get("From", "")
    if not raw.startswith("whatsapp:"):
        return None
    try:
        return normalize_phone(raw.removeprefix("whatsapp:"))
    except InvalidPhone:
        return None


def to_inbound(
    form: Mapping[str, str], number: str, shown: Sequence[tuple[str, Action]], session_of: SessionOf
) -> Inbound:
    payload = form.get("ButtonPayload", "").strip()
    if payload:
        action = Action.decode(payload)
        if action is not None:
            if not action.args and action.name in SESSION_BUTTONS:
                session = session_of(form.get("OriginalRepliedMessageSid", ""))
                if session:
                    action = Action(action.name, (session,))
            return Inbound(CHANNEL, number, action=action)
    text = form.get("Body", "") or form.get("ButtonText", "")
    stripped = text.strip()
    if command_for(stripped) is not None:
        return Inbound(CHANNEL, number, text=stripped)
    command = _COMMAND.match(stripped)
    if command:
        return Inbound(
            CHANNEL,
            number,
            command=command.group(1).lower(),
            argument=(command.group(2) or "").strip(),
        )
    picked = options.match(stripped, shown)
    if picked is not None:
        return Inbound(CHANNEL, number, action=picked)
    return Inbound(CHANNEL, number, text=text)

"""What arrives from Telegram, as an `Inbound`: a command, a text, a pressed button or a shared
phone number. Translation only; what it means is the handlers' business."""

from __future__ import annotations

import re
from functools import partial

from telegram import Update
from telegram.constants import ChatType

from handlers.types import Action, Inbound

CHANNEL = "telegram"
# `/start@formabot_bot session_tig-2026-12`: name, optional bot username, optional argument.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?$", re.DOTALL)
# The action a button whose data we could not have made stands for: the router answers it
# with "this button has expired" and the current menu.
EXPIRED = Action("expired")


def to_inbound(update: Update) -> Inbound | None:
    """The `Inbound` for `update`, or None for what the bot does not converse about
    (group chats, other bots, edits, membership changes)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        if message is not None and not _private(message):
            return None
        chat_id = message.chat.id if message is not None else user.id
        action = Action.decode(query.data or "") or EXPIRED
        return Inbound(CHANNEL, str(user.id), chat_id=str(chat_id), action=action)
    message = update.message
    if message is None or not _private(message):
        return None
    who = partial(Inbound, CHANNEL, str(user.id), chat_id=str(message.chat.id))
    if message.contact is not None:
        if message.contact.user_id == user.id:
            return who(phone=international(message.contact.phone_number))
        return who(text=message.contact.phone_number)
    if message.text is None:
        return who(text="")  # a sticker, a photo, a voice note…
    command = _COMMAND.match(message.text.strip())
    if command is not None:
        return who(command=command.group(1).lower(), argument=(command.group(2) or "").strip())
    return who(text=message.text)


def _private(message: object) -> bool:
    """Whether `message` is in a private chat. A forged webhook update may omit the chat
    (PTB then leaves it None): that is no conversation either."""
    chat = getattr(message, "chat", None)
    return chat is not None and chat.type == ChatType.PRIVATE


def international(phone_number: str) -> str:
    """Telegram gives a user's own number in international form, often without the `+`
    (`212612345678`); with it, the number cannot be mistaken for a local one."""
    number = phone_number.strip()
    return number if number.startswith("+") else f"+{number}"

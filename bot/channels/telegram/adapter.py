"""The Telegram adapter: each update becomes an `Inbound`, the handlers answer, and each
`Reply` is rendered as messages, keyboards and documents. It decides nothing itself. The
handlers run in the `ConversationThread` (`bot.conversation`), off the event loop: a database
held by another writer delays the answer, never the requests already in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, CallbackQuery, InputFile, Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram.inbound import CHANNEL, to_inbound
from bot.channels.telegram.render import inline_keyboard, phone_keyboard, split_message
from bot.conversation import ConversationThread
from bot.ops.metrics import Metrics
from handlers import Context, Reply, handle
from handlers.i18n import t
from storage import contacts

log = logging.getLogger(__name__)

# What we ask Telegram for; everything else (edits, reactions, members) is not conversation.
ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramChannel:
    """One bot on Telegram, wired to the handlers through a single PTB `TypeHandler`."""

    def __init__(
        self,
        application: Application,
        context: Context,
        *,
        metrics: Metrics | None = None,
        conversation: ConversationThread | None = None,
    ) -> None:
        self.application = application
        self.context = context
        self.conversation = conversation or ConversationThread(context)
        self.metrics = metrics or Metrics()
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self.on_error)

    @property
    def bot(self) -> Bot:
        return self.application.bot

    async def on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the button press at once (Telegram shows a spinner until then), then
        translate, ask the handlers and render what they say."""
        query = update.callback_query
        if query is not None:
            await _answer(query)
        inbound = to_inbound(update)
        if inbound is None or inbound.chat_id is None:
            return
        self.metrics.received(CHANNEL)
        replies = await self.conversation.run(handle, self.conversation.context, inbound)
        menu = query.message if query is not None and isinstance(query.message, Message) else None
        await self.deliver(
            inbound.chat_id,
            inbound.address,
            replies,
            menu=menu,
            remove_keyboard=inbound.phone is not None,
        )

    async def deliver(
        self,
        chat_id: str,
        address: str,
        replies: Sequence[Reply],
        *,
        menu: Message | None = None,
        remove_keyboard: bool = False,
    ) -> None:
        """Send `replies` to `chat_id`. `menu` is the message whose button was pressed: the first
        reply that `replaces_menu` edits it in place. A 403 (bot blocked, account deleted) marks
        the identity inactive; nothing more is sent to it."""
        try:
            for reply in replies:
                edited = menu is not None and reply.replaces_menu and await self._edit(menu, reply)
                if not edited:
                    await self._send(chat_id, reply, remove_keyboard=remove_keyboard)
                remove_keyboard = False
                menu = None  # only the message that carried the button may be replaced
                self.metrics.call_succeeded(CHANNEL)
        except Forbidden as error:
            await self.conversation.run(self._unreachable, address, error)

    def _unreachable(self, address: str, error: Forbidden) -> None:
        """Mark `address` inactive (in the conversation's thread)."""
        db = self.conversation.context.db
        identity = contacts.identity(db, CHANNEL, address)
        log.info(
            "telegram: contact %s is unreachable (%s): marked inactive",
            identity.contact_id if identity else "unknown",
            error,
        )
        contacts.mark_identity_inactive(db, CHANNEL, address, error.message)

    async def _edit(self, menu: Message, reply: Reply) -> bool:
        """Edit the menu in place when the reply is one plain message; False to send instead."""
        chunks = split_message(reply.text)
        if len(chunks) != 1 or reply.request_phone or reply.attachments:
            return False
        try:
            await self.bot.edit_message_text(
                chunks[0],
                chat_id=menu.chat.id,
                message_id=menu.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_keyboard(reply.choices),
            )
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return True  # the same menu pressed twice: already showing
            log.debug("menu %s cannot be edited (%s): sending anew", menu.message_id, error)
            return False
        return True

    async def _send(self, chat_id: str, reply: Reply, *, remove_keyboard: bool) -> None:
        chunks = split_message(reply.text)
        keyboard = inline_keyboard(reply.choices)
        phone = (
            phone_keyboard(t(reply.language, "Share my phone number"))
            if reply.request_phone
            else None
        )
        for number, chunk in enumerate(chunks, start=1):
            markup: Any = (keyboard or phone) if number == len(chunks) else None
            if markup is None and remove_keyboard:
                markup, remove_keyboard = ReplyKeyboardRemove(), False
            await self.bot.send_message(
                chat_id, chunk, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        if phone is not None and (keyboard is not None or not chunks):
            # A message carries one keyboard: the buttons went with the text, so the phone
            # button comes with a short message of its own.
            prompt = split_message(t(reply.language, "Tap the button below to share your number."))
            await self.bot.send_message(
                chat_id, prompt[0], parse_mode=ParseMode.HTML, reply_markup=phone
            )
        for attachment in reply.attachments:
            document = InputFile(attachment.content, filename=attachment.filename)
            document.mimetype = attachment.mime_type
            await self.bot.send_document(chat_id, document)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong with one update; the bot carries on with the next."""
        self.metrics.handler_failed(CHANNEL)
        log.error("update %s failed", _update_id(update), exc_info=context.error)

    async def receive(self, payload: dict[str, Any]) -> None:
        """Queue one update that came by webhook; ValueError when it is not an update."""
        try:
            update = Update.de_json(payload, self.bot)
        except Exception as error:  # PTB reads untrusted JSON: {"message": false} is an
            # AttributeError, a date past 9999 an OverflowError…; none of them is an update.
            raise ValueError(f"not a Telegram update: {error}") from error
        await self.application.update_queue.put(update)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError as error:  # e.g. "query is too old": the reply still goes out
        log.debug("callback query %s not answered: %s", query.id, error)


def _update_id(update: object) -> object:
    return update.update_id if isinstance(update, Update) else update

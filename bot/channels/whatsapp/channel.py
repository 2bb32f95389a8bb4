"""The WhatsApp adapter: a message Twilio posted becomes an `Inbound`, the handlers answer,
and each `Reply` goes back as Twilio messages through the REST API. It decides nothing itself.

The webhook is answered at once with an empty TwiML `<Response/>`; the conversation runs in
a task of its own, one person at a time (a per-number lock keeps their messages in order),
so that long answers, several messages and attachments all go through the REST API. Its
database work — a retried `MessageSid` recognised, the handlers, the options shown — runs in
the `ConversationThread`, off the event loop (`bot.conversation`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.channels.whatsapp import options
from bot.channels.whatsapp.inbound import CHANNEL, sender_number, to_inbound
from bot.channels.whatsapp.media import MediaStore
from bot.channels.whatsapp.messages import Outbound, TwilioMessages, classify
from bot.channels.whatsapp.render import Rendered, render_all
from bot.config import WhatsAppSettings
from bot.conversation import ConversationThread
from bot.ops.metrics import Metrics
from handlers import Context, Inbound, Reply, handle
from handlers.phones import InvalidPhone, normalize_phone
from handlers.router import try_later
from storage import contacts as contacts_store
from storage import inbound_messages, whatsapp_status
from storage.db import unavailable
from storage.whatsapp_status import Applied

log = logging.getLogger(__name__)

SEEN_FOR = timedelta(days=3)
PRUNE_EVERY = 500
REPLY_ATTEMPTS = 4  # waits 1, 2 then 4 s between them: 7 s at most
REPLY_BACKOFF_SECONDS = 1.0


class WhatsAppChannel:
    """One Twilio WhatsApp sender wired to the handlers. Close it on the loop that used it."""

    channel = CHANNEL
    reply_backoff = REPLY_BACKOFF_SECONDS

    def __init__(
        self,
        settings: WhatsAppSettings,
        context: Context,
        *,
        messages: TwilioMessages | None = None,
        metrics: Metrics | None = None,
        conversation: ConversationThread | None = None,
    ) -> None:
        self.settings = settings
        # `context` is the outbox's (`WhatsAppSender` reads it on the event loop); the
        # conversation's database work runs in `conversation`, on its own context.
        self.context = context
        self.conversation = conversation or ConversationThread(context)
        self._own_conversation = conversation is None  # else closed by whoever made it
        self.metrics = metrics or Metrics()
        self.messages = messages or TwilioMessages(settings)
        self.media = MediaStore(settings.media_base_url) if settings.media_base_url else None
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused_until: datetime | None = None
        # Counts a reply against the outbox's rate: Twilio limits a sender's messages a
        # second, replies included (set by the composition root; None: not counted).
        self.charge: Callable[[], None] | None = None
        self._received = 0

    # --- inbound ----------------------------------------------------------------------------

    def first_time(self, message_sid: str) -> bool:
        """Record a message sid; False when Twilio is retrying one already handled. In the
        conversation's thread."""
        db = self.conversation.context.db
        now = self.context.now()
        seen = inbound_messages.first_time(db, message_sid, now=now)
        self._received += 1
        if self._received % PRUNE_EVERY == 1:  # now and then, not on every message
            inbound_messages.prune(db, before=now - SEEN_FOR)
        return seen

    def receive(self, form: Mapping[str, str]) -> None:
        """Handle one message in the background (the webhook answers at once)."""
        task = asyncio.create_task(self.handle_message(dict(form)))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.metrics.handler_failed(CHANNEL)
            log.error("whatsapp message failed", exc_info=task.exception())

    async def join(self) -> None:
        """Wait for the messages being handled (tests; a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def handle_message(self, form: Mapping[str, str]) -> None:
        number = sender_number(form)
        if number is None:
            log.warning(
                "whatsapp: ignored message %s: its sender is not a phone number",
                form.get("MessageSid", "?")[:40],
            )
            return
        lock = self._locks.setdefault(number, asyncio.Lock())
        async with lock:
            replies = await self.conversation.run(self._converse, form, number)
            if replies:
                await self.deliver(number, replies)

    def _converse(self, form: Mapping[str, str], number: str) -> list[Reply]:
        """The replies to one message (none to a Twilio retry), in the conversation's thread."""
        context = self.conversation.context
        db = context.db
        sid = form.get("MessageSid", "")
        try:
            if sid and not self.first_time(sid):
                log.info("whatsapp: message %s already handled (Twilio retry)", sid[:40])
                return []
        except Exception as error:  # the sid cannot be kept: the handlers answer anyway
            if not unavailable(error):
                raise
        self.metrics.received(CHANNEL)
        inbound = Inbound(CHANNEL, number)
        try:
            found = contacts_store.identity(db, CHANNEL, number)
            contact = contacts_store.get(db, found.contact_id) if found else None
            shown = options.shown(contact) if contact else []
            inbound = to_inbound(form, number, shown, self._session_of)
            replies = handle(context, inbound)
            if not replies:  # e.g. someone writing too fast: nothing shown, nothing to keep
                return []
            if any(reply.request_phone for reply in replies):
                # WhatsApp already told us the number: share it on the person's behalf.
                replies = [reply for reply in replies if not reply.request_phone]
                replies += handle(context, Inbound(CHANNEL, number, phone=number))
            self._keep_number(number)
        except Exception as error:
            if not unavailable(error):
                raise
            return try_later(context, inbound, error)
        return replies

    def _session_of(self, message_sid: str) -> str | None:
        if not message_sid:
            return None
        return whatsapp_status.session_of_message(self.conversation.context.db, message_sid)

    def _keep_number(self, number: str) -> None:
        """The sender's number is known on WhatsApp: it becomes the contact's phone when the
        contact has none and no one else has it."""
        db = self.conversation.context.db
        found = contacts_store.identity(db, CHANNEL, number)
        contact = contacts_store.get(db, found.contact_id) if found else None
        if contact is None or contact.phone:
            return
        if contacts_store.find_by_phone(db, number) is None:
            contacts_store.update(db, contact.id, phone=number)

    # --- outbound ---------------------------------------------------------------------------

    def rendered(self, replies: Sequence[Reply]) -> Rendered:
        return render_all(
            replies, zone=self.context.zone, publish=self.media.publish if self.media else None
        )

    async def deliver(self, number: str, replies: Sequence[Reply]) -> None:
        """Send `replies` to `number` in order and remember their options. An unreachable
        number (63003/63014/63024) marks the identity inactive; nothing more is sent to it."""
        rendered = self.rendered(replies)
        who = await self.conversation.run(self._remember_options, number, rendered)
        for message in rendered.messages:
            if not await self._send_reply(number, message, who):
                return

    def _remember_options(self, number: str, rendered: Rendered) -> int | str:
        """Keep the numbered options shown to `number` (a database that cannot take them
        does not stop the reply); the contact's id, for the log, or "unknown"."""
        db = self.conversation.context.db
        try:
            found = contacts_store.identity(db, CHANNEL, number)
            if found is None:
                return "unknown"
            contact = contacts_store.get(db, found.contact_id)
            if contact is not None:
                options.save(db, contact, rendered.options)
            return found.contact_id
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning(
                "whatsapp: options shown not kept (database %s: %s)", unavailable(error), error
            )
            return "unknown"

    async def _send_reply(self, number: str, message: Outbound, who: int | str) -> bool:
        """One message of a reply. Refused for the rate (429, 63018) or by a passing failure
        Twilio reports (5xx, a connection refused), it is sent again after a wait, a few times:
        a person's answer is not dropped for a hiccup. A timeout is not retried: Twilio may
        have taken the message, and the person would read it twice."""
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            if self.charge is not None:
                self.charge()
            try:
                await self.messages.send(number, message)
            except Exception as error:
                result = classify(error)
                retry = result.outcome == "retry_after" or (
                    result.outcome == "transient" and not isinstance(error, TimeoutError)
                )
            else:
                self.metrics.call_succeeded(CHANNEL)
                return True
            if result.outcome == "blocked":
                await self.conversation.run(
                    contacts_store.mark_identity_inactive,
                    self.conversation.context.db,
                    CHANNEL,
                    number,
                    result.reason,
                )
            if retry and attempt < REPLY_ATTEMPTS:
                wait = result.retry_after or self.reply_backoff * 2 ** (attempt - 1)
                log.info(
                    "whatsapp reply to contact %s: %s; again in %g s", who, result.reason, wait
                )
                await asyncio.sleep(wait)
                continue
            log.warning("whatsapp reply to contact %s not sent: %s", who, result.reason)
            return False
        return False

    # --- status callbacks -------------------------------------------------------------------

    async def status_received(self, form: Mapping[str, str]) -> Applied:
        """`on_status`, in the conversation's thread (the web route awaits it)."""
        return await self.conversation.run(self.on_status, form)

    def on_status(self, form: Mapping[str, str]) -> Applied:
        """Apply one status callback; a rate refusal (63018) pauses the channel."""
        code = form.get("ErrorCode", "").strip()
        to = form.get("To", "").removeprefix("whatsapp:")
        try:
            number = normalize_phone(to) if to else None
        except InvalidPhone:
            number = None
        now = self.context.now()
        db = self.conversation.context.db
        applied = whatsapp_status.apply(
            db,
            message_sid=form.get("MessageSid", ""),
            status=form.get("MessageStatus", form.get("SmsStatus", "")),
            error_code=int(code) if code.isascii() and code.isdigit() and len(code) < 10 else None,
            address=number,
            now=now,
        )
        if applied.effect.requeue:
            self.pause_until(now + whatsapp_status.RATE_BACKOFF)
        if applied.effect.inactive:
            found = contacts_store.identity(db, CHANNEL, number) if number else None
            log.info(
                "whatsapp contact %s: %s, marked inactive",
                found.contact_id if found is not None else "unknown",
                applied.effect.inactive,
            )
        return applied

    def pause_until(self, moment: datetime) -> None:
        if self._paused_until is None or moment > self._paused_until:
            self._paused_until = moment

    def paused_for(self, now: datetime) -> float:
        """Seconds the outbox must still wait after a rate refusal (0 when none)."""
        if self._paused_until is None:
            return 0.0
        return max((self._paused_until - now).total_seconds(), 0.0)

    async def close(self) -> None:
        await self.join()
        await self.messages.close()
        if self._own_conversation:
            await self.conversation.close()

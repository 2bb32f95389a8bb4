"""The outbox's `Sender` for WhatsApp: one delivery row becomes Twilio messages, within
WhatsApp's 24-hour rule, and Twilio's answer becomes a `SendResult`.

Inside the window the rendered notification goes as free text with numbered options (kept
in the person's state, so that "1" answers it); outside, the approved template configured
for the kind and language goes instead, with its `ContentVariables`; with none, the row is
skipped with that reason and rerouted to the person's Telegram when they have one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.channels.whatsapp import options
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.messages import Outbound, classify
from bot.channels.whatsapp.variables import content_variables
from bot.channels.whatsapp.window import Skip, Template, choose_form
from bot.outbox.dispatcher import SendResult
from handlers.types import Reply
from storage import announcements, catalogue
from storage import contacts as contacts_store
from storage.deliveries import Delivery
from storage.zones import from_utc_text

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WhatsAppSender:
    channel = CHANNEL

    def __init__(
        self, whatsapp: WhatsAppChannel, *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.whatsapp = whatsapp
        self.clock = clock

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        now = self.clock()
        paused = self.whatsapp.paused_for(now)
        if paused > 0:
            return SendResult.rate_limited(paused)
        prepared = self.prepare(delivery, rendered, now)
        if isinstance(prepared, Skip):
            return SendResult.skipped(prepared.reason)
        first_sid: str | None = None
        for number, message in enumerate(prepared):
            try:
                sid = await self.whatsapp.messages.send(delivery.address, message)
            except Exception as error:
                result = classify(error)
                if number and result.outcome not in ("blocked",):
                    return SendResult.failed(
                        f"only {number} of {len(prepared)} parts sent; then {result.reason}"
                    )
                return result
            first_sid = first_sid or sid
        return SendResult.sent(first_sid)

    def prepare(self, delivery: Delivery, rendered: Reply, now: datetime) -> list[Outbound] | Skip:
        """The messages for `delivery` at `now`, or why none may be sent."""
        db = self.whatsapp.context.db
        identity = contacts_store.identity(db, CHANNEL, delivery.address)
        last = (
            from_utc_text(identity.last_inbound_at)
            if identity is not None and identity.last_inbound_at
            else None
        )
        announcement = announcements.get(db, delivery.announcement_id)
        if announcement is None:
            return Skip("announcement gone")
        form = choose_form(
            announcement.kind, delivery.language, last, now, self.whatsapp.settings.templates
        )
        if isinstance(form, Skip):
            return form
        if isinstance(form, Template):
            session = catalogue.session(db, announcement.session_id or "")
            variables = content_variables(
                announcement, session, delivery.language, self.whatsapp.context.zone
            )
            return [Outbound(content_sid=form.content_sid, content_variables=variables)]
        free = self.whatsapp.rendered([rendered])
        contact = contacts_store.get(db, delivery.contact_id)
        if contact is not None and free.options:
            options.save(db, contact, free.options)
        return list(free.messages)

"""What a channel must provide to the outbox: one `send`, answering with a `SendResult`.

The channel translates its platform's answers (Telegram `RetryAfter`, `Forbidden`; Twilio
429, 63003/63014/63024, 5xx) into these few outcomes; the dispatcher decides what follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from handlers.types import Reply
from storage.deliveries import Delivery

Outcome = Literal["sent", "retry_after", "transient", "blocked", "skipped", "failed"]


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    retry_after: float = 0.0
    reason: str = ""

    @classmethod
    def sent(cls, provider_message_id: str | None = None) -> SendResult:
        return cls("sent", provider_message_id=provider_message_id)

    @classmethod
    def rate_limited(cls, seconds: float) -> SendResult:
        """The platform asked the whole channel to wait `seconds` (429 / RetryAfter)."""
        return cls("retry_after", retry_after=seconds, reason=f"rate limited for {seconds:g} s")

    @classmethod
    def transient(cls, reason: str) -> SendResult:
        """Worth trying again later: 5xx, timeout, connection error."""
        return cls("transient", reason=reason)

    @classmethod
    def blocked(cls, reason: str) -> SendResult:
        """The person blocked the bot or left the channel: do not write there again."""
        return cls("blocked", reason=reason)

    @classmethod
    def skipped(cls, reason: str) -> SendResult:
        """Not sent, by a rule of the channel (WhatsApp's 24-hour window with no template):
        the person's other channel, if any, gets the notification instead."""
        return cls("skipped", reason=reason)

    @classmethod
    def failed(cls, reason: str) -> SendResult:
        """Will never succeed as it is (bad request, unknown chat): give up now."""
        return cls("failed", reason=reason)


class Sender(Protocol):
    channel: str

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult: ...

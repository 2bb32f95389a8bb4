"""Sending one WhatsApp message through Twilio's Messages API, with the SDK's async client.

`Outbound` is what one Twilio message carries (a body, media, or a template);
`TwilioMessages.send` posts it from the configured sender with our status-callback URL;
`classify` turns what went wrong into the outbox's outcomes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.rest import Client

from bot.channels.whatsapp.http import WhatsAppHttpClient
from bot.config import WhatsAppSettings
from bot.outbox.dispatcher import SendResult

log = logging.getLogger(__name__)

STATUS_PATH = "/whatsapp/status"
INBOUND_PATH = "/whatsapp/inbound"
MEDIA_PATH = "/whatsapp/media"
# An environment without TWILIO_EDGE / TWILIO_REGION: the SDK reads os.environ when given an
# empty mapping, so this one holds a harmless key.
_NO_TWILIO_ENV = {"FORMABOT": "1"}
# Twilio codes (REST answer or status callback) and what they mean for the outbox.
_BLOCKED = {
    21211: "not a valid phone number (21211)",
    63003: "not a WhatsApp number (63003)",
    63024: "not a valid WhatsApp recipient (63024)",
    63014: "blocked by the user (63014)",
}
_RATE = {20429, 63018}
RATE_PAUSE_SECONDS = 1.0
# A phone number as Twilio's error texts quote it ("The 'To' number +212612345678 is not…").
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")


def without_numbers(text: str) -> str:
    """Twilio's error text without the phone numbers it quotes: the reason goes to logs and
    to coordinators' reports, where people appear by contact id only."""
    return _PHONE.sub("[number]", text)


@dataclass(frozen=True)
class Outbound:
    """One Twilio message: free-form `body` (with optional `media_url`), or an approved
    template (`content_sid` with `content_variables` as a JSON object in text)."""

    body: str = ""
    media_url: tuple[str, ...] = ()
    content_sid: str = ""
    content_variables: str = ""


def address(number: str) -> str:
    """A WhatsApp address as Twilio writes it: `whatsapp:+212612345678`."""
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioMessages:
    """The Messages API for one account and one sender. Close it on the loop that used it."""

    def __init__(self, settings: WhatsAppSettings, *, connections: int | None = None) -> None:
        self.settings = settings
        self.http = WhatsAppHttpClient(
            settings.api_base_url, timeout=settings.timeout_seconds, connections=connections
        )
        client = Client(
            settings.account_sid,
            settings.auth_token,
            http_client=self.http,
            environment=_NO_TWILIO_ENV,
        )
        client.edge = client.region = None  # our base URL decides where requests go
        self._messages = client.api.v2010.accounts(settings.account_sid).messages

    @property
    def status_callback(self) -> str | None:
        public = self.settings.public_url.rstrip("/")
        return f"{public}{STATUS_PATH}" if public else None

    async def send(self, to: str, message: Outbound) -> str:
        """Post `message` to the E.164 number `to`; its Twilio sid. Raises what the SDK
        raises (TwilioRestException), TimeoutError, or aiohttp's errors."""
        fields: dict[str, Any] = {"to": address(to)}
        if self.settings.from_:
            fields["from_"] = self.settings.from_
        if self.settings.messaging_service_sid:
            fields["messaging_service_sid"] = self.settings.messaging_service_sid
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        if message.content_sid:
            fields["content_sid"] = message.content_sid
            if message.content_variables:
                fields["content_variables"] = message.content_variables
        else:
            if message.body:
                fields["body"] = message.body
            if message.media_url:
                fields["media_url"] = list(message.media_url)
        created = await self._messages.create_async(**fields)
        return str(created.sid)

    async def close(self) -> None:
        await self.http.close()


def error_code(error: BaseException) -> int | None:
    code = getattr(error, "code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def classify(error: BaseException) -> SendResult:
    """What went wrong, as the outbox's outcome: wait, retry, give up on the person, or fail."""
    if isinstance(error, TimeoutError):
        return SendResult.transient("Twilio did not answer in time")
    if isinstance(error, aiohttp.ClientError | OSError):
        return SendResult.transient(f"network error: {type(error).__name__} {error}".strip())
    if isinstance(error, TwilioRestException | TwilioServiceException):
        code, status = error_code(error), int(getattr(error, "status", 0) or 0)
        said = (
            getattr(error, "msg", "") or getattr(error, "detail", "") or getattr(error, "title", "")
        )
        message = f"{code or status} {without_numbers(str(said))}".strip()
        if status == 429 or code in _RATE:
            return SendResult.rate_limited(RATE_PAUSE_SECONDS)
        if code in _BLOCKED:
            return SendResult.blocked(_BLOCKED[code])
        if status >= 500:
            return SendResult.transient(message)
        if status in (401, 403) or code == 20003:
            log.error("twilio refused the account's credentials: %s", message)
            return SendResult.transient(message)
        return SendResult.failed(message)
    if isinstance(error, TwilioException):
        return SendResult.failed(str(error))
    raise error

"""A person on WhatsApp: posts signed messages to the inbound endpoint as Twilio would, and
reads what the bot sent back through the fake Twilio."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp import WhatsAppChannel
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio

PUBLIC_URL = "https://bot.example.org"
_sids = itertools.count(1)


def sign(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, form)


def inbound_form(number: str, body: str = "", **extra: str) -> dict[str, str]:
    return {
        "MessageSid": f"SM{next(_sids):032x}",
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{number}",
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Amina",
        "WaId": number.lstrip("+"),
        **extra,
    }


class Phone:
    def __init__(
        self, http: httpx.AsyncClient, channel: WhatsAppChannel, twilio: FakeTwilio, number: str
    ) -> None:
        self.http, self.channel, self.twilio, self.number = http, channel, twilio, number
        self.received: list[str] = []

    async def post(
        self, path: str, form: dict[str, str], *, signature: str | None = "valid"
    ) -> httpx.Response:
        headers = {}
        if signature == "valid":
            headers["X-Twilio-Signature"] = sign(path, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.http.post(path, data=form, headers=headers)

    async def send(self, form: dict[str, str], **kwargs: Any) -> httpx.Response:
        before = len(self.twilio.bodies(self.number))
        response = await self.post("/whatsapp/inbound", form, **kwargs)
        await self.channel.join()
        self.received = self.twilio.bodies(self.number)[before:]
        return response

    async def says(self, text: str, **extra: str) -> str:
        """Send `text`; everything the bot answered, as one text."""
        response = await self.send(inbound_form(self.number, text, **extra))
        assert response.status_code == 200, response.text
        return self.text

    @property
    def text(self) -> str:
        return "\n---\n".join(self.received)

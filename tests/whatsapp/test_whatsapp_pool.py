"""The HTTP pool to Twilio does not cap the requests in flight: the outbox bounds its own
(`[dispatcher] concurrency`) and the conversation's replies share the pool. Capped at 16,
requests the rate limiter had spaced queued for a connection and left in bursts (429s), and
a reply waited behind the broadcast (tests/bench/broadcast.py --channel whatsapp)."""

from __future__ import annotations

import asyncio
import time

from bot.channels.whatsapp.messages import Outbound, TwilioMessages
from bot.config import WhatsAppSettings
from tests.fakes.twilio_api import FakeTwilio

TO = "+212612345678"
IN_FLIGHT = 40


async def test_forty_requests_are_in_flight_at_once(
    settings: WhatsAppSettings, twilio: FakeTwilio
) -> None:
    twilio.hang_next(IN_FLIGHT)  # no answer until released: each request holds a connection
    messages = TwilioMessages(settings)
    sends = [
        asyncio.ensure_future(messages.send(TO, Outbound(body=f"n{number}")))
        for number in range(IN_FLIGHT)
    ]
    try:
        deadline = time.monotonic() + 5
        while len(twilio.requests) < IN_FLIGHT and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(twilio.requests) == IN_FLIGHT
    finally:
        twilio.release()
        await asyncio.gather(*sends, return_exceptions=True)
        await messages.close()

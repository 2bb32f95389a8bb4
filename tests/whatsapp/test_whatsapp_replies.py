"""A reply Twilio refuses for a moment is sent again; one it refuses for good is not."""

from __future__ import annotations

from sqlite_utils import Database

from bot.channels.whatsapp import WhatsAppChannel
from storage import contacts
from tests.fakes.twilio_api import FakeTwilio
from tests.whatsapp.phone import Phone


async def test_a_reply_refused_for_the_rate_is_sent_after_the_pause(
    amina: Phone, twilio: FakeTwilio
) -> None:
    twilio.refuse_next(429, 20429, "Too Many Requests")
    assert "Choisissez votre langue" in await amina.says("Bonjour")
    assert len(twilio.messages) == 2  # refused, then sent


async def test_a_reply_refused_by_a_passing_failure_is_sent_again(
    amina: Phone, twilio: FakeTwilio, channel: WhatsAppChannel
) -> None:
    channel.reply_backoff = 0.01
    twilio.refuse_next(503, 20500, "Service Unavailable", times=2)
    assert "Choisissez votre langue" in await amina.says("Bonjour")
    assert len(twilio.messages) == 3


async def test_a_reply_refused_for_good_is_tried_once(
    amina: Phone, twilio: FakeTwilio, channel: WhatsAppChannel
) -> None:
    channel.reply_backoff = 0.01
    twilio.refuse_next(
        400, 21617, "The concatenated message body exceeds the 1600 character limit", times=5
    )
    await amina.says("Bonjour")
    assert len(twilio.messages) == 1


async def test_a_number_not_on_whatsapp_is_marked_inactive_at_once(
    amina: Phone, twilio: FakeTwilio, programme: Database
) -> None:
    twilio.refuse_next(400, 63003, "Channel could not find To address", times=5)
    await amina.says("Bonjour")
    assert len(twilio.messages) == 1
    identity = contacts.identity(programme, "whatsapp", amina.number)
    assert identity is not None and not identity.active


async def test_each_reply_message_is_counted_against_the_senders_rate(
    amina: Phone, twilio: FakeTwilio, channel: WhatsAppChannel
) -> None:
    counted: list[int] = []
    channel.charge = lambda: counted.append(1)
    await amina.says("Bonjour")
    assert len(counted) == len(twilio.messages) >= 1

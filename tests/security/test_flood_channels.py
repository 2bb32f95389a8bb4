"""Flood control through the real channels: someone writing far too fast on Telegram or on
WhatsApp gets one notice and no more answers, someone else is answered meanwhile, and after
a pause the flooder is answered again. (The rules themselves: tests/test_flood.py.)"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from handlers.flood import BURST
from storage import contacts
from tests.clock import Clock
from tests.fakes.bot_api import FakeBotAPI, User
from tests.outbox.outbox_fakes import add_contact
from tests.security.fingerprint import fingerprint

NOTICE = "Vous envoyez des messages plus vite que nous ne pouvons les lire"
FLOODER, OTHER = User(7101, "Flood"), User(7102, "Calm")
FLOOD_NUMBER, OTHER_NUMBER = "+212612345601", "+212612345602"
UNDERSTOOD = "Voici le menu"


def enrolled(db: Database, channel: str, *addresses: str) -> None:
    for address in addresses:
        contact = add_contact(db, f"Person {address}")
        contacts.attach_identity(db, contact, channel=channel, address=address)


async def test_a_flood_on_telegram_slows_only_the_flooder(
    programme: Database, bot_api: FakeBotAPI, telegram_chat: Callable, clock: Clock
) -> None:
    enrolled(programme, "telegram", str(FLOODER.id), str(OTHER.id))
    flooder, other = telegram_chat(FLOODER), telegram_chat(OTHER)
    before = fingerprint(programme, ignore={"identities": ["last_inbound_at", "chat_id"]})
    for number in range(BURST + 40):  # all at one instant, one after the other
        last = bot_api.text(FLOODER, f"spam {number}" if number % 3 else "/topics")
    await flooder.settle(last)
    await other.says("bonjour")
    texts = [message.get("text", "") for message in flooder.messages]
    assert sum(UNDERSTOOD in text for text in texts) == len(
        [n for n in range(BURST) if n % 3]
    )  # the burst's texts answered …
    assert [text for text in texts if NOTICE in text] == [texts[-1]]  # … one notice, last
    assert len(texts) == BURST + 1
    assert UNDERSTOOD in other.last
    assert fingerprint(programme, ignore={"identities": ["last_inbound_at", "chat_id"]}) == before

    await flooder.says("encore")  # still too fast: nothing
    assert len(flooder.messages) == BURST + 1
    clock.advance(60)
    await flooder.says("bonjour")
    assert UNDERSTOOD in flooder.last


async def test_a_flood_on_whatsapp_slows_only_the_flooder(
    programme: Database, phone: Callable, clock: Clock
) -> None:
    enrolled(programme, "whatsapp", FLOOD_NUMBER, OTHER_NUMBER)
    flooder, other = phone(FLOOD_NUMBER), phone(OTHER_NUMBER)
    answered = [await flooder.says(f"spam {number}") for number in range(BURST + 1)]
    assert all(UNDERSTOOD in text for text in answered[:BURST])
    assert NOTICE in answered[BURST] and UNDERSTOOD not in answered[BURST]
    # dropped: no answer, and nothing written but the message sids kept against retries
    before = fingerprint(programme, skip_tables=["inbound_messages"])
    assert [await flooder.says(f"spam {number}") for number in range(30)] == [""] * 30
    assert fingerprint(programme, skip_tables=["inbound_messages"]) == before
    assert UNDERSTOOD in await other.says("bonjour")

    clock.advance(60)
    assert UNDERSTOOD in await flooder.says("bonjour")

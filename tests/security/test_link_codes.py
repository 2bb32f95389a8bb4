"""Link codes that cannot be guessed. A link code merges whoever says it into the profile of
whoever asked for it (registrations, erasure, notifications), and any outstanding code
matches: so a code has ten digits, an identity that says five wrong ones within an hour is
locked out of linking for an hour (the right code included), every refusal is audited, and
the person whose code was used is told on the channel where they asked for it, through the
outbox. Played through the real stacks: Telegram against the fake Bot API, WhatsApp through
signed webhooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from sqlite_utils import Database

from bot.app import build_telegram_sender
from bot.config import Config
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.running import dispatcher_settings
from storage import account_links, audit, contacts
from storage.zones import now_utc, zone
from tests.clock import Clock
from tests.fakes.bot_api import FakeBotAPI, User
from tests.outbox.outbox_fakes import add_contact

VICTIM = User(7601, "Amina")
ATTACKER = "+212612345690"
CODE = re.compile(r"\b(\d{5})-(\d{5})\b")


def owner(db: Database, channel: str, address: str) -> int | None:
    found = contacts.identity(db, channel, address)
    return found.contact_id if found else None


async def _victim_asks_for_a_code(db: Database, telegram_chat: Callable) -> tuple[object, str]:
    add_contact(db, "Amina", telegram=str(VICTIM.id), language="fr")
    amina = telegram_chat(VICTIM)
    await amina.says("/link")
    found = CODE.search(amina.last)
    assert found, amina.last
    return amina, found.group(1) + found.group(2)


async def test_five_wrong_codes_lock_an_identity_out_even_of_the_right_code(
    programme: Database, telegram_chat: Callable, phone: Callable, clock: Clock
) -> None:
    _, code = await _victim_asks_for_a_code(programme, telegram_chat)
    assert len(code) == account_links.CODE_DIGITS == 10
    mallory = phone(ATTACKER)
    wrong = [f"{number:010d}" for number in range(1, 7) if f"{number:010d}" != code][:5]
    for guess in wrong[:4]:
        assert "pas valide" in await mallory.says(f"LINK {guess}")
    locked = await mallory.says(f"LINK {wrong[4]}")
    assert "Trop de codes erronés" in locked and "suspendue jusqu’à" in locked
    assert "suspendue jusqu’à" in await mallory.says(f"LINK {code}")  # not even looked at
    assert owner(programme, "whatsapp", ATTACKER) != owner(programme, "telegram", str(VICTIM.id))
    refused = audit.entries(programme, action="link.code_refused")
    assert [entry.details["failures"] for entry in refused] == [1, 2, 3, 4, 5]
    assert all(
        entry.subject == "identity:whatsapp" and ATTACKER not in entry.details.values()
        for entry in refused
    )
    [lock] = audit.entries(programme, action="link.locked")
    assert lock.actor == f"contact:{owner(programme, 'whatsapp', ATTACKER)}"

    clock.advance(timedelta(minutes=59).total_seconds())
    assert "suspendue" in await mallory.says(f"LINK {wrong[0]}")
    clock.advance(timedelta(minutes=2).total_seconds())  # the hour is over: guesses count again
    assert "pas valide" in await mallory.says(f"LINK {wrong[0]}")
    assert len(audit.entries(programme, action="link.code_refused")) == 6


async def test_a_typo_that_is_no_code_at_all_costs_no_attempt(
    programme: Database, phone: Callable
) -> None:
    mallory = phone(ATTACKER)
    for typo in ("LINK 123456", "LINK 12345-6789", "LINK 1234567890123"):
        assert "compte 10 chiffres" in await mallory.says(typo)
    assert audit.entries(programme, action="link.code_refused") == []


async def test_the_person_whose_code_was_used_is_told_on_their_channel(
    programme: Database,
    config: Config,
    bot_api: FakeBotAPI,
    telegram_chat: Callable,
    phone: Callable,
    clock: Clock,
) -> None:
    clock.now = now_utc()  # the outbox below runs on real time
    amina, code = await _victim_asks_for_a_code(programme, telegram_chat)
    # typed as people type it: Arabic-Indic digits, a space instead of the dash
    typed = "".join("٠١٢٣٤٥٦٧٨٩"[int(digit)] for digit in code)
    said = await phone(ATTACKER).says(f"LINK {typed[:5]} {typed[5:]}")
    assert "partagent désormais un même profil" in said
    kept = owner(programme, "telegram", str(VICTIM.id))
    assert owner(programme, "whatsapp", ATTACKER) == kept

    sender = build_telegram_sender(config)
    dispatcher = Dispatcher(
        programme,
        sender,
        zone=zone(config.bot.timezone),
        settings=dispatcher_settings(config, "telegram"),
    )
    sender.pace = dispatcher.admit
    async with sender:
        await dispatcher.drain()

    notice = amina.last
    assert "Votre code de liaison vient d’être utilisé sur WhatsApp" in notice
    assert ATTACKER in notice and "prévenez tout de suite" in notice
    [entry] = audit.entries(programme, action="notice.sent")
    assert entry.subject == f"contact:{kept}" and entry.details["reason"] == "link_code_used"

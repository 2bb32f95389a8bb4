"""Every coordinator command and button, tried by someone who is not a coordinator, on both
channels: a polite refusal, nothing changed in the database, no audit entry but the refusal
itself, no roster sent. The list comes from the code (`COORDINATOR_COMMANDS` and the
coordinator router's actions), so a new tool is covered the day it is added.

(The same in the handlers alone, and someone still onboarding: tests/test_coordination_chat.py;
the Telegram menu kept from strangers: tests/telegram/test_telegram_coordinators.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlite_utils import Database

from handlers import coordinator_router
from handlers.commands import COORDINATOR_COMMANDS
from handlers.flood import REFILL_SECONDS
from handlers.types import Action
from storage import audit, broadcasts, contacts, coordinators, registrations
from storage.audience import Audience
from tests.clock import Clock
from tests.conftest import NOW
from tests.fakes.bot_api import FakeBotAPI, User
from tests.fakes.twilio_api import FakeTwilio
from tests.outbox.outbox_fakes import add_contact
from tests.security.fingerprint import differences, fingerprint

REFUSAL = "réservée à l’équipe de coordination"
SALMA = User(7201, "Salma")  # the coordinator, on Telegram
STRANGER = User(7202, "Karim")
STRANGER_NUMBER = "+212612345699"
SESSION = "tig-2026-12"
# An argument for each button that takes one, pointing at something that exists.
ARGUMENTS = {
    "sc_ask": "{announcement}",
    "sc_yes": "{announcement}",
    "rp": "{announcement}",
    "ro": SESSION,
    "an_reg": SESSION,
    "an_ses": SESSION,
    "an_tp": "soudage",
    "an_role": "trainee",
    "an_lang": "ar",
}


def attempts(announcement: int) -> list[tuple[str, str]]:
    """(what the audit calls it, what is sent: a command or an encoded button)."""
    commands = [name for name, _ in COORDINATOR_COMMANDS]
    assert set(commands) == coordinator_router.COMMANDS
    tried = [(name, f"/{name}") for name in commands]
    tried += [("report", f"/report {announcement}"), ("roster", f"/roster {SESSION}")]
    for name in sorted(coordinator_router.ACTIONS):
        argument = ARGUMENTS.get(name, "").format(announcement=announcement)
        tried.append((name, "button:" + Action(name, (argument,) if argument else ()).encode()))
    return tried


@pytest.fixture
def announcement(programme: Database) -> int:
    """The coordinator on file, a scheduled announcement and a registration: what a
    stranger's /scheduled, Cancel, /report or /roster would reach."""
    salma = add_contact(programme, "Salma")
    contacts.attach_identity(programme, salma, channel="telegram", address=str(SALMA.id))
    coordinators.add(programme, channel="telegram", address=str(SALMA.id), name="Salma")
    trainee = add_contact(programme, "Youssef", role="trainee")
    registrations.register(programme, trainee, SESSION, 12)
    return broadcasts.publish(
        programme,
        texts={"*": "Nouvelle session"},
        audience=Audience(),
        due_at=NOW + timedelta(days=1),
        created_by="telegram:7201",
        now=NOW,
    ).announcement_id


def stranger(db: Database, channel: str, address: str) -> None:
    """Someone set up and known; on WhatsApp their number is already their phone (the
    channel would otherwise record it with their first message)."""
    contact = add_contact(db, "Karim")
    contacts.attach_identity(db, contact, channel=channel, address=address)
    if channel == "whatsapp":
        contacts.update(db, contact, phone=address)


def unchanged(db: Database) -> dict:
    """The database but for what any message leaves: the identity's last message time and
    chat, the options a number now presses, WhatsApp's sids kept against retries, and the
    audited refusals."""
    # `contacts.state`: the menu shown with the refusal is what a typed number now presses.
    return fingerprint(
        db,
        ignore={"identities": ["last_inbound_at", "chat_id"], "contacts": ["state"]},
        skip_tables=["inbound_messages"],
        skip_audit=["coordination.refused"],
    )


def refusals(db: Database, actor: str) -> list[str]:
    return [
        entry.subject
        for entry in audit.entries(db, action="coordination.refused")
        if entry.actor == actor
    ]


async def test_every_coordinator_action_is_refused_on_telegram(
    programme: Database,
    announcement: int,
    bot_api: FakeBotAPI,
    telegram_chat: Callable,
    clock: Clock,
) -> None:
    stranger(programme, "telegram", str(STRANGER.id))
    chat = telegram_chat(STRANGER)
    before = unchanged(programme)
    problems = {}
    for _name, sent in attempts(announcement):
        seen = len(chat.messages)
        if sent.startswith("button:"):
            await chat.presses_data(sent.removeprefix("button:"))
        else:
            await chat.says(sent)
        answer = "\n".join(message.get("text", "") for message in chat.messages[seen:])
        if REFUSAL not in answer:
            problems[sent] = answer
        clock.advance(REFILL_SECONDS)  # one attempt per REFILL_SECONDS: not a flood
    assert problems == {}
    assert bot_api.calls_to("sendDocument") == []
    changed = differences(before, unchanged(programme))
    assert changed == {}, changed
    assert refusals(programme, f"telegram:{STRANGER.id}") == [
        name for name, _ in attempts(announcement)
    ]


async def test_every_coordinator_action_is_refused_on_whatsapp(
    programme: Database, announcement: int, phone: Callable, twilio: FakeTwilio, clock: Clock
) -> None:
    stranger(programme, "whatsapp", STRANGER_NUMBER)
    karim = phone(STRANGER_NUMBER)
    before = unchanged(programme)
    problems = {}
    for _name, sent in attempts(announcement):
        if sent.startswith("button:"):  # a quick-reply payload, forged
            answer = await karim.says("", ButtonPayload=sent.removeprefix("button:"))
        else:
            answer = await karim.says(sent)
        if REFUSAL not in answer:
            problems[sent] = answer
        clock.advance(REFILL_SECONDS)
    assert problems == {}
    assert [message for message in twilio.messages if message.field("MediaUrl")] == []
    changed = differences(before, unchanged(programme))
    assert changed == {}, changed
    assert refusals(programme, f"whatsapp:{STRANGER_NUMBER}") == [
        name for name, _ in attempts(announcement)
    ]

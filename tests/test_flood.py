"""Inbound flood control in the handlers: someone writing hundreds of messages a minute gets
one notice and is slowed down alone; everyone else, coordinators and the console included,
is answered as usual. (Through the real channels: tests/security/test_flood_channels.py.)"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlite_utils import Database

from handlers import Action, Context, Inbound, Reply, handle
from handlers.flood import BURST, REFILL_SECONDS, FloodGate
from storage import contacts, coordinators
from tests.clock import Clock
from tests.conftest import NOW
from tests.outbox.outbox_fakes import add_contact
from tests.people import Person
from tests.security.fingerprint import fingerprint

NOTICE = {
    "fr": "Vous envoyez des messages plus vite que nous ne pouvons les lire",
    "ar": "ترسلون الرسائل أسرع مما نستطيع قراءته",
    "en": "You are sending messages faster than I can read them",
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def context(programme: Database, clock: Clock) -> Context:
    return Context(db=programme, clock=clock)


def person(context: Context, address: str, *, language: str = "fr") -> Person:
    """Someone already set up on Telegram (the console is not flood-controlled)."""
    contact = add_contact(context.db, f"Person {address}", language=language)
    contacts.attach_identity(context.db, contact, channel="telegram", address=address)
    return Person(context, address, channel="telegram")


def notices(replies: list[list[Reply]], language: str = "fr") -> int:
    return sum(NOTICE[language] in reply.text for answer in replies for reply in answer)


def test_300_messages_in_a_minute_get_one_notice_and_the_rest_is_not_handled(
    context: Context, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    flooder, other = person(context, "9001"), person(context, "9002")
    before = fingerprint(context.db, ignore={"identities": ["last_inbound_at"]})
    answers = []
    with caplog.at_level(logging.WARNING, logger="handlers.flood"):
        for number in range(300):  # one every 0.2 s
            answers.append(flooder.says("/language" if number % 2 else "Nouveau Nom"))
            if number % 10 == 0:  # someone else writes every 2 s meanwhile: answered
                assert notices([other.says("bonjour")]) == 0 and other.replies
            clock.advance(0.2)
    assert notices(answers) == 1
    [notice] = [number for number, answer in enumerate(answers) if notices([answer])]
    # the burst and what refilled while it lasted (0.1 a message) are answered as usual …
    assert notice == BURST + 2 and all(answers[:notice])
    assert [answer for answer in answers[notice + 1 :] if answer] == []  # … then nothing
    # what was handled only showed menus: nothing at all was written for the flooder
    assert fingerprint(context.db, ignore={"identities": ["last_inbound_at"]}) == before
    [line] = [record.getMessage() for record in caplog.records]
    contact_id = contacts.identity(context.db, "telegram", "9001").contact_id
    assert f"contact {contact_id} " in line
    assert "9001" not in line and "Person" not in line  # an id, never an address or a name

    clock.advance(REFILL_SECONDS)  # a pause: the flood is over
    [answer] = flooder.command("menu")
    assert answer.choices and notices([[answer]]) == 0


def test_dropped_messages_change_nothing_in_the_database(context: Context, clock: Clock) -> None:
    flooder = person(context, "9001")
    for _ in range(BURST + 1):
        flooder.says("bonjour")
    before = fingerprint(context.db)
    for text in ("/forget", "Nouveau Nom", "/language", "/topics", "LINK 123456"):
        assert flooder.says(text) == []
    assert fingerprint(context.db) == before


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_notice_is_in_the_persons_language(context: Context, language: str) -> None:
    flooder = person(context, "9001", language=language)
    answers = [flooder.says("?") for _ in range(BURST + 3)]
    assert notices(answers[BURST:], language) == 1
    assert answers[BURST][0].language == language


def test_after_a_pause_the_flooder_is_answered_again(context: Context, clock: Clock) -> None:
    flooder = person(context, "9001")
    for _ in range(BURST + 50):
        flooder.says("spam")
        clock.advance(0.1)
    assert flooder.says("spam") == []
    clock.advance(REFILL_SECONDS)
    assert "menu" in flooder.says("spam")[0].text
    clock.advance(60)
    assert all(flooder.says("spam") for _ in range(BURST))  # a full bucket again


def test_who_keeps_going_stays_out_and_a_second_flood_soon_after_gets_no_second_notice(
    context: Context, clock: Clock
) -> None:
    flooder = person(context, "9001")
    answers = []
    for _ in range(200):  # one every 1.5 s: faster than one per REFILL_SECONDS
        answers.append(flooder.says("spam"))
        clock.advance(REFILL_SECONDS * 0.75)
    assert not any(answers[-100:])  # the burst and what refilled meanwhile are used up
    clock.advance(REFILL_SECONDS)
    assert flooder.says("spam")
    answers = [flooder.says("spam") for _ in range(BURST + 10)]
    assert notices(answers) == 0  # told a few minutes ago
    clock.advance(15 * 60)
    answers = [flooder.says("spam") for _ in range(BURST + 10)]
    assert notices(answers) == 1


def test_stop_is_honoured_during_a_flood(context: Context) -> None:
    flooder = person(context, "9001")
    for _ in range(BURST + 5):
        flooder.says("spam")
    assert flooder.says("STOP")  # opted out at once, and told so
    contact = contacts.get(context.db, contacts.identity(context.db, "telegram", "9001").contact_id)
    assert contact is not None and contact.opted_out_at is not None
    assert flooder.says("STOP") == []  # once is enough


def test_an_old_consent_no_is_honoured_during_a_flood(context: Context) -> None:
    flooder = person(context, "9001")
    for _ in range(BURST + 5):
        flooder.says("spam")
    assert flooder.presses_old(Action("consent", ("no",)))  # withdrawn at once, and told so
    contact = contacts.get(context.db, contacts.identity(context.db, "telegram", "9001").contact_id)
    assert contact is not None and not contact.may_be_notified


def test_a_brisk_person_is_not_throttled(context: Context, clock: Clock) -> None:
    """Buttons tapped as fast as one reads (one a second for half a minute), then a steady
    message every REFILL_SECONDS for an hour: all answered."""
    brisk = person(context, "9001")
    for _ in range(30):
        assert brisk.says("bonjour")
        clock.advance(1)
    for _ in range(1800):
        assert brisk.command("menu")
        clock.advance(REFILL_SECONDS)


def test_a_new_person_onboarding_quickly_is_answered(context: Context) -> None:
    newcomer = Person(context, "9100", channel="telegram")
    newcomer.onboard(language="Français", topics=("Soudage",))  # nine at one instant
    assert "menu" in newcomer.text.lower() or newcomer.labels


def test_coordinators_and_the_console_are_never_throttled(context: Context) -> None:
    coordinator = person(context, "9001")
    coordinators.add(context.db, channel="telegram", address="9001", name="Salma")
    console = Person(context, "operator", channel="console")
    for _ in range(5 * BURST):  # all at one instant
        assert coordinator.command("scheduled")
        assert console.command("menu")


def test_each_channel_identity_has_its_own_bucket(context: Context) -> None:
    contact = add_contact(context.db, "Nadia")
    contacts.attach_identity(context.db, contact, channel="telegram", address="9001")
    contacts.attach_identity(context.db, contact, channel="whatsapp", address="+212612345678")
    telegram = Person(context, "9001", channel="telegram")
    for _ in range(BURST + 5):
        telegram.says("spam")
    assert telegram.says("spam") == []
    assert handle(context, Inbound("whatsapp", "+212612345678", text="bonjour"))


def test_quiet_people_are_forgotten() -> None:
    gate = FloodGate()
    for number in range(5_000):
        assert gate.admits(("telegram", str(number)), NOW + timedelta(seconds=number))
    assert len(gate) < 200  # only those seen in the last BURST × REFILL_SECONDS


def test_the_number_whatsapp_shares_for_the_person_costs_no_message(context: Context) -> None:
    number = "+212612345678"
    for _ in range(BURST):  # the whole burst spent on typed messages
        handle(context, Inbound("whatsapp", number, text="bonjour"))
    replies = handle(context, Inbound("whatsapp", number, phone=number))
    assert notices([replies]) == 0

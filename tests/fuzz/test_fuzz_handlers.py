"""`handlers.handle`, the one entry point of the conversation, at every step of it: texts,
commands, button data and shared numbers, as any channel could pass them on.

Whatever arrives, the person gets a specific answer (never the catch-all "something went
wrong", nothing logged at ERROR), every button shown fits Telegram's 64 bytes, and what the
bot refuses (an expired button, an unknown command, a text where buttons are expected, a
number that is not one) leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from handlers import Action, Context, Inbound, Reply, handle
from handlers import coordinator_router as coordinator_tools
from handlers.flood import FloodGate
from handlers.i18n import t
from handlers.keywords import command_for
from handlers.onboarding import NAME_MAX
from handlers.phones import InvalidPhone, normalize_phone
from handlers.router import TEXT_MAX
from handlers.types import ACTION_MAX_BYTES, storable
from storage import contacts, coordinators
from tests.conftest import NOW
from tests.fuzz.database import Snapshot, changed, fingerprint
from tests.fuzz.errors import Errors
from tests.fuzz.fuzzing import FUZZ, HUGE_TEXT, SPECIAL, TEXT
from tests.fuzz.tally import count
from tests.people import Person

CHANNEL = "telegram"
ONBOARDING = ("language", "consent", "name", "company", "role", "topics")
STEPS = (
    "new",
    *ONBOARDING,
    "complete",
    "complete_fr",
    "complete_ar",
    "opted_out",
    "coordinator",
    "composing",
    "composing_text",
    "composing_time",
)
SORRY = "Sorry, something went wrong on our side. Please try again."
ROUTER_ACTIONS = {
    "lang",
    "consent",
    "stop",
    "start",
    "pref",
    "forget",
    "forget_yes",
    "forget_no",
    "menu",
    "help",
    "language",
    "topics",
    "tp",
    "tp_done",
    "ss",
    "s",
    "int",
    "reg",
    "can",
    "can_yes",
    "ics",
    "my",
    "att_yes",
    "att_no",
    "phone",
    "co",
    "co_none",
    "role",
}
KNOWN_ACTIONS = sorted(ROUTER_ACTIONS | coordinator_tools.ACTIONS)
COMMANDS = {
    "start",
    "stop",
    "forget",
    "menu",
    "help",
    "sessions",
    "my",
    "topics",
    "language",
    "link",
    "cancel",
    *coordinator_tools.COMMANDS,
}


@dataclass
class Conversation:
    context: Context
    snapshot: Snapshot
    address: dict[str, str]  # step -> the Telegram user id of someone at that step

    def contact(self, step: str) -> contacts.Contact | None:
        found = contacts.identity(self.context.db, CHANNEL, self.address[step])
        return contacts.get(self.context.db, found.contact_id) if found else None


def _reach(context: Context, step: str, address: str) -> None:
    """Bring the person at `address` to `step`, through the handlers themselves."""
    person = Person(context, address, CHANNEL)
    if step == "new":
        return
    if step.startswith(("coordinator", "composing")):
        coordinators.add(context.db, channel=CHANNEL, address=address, name="Salma")
    language = {"complete_fr": "Français", "complete_ar": "العربية"}.get(step, "English")
    if step not in ONBOARDING:
        topic = {"Français": "Soudage", "العربية": "اللحام"}.get(language, "Welding")
        person.onboard(language=language, topics=(topic,))
        if step == "opted_out":
            person.command("stop")
        if step.startswith("composing"):
            person.command("announce")
        if step in ("composing_text", "composing_time"):
            person.presses("Next")
            person.presses("No session")
        if step == "composing_time":
            person.says("Formation soudage: inscriptions ouvertes.")
            person.presses("Next")
        return
    answers = {
        "consent": "English",
        "name": "Yes, I agree",
        "company": "Amina Alaoui",
        "role": "Atlas",
        "topics": "Manager",
    }
    person.command("start")
    for earlier in ONBOARDING[1 : ONBOARDING.index(step) + 1]:
        if earlier == "company":
            person.says("Amina Alaoui")
        elif earlier == "role":
            person.says("Atlas")
            person.presses("Atlas Fonderie")
        else:
            person.presses(answers[earlier])


def unlimited_context(db: Database) -> Context:
    """The handlers' context at the suite's clock, with flood control opened wide: the
    clock stands still, and the fuzzer sends thousands of messages as the same people."""
    return Context(db=db, clock=lambda: NOW, flood=FloodGate(burst=10**9))


@pytest.fixture
def conversation(programme: Database) -> Iterator[Conversation]:
    context = unlimited_context(programme)
    address = {step: str(9000 + number) for number, step in enumerate(STEPS)}
    for step in STEPS:
        _reach(context, step, address[step])
    # Telegram names the chat with every message; the people above came without one.
    programme.execute("UPDATE identities SET chat_id = address WHERE channel = ?", [CHANNEL])
    snapshot = Snapshot(programme)
    yield Conversation(context, snapshot, address)
    snapshot.close()


def _checked(replies: list[Reply], inbound: Inbound) -> str:
    """The replies' text, after checking that they are a real answer."""
    assert replies, f"no answer to {inbound!r}"
    for reply in replies:
        assert reply.text.strip(), f"an empty message answering {inbound!r}"
        assert all(reply.text != t(language, SORRY) for language in ("fr", "ar", "en")), (
            f"the catch-all answered {inbound!r}"
        )
        for choice in reply.choices:
            data = choice.action.encode()
            assert len(data.encode()) <= ACTION_MAX_BYTES, data
            assert Action.decode(data) == choice.action, data
            assert choice.label.strip()
    return "\n".join(reply.text for reply in replies)


def _throw(
    conversation: Conversation, errors: Errors, step: str, **what: object
) -> tuple[str, list[str], contacts.Contact | None]:
    """Handle one input from the person at `step`: the answer, the tables it changed, and
    the contact as they were before."""
    conversation.snapshot.restore()
    db = conversation.context.db
    contact = conversation.contact(step)
    inbound = Inbound(
        CHANNEL, conversation.address[step], chat_id=conversation.address[step], **what
    )
    replies = handle(conversation.context, inbound)
    errors.check(inbound)
    text = _checked(replies, inbound)
    return text, changed(conversation.snapshot.fingerprint, fingerprint(db)), contact


def _says(contact: contacts.Contact | None, message: str, **values: object) -> str:
    return t(contact.language if contact else None, message, **values)


def _step_of(step: str) -> str:
    return "complete" if step.startswith("complete") else step


# --- free text ----------------------------------------------------------------------------

TEXTS = st.one_of(
    TEXT,
    HUGE_TEXT,
    st.text(SPECIAL, max_size=8),
    st.sampled_from(
        [
            "atlas",
            "AT",
            "a",
            "Atlas Fonderie",
            " ",
            "",
            "\u200b\u200b",
            "M001",
            "%",
            "_",
            "'; DROP TABLE contacts; --",
            "1",
            "2",
            "Oui",
            "stop please",
        ]
    ),
)


@settings(FUZZ, max_examples=700)
@given(step=st.sampled_from(STEPS), text=TEXTS)
def test_any_text_at_any_step(
    conversation: Conversation, errors: Errors, step: str, text: str
) -> None:
    count("handlers.handle text")
    answer, tables, contact = _throw(conversation, errors, step, text=text)
    if step == "new" or step.startswith("compos") or command_for(text) is not None:
        return  # a first contact is recorded; a keyword or a draft's text is taken
    if len(text) > TEXT_MAX:
        assert _says(contact, "That message is too long for me.") in answer
        assert tables == []
        return
    stored = storable(text)  # what any Inbound holds
    cleaned = " ".join("".join(ch for ch in stored if ch.isprintable() or ch.isspace()).split())
    refused = {
        "language": True,
        "consent": True,
        "role": True,
        "topics": True,
        "complete": True,
        "opted_out": True,
        "coordinator": True,
        "name": not cleaned or len(cleaned) > NAME_MAX,
        "company": len(cleaned) < 2,
    }[_step_of(step)]
    if refused:
        assert tables == [], f"{text!r} at {step} was refused but changed {tables}"
    if _step_of(step) in ("complete", "opted_out", "coordinator"):
        assert _says(contact, "Sorry, I did not understand. Here is the menu.") in answer
    if step in ("role", "topics"):
        assert _says(contact, "Please use the buttons below.") in answer


# --- commands -----------------------------------------------------------------------------

COMMAND_NAMES = st.one_of(
    st.sampled_from(sorted(COMMANDS)),
    st.from_regex(r"[A-Za-z0-9_]{1,32}", fullmatch=True),
)
ARGUMENTS = st.one_of(
    st.just(""),
    TEXT,
    st.integers(0, 10**7).map(str),
    st.sampled_from(
        [
            "session_tig-2026-12",
            "topic_soudage",
            "session_",
            "topic_nothing",
            "M001",
            "123456",
            "000000",
            "tig-2026-12",
            "99999999999999999999999",
        ]
    ),
)


@settings(FUZZ, max_examples=600)
@given(step=st.sampled_from(STEPS), command=COMMAND_NAMES, argument=ARGUMENTS)
def test_any_command_at_any_step(
    conversation: Conversation, errors: Errors, step: str, command: str, argument: str
) -> None:
    count("handlers.handle command")
    answer, tables, contact = _throw(conversation, errors, step, command=command, argument=argument)
    if step == "new" or step.startswith("compos") or command.lower() in COMMANDS:
        return  # a first contact is recorded; a draft is dropped by any other command
    assert tables == [], f"/{command} at {step} is unknown but changed {tables}"
    if step in ONBOARDING:
        assert _says(contact, "Let's finish setting up first.") in answer
    else:
        assert (
            _says(contact, "Unknown command {command}.", command="/" + command.lower()[:32])
            in answer
        )


# --- buttons ------------------------------------------------------------------------------

ARGS = st.one_of(
    st.sampled_from(
        [
            "tig-2026-12",
            "mig-2027-01",
            "maint-2027-02",
            "nothing-here",
            "soudage",
            "maintenance",
            "fr",
            "ar",
            "en",
            "xx",
            "yes",
            "no",
            "manager",
            "trainee",
            "telegram",
            "whatsapp",
            "1",
            "2",
            "0",
            "-1",
            "99",
            "1.5",
            "99999999999999999999999",
            "9" * 48,
            "",
            "_",
            ".",
        ]
    ),
    st.from_regex(r"[A-Za-z0-9_.\-]{0,48}", fullmatch=True),
)
WELL_FORMED = st.builds(
    Action, st.sampled_from(KNOWN_ACTIONS), st.lists(ARGS, max_size=3).map(tuple)
)
# What Telegram's adapter makes of any callback data: the action, or "expired".
FORGED = st.one_of(
    TEXT,
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "replace")),
    st.from_regex(r"[a-z_]{1,12}(:[A-Za-z0-9_.\-]{0,10}){0,3}", fullmatch=True),
).map(lambda data: Action.decode(data) or Action("expired"))


@settings(FUZZ, max_examples=900)
@given(step=st.sampled_from(STEPS), action=st.one_of(WELL_FORMED, FORGED))
def test_any_button_at_any_step(
    conversation: Conversation, errors: Errors, step: str, action: Action
) -> None:
    count("handlers.handle action")
    answer, tables, contact = _throw(conversation, errors, step, action=action)
    if step == "new" or step.startswith("compos") or action.name in KNOWN_ACTIONS:
        return  # a first contact is recorded; a draft is dropped by any other button
    assert tables == [], f"{action} at {step} is unknown but changed {tables}"
    if step in ONBOARDING:
        assert _says(contact, "Let's finish setting up first.") in answer
    else:
        assert _says(contact, "This button has expired.") in answer


# --- a shared phone number ----------------------------------------------------------------

PHONES = st.one_of(
    TEXT,
    st.from_regex(r"\+?[0-9 ]{0,20}", fullmatch=True),
    st.sampled_from(
        [
            "+212612345678",
            "+212612345679",
            "0612345678",
            "+33612345678",
            "+",
            "",
            "+2126123456789",
            "212612345678",
            "+999999999",
        ]
    ),
)


@settings(FUZZ, max_examples=400)
@given(step=st.sampled_from(STEPS), phone=PHONES)
def test_any_shared_number_at_any_step(
    conversation: Conversation, errors: Errors, step: str, phone: str
) -> None:
    count("handlers.handle phone")
    answer, tables, contact = _throw(conversation, errors, step, phone=phone)
    if step == "new" or step.startswith("compos"):
        return  # a first contact is recorded; a draft is dropped by anything but text
    try:
        normalize_phone(phone)
    except InvalidPhone:
        assert tables == [], f"{phone!r} is no number but changed {tables}"
        assert _says(contact, "This phone number does not look valid.") in answer

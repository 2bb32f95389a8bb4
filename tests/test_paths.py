"""Paths that never strand anyone: a way out of every prompt, a clear retry for bad answers,
and sessions that say what they are (full, past, cancelled) wherever they are shown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from handlers import Action, Context
from storage import audit, contacts
from tests.conftest import NOW, add_session
from tests.people import Person


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def context(programme: Database, clock: Clock) -> Context:
    return Context(db=programme, clock=clock)


def contact_of(person: Person) -> contacts.Contact:
    identity = contacts.identity(person.context.db, person.channel, person.address)
    assert identity is not None
    found = contacts.get(person.context.db, identity.contact_id)
    assert found is not None
    return found


def test_my_sessions_say_which_were_cancelled_and_which_are_over(
    context: Context, clock: Clock
) -> None:
    person = Person(context)
    person.onboard()
    for session_id in ("tig-2026-12", "mig-2027-01"):
        person.command("start", f"session_{session_id}")
        person.presses("Register")
    add_session(
        context.db,
        "mig-2027-01",
        starts="2027-01-12T09:00",
        ends="2027-01-12T17:00",
        status="cancelled",
    )
    clock.now = NOW + timedelta(days=20)  # tig-2026-12 (10–11 December) is over
    person.command("my")
    assert "Session tig-2026-12 (en) — " in person.text
    assert "(registered, session over)" in person.text
    assert "(session cancelled)" in person.text
    person.presses("Session mig-2027-01 (en)")
    assert "This session has been cancelled." in person.text
    person.command("my")
    person.presses("Session tig-2026-12 (en)")
    assert "This session has already taken place." in person.text
    assert "Register" not in person.labels


def test_a_full_sessions_button_says_it_joins_the_waiting_list(context: Context) -> None:
    first, second = Person(context, "a"), Person(context, "b")
    first.onboard()
    first.command("start", "session_tig-2026-12")
    assert "Register" in first.labels
    first.presses("Register")
    second.onboard()
    second.command("start", "session_tig-2026-12")
    assert "Full: new registrations go on the waiting list." in second.text
    assert "Join the waiting list" in second.labels and "Register" not in second.labels


def test_pressing_interested_leaves_every_option_where_it_was(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", "session_mig-2027-01")
    before = [choice.action for reply in person.replies for choice in reply.choices]
    person.presses("I'm interested")
    after = [choice.action for reply in person.replies for choice in reply.choices]
    assert after == before


def test_every_session_can_be_seen_not_only_the_followed_topics(context: Context) -> None:
    person = Person(context)
    person.onboard(topics=("Maintenance",))
    person.command("sessions")
    assert "Session mig-2027-01 (en)" not in person.labels
    person.presses("All upcoming sessions")
    assert {
        "Session tig-2026-12 (en)",
        "Session mig-2027-01 (en)",
        "Session maint-2027-02 (en)",
    } <= set(person.labels)


def at_the_name_question(context: Context) -> Person:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    return person


@pytest.mark.parametrize("typed", ["1", "2.", "a", "Amina2", "@@@", "http://x.example"])
def test_a_name_that_is_not_one_gets_the_question_again(context: Context, typed: str) -> None:
    person = at_the_name_question(context)
    person.says(typed)
    assert "Please send your name in letters" in person.text
    assert "What is your full name?" in person.text
    assert contact_of(person).name is None


@pytest.mark.parametrize(
    "name", ["Amina Alaoui", "أمينة العلوي", "Jean-Pierre O’Neil", "M. Youssef Ben Ali"]
)
def test_names_in_any_script_with_their_joiners_are_taken(context: Context, name: str) -> None:
    person = at_the_name_question(context)
    person.says(name)
    assert contact_of(person).name == name
    assert "Which member company do you work for?" in person.text


def test_a_too_long_message_during_onboarding_asks_the_question_again(context: Context) -> None:
    person = at_the_name_question(context)
    person.says("x" * 5000)
    assert "That message is too long for me." in person.text
    assert "What is your full name?" in person.text
    person.says("x" * 81)
    assert "at most 80 characters" in person.text and "What is your full name?" in person.text


def test_cancel_during_onboarding_keeps_the_question_and_after_it_shows_the_menu(
    context: Context,
) -> None:
    person = at_the_name_question(context)
    person.says("ANNULER")
    assert "What is your full name?" in person.text
    person.says("Amina Alaoui")
    person.says("Atlas")
    person.command("cancel")  # leaves the company search: the question again
    assert "Which member company do you work for?" in person.text
    assert "company_query" not in contact_of(person).state
    other = Person(context, "b")
    other.onboard()
    other.command("forget")
    other.says("إلغاء")
    assert "Cancelled. What would you like to do?" in other.text
    assert "Upcoming sessions" in other.labels
    other.presses_old(Action("forget_yes"))
    assert "It cannot be undone." in other.text  # the confirmation was dropped: asked again


def test_a_company_not_listed_is_kept_as_typed_for_coordinators_to_match(
    context: Context, run
) -> None:
    person = at_the_name_question(context)
    person.says("Amina Alaoui")
    person.says("Forges du Sud")
    assert "No member company matches" in person.text
    person.presses("My company is not listed")
    assert "What is your role?" in person.text
    listed = run("contacts", "unmatched")
    assert listed.exit_code == 0, listed.output
    contact_id = contact_of(person).id
    assert f"{contact_id}  " in listed.output and "typed: Forges du Sud" in listed.output
    matched = run("contacts", "match", str(contact_id), "M001")
    assert matched.exit_code == 0, matched.output
    assert "now works for Atlas Fonderie" in matched.output
    contact = contact_of(person)
    assert (contact.company_other, contact.company_id) == (None, 1)
    (entry,) = audit.entries(context.db, action="contacts.match_company")
    assert entry.details["typed"] == "Forges du Sud"
    assert "every contact's company is a member company" in run("contacts", "unmatched").output
    refused = run("contacts", "match", str(contact_id), "M999")
    assert refused.exit_code != 0 and "no member company 'M999'" in refused.output


def test_after_a_refused_link_code_the_person_sees_the_menu(context: Context) -> None:
    person = Person(context, "101", channel="telegram")
    person.onboard()
    person.command("link", "12345-67890")
    assert "This code is not valid or has expired" in person.text
    assert "Upcoming sessions" in person.labels


def test_after_a_coordinators_only_refusal_the_person_sees_the_menu(context: Context) -> None:
    person = Person(context, "102", channel="telegram")
    person.onboard()
    person.command("announce")
    assert "reserved for the training coordinators" in person.text
    assert "Upcoming sessions" in person.labels

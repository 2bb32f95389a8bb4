"""Consent is exactly what the person said: every path a yes or a no takes (button, an old
button still in the chat, STOP in any language, /stop, the menu) stores the same state,
audits it, and the reply says what was stored. Browsing needs no consent."""

from __future__ import annotations

import pytest

from handlers import Action, Context
from handlers.i18n import t
from storage import audit, contacts
from storage.audience import Audience, pages
from tests.conftest import NOW
from tests.people import Person

OLD_NO = Action("consent", ("no",))
OLD_YES = Action("consent", ("yes",))
STOPPED = "Done: you will receive no more notifications. Send /start if you want them back."
DECLINED = (
    "Understood: we will not send you any notifications. You can still look at the"
    " sessions and register. If you change your mind, send /start."
)


@pytest.fixture
def context(programme) -> Context:
    return Context(db=programme, clock=lambda: NOW)


def contact_of(person: Person) -> contacts.Contact:
    identity = contacts.identity(person.context.db, person.channel, person.address)
    assert identity is not None
    found = contacts.get(person.context.db, identity.contact_id)
    assert found is not None
    return found


def actions(context: Context) -> list[str]:
    return [
        entry.action for entry in audit.entries(context.db) if entry.action.startswith("privacy.")
    ]


def _everyone(context: Context) -> list[int]:
    """Who a broadcast to everyone on the console would reach now."""
    return [
        recipient.contact_id
        for page in pages(context.db, Audience(), channels=("console",))
        for recipient in page
    ]


@pytest.mark.parametrize(
    ("language", "code"), [("Français", "fr"), ("العربية", "ar"), ("English", "en")]
)
def test_an_old_no_button_after_consenting_withdraws_consent_and_says_so(
    context: Context, language: str, code: str
) -> None:
    person = Person(context)
    person.onboard(language=language, topics=())
    assert contact_of(person).may_be_notified
    person.presses_old(OLD_NO)
    contact = contact_of(person)
    assert not contact.may_be_notified and contact.opted_out_at is not None
    assert t(code, STOPPED) in person.text
    assert person.replies[-1].choices  # the menu, not a dead end
    assert actions(context) == ["privacy.consent", "privacy.opt_out"]
    (withdrawal,) = audit.entries(context.db, action="privacy.opt_out")
    assert withdrawal.details == {"via": "consent button", "language": code}


def test_an_old_no_button_half_way_through_onboarding_withdraws_and_asks_again(
    context: Context,
) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.presses_old(OLD_NO)  # at the name prompt
    assert not contact_of(person).may_be_notified
    assert STOPPED in person.text and "What is your full name?" in person.text
    person.says("Amina Alaoui")
    assert contact_of(person).name == "Amina Alaoui"


@pytest.mark.parametrize(
    "say_no",
    [
        lambda p: p.presses_old(OLD_NO),
        lambda p: p.says("STOP"),
        lambda p: p.says("Arrêt"),
        lambda p: p.says("توقف"),
        lambda p: p.command("stop"),
        lambda p: p.presses("Stop notifications"),
    ],
    ids=["old button", "STOP", "Arrêt", "توقف", "/stop", "menu button"],
)
def test_every_no_stores_audits_and_answers_the_same(context: Context, say_no) -> None:
    person = Person(context)
    person.onboard()
    person.command("menu")
    say_no(person)
    contact = contact_of(person)
    assert not contact.may_be_notified
    assert STOPPED in person.text
    assert "Turn notifications back on" in person.labels
    assert actions(context) == ["privacy.consent", "privacy.opt_out"]
    assert _everyone(context) == []


def test_saying_no_twice_changes_nothing_more_and_still_says_it(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("stop")
    stopped_at = contact_of(person).opted_out_at
    person.presses_old(OLD_NO)
    assert STOPPED in person.text
    assert contact_of(person).opted_out_at == stopped_at
    assert actions(context) == ["privacy.consent", "privacy.opt_out"]


def test_an_old_yes_button_after_stop_asks_before_turning_notifications_back_on(
    context: Context,
) -> None:
    person = Person(context)
    person.onboard()
    person.command("stop")
    person.presses_old(OLD_YES)
    assert "Do you want them back?" in person.text
    assert not contact_of(person).may_be_notified
    person.presses("Keep them off")
    assert not contact_of(person).may_be_notified
    person.presses_old(OLD_YES)
    person.presses("Turn notifications back on")
    assert contact_of(person).may_be_notified
    assert "notifications are on again" in person.text
    assert actions(context) == ["privacy.consent", "privacy.opt_out", "privacy.opt_in"]


def test_an_entry_link_after_stop_opens_the_session_and_keeps_notifications_off(
    context: Context,
) -> None:
    person = Person(context)
    person.onboard()
    person.command("stop")
    person.command("start", "session_tig-2026-12")
    assert "Session tig-2026-12 (en)" in person.text and "Register" in person.labels
    assert not contact_of(person).may_be_notified


def test_someone_who_declined_browses_sessions_and_is_sent_nothing(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("No, thanks")
    person.says("Amina Alaoui")
    person.says("Atlas")
    person.presses("Atlas Fonderie")
    person.presses("Manager")  # no topics step: topics choose notifications
    assert "You are all set, Amina Alaoui!" in person.text
    assert "Receive notifications" in person.labels
    person.presses("Upcoming sessions")
    assert "Upcoming sessions:" in person.text
    person.presses("tig-2026-12")
    person.presses("Register")
    assert "You are registered" in person.text
    assert _everyone(context) == []


def test_start_after_declining_asks_again_and_only_yes_consents(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("No, thanks")
    person.command("start")
    assert "May we send you these notifications?" in person.text
    assert contact_of(person).consent_at is None
    person.presses("Yes, I agree")
    contact = contact_of(person)
    assert contact.may_be_notified and contact.consent_at is not None
    assert "What is your full name?" in person.text
    assert actions(context) == ["privacy.decline", "privacy.consent"]
    (consent,) = audit.entries(context.db, action="privacy.consent")
    assert "May we send you these notifications?" in consent.details["wording"]


def test_stop_before_the_consent_question_is_answered_is_a_no(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("Français")
    person.says("STOP")
    contact = contact_of(person)
    assert contact.consent_at is None and not contact.may_be_notified
    assert t("fr", DECLINED) in person.text
    assert t("fr", "What is your full name?") in person.text

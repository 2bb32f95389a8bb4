"""The whole conversation of a member-company contact, driven through the handlers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlite_utils import Database

from bot.cli.imports import import_catalogue, import_companies, import_contacts
from handlers import Action, Context, Inbound, handle
from handlers.i18n import t
from storage import audit, contacts, registrations, subscriptions
from tests.conftest import NOW, add_session
from tests.people import Person


@pytest.fixture
def context(programme: Database) -> Context:
    return Context(db=programme, clock=lambda: NOW)


def contact_of(person: Person) -> contacts.Contact:
    identity = contacts.identity(person.context.db, person.channel, person.address)
    assert identity is not None
    contact = contacts.get(person.context.db, identity.contact_id)
    assert contact is not None
    return contact


def test_first_contact_asks_for_the_language_in_all_three(context: Context) -> None:
    person = Person(context)
    person.command("start")
    assert person.labels == ["Français", "العربية", "English"]


def test_onboarding_records_every_answer(context: Context) -> None:
    person = Person(context)
    person.onboard(topics=("Welding", "Maintenance"))
    contact = contact_of(person)
    assert contact.language == "en"
    assert contact.consent_at is not None
    assert contact.name == "Amina Alaoui"
    assert contact.role == "manager"
    assert contact.company_id is not None
    assert subscriptions.topics_of(context.db, contact.id) == ["maintenance", "soudage"]
    assert "You are all set, Amina Alaoui!" in person.text
    assert "Upcoming sessions" in person.labels
    assert [entry.action for entry in audit.entries(context.db)] == ["privacy.consent"]


def test_declining_is_recorded_and_onboarding_goes_on_without_notifications(
    context: Context,
) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("No, thanks")
    assert "we will not send you any notifications" in person.text
    assert "What is your full name?" in person.text
    contact = contact_of(person)
    assert contact.consent_at is None and contact.opted_out_at is not None
    assert not contact.may_be_notified
    assert [entry.action for entry in audit.entries(context.db)] == ["privacy.decline"]


def test_a_person_who_stops_half_way_resumes_where_they_left_off(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("Amina Alaoui")
    restarted = Context(db=context.db, clock=lambda: NOW)  # a new process, the same database
    again = Person(restarted)
    again.command("start")
    assert "Which member company do you work for?" in again.text
    again.command("sessions")
    assert "Let's finish setting up first." in again.text
    assert "Which member company do you work for?" in again.text


def test_company_search_offers_matches_and_not_listed(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("Amina Alaoui")
    person.says("a")
    assert "at least 2 letters" in person.text
    person.says("zzz")
    assert "No member company matches “zzz”" in person.text
    person.says("méca")
    assert person.labels == ["Atlas Mécanique — Tanger", "My company is not listed"]
    person.says("Forges du Sud")
    person.presses("My company is not listed")
    assert contact_of(person).company_other == "Forges du Sud"
    assert "What is your role?" in person.text


def test_name_is_cleaned_and_bounded(context: Context) -> None:
    person = Person(context)
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("x" * 81)
    assert "at most 80 characters" in person.text
    person.says("  Amina \x00\t Alaoui  ")
    assert contact_of(person).name == "Amina Alaoui"


def test_topics_toggle_in_place_and_show_which_are_on(context: Context) -> None:
    person = Person(context)
    person.onboard(topics=())
    person.command("topics")
    assert person.labels[:2] == ["⬜ Maintenance", "⬜ Welding"]
    person.presses("Welding")
    assert person.replies[0].replaces_menu
    assert person.labels[:2] == ["⬜ Maintenance", "✅ Welding"]
    person.presses("Welding")
    assert person.labels[:2] == ["⬜ Maintenance", "⬜ Welding"]
    person.presses("Maintenance")
    person.presses("Done")
    assert "You follow: Maintenance." in person.text


def test_sessions_match_topics_and_come_a_few_at_a_time(programme: Database) -> None:
    for month in range(1, 8):
        add_session(
            programme,
            f"extra-{month}",
            starts=f"2027-0{month}-20T09:00",
            ends=f"2027-0{month}-20T12:00",
        )
    context = Context(db=programme, clock=lambda: NOW, page_size=5)
    person = Person(context)
    person.onboard(topics=("Welding",))
    person.command("sessions")
    listed = [label for label in person.labels if label.startswith("Session ")]
    assert len(listed) == 5
    assert listed[0] == "Session tig-2026-12 (en)"  # no number of ours: channels number
    assert "• Session tig-2026-12 (en) — " in person.text
    assert "maint-2027-02" not in person.text  # not a followed topic
    person.presses("More sessions")
    assert person.replies[0].replaces_menu
    assert [label for label in person.labels if label.startswith("Session ")] == [
        f"Session extra-{month} (en)" for month in range(4, 8)
    ]
    assert "More sessions" not in person.labels
    person.presses("All upcoming sessions")
    assert "Session maint-2027-02 (en)" in person.labels


def test_no_topic_followed_shows_every_session(context: Context) -> None:
    person = Person(context)
    person.onboard(topics=())
    person.command("sessions")
    assert "Session maint-2027-02 (en)" in person.text


def test_session_card_shows_local_times_in_the_persons_language(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", "session_mig-2027-01")
    assert "Tuesday, 12 January 2027, 09:00–17:00" in person.text
    assert "Place: Casablanca" in person.text
    assert "Seats left: 12 of 12" in person.text
    assert {"I'm interested", "Register", "Add to my calendar"} <= set(person.labels)


def test_register_until_full_then_waitlist_with_position(context: Context) -> None:
    first, second, third = (Person(context, name) for name in ("a", "b", "c"))
    first.onboard()
    first.command("start", "session_tig-2026-12")
    first.presses("Register")
    for person in (second, third):
        person.onboard()
        person.command("start", "session_tig-2026-12")
        assert "Register" not in person.labels
        person.presses("Join the waiting list")
    assert "You are registered." in first.text
    assert "number 1 on the waiting list" in second.text
    assert "number 2 on the waiting list" in third.text
    assert "Full" in third.text


def test_cancel_asks_first_then_frees_the_seat_for_the_first_waiting(context: Context) -> None:
    first, second = Person(context, "a"), Person(context, "b")
    for person, button in ((first, "Register"), (second, "Join the waiting list")):
        person.onboard()
        person.command("start", "session_tig-2026-12")
        person.presses(button)
    first.presses("Cancel my registration")
    assert "Your seat will go to the next person waiting" in first.text
    assert registrations.of(context.db, contact_of(first).id, "tig-2026-12").status == "registered"
    first.presses("Yes, cancel it")
    assert "Your registration is cancelled." in first.text
    promoted = registrations.of(context.db, contact_of(second).id, "tig-2026-12")
    assert promoted.status == "registered"


def test_interest_is_recorded_and_shown_in_my_sessions(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("my")
    assert "You have no sessions yet." in person.text
    person.command("start", "session_mig-2027-01")
    person.presses("I'm interested")
    assert "we will keep you informed" in person.text
    person.command("my")
    assert "Session mig-2027-01 (en)" in person.text
    assert "(interested)" in person.text


def test_calendar_file_is_a_valid_ics_in_utc(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", "session_tig-2026-12")
    person.presses("Add to my calendar")
    [attachment] = person.replies[0].attachments
    assert attachment.filename == "tig-2026-12.ics"
    assert attachment.mime_type == "text/calendar"
    event = Calendar.from_ical(attachment.content).walk("VEVENT")[0]
    assert event.decoded("dtstart").isoformat() == "2026-12-10T10:00:00+00:00"
    assert str(event["summary"]) == "Session tig-2026-12 (en)"


def test_registration_closes_when_the_session_has_started(context: Context) -> None:
    later = Context(db=context.db, clock=lambda: NOW + timedelta(days=12))
    person = Person(later)
    person.onboard()
    person.command("start", "session_tig-2026-12")
    assert "Register" not in person.labels
    person._send(action=Action("reg", ("tig-2026-12",)))
    assert "already started: registration is closed" in person.text


def test_cancelled_session_cannot_be_registered(programme: Database) -> None:
    add_session(
        programme, "gone", starts="2027-03-01T09:00", ends="2027-03-01T12:00", status="cancelled"
    )
    person = Person(Context(db=programme, clock=lambda: NOW))
    person.onboard()
    person.command("start", "session_gone")
    assert "This session has been cancelled." in person.text
    assert "Register" not in person.labels


def test_deep_link_before_onboarding_opens_after_it(context: Context) -> None:
    person = Person(context)
    person.command("start", "session_mig-2027-01")
    assert person.labels == ["Français", "العربية", "English"]
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("Amina Alaoui")
    person.says("Atlas")
    person.presses("Atlas Fonderie")
    person.presses("Trainee")
    person.presses("Done")
    assert "Session mig-2027-01 (en)" in person.text
    assert "Register" in person.labels


def test_topic_deep_link_subscribes(context: Context) -> None:
    person = Person(context)
    person.onboard(topics=())
    person.command("start", "topic_maintenance")
    assert "You now follow “Maintenance”." in person.text
    assert subscriptions.topics_of(context.db, contact_of(person).id) == ["maintenance"]


@pytest.mark.parametrize("payload", ["session_unknown", "topic_unknown"])
def test_deep_link_to_something_gone_says_so(context: Context, payload: str) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", payload)
    assert "no longer exists" in person.text
    assert "Upcoming sessions" in person.labels


def test_malformed_deep_link_is_a_plain_start(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", "session_../../etc")
    assert "Welcome back, Amina Alaoui." in person.text


def test_change_language(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("language")
    person.presses("Français")
    assert contact_of(person).language == "fr"
    assert "nous vous écrirons désormais en français." in person.text


def test_help_lists_the_commands(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("help")
    assert "/sessions — Upcoming training sessions" in person.text
    assert "/stop — Stop all notifications" in person.text


def test_stop_is_recorded_and_start_brings_notifications_back(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("stop")
    assert "you will receive no more notifications" in person.text
    assert not contact_of(person).may_be_notified
    person.command("start")
    assert "notifications are on again" in person.text
    assert contact_of(person).may_be_notified
    actions = [entry.action for entry in audit.entries(context.db)]
    assert actions == ["privacy.consent", "privacy.opt_out", "privacy.opt_in"]


def test_forget_me_asks_then_erases_personal_data_and_keeps_counts(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.command("start", "session_tig-2026-12")
    person.presses("Register")
    contact_id = contact_of(person).id
    person.command("forget")
    assert "It cannot be undone." in person.text
    person.presses("No, keep my data")
    assert "Nothing was erased." in person.text
    assert contacts.get(context.db, contact_id) is not None
    person.command("forget")
    person.presses("Yes, erase my data")
    assert "Your personal data has been erased." in person.text
    assert contacts.get(context.db, contact_id) is None
    assert contacts.identity(context.db, "console", "amina") is None
    assert registrations.counts_by_status(context.db, "tig-2026-12") == {"registered": 1}
    assert contacts.anonymous_count(context.db, "contacts_erased") == 1
    person.command("start")
    assert person.labels == ["Français", "العربية", "English"]


def test_a_stray_erase_button_without_confirmation_erases_nothing(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person._send(action=Action("forget_yes"))
    assert "It cannot be undone." in person.text
    assert contact_of(person).name == "Amina Alaoui"


@pytest.mark.parametrize(
    "inbound",
    [
        {"text": "hello?"},
        {"text": ""},
        {"text": "🙂" * 5000},
        {"command": "frobnicate"},
        {"action": Action("expired")},
        {"action": Action("s", ("no-such-session",))},
        {"action": Action("reg", ())},
        {"action": Action("tp", ("no-such-topic",))},
        {"action": Action("co", ("999",))},
    ],
)
def test_anything_not_understood_gets_an_answer_and_the_menu(
    context: Context, inbound: dict
) -> None:
    person = Person(context)
    person.onboard()
    replies = handle(context, Inbound("console", "amina", **inbound))
    assert replies
    assert any("Upcoming sessions" in choice.label for choice in replies[-1].choices)


def test_shared_phone_is_stored_in_e164(context: Context) -> None:
    person = Person(context)
    person.onboard()
    person.presses("Share my phone number")
    assert person.replies[0].request_phone
    person.shares_phone("0612345678")
    assert "your number is saved" in person.text
    assert contact_of(person).phone == "+212612345678"
    other = Person(context, "other")
    other.onboard()
    other.shares_phone("+212 6 12 34 56 78")
    assert "already linked to another profile" in other.text
    other.shares_phone("not a number")
    assert "does not look valid" in other.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("Français", "jeudi 10 décembre 2026"),
        ("العربية", "الخميس"),
    ],
)
def test_the_whole_conversation_in_french_and_arabic(
    context: Context, language: str, expected: str
) -> None:
    person = Person(context)
    person.onboard(language=language, topics=())
    person.command("start", "session_tig-2026-12")
    assert expected in person.text
    assert "Soudage TIG – niveau 1" in person.text or "Session tig-2026-12" in person.text
    assert all(reply.language == contact_of(person).language for reply in person.replies)


def test_a_contact_from_the_mailing_list_is_not_asked_again(db: Database) -> None:
    data = Path(__file__).parent / "data"
    import_catalogue(db, data / "catalogue.toml", default_zone="Africa/Casablanca")
    import_companies(db, data / "companies.csv")
    import_contacts(db, data / "contacts.csv", default_zone="Africa/Casablanca")
    nadia = Person(Context(db=db, clock=lambda: NOW), "+212612345678", channel="whatsapp")
    nadia.command("start")
    assert "Nadia Bennani" in nadia.text
    sara = Person(Context(db=db, clock=lambda: NOW), "+212661234567", channel="whatsapp")
    sara.command("start")  # no role and no topics on the list: only those are asked
    assert "What is your role?" in sara.text


def test_a_database_locked_past_its_timeout_asks_to_try_again_later(
    context: Context, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    context.db.execute("PRAGMA busy_timeout = 50")
    holder = Database(db_path)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        replies = handle(context, Inbound("telegram", "9001", text="/start"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [reply.text for reply in replies] == [
        t("fr", "Sorry, we cannot take your message right now. Please try again in a few minutes.")
    ]
    assert "database busy (database is locked)" in caplog.text
    assert "Traceback" not in caplog.text
    assert handle(context, Inbound("telegram", "9001", text="/start"))  # answered once free

"""Coordinators in chat: /announce as a guided flow, /scheduled, /report and /roster — and a
polite, audited refusal for everyone else. Real SQLite, driven through the handlers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from handlers import Context
from storage import (
    announcements,
    audit,
    broadcasts,
    contacts,
    coordinators,
    deliveries,
    registrations,
)
from storage.audience import Audience
from storage.outbox import IMMEDIATE_GRACE, release
from tests.conftest import NOW
from tests.outbox.outbox_fakes import add_contact
from tests.people import Person


@pytest.fixture
def context(programme: Database) -> Context:
    """Three reachable contacts (two on Telegram, one on WhatsApp), one opted out, one who
    never consented; the clock stands at 2026-11-29 09:00 UTC."""
    add_contact(programme, "Amina", telegram="101")
    add_contact(programme, "Youssef", whatsapp="+212612345678", role="trainee", company="M002")
    add_contact(
        programme, "Karim", telegram="103", whatsapp="+212612345679", topics=("maintenance",)
    )
    add_contact(programme, "Opted Out", telegram="104", opted_out=True)
    add_contact(programme, "No Consent", telegram="105", consent=False)
    return Context(db=programme, clock=lambda: NOW)


@pytest.fixture
def salma(context: Context) -> Person:
    """A coordinator on the console (not an audience channel), onboarded in English."""
    coordinators.add(context.db, channel="console", address="salma", name="Salma")
    person = Person(context, "salma")
    person.onboard(name="Salma Bennani")
    return person


@pytest.fixture
def amina(context: Context) -> Person:
    """A member-company contact, onboarded, who is no coordinator."""
    person = Person(context, "amina")
    person.onboard()
    return person


def draft_of(person: Person) -> dict | None:
    identity = contacts.identity(person.context.db, person.channel, person.address)
    assert identity is not None
    contact = contacts.get(person.context.db, identity.contact_id)
    assert contact is not None
    return contact.state.get("announce")


def compose(person: Person, *, text: str = "Nouvelle session TIG") -> None:
    """/announce to everyone, about no session, with one text: up to the time question."""
    person.command("announce")
    person.presses("Next: everyone")
    person.presses("No session")
    person.says(text)
    person.presses("Next")


def test_announce_flow_creates_one_announcement_with_the_audience_and_time(salma: Person) -> None:
    salma.command("announce")
    assert "who should receive it?" in salma.text
    salma.presses("Welding")
    salma.presses("Manager")
    assert "Topics: Welding; Roles: Manager" in salma.text
    salma.says("casablanca, Rabat")
    assert "No member company is in: Rabat" in salma.text
    assert "Cities: Casablanca" in salma.text
    salma.presses("Next")
    assert "is it about a session?" in salma.text
    salma.presses("tig-2026-12")
    salma.says("Nouvelle session TIG : inscrivez-vous.")
    assert "Message saved" in salma.text
    salma.presses("Text in Arabic")
    assert "Type the message in Arabic" in salma.text  # the language named in English
    salma.says("دورة جديدة")
    salma.presses("Next")
    salma.says("2026-12-09 09:00")
    assert "Preview of the message:" in salma.text
    assert "Nouvelle session TIG : inscrivez-vous." in salma.text
    # The one recipient reads French: the French version, as she will see it.
    assert "With the buttons: M’inscrire" in salma.text
    assert "دورة جديدة" not in salma.text
    assert "Recipients: 1 (Telegram 1, WhatsApp 0)" in salma.text
    assert "When: Wednesday, 9 December 2026 at 09:00" in salma.text
    assert announcements.listing(salma.context.db) == []

    salma.presses("Confirm")

    [created] = announcements.listing(salma.context.db)
    assert f"Announcement #{created.id} is scheduled for" in salma.text
    assert created.texts == {"*": "Nouvelle session TIG : inscrivez-vous.", "ar": "دورة جديدة"}
    assert created.audience == Audience(
        topics=("soudage",), roles=("manager",), cities=("Casablanca",)
    )
    assert created.session_id == "tig-2026-12"
    assert created.due_at == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # UTC+00 since 2026-09
    assert created.status == "scheduled"
    assert created.created_by == "console:salma"
    [entry] = audit.entries(salma.context.db, action="announcement.create")
    assert entry.actor == "console:salma" and entry.details["recipients"] == 1
    assert draft_of(salma) is None


def test_now_shows_recipients_per_channel_and_queues_the_deliveries(salma: Person) -> None:
    compose(salma)
    salma.presses("Now")
    assert "Recipients: 3 (Telegram 2, WhatsApp 1)" in salma.text
    assert "When: now" in salma.text
    salma.presses("Confirm")
    [created] = announcements.listing(salma.context.db)
    assert f"Announcement #{created.id} is going out now. Recipients: 3." in salma.text
    assert (created.status, created.due_at) == ("scheduled", NOW)  # for the running bot
    release(salma.context.db, created.id, now=NOW, grace=IMMEDIATE_GRACE)  # as it does
    rows = deliveries.of_announcement(salma.context.db, created.id)
    assert sorted(row.address for row in rows) == ["+212612345678", "101", "103"]


def test_registrants_of_a_session_are_an_audience(salma: Person) -> None:
    db = salma.context.db
    youssef = contacts.identity(db, "whatsapp", "+212612345678").contact_id
    registrations.register(db, youssef, "mig-2027-01", 12)
    salma.command("announce")
    salma.presses("Registrants of a session")
    salma.presses("mig-2027-01")
    assert "Registrants of: Session mig-2027-01 (en)" in salma.text
    salma.presses("Next")
    salma.presses("No session")
    salma.says("La salle change.")
    salma.presses("Next")
    salma.presses("Now")
    assert "Recipients: 1 (Telegram 0, WhatsApp 1)" in salma.text


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("demain 9h", "I could not read \u201cdemain 9h\u201d as a date and time"),
        ("2026-13-01 09:00", "Please type it like this: 2026-12-09 09:00"),
        ("2026-11-28 10:00", "Saturday, 28 November 2026 at 10:00 has already passed"),
    ],
)
def test_a_bad_time_is_refused_politely_and_can_be_typed_again(
    salma: Person, typed: str, answer: str
) -> None:
    compose(salma)
    salma.says(typed)
    assert answer in salma.text
    assert "Now" in salma.labels
    assert announcements.listing(salma.context.db) == []
    salma.says("2026-12-01 08:30")
    assert "Preview of the message:" in salma.text


def test_a_time_that_passes_while_the_preview_is_shown_is_asked_again(
    context: Context, salma: Person
) -> None:
    compose(salma)
    salma.says("2026-11-29 09:30")
    later = Person(
        Context(db=context.db, clock=lambda: datetime(2026, 11, 29, 10, 0, tzinfo=UTC)), "salma"
    )
    later.replies = salma.replies
    later.presses("Confirm")
    assert "has passed meanwhile" in later.text
    assert announcements.listing(context.db) == []


@pytest.mark.parametrize("how", ["command", "button"])
def test_cancel_mid_flow_creates_nothing_and_text_is_talk_again(salma: Person, how: str) -> None:
    salma.command("announce")
    salma.presses("Next: everyone")
    salma.presses("No session")
    if how == "command":
        salma.command("cancel")
    else:
        salma.presses("Cancel")
    assert "Announcement cancelled: nothing was sent." in salma.text
    assert draft_of(salma) is None
    assert announcements.listing(salma.context.db) == []
    salma.says("Bonjour")
    assert "Sorry, I did not understand" in salma.text
    assert audit.entries(salma.context.db, action="announcement.draft_cancelled")


def test_another_command_leaves_the_draft_behind(salma: Person) -> None:
    compose(salma)
    salma.command("sessions")
    assert draft_of(salma) is None
    salma.says("2026-12-09 09:00")
    assert "Sorry, I did not understand" in salma.text


def test_a_restart_loses_nothing_of_the_draft(context: Context, salma: Person) -> None:
    salma.command("announce")
    salma.presses("Welding")
    after_restart = Person(Context(db=context.db, clock=lambda: NOW), "salma")
    after_restart.says("Tanger")
    assert "Topics: Welding; Cities: Tanger" in after_restart.text


def test_a_button_of_an_earlier_step_has_expired(salma: Person) -> None:
    salma.command("announce")
    audience_step = salma.replies
    salma.presses("Next: everyone")
    salma.replies = audience_step
    salma.presses("Welding")
    assert "This button has expired." in salma.text
    assert "is it about a session?" in salma.text


def test_a_coordinator_still_onboarding_may_announce(context: Context) -> None:
    coordinators.add(context.db, channel="console", address="nadia")
    nadia = Person(context, "nadia")
    nadia.command("start")
    nadia.command("announce")
    assert "Nouvelle annonce, étape 1 sur 4" in nadia.text  # no language chosen yet: French
    nadia.presses("Suivant\u00a0: tout le monde")
    assert "Étape 2 sur 4" in nadia.text


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        ("announce", ""),
        ("scheduled", ""),
        ("report", ""),
        ("roster", "tig-2026-12"),
    ],
)
def test_non_coordinator_is_refused_audited_and_nothing_happens(
    amina: Person, command: str, argument: str
) -> None:
    amina.command(command, argument)
    assert "reserved for the training coordinators" in amina.text
    assert not any(reply.attachments for reply in amina.replies)
    [entry] = audit.entries(amina.context.db, action="coordination.refused")
    assert (entry.actor, entry.subject) == ("console:amina", command)
    assert draft_of(amina) is None
    assert announcements.listing(amina.context.db) == []
    assert {entry.action for entry in audit.entries(amina.context.db)} == {
        "privacy.consent",
        "coordination.refused",
    }


def test_non_coordinator_forging_buttons_changes_nothing(context: Context, amina: Person) -> None:
    published = broadcasts.publish(
        context.db,
        texts={"*": "Plus tard"},
        audience=Audience(),
        created_by="cli:salma",
        due_at=datetime(2026, 12, 20, 9, 0, tzinfo=UTC),
        now=NOW,
    )
    from handlers import Action, Inbound, handle

    for action in (Action("sc_yes", (str(published.announcement_id),)), Action("an_ok")):
        replies = handle(context, Inbound("console", "amina", action=action))
        assert "reserved for the training coordinators" in replies[0].text
    assert announcements.get(context.db, published.announcement_id).status == "scheduled"
    assert len(audit.entries(context.db, action="coordination.refused")) == 2


def test_non_coordinator_still_onboarding_is_refused_then_asked_again(context: Context) -> None:
    newcomer = Person(context, "newcomer")
    newcomer.command("start")
    newcomer.presses("English")
    newcomer.command("announce")
    assert "reserved for the training coordinators" in newcomer.text
    assert "May we send you these notifications?" in newcomer.text
    assert audit.entries(context.db, action="coordination.refused")


def test_scheduled_lists_and_cancels_after_confirmation(context: Context, salma: Person) -> None:
    later = broadcasts.publish(
        context.db,
        texts={"*": "Journée portes ouvertes"},
        audience=Audience(topics=("soudage",)),
        created_by="cli:salma",
        due_at=datetime(2026, 12, 20, 9, 0, tzinfo=UTC),
        now=NOW,
    )
    number = later.announcement_id
    salma.command("scheduled")
    assert f"#{number} — Sunday, 20 December 2026 at 09:00 — Topics: Welding" in salma.text
    assert "\u201cJournée portes ouvertes\u201d" in salma.text
    salma.presses(f"Cancel #{number}")
    assert "Cancel this announcement? It will not be sent." in salma.text
    salma.presses("No, keep it scheduled")
    assert announcements.get(context.db, number).status == "scheduled"
    salma.presses(f"Cancel #{number}")
    salma.presses("Yes, withdraw it")
    assert f"Announcement #{number} is cancelled" in salma.text
    assert "No announcement is scheduled." in salma.text
    assert announcements.get(context.db, number).status == "cancelled"
    [entry] = audit.entries(context.db, action="announcement.cancel")
    assert (entry.actor, entry.subject) == ("console:salma", f"announcement:{number}")


def test_report_counts_every_outcome_with_reasons(context: Context, salma: Person) -> None:
    db = context.db
    published = broadcasts.publish(
        db, texts={"*": "Bonjour"}, audience=Audience(), created_by="cli:salma", due_at=NOW, now=NOW
    )
    first, second, third = deliveries.of_announcement(db, published.announcement_id)
    for row in (first, second):
        deliveries.mark_sending(db, row.id, now=NOW)
    deliveries.mark_sent(db, first.id, now=NOW, provider_message_id="m1")
    deliveries.record_status(db, "m1", "read", now=NOW)
    deliveries.mark_failed(db, second.id, now=NOW, reason="HTTP 500 three times")
    deliveries.mark_skipped(db, third.id, now=NOW, reason="blocked")

    salma.command("report")

    text = salma.text
    assert f"Announcement #{published.announcement_id}, being sent," in text
    for line in (
        "Sent: 0",
        "Delivered: 0",
        "Read: 1",
        "Failed: 1",
        "Skipped: 1",
        "Unknown: 0",
        "1 × HTTP 500 three times",
        "1 × blocked",
    ):
        assert line in text
    assert "Still to send" not in text
    salma.command("report", str(published.announcement_id))
    assert salma.text == text
    assert len(audit.entries(db, action="announcement.report")) == 2
    salma.command("report", "999")
    assert "There is no announcement #999." in salma.text
    salma.command("report", "latest")
    assert "Usage: /report" in salma.text


def test_roster_is_a_csv_document_with_statuses_and_confirmation_times(
    context: Context, salma: Person
) -> None:
    db = context.db
    amina = contacts.identity(db, "telegram", "101").contact_id
    youssef = contacts.identity(db, "whatsapp", "+212612345678").contact_id
    registrations.register(db, amina, "tig-2026-12", 1)
    registrations.confirm(db, amina, "tig-2026-12")
    registrations.register(db, youssef, "tig-2026-12", 1)  # the one seat is taken

    salma.command("roster", "tig-2026-12")

    [reply] = salma.replies
    assert "confirmed 1, on the waiting list 1. In all: 2." in reply.text
    [document] = reply.attachments
    assert (document.filename, document.mime_type) == ("roster-tig-2026-12.csv", "text/csv")
    assert document.content.startswith(b"\xef\xbb\xbf")  # so that Excel reads UTF-8
    table = list(
        csv.DictReader(io.StringIO(document.content.decode("utf-8-sig")), delimiter=";")
    )  # French Excel's separator
    assert tuple(table[0]) == (
        "Name",
        "Company",
        "Role",
        "Phone",
        "Status",
        "Registered on",
        "Confirmed on",
        "Declined on",
    )  # in the coordinator's language
    by_name = {row["Name"]: row for row in table}
    assert by_name["Amina"]["Status"] == "confirmed"
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", by_name["Amina"]["Confirmed on"])
    assert by_name["Youssef"]["Status"] == "on the waiting list"
    assert by_name["Youssef"]["Company"] == "Atlas Mécanique"
    [entry] = audit.entries(db, action="session.roster")
    assert (entry.actor, entry.subject) == ("console:salma", "session:tig-2026-12")


def test_roster_without_a_session_offers_the_sessions(salma: Person) -> None:
    salma.command("roster")
    assert "Which session's roster?" in salma.text
    salma.presses("maint-2027-02")
    assert "Nobody has registered for" in salma.text
    salma.command("roster", "nope")
    assert "There is no session \u201cnope\u201d." in salma.text

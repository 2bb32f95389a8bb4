"""`formabot demo`: realistic data in an empty database, and only there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bot import demo
from storage import catalogue, contacts, registrations
from storage.audience import ALL_CHANNELS, Audience, languages
from storage.zones import zone
from tests.conftest import Run


def test_demo_loads_a_dozen_upcoming_weekday_sessions_across_morocco(
    run: Run, db: Database
) -> None:
    result = run("demo")
    assert result.exit_code == 0, result.output
    sessions = catalogue.all_sessions(db)
    assert len(sessions) == 12
    now = datetime.now(UTC)
    assert all(now < session.starts_at < now + timedelta(weeks=7) for session in sessions)
    assert all(
        session.starts_at.astimezone(zone(session.timezone)).weekday() < 5 for session in sessions
    )
    assert len({session.place.split(",")[0] for session in sessions}) >= 8
    assert all(set(session.titles) == {"fr", "ar", "en"} for session in sessions)
    full = catalogue.session(db, "tig-casablanca")
    assert full is not None
    assert registrations.seats_taken(db, full.id) == full.capacity


def test_demo_contacts_are_console_people_in_three_languages(run: Run, db: Database) -> None:
    run("demo")
    for person in demo.CONTACTS:
        found = contacts.identity(db, "console", person.console_name)
        assert found is not None
        contact = contacts.get(db, found.contact_id)
        assert contact is not None and contact.may_be_notified
    read = languages(db, Audience(), channels=ALL_CHANNELS)
    assert set(read) == {"fr", "ar", "en"}


def test_demo_refuses_a_database_that_holds_data(run: Run, programme: Database) -> None:
    result = run("demo")
    assert result.exit_code != 0
    assert "already holds" in result.output and "Traceback" not in result.output
    assert catalogue.session(programme, "tig-casablanca") is None

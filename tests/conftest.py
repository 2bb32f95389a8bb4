"""Fixtures shared by the whole suite: a real SQLite file per test, a fixed clock, a catalogue,
and fake servers of a test's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.cli.main import cli
from storage import catalogue, companies, open_database
from storage.zones import local_to_utc
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "formabot.db"


@pytest.fixture
def config_file(tmp_path: Path, db_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndatabase = "{db_path}"\n', encoding="utf-8")
    return path


Run = Callable[..., Result]


@pytest.fixture
def run(config_file: Path) -> Run:
    """`formabot --config <tmp config> ARGS…` through click's runner."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config_file), *args])

    return invoke


@pytest.fixture
def db(db_path: Path) -> Database:
    database = open_database(db_path)
    yield database
    database.close()


def add_session(
    db: Database,
    session_id: str,
    *,
    starts: str,
    ends: str,
    capacity: int = 12,
    topics: tuple[str, ...] = ("soudage",),
    title_fr: str | None = None,
    status: str = "scheduled",
) -> None:
    catalogue.upsert_session(
        db,
        id=session_id,
        titles={"fr": title_fr or f"Session {session_id}", "en": f"Session {session_id} (en)"},
        topics=list(topics),
        starts_at=local_to_utc(datetime.fromisoformat(starts), "Africa/Casablanca"),
        ends_at=local_to_utc(datetime.fromisoformat(ends), "Africa/Casablanca"),
        timezone="Africa/Casablanca",
        place="Casablanca",
        capacity=capacity,
        status=status,
    )


@pytest.fixture
def programme(db: Database) -> Database:
    """Two topics, three upcoming sessions, two member companies."""
    catalogue.upsert_topic(db, "soudage", {"fr": "Soudage", "ar": "اللحام", "en": "Welding"})
    catalogue.upsert_topic(
        db, "maintenance", {"fr": "Maintenance", "ar": "الصيانة", "en": "Maintenance"}
    )
    add_session(
        db,
        "tig-2026-12",
        starts="2026-12-10T10:00",
        ends="2026-12-11T17:00",
        capacity=1,
        title_fr="Soudage TIG – niveau 1",
    )
    add_session(db, "mig-2027-01", starts="2027-01-12T09:00", ends="2027-01-12T17:00")
    add_session(
        db,
        "maint-2027-02",
        starts="2027-02-02T09:00",
        ends="2027-02-03T17:00",
        topics=("maintenance",),
        title_fr="Maintenance préventive",
    )
    companies.upsert(
        db, member_id="M001", name="Atlas Fonderie", city="Casablanca", sector="metallurgy"
    )
    companies.upsert(
        db, member_id="M002", name="Atlas Mécanique", city="Tanger", sector="mechanics"
    )
    return db


@pytest.fixture
def own_bot_api() -> Iterator[FakeBotAPI]:
    """A fake Bot API started for this test and closed after it, shared with no other test
    (tests/telegram's `bot_api` is one server for the whole session, reset between tests)."""
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def own_twilio() -> Iterator[FakeTwilio]:
    """A fake Twilio started for this test and closed after it (tests/whatsapp's `twilio` is
    one server for the whole session, reset and checked against Twilio's API between tests)."""
    with FakeTwilio() as server:
        yield server

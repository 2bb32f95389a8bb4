"""`formabot sessions list|show`: the catalogue as a coordinator checks it, and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import catalogue, contacts, registrations
from tests.conftest import Run

DATA = Path(__file__).parent / "data"


@pytest.fixture
def imported(run: Run, db: Database) -> Database:
    """The fixture catalogue, with two of the twelve TIG seats taken and one person waiting."""
    result = run("catalogue", "import", str(DATA / "catalogue.toml"))
    assert result.exit_code == 0, result.output
    with db.atomic():
        for _ in range(2):
            registrations.register(db, contacts.create(db), "tig-2026-12", 12)
        registrations.mark_interested(db, contacts.create(db), "tig-2026-12")
    return db


def test_list_shows_local_start_title_seats_and_status(run: Run, imported: Database) -> None:
    result = run("sessions", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ID           STARTS (Africa/Casablanca)     TITLE                    SEATS  STATUS",
        "tig-2026-12  2026-12-10 10:00               Soudage TIG – niveau 1   2/12   scheduled",
        "cnc-2027-01  2027-01-14 09:00               Programmation CNC        0/8    scheduled",
        "mig-paris    2027-02-03 14:00 Europe/Paris  MIG welding masterclass  0/0    cancelled",
    ]


def test_list_upcoming_leaves_out_what_has_started(run: Run, imported: Database) -> None:
    with imported.atomic():
        catalogue.upsert_session(
            imported,
            id="old-2020",
            titles={"fr": "Ancienne"},
            topics=["soudage"],
            starts_at=datetime(2020, 1, 1, 9, tzinfo=UTC),
            ends_at=datetime(2020, 1, 1, 17, tzinfo=UTC),
            timezone="Africa/Casablanca",
            place="Fès",
            capacity=5,
        )
    assert "old-2020" in run("sessions", "list").output
    result = run("sessions", "list", "--upcoming")
    assert result.exit_code == 0, result.output
    assert "old-2020" not in result.output
    assert "tig-2026-12" in result.output


def test_list_of_an_empty_catalogue_says_how_to_fill_it(run: Run) -> None:
    result = run("sessions", "list")
    assert result.exit_code == 0
    assert result.output == "no sessions; add some with: formabot catalogue import FILE\n"


def test_show_gives_the_session_in_full(run: Run, imported: Database) -> None:
    result = run("sessions", "show", "tig-2026-12")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "id      tig-2026-12",
        "titles  fr: Soudage TIG – niveau 1; en: TIG welding – level 1",
        "topics  soudage",
        "starts  2026-12-10 10:00 Africa/Casablanca (2026-12-10T10:00:00Z)",
        "ends    2026-12-11 17:00 Africa/Casablanca (2026-12-11T17:00:00Z)",
        "place   Casablanca",
        "seats   2 taken of 12",
        "status  scheduled",
    ]


@pytest.mark.parametrize(
    ("session_id", "expected"),
    [
        (
            "tig-2026-12",
            {
                "id": "tig-2026-12",
                "titles": {"fr": "Soudage TIG – niveau 1", "en": "TIG welding – level 1"},
                "topics": ["soudage"],
                "starts": "2026-12-10T10:00:00Z",
                "ends": "2026-12-11T17:00:00Z",
                "timezone": "Africa/Casablanca",
                "place": "Casablanca",
                "capacity": 12,
                "seats_taken": 2,
                "status": "scheduled",
            },
        ),
        (
            "mig-paris",
            {
                "id": "mig-paris",
                "titles": {"en": "MIG welding masterclass"},
                "topics": ["soudage"],
                "starts": "2027-02-03T13:00:00Z",
                "ends": "2027-02-03T17:00:00Z",
                "timezone": "Europe/Paris",
                "place": "Paris",
                "capacity": 0,
                "seats_taken": 0,
                "status": "cancelled",
            },
        ),
    ],
)
def test_show_json_gives_utc_times(
    run: Run, imported: Database, session_id: str, expected: dict
) -> None:
    result = run("sessions", "show", session_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == expected


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_show_of_an_unknown_id_fails_clearly(
    run: Run, imported: Database, extra: list[str]
) -> None:
    result = run("sessions", "show", "nope", *extra)
    assert result.exit_code == 1
    assert result.output == 'Error: no session with id "nope"; see: formabot sessions list\n'

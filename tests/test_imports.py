"""Importing the catalogue, member companies and contacts: all of a file, or none of it."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlite_utils import Database

from storage import audit, catalogue, companies, contacts, subscriptions
from storage.zones import to_utc_text
from tests.conftest import Run

DATA = Path(__file__).parent / "data"
TABLES = (
    "topics",
    "sessions",
    "session_topics",
    "companies",
    "contacts",
    "identities",
    "subscriptions",
    "audit_log",
)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip()


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    return {table: list(db[table].rows) for table in TABLES}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CSV_ROWS = [
    "kind,id,title_fr,title_ar,title_en,topics,starts,ends,timezone,place,capacity,status",
    "topic,soudage,Soudage,,Welding,,,,,,,",
    "session,tig-2026-12,Soudage TIG,,,soudage,2026-12-10T10:00,2026-12-11T17:00,,Rabat,20,",
]


# --- catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["catalogue.toml", "catalogue.csv"])
def test_catalogue_is_imported_from_toml_or_csv(run: Run, db: Database, name: str) -> None:
    assert ok(run("catalogue", "import", str(DATA / name))) == (
        "imported 2 topics (2 new, 0 updated) and 3 sessions (3 new, 0 updated)"
    )
    assert catalogue.topic(db, "soudage").names == {
        "fr": "Soudage",
        "ar": "اللحام",
        "en": "Welding",
    }
    cnc = catalogue.session(db, "cnc-2027-01")
    assert cnc.titles == {"fr": "Programmation CNC", "ar": "برمجة CNC"}
    assert cnc.topics == ("soudage", "usinage")
    assert (cnc.timezone, cnc.place, cnc.capacity, cnc.status) == (
        "Africa/Casablanca",
        "Tanger",
        8,
        "scheduled",
    )
    assert catalogue.session(db, "mig-paris").status == "cancelled"


def test_toml_and_csv_forms_give_the_same_catalogue(run: Run, db: Database) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    from_toml = (catalogue.all_topics(db), catalogue.all_sessions(db))
    ok(run("catalogue", "import", str(DATA / "catalogue.csv")))
    assert (catalogue.all_topics(db), catalogue.all_sessions(db)) == from_toml


@pytest.mark.parametrize(
    ("timezone_line", "starts", "expected_utc"),
    [
        ('timezone = "Africa/Casablanca"', "2026-12-10T10:00", "2026-12-10T10:00:00Z"),
        ("", "2026-12-10T10:00", "2026-12-10T10:00:00Z"),  # [bot] timezone by default
        ('timezone = "Europe/Paris"', "2026-12-10T10:00", "2026-12-10T09:00:00Z"),
        ('timezone = "Africa/Casablanca"', "2026-06-10T10:00", "2026-06-10T09:00:00Z"),
    ],
)
def test_wall_times_are_stored_in_utc(
    run: Run, db: Database, tmp_path: Path, timezone_line: str, starts: str, expected_utc: str
) -> None:
    path = write(
        tmp_path,
        "one.toml",
        f"""
[[topics]]
slug = "soudage"
name = {{ fr = "Soudage" }}

[[sessions]]
id = "s1"
title = {{ fr = "Soudage" }}
topics = ["soudage"]
starts = "{starts}"
ends = "{starts[:10]}T17:00"
{timezone_line}
capacity = 5
""",
    )
    ok(run("catalogue", "import", str(path)))
    assert to_utc_text(catalogue.session(db, "s1").starts_at) == expected_utc


def test_reimport_updates_in_place_and_never_duplicates(
    run: Run, db: Database, tmp_path: Path
) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    changed = (DATA / "catalogue.toml").read_text(encoding="utf-8")
    changed = changed.replace("capacity = 12", "capacity = 15").replace(
        "Soudage TIG – niveau 1", "Soudage TIG – niveau 1 (révisé)"
    )
    path = write(tmp_path, "catalogue.toml", changed)
    assert ok(run("catalogue", "import", str(path))) == (
        "imported 2 topics (0 new, 2 updated) and 3 sessions (0 new, 3 updated)"
    )
    assert (db["topics"].count, db["sessions"].count, db["session_topics"].count) == (2, 3, 4)
    tig = catalogue.session(db, "tig-2026-12")
    assert (tig.capacity, tig.titles["fr"]) == (15, "Soudage TIG – niveau 1 (révisé)")


def test_reimport_without_status_keeps_a_cancellation(run: Run, db: Database) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    tig = catalogue.session(db, "tig-2026-12")
    catalogue.upsert_session(
        db, **{**asdict(tig), "topics": list(tig.topics), "status": "cancelled"}
    )
    db.conn.commit()
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    assert catalogue.session(db, "tig-2026-12").status == "cancelled"


BAD_TOML = """\
[[topics]]
slug = "soudage"
name = { fr = "Soudage" }

[[sessions]]
id = "tig-2026-12"
title = { fr = "Soudage TIG (nouveau titre)" }
topics = ["soudage"]
starts = "2026-12-10T10:00"
ends = "2026-12-11T17:00"
capacity = 30

[[sessions]]
id = "new-one"
title = { fr = "Nouvelle" }
topics = ["soudage"]
starts = "2027-03-01T09:00"
ends = "2027-03-01T17:00"
capacity = 4
"""


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            "capacity = -1",
            'catalogue.toml sessions[2] (line 19), field "capacity": -1 is not a number of seats',
        ),
        ('capacity = "douze"', 'field "capacity": "douze" is not a number of seats'),
        (
            'starts = "2026-13-01T10:00"',
            'field "starts": "2026-13-01T10:00" is not a date and time like 2026-12-10T10:00',
        ),
        ('ends = "2027-03-01T08:00"', 'field "ends": "2027-03-01T08:00" is not after starts'),
        ('starts = "2027-03-01T09:00+01:00"', 'field "starts": "2027-03-01T09:00+01:00" has a UTC'),
        ('timezone = "Casablanca"', 'field "timezone": "Casablanca" is not an IANA time zone'),
        ('topics = ["fraisage"]', 'field "topics": unknown topic "fraisage"'),
        ("topics = []", 'field "topics": a session needs at least one topic'),
        ('id = "Tig_2027"', 'field "id": "Tig_2027" is not a session id'),
        ('id = "tig-2026-12"', 'field "id": "tig-2026-12" is already used at sessions[1] (line 6)'),
        ('title = { de = "Schweißen" }', 'field "title": unknown language "de"'),
        ('title = { ar = "اللحام" }', 'field "title": needs at least the French (fr) or English'),
        ('status = "postponed"', 'field "status": "postponed" is not one of scheduled, cancelled'),
        ("capcity = 4", 'sessions[2] (line 20), field "capcity": unknown field'),
    ],
)
def test_a_bad_toml_entry_imports_nothing_of_the_file(
    run: Run, db: Database, tmp_path: Path, bad: str, expected: str
) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    before = snapshot(db)
    # The bad line replaces the entry's own key if it has one (TOML forbids a key twice).
    key = bad.split("=")[0].strip()
    lines = BAD_TOML.splitlines()
    entry_start = lines.index("[[sessions]]", lines.index("[[sessions]]") + 1)
    for index in range(entry_start, len(lines)):
        if lines[index].startswith(f"{key} ="):
            lines[index] = bad
            break
    else:
        lines.append(bad)
    path = write(tmp_path, "catalogue.toml", "\n".join(lines) + "\n")
    result = run("catalogue", "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing was imported" in result.output
    assert snapshot(db) == before


def test_a_bad_csv_row_names_its_line_and_field_and_imports_nothing(
    run: Run, db: Database, tmp_path: Path
) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.csv")))
    before = snapshot(db)
    path = write(
        tmp_path,
        "catalogue.csv",
        "\n".join(
            [
                *GOOD_CSV_ROWS,
                "session,bad-1,Mauvaise,,,soudage,2026-13-01T10:00,2026-12-11T17:00,,Rabat,20,",
            ]
        )
        + "\n",
    )
    result = run("catalogue", "import", str(path))
    assert result.exit_code == 1
    assert (
        'catalogue.csv line 4, field "starts": "2026-13-01T10:00" is not a date and time like'
        " 2026-12-10T10:00"
    ) in result.output
    assert "1 error in catalogue.csv: nothing was imported" in result.output
    assert snapshot(db) == before


def test_every_error_of_the_file_is_listed_in_file_order(
    run: Run, db: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "catalogue.csv",
        "\n".join(
            [
                "kind,id,title_fr,title_en,topics,starts,ends,capacity",
                "topic,Soudage,Soudage,,,,,",
                "topic,soudage,Soudage,,,,,",
                "session,s1,Un,,soudage,2026-12-10T10:00,2026-12-10T12:00,douze",
                "lesson,s2,Deux,,soudage,2026-12-10T10:00,2026-12-10T12:00,1",
                "session,s3,,,,2026-12-10T10:00,,1",
                "topic,usinage,Usinage,,,2026-12-10T10:00,,",
            ]
        )
        + "\n",
    )
    result = run("catalogue", "import", str(path))
    assert result.exit_code == 1
    errors = result.output.splitlines()[:-1]
    assert errors == [
        'catalogue.csv line 2, field "id": "Soudage" is not a topic slug: 1 to 30 lowercase'
        " letters, digits, - or _, starting with a letter or digit",
        'catalogue.csv line 4, field "capacity": "douze" is not a number of seats (0 or more)',
        'catalogue.csv line 5, field "kind": "lesson" is not topic or session',
        'catalogue.csv line 6, field "title_fr": needs at least the French (fr) or English (en)'
        " text",
        'catalogue.csv line 6, field "topics": a session needs at least one topic, so that'
        " subscribers hear of it",
        'catalogue.csv line 6, field "ends": is required, as a date and time like 2026-12-10T10:00',
        'catalogue.csv line 7, field "starts": a topic row has no such value; leave the cell empty',
    ]
    assert result.output.splitlines()[-1] == (
        "Error: 7 errors in catalogue.csv: nothing was imported"
    )
    assert db["sessions"].count == 0


def test_a_csv_saved_by_french_excel_is_read(run: Run, db: Database, tmp_path: Path) -> None:
    text = "\n".join(row.replace(",", ";") for row in GOOD_CSV_ROWS) + "\n"
    path = tmp_path / "catalogue.csv"
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    assert ok(run("catalogue", "import", str(path))) == (
        "imported 1 topic (1 new, 0 updated) and 1 session (1 new, 0 updated)"
    )


@pytest.mark.parametrize(
    ("command", "name", "content", "expected"),
    [
        (
            "catalogue",
            "catalogue.xlsx",
            b"x",
            "catalogue.xlsx: expected a .toml or .csv file, found .xlsx",
        ),
        ("companies", "companies.toml", b"x", "companies.toml: expected a .csv file, found .toml"),
        ("catalogue", None, b"", "no such file"),
        (
            "contacts",
            "contacts.csv",
            "name;company\né".encode("latin-1"),
            "contacts.csv: not UTF-8 text",
        ),
        ("companies", "companies.csv", b"", "companies.csv: the file is empty"),
        ("companies", "companies.csv", b" \n\n", "companies.csv: the file is empty"),
        (
            "companies",
            "companies.csv",
            b"member_id,name\n",
            "companies.csv: no rows below the header, nothing to import",
        ),
        (
            "companies",
            "companies.csv",
            b"member_id,nom\nM1,X\n",
            "companies.csv: missing column name; unknown column 'nom'; the header is:"
            " member_id,name,city,sector",
        ),
        (
            "contacts",
            "contacts.csv",
            b"name,company,whatsapp\nA,M1,0612345678\n",
            "contacts.csv: missing column consent_date",
        ),
        (
            "catalogue",
            "catalogue.csv",
            b"kind,id,starts\ntopic,x,\n",
            "catalogue.csv: missing column title_fr or title_en",
        ),
        ("catalogue", "catalogue.toml", b"[[sessions]\n", "catalogue.toml: not valid TOML"),
        (
            "catalogue",
            "catalogue.toml",
            b"# nothing yet\n",
            "catalogue.toml: no [[topics]] or [[sessions]] entries",
        ),
    ],
)
def test_an_unusable_file_gets_one_precise_message(
    run: Run, tmp_path: Path, command: str, name: str | None, content: bytes, expected: str
) -> None:
    path = tmp_path / (name or "missing.csv")
    if name is not None:
        path.write_bytes(content)
    result = run(command, "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


# --- companies ----------------------------------------------------------------------------


def test_companies_are_imported_then_updated_by_member_id(
    run: Run, db: Database, tmp_path: Path
) -> None:
    assert ok(run("companies", "import", str(DATA / "companies.csv"))) == (
        "imported 3 companies (3 new, 0 updated)"
    )
    moved = (
        (DATA / "companies.csv")
        .read_text(encoding="utf-8")
        .replace("Tanger,mechanics", "Tétouan,mechanics")
    )
    path = write(tmp_path, "companies.csv", moved)
    assert ok(run("companies", "import", str(path))) == "imported 3 companies (0 new, 3 updated)"
    assert companies.count(db) == 3
    assert companies.by_member_id(db, "M-0002").city == "Tétouan"


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (",Sans Numéro,Fès,mechanics", 'companies.csv line 5, field "member_id": is required'),
        ("M-0009,,Fès,mechanics", 'companies.csv line 5, field "name": is required'),
        (
            "M-0001,Doublon,Fès,mechanics",
            'companies.csv line 5, field "member_id": "M-0001" is already used at line 2',
        ),
        ("M 0009,Espace,Fès,mechanics", 'field "member_id": "M 0009" is not a member id'),
        ("M-0009,Trop,Fès,mechanics,extra", "companies.csv line 5: 5 cells for 4 columns"),
    ],
)
def test_a_bad_company_row_imports_nothing(
    run: Run, db: Database, tmp_path: Path, bad_row: str, expected: str
) -> None:
    ok(run("companies", "import", str(DATA / "companies.csv")))
    before = snapshot(db)
    good = (DATA / "companies.csv").read_text(encoding="utf-8").replace("Agadir", "Inezgane")
    path = write(tmp_path, "companies.csv", good + bad_row + "\n")
    result = run("companies", "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing was imported" in result.output
    assert snapshot(db) == before


# --- contacts -----------------------------------------------------------------------------


@pytest.fixture
def members(run: Run) -> None:
    ok(run("catalogue", "import", str(DATA / "catalogue.toml")))
    ok(run("companies", "import", str(DATA / "companies.csv")))


def test_contacts_are_imported_with_numbers_topics_identity_and_consent(
    run: Run, db: Database, members: None
) -> None:
    assert ok(run("contacts", "import", str(DATA / "contacts.csv"))) == (
        "imported 3 contacts (3 new, 0 updated)"
    )
    nadia = contacts.find_by_phone(db, "+212612345678")
    assert (nadia.name, nadia.role, nadia.language) == ("Nadia Bennani", "manager", "fr")
    assert companies.get(db, nadia.company_id).member_id == "M-0001"
    # A date alone is midnight in Casablanca, which was UTC+1 in January 2026.
    assert nadia.consent_at == "2026-01-14T23:00:00Z"
    assert subscriptions.topics_of(db, nadia.id) == ["soudage", "usinage"]
    assert [(i.channel, i.address) for i in contacts.identities_of(db, nadia.id)] == [
        ("whatsapp", "+212612345678")
    ]
    youssef = contacts.find_by_phone(db, "+212712345678")
    assert companies.get(db, youssef.company_id).name == "Tanger Usinage SARL"
    assert youssef.consent_at == "2026-02-01T08:30:00Z"
    sara = contacts.find_by_phone(db, "+212661234567")
    assert (sara.role, sara.consent_at) == (None, "2026-03-01T08:00:00Z")
    [entry] = audit.entries(db, action="contacts.import")
    assert (entry.actor, entry.subject) == ("cli", "contacts.csv")
    assert (entry.details["new"], entry.details["updated"]) == (3, 0)


def test_contact_reimport_updates_by_number_and_keeps_choices(
    run: Run, db: Database, members: None, tmp_path: Path
) -> None:
    ok(run("contacts", "import", str(DATA / "contacts.csv")))
    nadia = contacts.find_by_phone(db, "+212612345678")
    subscriptions.subscribe(db, nadia.id, "usinage")
    contacts.update(db, nadia.id, opted_out_at="2026-11-01T10:00:00Z")
    db.conn.commit()
    renamed = (
        (DATA / "contacts.csv")
        .read_text(encoding="utf-8")
        .replace(
            "Nadia Bennani,M-0001,manager,fr,soudage;usinage,06 12 34 56 78",
            "Nadia Bennani-Alami,M-0001,,,soudage,+212 612 345 678",
        )
    )
    path = write(tmp_path, "contacts.csv", renamed)
    assert ok(run("contacts", "import", str(path))) == (
        "imported 3 contacts (0 new, 3 updated); 1 of them has opted out and will receive nothing"
    )
    assert (db["contacts"].count, db["identities"].count) == (3, 3)
    nadia = contacts.get(db, nadia.id)
    assert (nadia.name, nadia.role, nadia.language) == ("Nadia Bennani-Alami", "manager", "fr")
    assert nadia.opted_out_at == "2026-11-01T10:00:00Z"
    assert subscriptions.topics_of(db, nadia.id) == ["soudage", "usinage"]


def test_a_contact_who_wrote_first_on_whatsapp_is_not_duplicated(
    run: Run, db: Database, members: None
) -> None:
    earlier, _ = contacts.resolve(db, channel="whatsapp", address="+212612345678")
    db.conn.commit()
    ok(run("contacts", "import", str(DATA / "contacts.csv")))
    assert contacts.find_by_phone(db, "+212612345678").id == earlier.id
    assert db["contacts"].count == 3


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (
            "Ali,M-0001,manager,fr,soudage,0611111111,",
            'contacts.csv line 5, field "consent_date": no consent recorded: a contact can only be'
            " imported with the date they agreed to receive messages",
        ),
        (
            "Ali,M-0001,manager,fr,soudage,0611111111,2099-01-01",
            'field "consent_date": "2099-01-01" is in the future',
        ),
        (
            "Ali,M-0001,manager,fr,soudage,0611111111,15/01/2026",
            'field "consent_date": "15/01/2026" is not a date like 2026-01-15',
        ),
        (
            "Ali,M-0404,manager,fr,soudage,0611111111,2026-01-15",
            'field "company": "M-0404" is neither the member id nor the name of a known company',
        ),
        (
            "Ali,M-0001,director,fr,soudage,0611111111,2026-01-15",
            'field "role": "director" is not one of manager, trainee',
        ),
        (
            "Ali,M-0001,manager,es,soudage,0611111111,2026-01-15",
            'field "language": "es" is not one of fr, ar, en',
        ),
        (
            "Ali,M-0001,manager,fr,fraisage,0611111111,2026-01-15",
            'field "topics": unknown topic "fraisage"',
        ),
        (
            "Ali,M-0001,manager,fr,soudage,0611,2026-01-15",
            'field "whatsapp": "0611" is not a phone number (too short)',
        ),
        (
            "Ali,M-0001,manager,fr,soudage,+212612345678,2026-01-15",
            'field "whatsapp": +212612345678 is already used at line 2',
        ),
        (",M-0001,manager,fr,soudage,0611111111,2026-01-15", 'field "name": is required'),
    ],
)
def test_a_bad_contact_row_imports_nothing(
    run: Run, db: Database, members: None, tmp_path: Path, bad_row: str, expected: str
) -> None:
    before = snapshot(db)
    good = (DATA / "contacts.csv").read_text(encoding="utf-8")
    path = write(tmp_path, "contacts.csv", good + bad_row + "\n")
    result = run("contacts", "import", str(path))
    assert result.exit_code == 1
    assert expected in result.output
    assert "1 error in contacts.csv: nothing was imported" in result.output
    assert snapshot(db) == before


def test_an_ambiguous_company_name_asks_for_the_member_id(
    run: Run, db: Database, members: None, tmp_path: Path
) -> None:
    companies.upsert(db, member_id="M-0099", name="Atlas Métallurgie", city="Fès")
    db.conn.commit()
    path = write(
        tmp_path,
        "contacts.csv",
        "\n".join(
            [
                "name,company,role,language,topics,whatsapp,consent_date",
                "Ali,atlas métallurgie,manager,fr,,0611111111,2026-01-15",
            ]
        )
        + "\n",
    )
    result = run("contacts", "import", str(path))
    assert result.exit_code == 1
    assert "is the name of 2 companies; use the member id (M-0001, M-0099)" in result.output


def test_contacts_region_option_reads_local_numbers_of_another_country(
    run: Run, db: Database, members: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "contacts.csv",
        "\n".join(
            [
                "name,company,whatsapp,consent_date",
                "Claire,M-0001,06 12 34 56 78,2026-01-15",
            ]
        )
        + "\n",
    )
    ok(run("contacts", "import", "--region", "FR", str(path)))
    assert contacts.find_by_phone(db, "+33612345678").name == "Claire"
    result = run("contacts", "import", "--region", "XX", str(path))
    assert result.exit_code == 2
    assert "'XX' is not a two-letter region code" in result.output


def test_copied_fixture_files_import_as_the_readme_says(run: Run, tmp_path: Path) -> None:
    for name in ("catalogue.toml", "companies.csv", "contacts.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    assert ok(run("catalogue", "import", str(tmp_path / "catalogue.toml"))).startswith("imported")
    assert ok(run("companies", "import", str(tmp_path / "companies.csv"))).startswith("imported")
    assert ok(run("contacts", "import", str(tmp_path / "contacts.csv"))).startswith("imported")

"""Names that attack whoever reads them: a terminal escape (`\\x1b[31m`) that repaints the
operator's screen, a bidi override (U+202E) that shows "Ali\u202eevil" as "Alilive". Every way
a name enters — onboarding on both channels (the name and the company a person types),
`contacts import`, `companies import`, `catalogue import`, `coordinators add --name` — goes
through the one cleaning (`storage.names.clean_name`): what is stored, listed on the
terminal and exported holds no control or bidi character, and the letters are all kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import catalogue, companies, contacts, coordinators, registrations
from storage.names import clean_name
from tests.conftest import Run
from tests.fakes.bot_api import User

HOSTILE = "Ali\u202eevil\x1b[31m"
CLEAN = "Alievil[31m"
# What a person can type as a name (letters once cleaned; "[31m" is not a name and is asked again).
TYPED_NAME, TYPED_CLEAN = "Ali\u202e Ala\u0007oui\u2067\x1b", "Ali Alaoui"
COMPANY = "Fonderie\u2067 Atlas\u0007 \u200fSARL"
NUMBER = "+212612345670"
# What a terminal, a spreadsheet or a phone would obey instead of showing.
CONTROLS = ("\x1b", "\x07", "\u202e", "\u2067", "\u200f")


def harmless(text: str | None) -> bool:
    return text is not None and not any(control in text for control in CONTROLS)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (HOSTILE, CLEAN),
        ("  Nour\tEl\u00a0Idrissi\r\n", "Nour El Idrissi"),
        ("عبد\u200cالله \u202bبن\u202c علي", "عبد\u200cالله بن علي"),  # ZWNJ is a letter's shape
        ("\u202a\u2066\x00\x7f", ""),
    ],
)
def test_the_one_cleaning_strips_controls_and_bidi_and_keeps_the_letters(
    typed: str, stored: str
) -> None:
    assert clean_name(typed) == stored


async def test_a_name_typed_on_telegram_is_stored_clean(
    programme: Database, telegram_chat: Callable
) -> None:
    nour = telegram_chat(User(7401, "Nour"))
    await nour.says("/start")
    await nour.presses("Français")
    await nour.presses("Oui")
    await nour.says(TYPED_NAME)
    await nour.says(COMPANY)
    await nour.presses("Mon entreprise n’y figure pas")
    contact = contacts.get(programme, contacts.identity(programme, "telegram", "7401").contact_id)
    assert (contact.name, contact.company_other) == (TYPED_CLEAN, "Fonderie Atlas SARL")
    assert harmless(nour.last)


async def test_a_name_typed_on_whatsapp_is_stored_clean(
    programme: Database, phone: Callable
) -> None:
    nadia = phone(NUMBER)
    for answer in ("Bonjour", "1", "1", TYPED_NAME):
        await nadia.says(answer)
    found = contacts.identity(programme, "whatsapp", NUMBER)
    assert contacts.get(programme, found.contact_id).name == TYPED_CLEAN
    assert harmless(nadia.text)


def _write(tmp_path: Path, name: str, *lines: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_contacts_import_stores_names_clean_and_the_terminal_roster_shows_them_harmless(
    run: Run, programme: Database, tmp_path: Path
) -> None:
    result = run(
        "contacts",
        "import",
        _write(
            tmp_path,
            "contacts.csv",
            "name,company,whatsapp,consent_date",
            f'"{HOSTILE}",M001,0612345670,2026-01-05',
        ),
    )
    assert result.exit_code == 0, result.output
    contact = contacts.find_by_phone(programme, NUMBER)
    assert contact.name == CLEAN
    registrations.register(programme, contact.id, "mig-2027-01", 12)
    listed = run("roster", "mig-2027-01")
    assert listed.exit_code == 0 and CLEAN in listed.output and harmless(listed.output.strip())


def test_a_contact_whose_name_is_only_controls_is_refused_with_its_line(
    run: Run, programme: Database, tmp_path: Path
) -> None:
    result = run(
        "contacts",
        "import",
        _write(
            tmp_path,
            "contacts.csv",
            "name,company,whatsapp,consent_date",
            "\u202e\x1b,M001,0612345670,2026-01-05",
        ),
    )
    assert result.exit_code != 0
    assert "line 2" in result.output and "only control characters" in result.output
    assert "\x1b" not in result.output  # the operator's error line is harmless too
    assert contacts.find_by_phone(programme, NUMBER) is None


def test_companies_import_stores_name_city_and_sector_clean(
    run: Run, db: Database, tmp_path: Path
) -> None:
    result = run(
        "companies",
        "import",
        _write(
            tmp_path,
            "companies.csv",
            "member_id,name,city,sector",
            f'M900,"{COMPANY}",Casa\u202eblanca,"metal\x1b[0m"',
        ),
    )
    assert result.exit_code == 0, result.output
    company = companies.by_member_id(db, "M900")
    assert (company.name, company.city, company.sector) == (
        "Fonderie Atlas SARL",
        "Casablanca",
        "metal[0m",
    )


def test_catalogue_import_stores_titles_and_places_clean(
    run: Run, db: Database, tmp_path: Path
) -> None:
    result = run(
        "catalogue",
        "import",
        _write(
            tmp_path,
            "catalogue.csv",
            "kind,id,title_fr,title_ar,title_en,topics,starts,ends,timezone,place,capacity,status",
            "topic,soudage,Sou\u202edage,,Welding,,,,,,,",
            "session,tig-2027-03,TIG\x1b[2J,,,soudage,2027-03-10T10:00,2027-03-11T17:00,,"
            "Ra\u2066bat,20,",
        ),
    )
    assert result.exit_code == 0, result.output
    assert catalogue.topic(db, "soudage").names["fr"] == "Soudage"
    session = catalogue.session(db, "tig-2027-03")
    assert (session.titles["fr"], session.place) == ("TIG[2J", "Rabat")


def test_a_coordinator_name_given_on_the_command_line_is_stored_clean(
    run: Run, db: Database
) -> None:
    assert run("coordinators", "add", "--whatsapp", "0612345670", "--name", HOSTILE).exit_code == 0
    [coordinator] = coordinators.all_coordinators(db)
    assert coordinator.name == CLEAN

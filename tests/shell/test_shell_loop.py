"""The shell as a faithful channel: its options behave as WhatsApp's, and with no credentials
a console person receives, through the outbox, what they would receive on a phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.channels.console import NOTIFICATION_MARK, ConsoleChannel
from bot.cli.main import cli
from handlers import Context, Inbound
from storage import announcements, contacts, deliveries, registrations
from storage.zones import now_utc
from tests.conftest import add_session
from tests.people import Person
from tests.shell.conftest import Shell


@pytest.fixture
def formabot(config_file: Path):
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config_file), *args])

    return invoke


def contact_of(db: Database, name: str) -> contacts.Contact:
    found = contacts.identity(db, "console", name)
    assert found is not None
    contact = contacts.get(db, found.contact_id)
    assert contact is not None
    return contact


def notifications(output: str) -> list[str]:
    """What the shell showed as notifications, each up to the next blank line."""
    return [part.split("\n\n")[0] for part in output.split(NOTIFICATION_MARK + "\n")[1:]]


def test_a_digit_typed_at_a_free_text_prompt_is_text_not_a_stale_button(
    programme: Database,
    tmp_path: Path,
) -> None:
    shown: list[str] = []
    channel = ConsoleChannel(
        Context(db=programme), name="amina", attachments_dir=tmp_path, write=shown.append
    )
    channel.send("/start")
    channel.send("3")  # English; then consent: 1 yes, 2 no
    assert len(channel.choices) == 2
    channel.send("1")  # yes; then the name is asked, with no options
    assert channel.choices == []
    assert channel.inbound("2") == Inbound("console", "amina", text="2")
    channel.send("2")
    contact = contact_of(programme, "amina")
    assert contact.consent_at is not None and contact.opted_out_at is None


def test_an_announcement_from_the_cli_reaches_a_shell_person(
    shell: Shell,
    formabot,
    programme: Database,
) -> None:
    Person(Context(db=programme), "amina").onboard()
    queued = formabot("announce", "--everyone", "--text", "Journée portes ouvertes", "--yes")
    assert queued.exit_code == 0, queued.output
    assert "console 1" in queued.output
    result = shell("--as", "amina")
    assert notifications(result.output) == ["Journée portes ouvertes"]
    (row,) = deliveries.of_announcement(programme, int(queued.output.split()[-1]))
    assert row.status == "delivered"
    again = shell("--as", "amina")
    assert notifications(again.output) == []  # shown once


def test_a_message_waits_for_its_persons_shell(shell: Shell, formabot, programme: Database) -> None:
    Person(Context(db=programme), "amina").onboard()
    Person(Context(db=programme), "karim").onboard(name="Karim Tazi")
    formabot("announce", "--everyone", "--text", "Journée portes ouvertes", "--yes")
    assert notifications(shell("--as", "karim").output) == ["Journée portes ouvertes"]
    assert notifications(shell("--as", "amina").output) == ["Journée portes ouvertes"]


def test_a_console_coordinator_announces_now_and_gets_the_final_report(
    shell: Shell,
    formabot,
    programme: Database,
) -> None:
    Person(Context(db=programme), "amina").onboard()
    added = formabot("coordinators", "add", "--console", "salma", "--name", "Salma")
    assert added.exit_code == 0, added.output
    Person(Context(db=programme), "salma").onboard(name="Salma Bennani")
    lines = (
        "/announce",
        "6",  # Next: everyone (after 2 topics, 2 roles, registrants…)
        "4",  # No session (after the 3 upcoming sessions)
        "Atelier portes ouvertes",
        "4",  # Next (after the three language versions)
        "1",  # Now
        "1",  # Confirm
    )
    result = shell("--as", "salma", lines=lines)
    assert result.exit_code == 0, result.output
    assert "is going out now" in result.output
    shown = notifications(result.output)
    assert shown[0] == "Atelier portes ouvertes"  # Salma follows welding too
    assert shown[1].startswith("Announcement #")
    assert "has gone out to 2 recipients" in shown[1]
    assert notifications(shell("--as", "amina").output) == ["Atelier portes ouvertes"]


def test_remind_fast_forwards_the_confirm_request_and_a_decline_promotes_the_waiting_list(
    shell: Shell,
    formabot,
    programme: Database,
) -> None:
    starts = (now_utc() + timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    ends = (now_utc() + timedelta(days=3)).strftime("%Y-%m-%dT17:00")
    add_session(programme, "soon", starts=starts, ends=ends, capacity=1, title_fr="Soudage à l’arc")
    amina = Person(Context(db=programme), "amina")
    amina.onboard()
    karim = Person(Context(db=programme), "karim")
    karim.onboard(name="Karim Tazi")
    assert registrations.register(programme, contact_of(programme, "amina").id, "soon", 1)
    registrations.register(programme, contact_of(programme, "karim").id, "soon", 1)

    reminded = formabot("remind", "soon")
    assert reminded.exit_code == 0, reminded.output
    assert "Queued 1 deliveries of the 1d reminder" in reminded.output
    notice = announcements.session_notice(programme, "soon", "1d")
    assert notice is not None and notice.status in ("sending", "sent")

    # The confirm request shows its buttons: 1 Confirm, 2 Can't come.
    result = shell("--as", "amina", lines=("2",))
    (request,) = notifications(result.output)
    assert request.startswith("Reminder: Session soon (en)")
    assert "  2. Can't come" in request
    assert "your seat for Session soon (en) is released" in result.output

    promoted = notifications(shell("--as", "karim").output)
    assert len(promoted) == 1 and promoted[0].startswith("Good news: a seat is free")
    assert (
        registrations.of(programme, contact_of(programme, "karim").id, "soon").status
        == "registered"
    )
    again = formabot("remind", "soon")
    assert again.exit_code != 0
    assert "the 1d reminder of soon is" in again.output


def test_remind_refuses_an_offset_that_is_not_configured(formabot, programme: Database) -> None:
    result = formabot("remind", "tig-2026-12", "--offset", "3d")
    assert result.exit_code != 0
    assert "'3d' is not one of [reminders] offsets: 7d, 1d, 2h" in result.output
    assert "Traceback" not in result.output


def test_coordinators_add_console_needs_a_name(formabot) -> None:
    result = formabot("coordinators", "add", "--console", "  ")
    assert result.exit_code != 0
    assert "--console" in result.output

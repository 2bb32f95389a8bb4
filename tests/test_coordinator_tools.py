"""The coordinators' tools as a coordinator expects them: their commands in /help, quiet
hours said before they bite, /report about what went out, every language version shown,
and times typed as people type them. Real SQLite, driven through the handlers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from handlers import Context
from storage import announcements, broadcasts, coordinators
from storage.audience import Audience
from tests.conftest import NOW, Run
from tests.outbox.outbox_fakes import add_contact
from tests.people import Person

QUIET = "21:00-08:00"  # Morocco is UTC+00 since 2026-09-20: local time is UTC here


@pytest.fixture
def readers(programme: Database) -> Database:
    """Welders who read French (Telegram), Arabic (WhatsApp) and English (Telegram)."""
    add_contact(programme, "Amina", telegram="101")
    add_contact(programme, "Youssef", whatsapp="+212612345678", language="ar")
    add_contact(programme, "Sara", telegram="103", language="en")
    return programme


def coordinator(
    db: Database,
    *,
    at: datetime = NOW,
    language: str = "English",
    channel: str = "console",
    address: str = "salma",
) -> Person:
    coordinators.add(db, channel=channel, address=address, name="Salma")
    person = Person(Context(db=db, clock=lambda: at, quiet_hours=QUIET), address, channel)
    topic = {"Français": "Soudage", "العربية": "اللحام"}.get(language, "Welding")
    person.onboard(name="Salma Bennani", language=language, topics=(topic,))
    return person


def compose(person: Person, *, text: str = "Nouvelle session TIG") -> None:
    """/announce to everyone, about no session, with one text: up to the time question."""
    person.command("announce")
    person.presses("Next: everyone")
    person.presses("No session")
    person.says(text)
    person.presses("Next")


# --- /help --------------------------------------------------------------------------------


def test_help_shows_a_coordinator_their_commands(readers: Database) -> None:
    salma = coordinator(readers)
    salma.command("help")
    assert "Coordinators' commands:" in salma.text
    for command in ("/announce", "/scheduled", "/report", "/roster"):
        assert command in salma.text
    salma.presses("Help")  # the menu's button says the same
    assert "/announce" in salma.text


def test_help_by_keyword_on_whatsapp_shows_a_coordinator_their_commands_in_french(
    readers: Database,
) -> None:
    salma = coordinator(readers, language="Français", channel="whatsapp", address="+212600000001")
    salma.says("AIDE")
    assert "Commandes réservées à la coordination\u00a0:" in salma.text
    assert "/announce" in salma.text


def test_help_shows_no_coordinator_command_to_anyone_else(readers: Database) -> None:
    amina = Person(Context(db=readers), "amina")
    amina.onboard()
    amina.command("help")
    assert "/announce" not in amina.text and "Coordinators" not in amina.text


# --- quiet hours ----------------------------------------------------------------------------


def test_a_time_inside_quiet_hours_says_when_it_will_go_out_and_offers_urgent(
    readers: Database,
) -> None:
    salma = coordinator(readers)
    compose(salma)
    salma.says("29/11/2026 22:30")
    assert (
        "That is within quiet hours (21:00–08:00, Morocco time): it will go out on"
        " Monday, 30 November 2026 at 08:00, unless you mark it urgent."
    ) in salma.text
    salma.presses("Urgent: send it at its time")
    assert "Urgent: it goes out even during quiet hours." in salma.text
    assert "within quiet hours" not in salma.text
    assert "Not urgent" in salma.labels
    salma.presses("Confirm")
    [created] = announcements.listing(readers)
    assert created.urgent
    assert "is scheduled for Sunday, 29 November 2026 at 22:30" in salma.text


def test_a_non_urgent_announcement_in_quiet_hours_is_confirmed_with_its_real_time(
    readers: Database,
) -> None:
    salma = coordinator(readers)
    compose(salma)
    salma.says("2026-11-29 23:00")
    salma.presses("Urgent")
    salma.presses("Not urgent")
    assert "within quiet hours" in salma.text
    salma.presses("Confirm")
    [created] = announcements.listing(readers)
    assert not created.urgent
    assert "will go out on Monday, 30 November 2026 at 08:00, when quiet hours end." in salma.text


def test_now_at_night_says_it_waits_for_the_morning(readers: Database) -> None:
    salma = coordinator(readers, at=datetime(2026, 11, 29, 22, 0, tzinfo=UTC))
    compose(salma)
    salma.presses("Now")
    assert "it will go out on Monday, 30 November 2026 at 08:00" in salma.text
    assert "Urgent: send it at its time" in salma.labels


def test_outside_quiet_hours_nothing_is_said_about_them(readers: Database) -> None:
    salma = coordinator(readers)
    compose(salma)
    salma.says("2026-12-01 10:00")
    assert "quiet hours" not in salma.text
    assert not any("Urgent" in label for label in salma.labels)


def test_the_cli_says_when_an_announcement_in_quiet_hours_goes_out(
    run: Run, readers: Database, config_file
) -> None:
    config_file.write_text(config_file.read_text() + f'quiet_hours = "{QUIET}"\n')
    day = (datetime.now(UTC) + timedelta(days=2)).strftime("%d/%m/%Y")
    result = run("announce", "--everyone", "--text", "Bonjour", "--at", f"{day} 22h30", "--yes")
    assert result.exit_code == 0, result.output
    assert "Within quiet hours (21:00–08:00 local): it goes out at" in result.output
    assert "08:00 local; --urgent sends it at its time." in result.output


# --- /report ----------------------------------------------------------------------------------


def test_report_alone_is_about_the_latest_announcement_that_went_out(readers: Database) -> None:
    salma = coordinator(readers)
    gone = broadcasts.publish(
        readers,
        texts={"*": "Partie"},
        audience=Audience(),
        created_by="cli:salma",
        due_at=NOW,
        now=NOW,
    )
    later = broadcasts.publish(
        readers,
        texts={"*": "Retirée"},
        audience=Audience(),
        created_by="cli:salma",
        due_at=NOW + timedelta(hours=1),
        now=NOW,
    )
    broadcasts.cancel(readers, later.announcement_id, actor="cli:salma", now=NOW)
    broadcasts.publish(
        readers,
        texts={"*": "À venir"},
        audience=Audience(),
        created_by="cli:salma",
        due_at=NOW + timedelta(days=1),
        now=NOW,
    )
    salma.command("report")
    assert f"Announcement #{gone.announcement_id}, being sent," in salma.text


def test_report_alone_when_nothing_went_out_says_so(readers: Database) -> None:
    salma = coordinator(readers)
    broadcasts.publish(
        readers,
        texts={"*": "À venir"},
        audience=Audience(),
        created_by="cli:salma",
        due_at=NOW + timedelta(days=1),
        now=NOW,
    )
    salma.command("report")
    assert "No announcement has gone out yet." in salma.text


# --- the preview --------------------------------------------------------------------------


def test_the_preview_shows_every_language_version_that_will_be_sent(readers: Database) -> None:
    salma = coordinator(readers)
    salma.command("announce")
    salma.presses("Next: everyone")
    salma.presses("tig-2026-12")
    salma.says("Nouvelle session TIG : inscrivez-vous.")
    salma.presses("➕ Text in Arabic")
    salma.says("دورة جديدة في اللحام")
    salma.presses("Next")
    salma.presses("Now")
    preview = salma.replies[0].text
    french, arabic, english = (
        preview.split("French version:")[1].split("Arabic version:")[0],
        preview.split("Arabic version:")[1].split("English version:")[0],
        preview.split("English version:")[1],
    )
    assert "Nouvelle session TIG : inscrivez-vous." in french and "M’inscrire" in french
    assert "دورة جديدة في اللحام" in arabic and "Nouvelle session" not in arabic
    assert "Nouvelle session TIG : inscrivez-vous." in english and "Register" in english
    assert "TIG welding" in english or "Session tig-2026-12 (en)" in english


def test_the_preview_for_readers_of_one_language_shows_that_version_alone(
    readers: Database,
) -> None:
    salma = coordinator(readers)
    salma.command("announce")
    salma.presses("Trainee")  # nobody: the coordinator's own language is shown
    salma.presses("Next")
    salma.presses("No session")
    salma.says("Bonjour")
    salma.presses("Next")
    salma.presses("Now")
    assert "version:" not in salma.replies[0].text
    assert "Bonjour" in salma.replies[0].text


# --- times as people type them -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2026-12-09 09:00",
        "2026-12-09T09:00",
        "09/12/2026 09:00",
        "9/12/2026 9:00",
        "9/12/26 9h",
        "09.12.2026 à 9h00",
        "٠٩/١٢/٢٠٢٦ ٠٩:٠٠",
        "٩/١٢/٢٦ ٩h",
    ],
)
def test_a_time_is_read_as_people_type_it(readers: Database, typed: str) -> None:
    salma = coordinator(readers)
    compose(salma)
    salma.says(typed)
    assert "When: Wednesday, 9 December 2026 at 09:00" in salma.text
    salma.presses("Confirm")
    [created] = announcements.listing(readers)
    assert created.due_at == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["12/31/2026 09:00", "9/12/2026", "9/12-2026 9h"])
def test_a_time_that_is_not_one_is_asked_again(readers: Database, typed: str) -> None:
    salma = coordinator(readers)
    compose(salma)
    salma.says(typed)
    assert "as a date and time" in salma.text
    assert announcements.listing(readers) == []


def test_the_cli_reads_at_day_first(run: Run, readers: Database) -> None:
    day = datetime.now(UTC) + timedelta(days=3)
    result = run(
        "announce", "--everyone", "--text", "Bonjour", "--yes", "--at", f"{day:%d/%m/%y} 10h"
    )
    assert result.exit_code == 0, result.output
    assert f"When: {day:%Y-%m-%d} 10:00 local" in result.output
    refused = run("announce", "--everyone", "--text", "Bonjour", "--yes", "--at", "demain")
    assert refused.exit_code != 0
    assert "day first" in refused.output and "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("language", "zone"),
    [
        ("Français", "(heure du Maroc)"),
        ("العربية", "(بتوقيت المغرب)"),
        ("English", "(Morocco time)"),
    ],
)
def test_the_time_question_names_morocco_time(readers: Database, language: str, zone: str) -> None:
    salma = coordinator(readers, language=language)
    salma.command("announce")
    salma.presses(
        {"Français": "Suivant", "العربية": "التالي", "English": "Next: everyone"}[language]
    )
    salma.presses(
        {"Français": "Aucune session", "العربية": "بدون", "English": "No session"}[language]
    )
    salma.says("Bonjour")
    salma.presses({"Français": "Suivant", "العربية": "التالي", "English": "Next"}[language])
    assert zone in salma.text.replace("\u2068", "").replace("\u2069", "")
    assert "Africa/Casablanca" not in salma.text

"""What the fuzz suite found, each pinned by a plain example so that it stays fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database
from telegram import Update

from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram.inbound import to_inbound
from bot.cli.imports import (
    FileProblem,
    ImportFailed,
    import_catalogue,
    import_companies,
    import_contacts,
)
from bot.config import ConfigError, TelegramSettings, load
from handlers import Action, Context, Inbound, handle
from handlers.types import whole_number
from storage import companies, contacts, coordinators
from storage.zones import UnknownZone, local_to_utc, parse_local, zone
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN
from tests.people import Person

# --- time zones and local times -----------------------------------------------------------


@pytest.mark.parametrize("name", ["Africa", "America", "a" * 300])
def test_a_folder_of_the_zone_database_or_a_huge_name_is_an_unknown_zone(name: str) -> None:
    with pytest.raises(UnknownZone):
        zone(name)


@pytest.mark.parametrize(
    ("typed", "zone_name"),
    [("0001-01-01 00:00", "Asia/Tokyo"), ("9999-12-31 23:59", "America/Adak")],
)
def test_a_local_time_before_year_1_or_after_9999_in_utc_is_a_value_error(
    typed: str, zone_name: str
) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_local(typed, zone_name)


def test_local_to_utc_refuses_what_utc_cannot_hold() -> None:
    from datetime import datetime

    with pytest.raises(ValueError):
        local_to_utc(datetime(1, 1, 1), "Asia/Tokyo")


# --- what comes into the handlers ---------------------------------------------------------


def test_callback_data_with_a_lone_surrogate_is_no_action() -> None:
    assert Action.decode("lang:\ud800") is None


def test_an_inbound_text_with_a_lone_surrogate_is_stored_with_a_replacement_character() -> None:
    inbound = Inbound("telegram", "1", text="Amina \ud800", argument="\udfff")
    assert (inbound.text, inbound.argument) == ("Amina \ufffd", "\ufffd")
    assert Inbound("telegram", "1", text="\ud83d\ude00").text == "😀"  # a pair joins


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", 12), ("٣", 3), ("²", None), ("9" * 19, None), ("", None), ("-1", None)],
)
def test_whole_numbers_are_decimal_and_fit_sqlite(text: str, number: int | None) -> None:
    assert whole_number(text) == number


@pytest.fixture
def context(programme: Database) -> Context:
    return Context(db=programme, clock=lambda: NOW)


def test_a_name_with_a_lone_surrogate_is_asked_again_politely(context: Context) -> None:
    person = Person(context, "9001", "telegram")
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("Amina \ud800")  # stored as U+FFFD, which is no letter: the question again
    assert "Please send your name in letters" in person.text
    person.says("Amina")
    assert "Nice to meet you, Amina." in person.text


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("9223372036854775808", "Usage: /report, or /report followed by an announcement number."),
        ("²", "Usage: /report, or /report followed by an announcement number."),
        ("٣", "There is no announcement #3."),
    ],
)
def test_report_of_a_number_too_large_or_not_decimal_gets_its_usage(
    context: Context, argument: str, expected: str
) -> None:
    coordinators.add(context.db, channel="telegram", address="9002", name="Salma")
    person = Person(context, "9002", "telegram")
    person.onboard()
    person.command("report", argument)
    assert expected in person.text


def test_roster_of_a_lone_surrogate_is_no_session(context: Context) -> None:
    coordinators.add(context.db, channel="telegram", address="9003", name="Salma")
    person = Person(context, "9003", "telegram")
    person.onboard()
    replies = handle(context, Inbound("telegram", "9003", command="roster", argument="\ud800"))
    assert "something went wrong" not in replies[0].text


def test_a_company_button_with_a_huge_id_has_expired(context: Context) -> None:
    person = Person(context, "9004", "telegram")
    person.command("start")
    person.presses("English")
    person.presses("Yes, I agree")
    person.says("Amina")
    person._send(action=Action("co", ("9" * 48,)))
    assert "This button has expired." in person.text
    assert "Which member company do you work for?" in person.text


def test_a_sessions_page_with_a_huge_offset_is_no_more_sessions(context: Context) -> None:
    person = Person(context, "9005", "telegram")
    person.onboard()
    person._send(action=Action("ss", ("9" * 30,)))
    assert "Upcoming sessions" in person.text  # read as the first page


# --- import files -------------------------------------------------------------------------


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text", [",\n", ";;\n;\n", ",,,"])
def test_a_csv_of_empty_cells_only_has_no_header(
    tmp_path: Path, programme: Database, text: str
) -> None:
    with pytest.raises(FileProblem, match="no header"):
        import_catalogue(
            programme, _write(tmp_path, "catalogue.csv", text), default_zone="Africa/Casablanca"
        )


@pytest.mark.parametrize(
    ("cell", "field", "message"),
    [
        ("starts", "starts", "out of range"),
        ("capacity", "capacity", "is not a number of seats"),
        ("capacity-huge", "capacity", "more than 100,000 seats"),
    ],
)
def test_a_session_row_out_of_range_names_its_line_and_field(
    tmp_path: Path, programme: Database, cell: str, field: str, message: str
) -> None:
    starts = "0001-01-01T00:00" if cell == "starts" else "2026-12-10T10:00"
    capacity = {"capacity": "²", "capacity-huge": "9" * 30}.get(cell, "12")
    path = _write(
        tmp_path,
        "catalogue.csv",
        "kind,id,title_fr,topics,starts,ends,timezone,capacity\n"
        f"session,s1,Soudage,soudage,{starts},2026-12-11T17:00,Asia/Tokyo,{capacity}\n",
    )
    with pytest.raises(ImportFailed) as failed:
        import_catalogue(programme, path, default_zone="Africa/Casablanca")
    (error,) = failed.value.errors
    assert (error.where, error.field) == ("catalogue.csv line 2", field)
    assert message in error.message
    assert programme["sessions"].count == 3  # the programme's own, nothing added


@pytest.mark.parametrize("consent", ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00"])
def test_a_consent_date_utc_cannot_hold_names_its_line_and_field(
    tmp_path: Path, programme: Database, consent: str
) -> None:
    companies.upsert(programme, member_id="M9", name="Atlas", city="", sector="")
    path = _write(
        tmp_path,
        "contacts.csv",
        f"name,company,whatsapp,consent_date\nAmina,M9,0612345678,{consent}\n",
    )
    with pytest.raises(ImportFailed) as failed:
        import_contacts(programme, path, default_zone="Africa/Casablanca")
    (error,) = failed.value.errors
    assert (error.where, error.field) == ("contacts.csv line 2", "consent_date")
    assert contacts.find_by_phone(programme, "+212612345678") is None


def test_a_cell_with_a_line_break_is_named_on_one_line(tmp_path: Path, programme: Database) -> None:
    path = _write(tmp_path, "companies.csv", 'member_id,name\n"M\n1",Atlas\n')
    with pytest.raises(ImportFailed) as failed:
        import_companies(programme, path)
    (error,) = failed.value.errors
    assert str(error) == (
        'companies.csv line 2, field "member_id": "M\\n1" is not a member id:'
        " up to 40 characters, no spaces"
    )


# --- configuration ------------------------------------------------------------------------


def test_a_config_key_with_a_line_break_is_named_on_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "config.toml", '[bot]\n"page\\nsize" = 3\n')
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    assert "\n" not in str(error.value)
    assert "[bot] page\\nsize: unknown key" in str(error.value)


# --- Telegram -----------------------------------------------------------------------------


def test_a_message_without_a_chat_is_no_conversation() -> None:
    update = Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "from": {"id": 7, "is_bot": False, "first_name": "A"},
                "text": "hello",
            },
        },
        None,
    )
    assert to_inbound(update) is None


@pytest.mark.parametrize(
    "payload",
    [{"message": False}, {"update_id": 1, "message": []}, {"update_id": 1, "callback_query": "x"}],
)
async def test_a_webhook_payload_ptb_cannot_read_is_not_an_update(
    context: Context, payload: dict
) -> None:
    channel = TelegramChannel(build_application(TelegramSettings(token=TOKEN)), context)
    with pytest.raises(ValueError, match="not a Telegram update"):
        await channel.receive(payload)

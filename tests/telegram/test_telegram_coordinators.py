"""Coordinators on Telegram: their own command menu, scoped to their chat and in their
language; /announce by buttons against the real wire protocol; /roster as a CSV document."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.config import Config
from handlers import Context
from storage import announcements, contacts, coordinators, registrations
from tests.conftest import NOW
from tests.fakes.bot_api import FakeBotAPI
from tests.outbox.outbox_fakes import add_contact
from tests.telegram.chat import AMINA, YOUSSEF, Chat

COORDINATOR_COMMANDS = ["announce", "scheduled", "report", "roster"]


@pytest.fixture
async def channel(config: Config, programme: Database) -> AsyncIterator[TelegramChannel]:
    """The bot started with two coordinators already on file: Amina on Telegram (her profile
    in Arabic) and someone on WhatsApp, who has no Telegram menu to get."""
    amina = add_contact(programme, "Amina", language="ar")
    contacts.attach_identity(programme, amina, channel="telegram", address=str(AMINA.id))
    coordinators.add(programme, channel="telegram", address=str(AMINA.id), name="Amina")
    coordinators.add(programme, channel="whatsapp", address="+212612345678")
    context = Context(
        db=programme,
        timezone=config.bot.timezone,
        default_language=config.bot.default_language,
        clock=lambda: NOW,
    )
    telegram = app.build_telegram(config, context)
    await lifecycle.start(telegram.application, config.bot.default_language, db=programme)
    try:
        yield telegram
    finally:
        await lifecycle.stop(telegram.application)


@pytest.fixture
def coordinator(bot_api: FakeBotAPI, channel: TelegramChannel) -> Iterator[Chat]:
    yield Chat(bot_api, channel, AMINA)
    assert bot_api.unanswered() == set()


async def test_coordinator_commands_only_in_coordinators_chats(
    bot_api: FakeBotAPI, coordinator: Chat
) -> None:
    scoped = bot_api.chat_commands
    assert list(scoped) == [(AMINA.id, "")]
    menu = scoped[(AMINA.id, "")]
    names = [command["command"] for command in menu]
    assert names[-4:] == COORDINATOR_COMMANDS
    assert "start" in names  # a chat's own menu replaces the general one: it has everything
    descriptions = {command["command"]: command["description"] for command in menu}
    assert descriptions["announce"] == "إعلان جديد"  # her profile's language
    for language, general in bot_api.commands.items():
        assert not set(COORDINATOR_COMMANDS) & {command["command"] for command in general}, language


async def test_announce_by_buttons_on_telegram(
    bot_api: FakeBotAPI, coordinator: Chat, programme: Database
) -> None:
    await coordinator.says("/announce")
    await coordinator.presses("اللحام")  # Soudage, in Arabic: the topic toggles in place
    assert coordinator.labels[1].startswith("✅")
    assert bot_api.calls_to("editMessageText")
    await coordinator.presses("التالي")
    await coordinator.presses("بدون دورة")
    await coordinator.says("Nouvelle session <b>TIG</b> & co")
    await coordinator.presses("التالي")
    await coordinator.says("2026-12-09 09:00")
    assert "Nouvelle session <b>TIG</b> & co" in coordinator.transcript  # shown escaped
    await coordinator.presses("تأكيد")
    [created] = announcements.listing(programme)
    assert created.created_by == f"telegram:{AMINA.id}"
    assert created.status == "scheduled"
    assert f"{created.id}" in coordinator.last


async def test_roster_arrives_as_a_csv_document(
    bot_api: FakeBotAPI, coordinator: Chat, programme: Database
) -> None:
    trainee = add_contact(programme, "Youssef <Trainee>", role="trainee")
    registrations.register(programme, trainee, "mig-2027-01", 12)
    await coordinator.says("/roster mig-2027-01")
    [call] = bot_api.calls_to("sendDocument")
    upload = call.files["document"]
    assert (upload.filename, upload.mime_type) == ("roster-mig-2027-01.csv", "text/csv")
    table = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8-sig")), delimiter=";"))
    assert [(row["الاسم"], row["الوضعية"]) for row in table] == [  # Amina reads Arabic
        ("Youssef <Trainee>", "تسجيل مؤكد")
    ]


async def test_someone_else_is_refused_and_sees_no_coordinator_menu(
    bot_api: FakeBotAPI, coordinator: Chat, programme: Database
) -> None:
    stranger = coordinator.as_(YOUSSEF)
    await stranger.says("/roster mig-2027-01")
    assert bot_api.calls_to("sendDocument") == []
    assert "réservée à l’équipe de coordination" in stranger.transcript  # new here: French, then
    assert "Choose your language" in stranger.last  # onboarding goes on
    assert (YOUSSEF.id, "") not in bot_api.chat_commands

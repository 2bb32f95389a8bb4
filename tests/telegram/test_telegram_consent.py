"""Consent on Telegram, where old messages keep their buttons: the "Non, merci" of the consent
question, pressed after consenting, withdraws consent for real, and the outbox then sends
that person nothing (the real handlers, the real sender and dispatcher, the fake Bot API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlite_utils import Database

from bot.app import build_telegram_sender
from bot.config import load
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.running import dispatcher_settings
from storage import audit, contacts, deliveries
from storage.zones import zone
from tests.fakes.bot_api import TOKEN, FakeBotAPI, buttons
from tests.telegram.audience import announce, outbox_config
from tests.telegram.chat import Chat


def contact_of(db: Database, user_id: int) -> contacts.Contact:
    identity = contacts.identity(db, "telegram", str(user_id))
    found = contacts.get(db, identity.contact_id) if identity else None
    assert found is not None
    return found


async def broadcast(tmp_path: Path, bot_api: FakeBotAPI, db: Database) -> int:
    """An announcement to everyone, sent through the outbox until nothing is left to send."""
    directory = tmp_path / "outbox"
    directory.mkdir(exist_ok=True)
    config = load(outbox_config(directory, bot_api), environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN})
    announcement_id = announce(db, "Nouvelle session : soudage TIG")
    sender = build_telegram_sender(config)
    dispatcher = Dispatcher(
        db, sender, zone=zone(config.bot.timezone), settings=dispatcher_settings(config, "telegram")
    )
    sender.pace = dispatcher.admit
    async with sender:
        await asyncio.wait_for(dispatcher.drain(), timeout=30)
    return announcement_id


async def test_the_old_no_button_after_consenting_stops_every_announcement(
    tmp_path: Path, chat: Chat, bot_api: FakeBotAPI, programme: Database
) -> None:
    await chat.onboard()
    question = next(
        message for message in chat.messages if ("Non, merci", "consent:no") in buttons(message)
    )
    await broadcast(tmp_path, bot_api, programme)
    assert "Nouvelle session" in chat.last  # consented: the broadcast reaches her

    await chat.presses_data("consent:no", question)  # the old button, still in the chat
    assert "vous ne recevrez plus aucune notification" in chat.last
    assert not contact_of(programme, chat.user.id).may_be_notified
    assert [
        entry.details["via"] for entry in audit.entries(programme, action="privacy.opt_out")
    ] == ["consent button"]

    seen = len(chat.messages)
    announcement_id = await broadcast(tmp_path, bot_api, programme)
    assert deliveries.of_announcement(programme, announcement_id) == []
    assert len(chat.messages) == seen


async def test_the_old_yes_button_after_stop_asks_and_sends_nothing_meanwhile(
    tmp_path: Path, chat: Chat, bot_api: FakeBotAPI, programme: Database
) -> None:
    await chat.onboard()
    question = next(
        message
        for message in chat.messages
        if ("Oui, j’accepte", "consent:yes") in buttons(message)
    )
    await chat.says("STOP")
    await chat.presses_data("consent:yes", question)
    assert "Voulez-vous les réactiver" in chat.last
    announcement_id = await broadcast(tmp_path, bot_api, programme)
    assert deliveries.of_announcement(programme, announcement_id) == []
    await chat.presses("Réactiver les notifications")
    assert "les notifications sont réactivées" in chat.last
    assert contact_of(programme, chat.user.id).may_be_notified
    await broadcast(tmp_path, bot_api, programme)
    assert "Nouvelle session" in chat.last

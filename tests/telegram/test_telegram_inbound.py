"""What arrives from Telegram, as the handlers' `Inbound`."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.inbound import to_inbound
from handlers import Action, Inbound
from tests.fakes.bot_api import FakeBotAPI
from tests.telegram.chat import AMINA, YOUSSEF

fake = FakeBotAPI()  # only its update builders: no server


def inbound(body: dict[str, Any]) -> Inbound | None:
    return to_inbound(Update.de_json({"update_id": 1, **body}, None))


def amina(**what: Any) -> Inbound:
    return Inbound("telegram", str(AMINA.id), chat_id=str(AMINA.id), **what)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", amina(command="start")),
        ("/start session_tig-2026-12", amina(command="start", argument="session_tig-2026-12")),
        (
            "/START@formabot_test_bot topic_soudage",
            amina(command="start", argument="topic_soudage"),
        ),
        ("/sessions   ", amina(command="sessions")),
        ("Amina Alaoui", amina(text="Amina Alaoui")),
        ("/ not a command", amina(text="/ not a command")),
    ],
)
def test_texts_and_commands(text: str, expected: Inbound) -> None:
    assert inbound(fake.message(AMINA, text=text)) == expected


def test_a_button_press_carries_its_action() -> None:
    assert inbound(fake.callback(AMINA, "reg:tig-2026-12", None)) == amina(
        action=Action("reg", ("tig-2026-12",))
    )


@pytest.mark.parametrize("data", ["x" * 65, "Reg:1", "a:b c", "", "é:1"])
def test_a_button_we_could_not_have_made_is_expired(data: str) -> None:
    assert inbound(fake.callback(AMINA, data, None)) == amina(action=Action("expired"))


def test_ones_own_contact_is_a_phone_number_with_its_plus() -> None:
    body = fake.message(
        AMINA, contact={"phone_number": "212612345678", "first_name": "A", "user_id": AMINA.id}
    )
    assert inbound(body) == amina(phone="+212612345678")


def test_someone_elses_contact_is_only_text() -> None:
    body = fake.message(
        AMINA, contact={"phone_number": "0612345678", "first_name": "Y", "user_id": YOUSSEF.id}
    )
    assert inbound(body) == amina(text="0612345678")


def test_a_photo_is_empty_text() -> None:
    body = fake.message(
        AMINA, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    )
    assert inbound(body) == amina(text="")


def test_group_chats_are_not_conversations() -> None:
    body = fake.message(AMINA, text="/start")
    body["message"]["chat"] = {"id": -100, "type": "group", "title": "Atelier"}
    assert inbound(body) is None


def test_edits_are_ignored() -> None:
    assert inbound({"edited_message": fake.message(AMINA, text="x")["message"]}) is None

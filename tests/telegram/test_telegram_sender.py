"""The outbox's Telegram sender against the fake Bot API: what a notification looks like in
the chat, and how each of Telegram's answers becomes an outcome for the dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.channels.telegram.sender import TelegramSender, interpret
from bot.outbox.dispatcher import SendResult
from handlers import Action, Choice, Reply
from storage.deliveries import Delivery
from tests.fakes.bot_api import TOKEN, FakeBotAPI, buttons
from tests.telegram.chat import AMINA
from tests.telegram.support import free_port

CONFIRM = (
    Choice("Confirmer", Action("att_yes", ("tig-2026-12",))),
    Choice("Je ne peux pas venir", Action("att_no", ("tig-2026-12",))),
)


def delivery_to(address: str) -> Delivery:
    return Delivery(
        id=1,
        announcement_id=1,
        contact_id=1,
        identity_id=1,
        channel="telegram",
        address=address,
        language="fr",
        urgent=False,
        status="sending",
        attempts=0,
        next_attempt_at=datetime(2026, 11, 29, tzinfo=UTC),
        reason="",
        provider_message_id=None,
    )


@pytest.fixture
async def sender(bot_api: FakeBotAPI) -> AsyncIterator[TelegramSender]:
    async def no_wait(_: str) -> None:
        return None

    async with TelegramSender(
        bot_api.base_url, TOKEN, connections=4, timeout=0.3, pace=no_wait
    ) as opened:
        yield opened


async def test_a_notification_is_escaped_html_with_its_buttons(
    sender: TelegramSender, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    result = await sender.send(
        delivery_to(str(AMINA.id)), Reply("Rappel : TIG <niveau 1> & co. Serez-vous là ?", CONFIRM)
    )
    (message,) = bot_api.messages(AMINA)
    assert result == SendResult.sent(str(message["message_id"]))
    assert message["text"] == "Rappel : TIG <niveau 1> & co. Serez-vous là ?"
    assert buttons(message) == [
        ("Confirmer", "att_yes:tig-2026-12"),
        ("Je ne peux pas venir", "att_no:tig-2026-12"),
    ]


async def test_a_long_notification_is_split_with_the_buttons_on_the_last_part(
    sender: TelegramSender, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    text = "\n\n".join(f"Paragraphe {n} & suite. " + "x" * 900 for n in range(6))
    result = await sender.send(delivery_to(str(AMINA.id)), Reply(text, CONFIRM))
    first, second = bot_api.messages(AMINA)
    assert result.outcome == "sent"
    assert f"{first['text']}\n\n{second['text']}" == text
    assert buttons(first) == [] and len(buttons(second)) == 2


@pytest.mark.parametrize(
    ("code", "description", "retry_after", "expected"),
    [
        (429, "Too Many Requests: retry after 7", 7, SendResult.rate_limited(7)),
        (
            403,
            "Forbidden: bot was blocked by the user",
            None,
            SendResult.blocked("Forbidden: bot was blocked by the user"),
        ),
        (
            400,
            "Bad Request: chat not found",
            None,
            SendResult.failed("Bad Request: chat not found"),
        ),
        (502, "Bad Gateway", None, SendResult.transient("502 Bad Gateway")),
        (500, "Internal Server Error", None, SendResult.transient("500 Internal Server Error")),
    ],
)
async def test_telegram_answers_become_outcomes(
    sender: TelegramSender,
    bot_api: FakeBotAPI,
    code: int,
    description: str,
    retry_after: float | None,
    expected: SendResult,
) -> None:
    bot_api.meet(AMINA)
    bot_api.refuse_next(AMINA, code, description, retry_after)
    assert await sender.send(delivery_to(str(AMINA.id)), Reply("Bonjour")) == expected
    assert bot_api.messages(AMINA) == []


async def test_a_hung_request_is_a_transient_timeout(
    sender: TelegramSender, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    bot_api.set_faults(hang=1.0, hang_seconds=0.6)
    result = await sender.send(delivery_to(str(AMINA.id)), Reply("Bonjour"))
    assert result == SendResult.transient("timed out after 0.3 s")


async def test_nobody_listening_is_a_transient_network_error(bot_api: FakeBotAPI) -> None:
    async with TelegramSender(f"http://127.0.0.1:{free_port()}/bot", TOKEN) as closed:
        result = await closed.send(delivery_to("1"), Reply("Bonjour"))
    assert result.outcome == "transient" and result.reason.startswith("network error")


async def test_a_failure_after_the_first_part_is_not_resent(
    sender: TelegramSender, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    text = "\n\n".join("z" * 3000 for _ in range(2))
    calls = 0
    original = sender._post

    async def second_part_fails(chat_id: str, part: dict) -> SendResult:
        nonlocal calls
        calls += 1
        return await original(chat_id, part) if calls == 1 else SendResult.transient("502")

    sender._post = second_part_fails  # type: ignore[method-assign]
    result = await sender.send(delivery_to(str(AMINA.id)), Reply(text))
    assert result == SendResult.failed("only 1 of 2 parts sent; then 502")


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (502, b"<html>Bad Gateway</html>", "transient"),
        (200, b'{"ok": true, "result": {"message_id": 5}}', "sent"),
        (401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}', "transient"),
        (400, b"nonsense", "failed"),
    ],
)
def test_answers_that_are_not_the_usual_json(status: int, body: bytes, outcome: str) -> None:
    assert interpret(status, body).outcome == outcome

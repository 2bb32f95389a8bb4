"""Different people are answered side by side; one person's messages one at a time, in order
(PTB's real stack and the fake Bot API answering each sendMessage late)."""

from __future__ import annotations

import asyncio

from tests.fakes.bot_api import FakeBotAPI
from tests.telegram.chat import AMINA, YOUSSEF, Chat

LATENCY = 0.4


def arrivals(bot_api: FakeBotAPI, user_id: int) -> list[float]:
    return [
        call.at
        for call in bot_api.calls_to("sendmessage")
        if str(call.params.get("chat_id")) == str(user_id)
    ]


async def test_two_people_are_answered_side_by_side(bot_api: FakeBotAPI, chat: Chat) -> None:
    bot_api.set_faults(latency=LATENCY)
    bot_api.text(AMINA, "/start")
    last = bot_api.text(YOUSSEF, "/start")
    await chat.settle(last)
    amina, youssef = arrivals(bot_api, AMINA.id), arrivals(bot_api, YOUSSEF.id)
    assert amina and youssef
    # One at a time, the second answer would have left only after the first one's latency.
    assert abs(amina[0] - youssef[0]) < LATENCY / 2


async def test_one_persons_messages_are_answered_in_order_one_at_a_time(
    bot_api: FakeBotAPI, chat: Chat
) -> None:
    bot_api.set_faults(latency=LATENCY)
    bot_api.text(AMINA, "/start")
    last = bot_api.text(AMINA, "/help")
    await chat.settle(last)
    await asyncio.sleep(0)
    first, second = arrivals(bot_api, AMINA.id)[:2]
    assert second - first >= LATENCY * 0.9  # the second waited for the first to be answered
    texts = [message.get("text", "") for message in bot_api.messages(AMINA)]
    assert "Choisissez votre langue" in texts[0]

"""Replies share Telegram's overall rate with the outbox, and a reply refused with 429 is
sent again after the wait asked, never dropped (PTB's real stack, the fake Bot API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.application import pace_of
from bot.ops.metrics import Metrics
from bot.outbox.dispatcher.limits import ChannelPause, TokenBucket
from tests.fakes.bot_api import FakeBotAPI
from tests.telegram.chat import AMINA, Chat


class StillClock:
    """Time that moves only when told: the bucket's slots are read, not waited for."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


async def test_a_reply_refused_with_429_is_sent_after_the_wait(
    bot_api: FakeBotAPI, chat: Chat
) -> None:
    bot_api.refuse_next(AMINA, 429, "Too Many Requests: retry after 1", retry_after=1)
    await chat.says("/start")
    assert "Choisissez votre langue" in chat.transcript
    assert len(bot_api.calls_to("sendmessage")) == 2  # refused, then sent


async def test_a_429_on_a_reply_pauses_the_whole_channel(
    bot_api: FakeBotAPI, telegram: TelegramChannel, chat: Chat
) -> None:
    clock = StillClock()
    pause = ChannelPause(clock)
    metrics = Metrics(["telegram"])
    pace_of(telegram.application).attach(
        TokenBucket(30, clock), pause, throttled=lambda: metrics.throttled("telegram")
    )
    bot_api.refuse_next(AMINA, 429, "Too Many Requests: retry after 1", retry_after=1)
    await chat.says("/start")
    assert pause.count == 1  # the outbox's dispatcher waited too
    assert "Choisissez votre langue" in chat.transcript
    assert 'formabot_rate_limited_total{channel="telegram"} 1.0' in (metrics.exposition().decode())


async def test_each_reply_takes_a_slot_from_the_broadcast(
    telegram: TelegramChannel, chat: Chat
) -> None:
    clock = StillClock()
    bucket = TokenBucket(10, clock)
    pace_of(telegram.application).attach(bucket, ChannelPause(clock))
    await chat.says("/start")
    replies = len(chat.bot_api.calls_to("sendmessage"))
    assert replies >= 1
    # The outbox's next request now waits behind the replies' slots, 0.1 s each.
    assert bucket.wait_time() >= 0.1 * (replies - 1) - bucket.tolerance - 1e-6

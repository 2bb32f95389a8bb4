"""The outbox against a misbehaving Bot API: 5xx, hangs, 429s and enforced rate limits.

The real sender and dispatcher, built from a config file with test-sized backoffs, send a
broadcast through the fake server over HTTP; every row ends sent or failed with a reason,
and no request reaches the server while a 429's pause runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlite_utils import Database

from bot.app import build_telegram_sender
from bot.config import load
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.running import dispatcher_settings
from storage import deliveries
from storage.zones import zone
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.telegram.audience import announce, enrol, outbox_config, recipients

PEOPLE = recipients(80, first_id=71_000)


async def broadcast_through(
    tmp_path: Path,
    bot_api: FakeBotAPI,
    db: Database,
    *,
    telegram: str = "rate_limit_per_second = 400",
) -> int:
    config = load(
        outbox_config(
            tmp_path,
            bot_api,
            telegram=telegram,
            dispatcher="concurrency = 8\nmax_attempts = 4\nbackoff_seconds = 0.05\n"
            "request_timeout = 0.3",
        ),
        environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN},
    )
    enrol(db, bot_api, PEOPLE)
    announcement_id = announce(db)
    sender = build_telegram_sender(config)
    dispatcher = Dispatcher(
        db, sender, zone=zone(config.bot.timezone), settings=dispatcher_settings(config, "telegram")
    )
    sender.pace = dispatcher.admit
    async with sender:
        await asyncio.wait_for(dispatcher.drain(), timeout=30)
    return announcement_id


async def test_5xx_timeouts_and_429s_end_sent_or_failed_and_pauses_are_honoured(
    tmp_path: Path, bot_api: FakeBotAPI, db: Database
) -> None:
    conditions = bot_api.set_faults(
        error_5xx=0.2, hang=0.05, hang_seconds=0.5, error_429=0.03, retry_after=0.3
    )
    announcement_id = await broadcast_through(tmp_path, bot_api, db)
    rows = deliveries.of_announcement(db, announcement_id)
    assert {row.status for row in rows} <= {"sent", "failed"}
    assert len(rows) == len(PEOPLE)
    failed = [row for row in rows if row.status == "failed"]
    assert all("gave up after 4 attempts" in row.reason for row in failed)
    assert any(row.attempts > 1 for row in rows if row.status == "sent")  # retried, then sent
    assert conditions.throttled, "the fake never answered 429"
    assert conditions.violations() == []  # nothing came while a pause ran
    for person in PEOPLE:  # 5xx and hangs record nothing: a retry is not a duplicate
        assert len(bot_api.messages(person)) <= 1


async def test_a_rate_enforced_by_the_platform_is_kept(
    tmp_path: Path, bot_api: FakeBotAPI, db: Database
) -> None:
    conditions = bot_api.set_faults(rate=100, per_chat=1, jitter=0.01, latency=0.01)
    announcement_id = await broadcast_through(
        tmp_path, bot_api, db, telegram="rate_limit_per_second = 100"
    )
    assert deliveries.report(db, announcement_id).counts == {"sent": len(PEOPLE)}
    assert conditions.throttled == []  # no 429 provoked
    arrivals = [call.at for call in bot_api.calls_to("sendMessage")]
    assert len(arrivals) / (arrivals[-1] - arrivals[0]) <= 100 * 1.05

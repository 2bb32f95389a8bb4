"""The dispatcher's pacing on the real clock: the workers that held a slot when a 429's pause
began do not all go at its end (the platform would see a burst and answer 429 again)."""

from __future__ import annotations

import asyncio
import time

from outbox_fakes import FakeSender
from sqlite_utils import Database

from bot.dispatcher import Dispatcher, DispatcherSettings
from storage.zones import zone

RATE = 100  # a slot every 10 ms


async def test_after_a_pause_waiting_workers_take_new_evenly_spaced_slots(
    programme: Database, telegram: FakeSender
) -> None:
    dispatcher = Dispatcher(programme, telegram, zone=zone("Africa/Casablanca"),
                            settings=DispatcherSettings(rate_per_second=RATE,
                                                        per_chat_per_second=0))
    admitted: list[float] = []

    async def worker(number: int) -> None:
        await dispatcher.admit(f"chat-{number}")
        admitted.append(time.monotonic())

    workers = [asyncio.create_task(worker(number)) for number in range(10)]
    await asyncio.sleep(0.025)  # a few have gone; the others hold slots 30-90 ms from now
    dispatcher.pause.pause(0.2)
    paused_at = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*workers), timeout=5)

    after = sorted(moment for moment in admitted if moment > paused_at)
    assert len(after) >= 5
    assert after[0] >= paused_at + 0.19  # nobody went during the pause
    # One slot apart (10 ms), not all at the pause's end.
    assert after[-1] - after[0] >= (len(after) - 1) / RATE * 0.8


async def test_after_the_loop_stalled_late_workers_do_not_all_go_at_once(
    programme: Database, telegram: FakeSender
) -> None:
    dispatcher = Dispatcher(programme, telegram, zone=zone("Africa/Casablanca"),
                            settings=DispatcherSettings(rate_per_second=RATE,
                                                        per_chat_per_second=0))
    admitted: list[float] = []

    async def worker(number: int) -> None:
        await dispatcher.admit(f"chat-{number}")
        admitted.append(time.monotonic())

    workers = [asyncio.create_task(worker(number)) for number in range(10)]
    await asyncio.sleep(0.005)  # every worker holds a slot, 0-90 ms from now
    time.sleep(0.12)  # the loop stalls (a slow write, a busy machine): every slot passes
    resumed = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*workers), timeout=5)

    late = sorted(moment for moment in admitted if moment >= resumed)
    assert len(late) >= 8
    # Each took a new slot, one apart, instead of all going the moment the loop woke.
    assert late[-1] - late[0] >= (len(late) - 1) / RATE * 0.8

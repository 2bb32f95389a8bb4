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


class Workers:
    """Ten workers of one dispatcher at `RATE`, each noting when it was let through."""

    def __init__(self, db: Database, sender: FakeSender) -> None:
        self.dispatcher = Dispatcher(db, sender, zone=zone("Africa/Casablanca"),
                                     settings=DispatcherSettings(rate_per_second=RATE,
                                                                 per_chat_per_second=0))
        self.admitted: list[float] = []
        self.tasks = [asyncio.create_task(self._worker(number)) for number in range(10)]

    async def _worker(self, number: int) -> None:
        await self.dispatcher.admit(f"chat-{number}")
        self.admitted.append(time.monotonic())

    async def admitted_after(self, moment: float) -> list[float]:
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=5)
        return sorted(at for at in self.admitted if at >= moment)


async def test_after_a_pause_waiting_workers_take_new_evenly_spaced_slots(
    programme: Database, telegram: FakeSender
) -> None:
    workers = Workers(programme, telegram)
    await asyncio.sleep(0.025)  # a few have gone; the others hold slots 30-90 ms from now
    workers.dispatcher.pause.pause(0.2)
    paused_at = time.monotonic()

    after = await workers.admitted_after(paused_at)
    assert len(after) >= 5
    assert after[0] >= paused_at + 0.19  # nobody went during the pause
    # One slot apart (10 ms), not all at the pause's end.
    assert after[-1] - after[0] >= (len(after) - 1) / RATE * 0.8


async def test_after_the_loop_stalled_late_workers_do_not_all_go_at_once(
    programme: Database, telegram: FakeSender
) -> None:
    workers = Workers(programme, telegram)
    await asyncio.sleep(0.005)  # every worker holds a slot, 0-90 ms from now
    time.sleep(0.12)  # the loop stalls (a slow write, a busy machine): every slot passes
    resumed = time.monotonic()

    late = await workers.admitted_after(resumed)
    assert len(late) >= 8
    # Each took a new slot, one apart, instead of all going the moment the loop woke.
    assert late[-1] - late[0] >= (len(late) - 1) / RATE * 0.8

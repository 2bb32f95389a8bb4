"""The dispatcher's pacing on the real clock: the workers that held a slot when a 429's pause
began do not all go at its end (the platform would see a burst and answer 429 again)."""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from outbox_fakes import FakeSender
from sqlite_utils import Database

from bot.outbox.dispatcher import Dispatcher, DispatcherSettings
from bot.outbox.dispatcher.limits import TokenBucket
from storage.zones import zone

RATE = 100  # a slot every 10 ms


class Workers:
    """Ten workers of one dispatcher at `RATE`, each noting when it was let through."""

    def __init__(self, db: Database, sender: FakeSender) -> None:
        self.dispatcher = Dispatcher(
            db,
            sender,
            zone=zone("Africa/Casablanca"),
            settings=DispatcherSettings(rate_per_second=RATE, per_chat_per_second=0),
        )
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


# --- the rule, on a clock that moves only when told (no real time) -----------------------------


class VirtualClock:
    """Seconds since the start; `sleep` moves time on, `stall` too, without anyone running."""

    def __init__(self, lateness: float = 0.0) -> None:
        self.seconds = 0.0
        self.lateness = lateness  # how late the loop wakes a sleeper, every time

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    async def sleep(self, seconds: float) -> None:
        # In whole microseconds, as datetime keeps them, rounded up: a sleep is never short.
        self.seconds = math.ceil((self.seconds + max(seconds, 0.0) + self.lateness) * 1e6) / 1e6
        await asyncio.sleep(0)

    def stall(self, seconds: float) -> None:
        self.seconds = round(self.seconds + seconds, 6)


START = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def grants(
    bucket: TokenBucket,
    clock: VirtualClock,
    *,
    count: int,
    workers: int = 50,
    stall_after: int | None = None,
    stall: float = 0.0,
) -> list[float]:
    """When each of `count` requests was let through by `bucket`, `workers` callers asking
    at once; after the `stall_after`-th, the loop stalls for `stall` seconds (a slow
    checkpoint, a busy machine): no one runs, time passes."""
    granted: list[float] = []

    async def worker() -> None:
        while len(granted) < count:
            await bucket.acquire()
            granted.append(clock.now().timestamp())
            if len(granted) == stall_after:
                clock.stall(stall)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return granted[:count]


def busiest_second(times: list[float]) -> int:
    """The most requests in any one-second window [t, t + 1)."""
    ordered = sorted(times)
    return max(bisect_left(ordered, start + 1.0) - index for index, start in enumerate(ordered))


async def test_after_a_stall_no_one_second_window_exceeds_the_rate() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(RATE, clock)
    times = await grants(bucket, clock, count=6 * RATE, stall_after=2 * RATE + 7, stall=2.5)
    assert busiest_second(times) <= RATE
    # The stall's time is lost, not made up: the second after it holds one second's worth.
    resumed = times[2 * RATE + 7]
    assert resumed - times[2 * RATE + 6] >= 2.5
    assert len([at for at in times if resumed <= at < resumed + 1.0]) <= RATE


async def test_after_a_stall_every_free_slot_is_used_again() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(RATE, clock)
    times = await grants(bucket, clock, count=6 * RATE, stall_after=2 * RATE, stall=2.5)
    after = [at for at in times if at >= times[2 * RATE]]
    # Back at the full rate at once: RATE requests a second, evenly spaced.
    assert after[RATE] - after[0] <= 1.0 + 1e-9
    gaps = [later - earlier for earlier, later in pairwise(after)]
    assert min(gaps) >= 1 / RATE - bucket.tolerance - 1e-9


async def test_a_loop_slightly_late_at_every_wake_up_still_gets_the_rate_asked() -> None:
    clock = VirtualClock(lateness=0.002)  # 2 ms late each time, under the bucket's tolerance
    bucket = TokenBucket(RATE, clock)
    times = await grants(bucket, clock, count=5 * RATE)
    assert busiest_second(times) <= RATE
    assert (len(times) - 1) / (times[-1] - times[0]) >= RATE * 0.99


async def test_replies_charged_meanwhile_count_in_the_same_windows() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(RATE, clock)
    charged: list[float] = []

    async def replies() -> None:
        for _ in range(RATE):
            bucket.charge()
            charged.append(clock.now().timestamp())
            await clock.sleep(0.05)

    sent, _ = await asyncio.gather(grants(bucket, clock, count=4 * RATE), replies())
    assert busiest_second(sent + charged) <= RATE + 1  # a reply goes at once, over by one at most

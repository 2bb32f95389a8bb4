"""Rate limits of our own, on the dispatcher's clock: overall, per chat, and channel pauses.

PTB's limiter has no per-chat limit and Twilio's client none at all; one small token bucket
per channel keeps us under the platform's ceiling, so 429s are the exception, not the rule.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from contextlib import suppress

from bot.outbox.dispatcher.clock import Clock

WINDOW = 1.0  # seconds: no window this long sees more requests than the rate


class TokenBucket:
    """At most `rate` requests a second, evenly spaced, and never more than `rate` in any
    one-second window, whatever happened before; `acquire` waits for the next free slot.

    The slots are counted from the moments requests actually went, not promised ahead: the
    callers queue (first come, first served), and only the first in line sleeps, until the
    next request is due (`_tat`, one interval after the last one's due time). Promised slots
    were the trouble: when the event loop stalled (a slow write, a busy machine), every
    caller whose slot passed meanwhile went the moment it woke, on top of those whose slots
    came next — a burst that a platform policing its rate answers with 429s. Now a stall's
    time is lost, not made up (no credit is kept beyond `tolerance`), and a log of the last
    `rate` requests' times keeps every one-second window within the rate even then (replies
    `charge`d without waiting included). The tolerance absorbs the loop's small lateness in
    waking the first in line, so that the rate asked is the rate achieved on a busy loop: a
    request late by less than `tolerance` does not move the next one's due time.
    """

    def __init__(self, rate: float, clock: Clock, *, tolerance: float = 0.005) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1 / rate
        self.tolerance = max(tolerance, 0.0)
        self._clock = clock
        self._tat = -math.inf  # when the next request is due (GCRA's theoretical arrival)
        # The last requests' times: the oldest of `rate` of them must be a second old.
        self._recent: deque[float] = deque(maxlen=max(int(rate), 1))
        self._queue: deque[asyncio.Future[None]] = deque()

    def wait_time(self, now: float | None = None) -> float:
        """Seconds until one more request keeps both limits (0: it may go now), in whole
        microseconds rounded up, as the clocks keep time: a sleep never falls short of it."""
        now = self._clock.now().timestamp() if now is None else now
        wait = self._tat - now
        if len(self._recent) == self._recent.maxlen:
            wait = max(wait, self._recent[0] + WINDOW - now)
        return math.ceil(wait * 1e6) / 1e6 if wait > 1e-9 else 0.0

    def charge(self) -> None:
        """Count a request that went without waiting (a reply to a person): the next ones
        wait one slot more, so that the overall rate stays the one asked."""
        self._take(self._clock.now().timestamp())

    async def acquire(self) -> None:
        """Wait for a free slot, after every caller that came first."""
        if not self._queue and self.wait_time() <= 0:
            self._take(self._clock.now().timestamp())
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            if self._queue[0] is not turn:
                await turn  # set by the caller before this one, once it has gone
            while (wait := self.wait_time()) > 0:
                await self._clock.sleep(wait)
            self._take(self._clock.now().timestamp())
        finally:
            self._leave(turn)

    def _take(self, now: float) -> None:
        """A request goes at `now`: the next is due one interval after this one's due time
        when it went at most `tolerance` late (the loop woke it a little late), else one
        interval after `now` (after an idle spell or a stall: that time is lost)."""
        late = now - self._tat
        self._tat = (self._tat if late <= self.tolerance else now) + self.interval
        self._recent.append(now)

    def _leave(self, turn: asyncio.Future[None]) -> None:
        """`turn` leaves the queue (gone, or cancelled); the next in line is told."""
        head = bool(self._queue) and self._queue[0] is turn
        with suppress(ValueError):
            self._queue.remove(turn)
        if head and self._queue and not self._queue[0].done():
            self._queue[0].set_result(None)


class PerChatLimit:
    """At most `rate` messages a second to one chat; remembers only recent chats."""

    def __init__(self, rate: float, clock: Clock, *, keep: int = 10_000) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self._clock = clock
        self._next: dict[str, float] = {}
        self._keep = keep

    async def wait(self, chat: str) -> None:
        if not self.interval:
            return
        now = self._clock.now().timestamp()
        allowed = self._next.get(chat, now)
        self._next[chat] = max(now, allowed) + self.interval
        if allowed > now:
            await self._clock.sleep(allowed - now)
        if len(self._next) > self._keep:
            self._next = {key: value for key, value in self._next.items() if value > now}


class ChannelPause:
    """A pause asked by the platform (429): every worker of the channel waits it out."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.until = 0.0
        self.count = 0

    def pause(self, seconds: float) -> None:
        self.until = max(self.until, self._clock.now().timestamp() + seconds)
        self.count += 1

    async def wait(self) -> None:
        while (left := self.until - self._clock.now().timestamp()) > 0:
            await self._clock.sleep(left)

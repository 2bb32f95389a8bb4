"""Rate limits of our own, on the dispatcher's clock: overall, per chat, and channel pauses.

PTB's limiter has no per-chat limit and Twilio's client none at all; one small token bucket
per channel keeps us under the platform's ceiling, so 429s are the exception, not the rule.
"""

from __future__ import annotations

import asyncio

from bot.dispatcher.clock import Clock


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `acquire` waits for one."""

    def __init__(self, rate: float, clock: Clock, *, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock.now().timestamp()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock.now().timestamp()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._clock.sleep((1 - self._tokens) / self.rate)


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

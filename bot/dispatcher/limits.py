"""Rate limits of our own, on the dispatcher's clock: overall, per chat, and channel pauses.

PTB's limiter has no per-chat limit and Twilio's client none at all; one small token bucket
per channel keeps us under the platform's ceiling, so 429s are the exception, not the rule.
"""

from __future__ import annotations

from bot.dispatcher.clock import Clock

MAX_TRADES = 3


class TokenBucket:
    """`rate` requests a second, evenly spaced; `acquire` waits for the next free slot.

    Each caller reserves the slot after the last one reserved (GCRA), so a late wake-up
    does not cost the next caller its slot: the rate asked is the rate achieved, without
    bursts above it (a platform that polices "30 a second" sees 30, not 33). `burst` lets
    that many requests go at once after an idle spell (default 1: none).

    A caller woken more than `slack` seconds after its slot trades it for the next free one
    (up to `MAX_TRADES` times): when the event loop stalls (a slow write, the machine busy
    elsewhere), every caller whose slot passed meanwhile would otherwise go at once, a burst
    that a platform policing its rate answers with 429s, each costing a pause. (Measured with
    tests/bench/broadcast.py --channel whatsapp at 400 msg/s on a busy 2-core machine:
    350-387/s with 2-18 429s before, 394-396/s and none after.) Not without end: on a
    loop that is always late, trading again and again would send nothing at all.
    """

    def __init__(self, rate: float, clock: Clock, *, burst: float = 1.0,
                 slack: float = 0.005) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.interval = 1 / rate
        self.burst = max(burst, 1.0)
        self.slack = slack
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Reserve the next slot; seconds to wait until it."""
        now = self._clock.now().timestamp()
        slot = max(self._next, now - (self.burst - 1) * self.interval)
        self._next = slot + self.interval
        return max(slot - now, 0.0)

    async def acquire(self) -> None:
        for trades_left in range(MAX_TRADES, -1, -1):
            wait = self.reserve()
            if wait <= 0:
                return
            due = self._clock.now().timestamp() + wait
            await self._clock.sleep(wait)
            if not trades_left or self._clock.now().timestamp() - due <= self.slack:
                return

    def charge(self) -> None:
        """Count a request that went without waiting (a reply to a person): the slots reserved
        after it move back by one, so the overall rate stays the one asked."""
        self.reserve()


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

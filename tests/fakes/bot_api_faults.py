"""What the fake Bot API does to `sendMessage` besides answering it: latency, 5xx, hangs,
429 bursts, and Telegram's rate limits (overall and per chat) enforced with 429s.

A 429 comes out of the blue either as a share of the requests (`error_429`) or about
`burst_every` seconds after the last pause ended, whatever the traffic (drawn from an
exponential distribution): the latter is a flood wait as a broadcast meets it, the same
however fast the bot sends. Either way every request during the pause it asks for gets a
429 too: a burst of them.

All of it is off by default, so the fake answers as before. Rates are policed with GCRA (a
request is refused when it comes earlier than its theoretical time minus `jitter`), which
is "at most `rate` a second" with a little tolerance for the network's jitter. A 429 asks
for `retry_after` seconds, and every request that arrives before they elapse is refused
again and remembered: the tests check that the bot honours the pause.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to each answer (after the message is recorded)
    error_5xx: float = 0.0  # share of requests answered 502, nothing recorded
    hang: float = 0.0  # share of requests held `hang_seconds` then dropped, nothing recorded
    hang_seconds: float = 2.0
    error_429: float = 0.0  # share of requests answered 429 (flood control), out of the blue
    retry_after: float = 1.0  # what a 429 asks for (Telegram sends whole seconds)
    rate: float | None = None  # messages a second, all chats together
    per_chat: float | None = None  # messages a second to one chat
    jitter: float = 0.02  # seconds of tolerance in both rate checks
    seed: int = 4
    burst_every: float = 0.0  # mean seconds from a pause's end to the next 429 (0: none)


class Refusal(Exception):
    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Conditions:
    """The state behind `Faults`: rate counters, the current pause, the 429s handed out."""

    faults: Faults = field(default_factory=Faults)
    throttled: list[tuple[float, float]] = field(default_factory=list)  # (at, retry_after)
    scripted: dict[str, list[Refusal]] = field(default_factory=dict)  # chat → next answers
    during_pause: list[float] = field(default_factory=list)  # arrivals inside a pause

    def __post_init__(self) -> None:
        self._random = random.Random(self.faults.seed)
        self._overall = 0.0
        self._chats: dict[str, float] = {}
        self._paused_until = 0.0
        self._bursts = random.Random(self.faults.seed + 2)  # its own: the shares' draws stay
        self._next_burst: float | None = None
        self.bursts = 0  # pauses started by `burst_every`

    async def admit(self, chat_id: str, at: float) -> None:
        """Raise `Refusal` for what Telegram would refuse; hangs as asked."""
        faults = self.faults
        if self.scripted.get(chat_id):
            raise self.scripted[chat_id].pop(0)
        if at < self._paused_until:
            self.during_pause.append(at)
            raise Refusal(429, "Too Many Requests: retry later", self._paused_until - at)
        if faults.burst_every > 0:
            if self._next_burst is None:
                self._next_burst = at + self._bursts.expovariate(1 / faults.burst_every)
            if at >= self._next_burst:
                self.bursts += 1
                refusal = self._throttle(at)  # the next one counts from the pause's end
                self._next_burst = self._paused_until + self._bursts.expovariate(
                    1 / faults.burst_every
                )
                raise refusal
        draw = self._random.random()
        if draw < faults.hang:
            await asyncio.sleep(faults.hang_seconds)
            raise Refusal(504, "Gateway Timeout")
        draw -= faults.hang
        if draw < faults.error_5xx:
            raise Refusal(502, "Bad Gateway")
        draw -= faults.error_5xx
        if draw < faults.error_429:
            raise self._throttle(at)
        if faults.rate is not None and not self._conforms_overall(at, faults.rate):
            raise self._throttle(at)
        if faults.per_chat is not None and not self._conforms_chat(chat_id, at, faults.per_chat):
            raise self._throttle(at)

    async def answered(self) -> None:
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)

    def violations(self, grace: float = 0.05) -> list[float]:
        """Arrivals inside a pause, beyond `grace` after its 429 (those were on their way)."""
        return [
            at
            for at in self.during_pause
            if not any(start <= at <= start + grace for start, _ in self.throttled)
        ]

    def _throttle(self, at: float) -> Refusal:
        seconds = self.faults.retry_after
        self._paused_until = at + seconds
        self.throttled.append((at, seconds))
        return Refusal(429, f"Too Many Requests: retry after {seconds:g}", seconds)

    def _conforms_overall(self, at: float, rate: float) -> bool:
        allowed, self._overall = _gcra(self._overall, at, rate, self.faults.jitter)
        return allowed

    def _conforms_chat(self, chat_id: str, at: float, rate: float) -> bool:
        allowed, self._chats[chat_id] = _gcra(
            self._chats.get(chat_id, 0.0), at, rate, self.faults.jitter
        )
        return allowed


def _gcra(theoretical: float, at: float, rate: float, tolerance: float) -> tuple[bool, float]:
    """(conforms, the new theoretical arrival time) for one arrival at `at`."""
    if theoretical - tolerance > at:
        return False, theoretical
    return True, max(theoretical, at) + 1 / rate


def now() -> float:
    return time.monotonic()

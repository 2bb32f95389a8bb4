"""WhatsApp's part of the soak (`soak.py --channel whatsapp`): the broadcast benchmark's
channel module (`BENCH`), the chatters' numbers, and the fake Twilio in a process of its own
(`serve`): the benchmark's (`channel_whatsapp.BenchTwilio`, which polices the rate with
429 / 20429 and counts the messages per recipient) with, on the announcement's messages,
the faults of `tests.fakes.bot_api_faults` as Twilio words them (5xx as 500 / 20500, hangs
past the bot's timeout, 429 bursts as 429 / 20429), and many people chatting (signed POSTs
to the bot's /whatsapp/inbound, in turn). Same commands and summary as `soak_telegram`.

A chatter's message is acknowledged by the bot at once and handled after: one acknowledged
and not answered when the bot is killed is counted as dropped by the kill (Twilio does not
send it again); one posted while the bot is down, as unreached (Twilio does not retry an
inbound webhook either).
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import re
import resource
from array import array
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from tests.bench import channel_whatsapp
from tests.bench.broadcast import answer
from tests.bench.channel_whatsapp import (
    FIRST_NUMBER,
    PERSON_ADDRESS,
    BenchTwilio,
    free_port,
)
from tests.fakes.bot_api_faults import Conditions, Faults
from tests.fakes.bot_api_faults import Refusal as Fault
from tests.fakes.twilio_api import Recorded, Refusal

BENCH = channel_whatsapp
_PING = re.compile(r"/ping(\d+)")
_TWILIO_CODES = {429: 20429, 502: 20500, 504: 20504}
_LOSE_ANSWER: contextvars.ContextVar[bool] = contextvars.ContextVar("lose_answer", default=False)


def chatter_addresses(count: int) -> list[str]:
    """The chatters' numbers (E.164), the benchmark's person first."""
    return [PERSON_ADDRESS] + [f"+2126{20_000_000 + number}" for number in range(1, count)]


def config_section(urls: dict[str, str], args: Any) -> str:
    """The benchmark's sections, with Twilio's request timeout the soak's."""
    return BENCH.config_section(urls, args.rate).replace(
        "[whatsapp]\n", f"[whatsapp]\ntimeout_seconds = {args.request_timeout:g}\n", 1
    )


class SoakTwilio(BenchTwilio):
    def __init__(
        self,
        recipients: int,
        faults: Faults,
        *,
        rate: float,
        latency: float,
        tolerance: float,
        chatters: int,
        lost_answers: float = 0.0,
    ) -> None:
        self.people = {f"whatsapp:{number}": number for number in chatter_addresses(chatters)}
        self._numbers = list(self.people.values())
        self.conditions = Conditions(faults)
        self.attempts = array("I", bytes(4 * recipients))  # requests per recipient
        self.refused: Counter[int] = Counter()
        self.lost_answers, self.answers_lost = lost_answers, 0
        self._losing = random.Random(faults.seed + 1)
        self.reply_counts: Counter[int] = Counter()
        self.acknowledged: set[int] = set()  # pings the bot answered 2xx to
        self.dropped_by_kills: set[int] = set()
        self.unreached: set[int] = set()  # pings posted while the bot was down
        super().__init__(recipients, rate=rate, latency=latency, tolerance=tolerance)

    async def admit(self, recorded: Recorded) -> Refusal | None:
        to = recorded.field("To") or ""
        if to in self.people:  # a reply to a chatter: neither faults nor policing
            match = _PING.search(recorded.field("Body") or "")
            if match:
                with self._lock:
                    self.reply_counts[int(match[1])] += 1
                    self.replies.setdefault(int(match[1]), recorded.at)
            return None
        index = int(to[-8:]) - FIRST_NUMBER if to[-8:].isdigit() else -1
        if 0 <= index < self.recipients:
            self.attempts[index] += 1
        try:
            await self.conditions.admit(to, recorded.at)
        except Fault as fault:
            self.refused[fault.code] += 1
            return Refusal(fault.code, _TWILIO_CODES.get(fault.code, 20500), fault.description)
        refused = await super().admit(recorded)
        if refused is not None:
            self.refused[refused.status] += 1
        elif self.lost_answers and self._losing.random() < self.lost_answers:
            _LOSE_ANSWER.set(True)
        return refused

    async def answered(self, recorded: Recorded) -> None:
        if _LOSE_ANSWER.get():  # answered after the bot has given up waiting
            self.answers_lost += 1
            await asyncio.sleep(self.conditions.faults.hang_seconds)
        await super().answered(recorded)

    # --- the chatters -----------------------------------------------------------------------

    def _sender(self, number: int) -> str:
        """The chatters write in turn."""
        return self._numbers[number % len(self._numbers)]

    def _posted(self, number: int, status: int) -> None:
        with self._lock:
            if 200 <= status < 300:
                self.acknowledged.add(number)
            elif not status:  # the bot is down: this ping goes unanswered
                self.unreached.add(number)

    def killed(self) -> int:
        """The bot was just killed: the pings it acknowledged and had not answered."""
        with self._lock:
            gone = self.acknowledged - self.replies.keys() - self.dropped_by_kills
            self.dropped_by_kills |= gone
            return len(gone)

    # --- what the soak reads ----------------------------------------------------------------

    def provoked_429(self) -> int:
        return self.refused[429]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {
                "received": self.received.tobytes(),
                "requests": self.attempts.tobytes(),
                "refused": dict(self.refused),
                "pauses": len(self.conditions.throttled) + self.police.pauses,
                "bursts": self.conditions.bursts,
                "answers_lost": self.answers_lost,
                "pings": dict(self.pings),
                "replies": dict(self.replies),
                "dropped_by_kills": len(self.dropped_by_kills - self.replies.keys()),
                "unreached": len(self.unreached - self.replies.keys()),
                "replied_twice": sum(1 for count in self.reply_counts.values() if count > 1),
                "fake_cpu_s": usage.ru_utime + usage.ru_stime,
            }


def serve(
    connection: Connection,
    *,
    recipients: int,
    rate: float,
    latency: float,
    tolerance: float,
    chatters: int,
    faults: dict[str, float],
    lost_answers: float,
    **_: Any,
) -> None:
    """The fake's process, driven by `broadcast.FakePlatform` (commands: "chat",
    "progress", "killed", "summary", "stop"). `faults`: `Faults` fields besides the rate,
    which the benchmark's fake polices."""
    api = SoakTwilio(
        recipients,
        Faults(**faults),
        rate=rate,
        latency=latency,
        tolerance=tolerance,
        chatters=chatters,
        lost_answers=lost_answers,
    )
    api.start()
    api.web_port = free_port()
    answer(
        connection,
        api,
        {"api_base_url": api.base_url, "web_port": str(api.web_port)},
        queries=("progress", "killed", "summary"),
    )

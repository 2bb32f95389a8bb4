"""Telegram's part of the soak (`soak.py`): the broadcast benchmark's channel module
(`BENCH`: addresses, config, credentials), the chatters' addresses, and the fake Bot API
in a process of its own (`serve`): the benchmark's (`channel_telegram.BenchBotAPI`) with
faults on the announcement's messages and many people chatting.

What it adds to the benchmark's fake, and why:
- faults (`tests.fakes.bot_api_faults.Faults`): 5xx, hangs longer than the bot's request
  timeout, 429s out of the blue every few seconds that start a pause (every request during
  it gets a 429 too: a burst), on top of the overall rate policed with 429s. None of them
  records the message, as Telegram would not have delivered it: a retry is no duplicate;
- optionally, answers lost after the message was recorded (`lost_answers`): the one fault
  a retry turns into a duplicate; off by default, see `soak.py --lost-answers`;
- per recipient: the requests made (retries = requests beyond the first) besides the
  messages received, and the refusals by status code;
- `chatters` people writing to the bot in turn (`/pingN`, N unique), exempt from faults and
  policing: their replies go through PTB, not through the outbox. Each reply is matched to
  its ping, so replies missing or sent twice (an update redelivered after a kill) show, and
  so do the pings a killed bot had taken (getUpdates confirmed them) but not answered.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import re
import resource
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tests.bench import channel_telegram
from tests.bench.broadcast import answer
from tests.bench.channel_telegram import FIRST_CHAT, PERSON, BenchBotAPI
from tests.fakes.bot_api import FakeBotAPI, User
from tests.fakes.bot_api_faults import Conditions, Faults, Refusal

# Whether the answer to the request being handled is to be lost (set in `admit`, read in
# `answered`: both run in the same request's task, hence the same context).
_LOSE_ANSWER: contextvars.ContextVar[bool] = contextvars.ContextVar("lose_answer", default=False)
_PING = re.compile(r"/ping(\d+)")


BENCH = channel_telegram


def people(count: int) -> list[User]:
    """The people chatting: the benchmark's person first, then neighbouring ids."""
    return [User(PERSON.id + number, f"Chatty{number}") for number in range(count)]


def chatter_addresses(count: int) -> list[str]:
    """The chatters' identity addresses (chat ids), the benchmark's person first."""
    return [str(user.id) for user in people(count)]


def config_section(urls: dict[str, str], args: Any) -> str:
    """The benchmark's section; the request timeout is `[dispatcher] request_timeout`."""
    return BENCH.config_section(urls, args.rate)


@dataclass
class SoakConditions(Conditions):
    """`Conditions` counting what it does to the recipients' requests, the chatters left
    alone."""

    exempt: frozenset[str] = frozenset()
    recipients: int = 0
    lost_answers: float = 0.0  # share of admitted requests whose answer never comes
    refused: Counter[int] = field(default_factory=Counter)  # status code → refusals

    def __post_init__(self) -> None:
        super().__post_init__()
        self.requests = array("I", bytes(4 * self.recipients))  # requests per recipient
        self.answers_lost = 0
        self._losing = random.Random(self.faults.seed + 1)

    async def admit(self, chat_id: str, at: float) -> None:
        if chat_id in self.exempt:
            return
        index = int(chat_id) - FIRST_CHAT
        if 0 <= index < self.recipients:
            self.requests[index] += 1
        try:
            await super().admit(chat_id, at)
        except Refusal as refusal:
            self.refused[refusal.code] += 1
            raise
        if self.lost_answers and self._losing.random() < self.lost_answers:
            _LOSE_ANSWER.set(True)

    async def answered(self) -> None:
        if _LOSE_ANSWER.get():  # answered after the bot has given up waiting
            self.answers_lost += 1
            await asyncio.sleep(self.faults.hang_seconds)
        await super().answered()


class SoakBotAPI(BenchBotAPI):
    def __init__(
        self, recipients: int, faults: Faults, *, chatters: int, lost_answers: float = 0.0
    ) -> None:
        self.people = {user.id: user for user in people(chatters)}
        self._lost_answers = lost_answers
        super().__init__(recipients, faults)

    def reset(self) -> None:
        super().reset()
        self.conditions = SoakConditions(
            self._faults,
            exempt=frozenset(map(str, self.people)),
            recipients=self.recipients,
            lost_answers=self._lost_answers,
        )
        for user_id in self.people:
            self.chats[user_id] = {}
        self.reply_counts: Counter[int] = Counter()  # ping number → replies read
        self.ping_updates: dict[int, int] = {}  # ping number → its update's id
        self.dropped_by_kills: set[int] = set()  # pings a killed bot took and never answered

    async def _endpoint(self, request: Request) -> JSONResponse | Response:
        try:
            return await super()._endpoint(request)
        except ClientDisconnect:  # the bot was killed while sending its request
            return Response(status_code=499)

    def _api_sendmessage(self, params: dict[str, Any], files: dict[str, Any]) -> dict:
        chat_id = int(params["chat_id"])
        if chat_id not in self.people:
            return super()._api_sendmessage(params, files)
        message = FakeBotAPI._api_sendmessage(self, params, files)
        self.chats[chat_id].pop(message["message_id"], None)
        match = _PING.search(message.get("text", ""))
        if match:
            number = int(match[1])
            self.reply_counts[number] += 1
            self.replies.setdefault(number, time.monotonic())
        return message

    def _write(self, interval: float, stop: threading.Event) -> None:
        """The chatters write in turn, one message every `interval` seconds overall."""
        users = list(self.people.values())
        number, due = len(self.pings), time.monotonic()
        while not stop.is_set():
            number += 1
            with self._lock:
                self.pings[number] = time.monotonic()
            update_id = self.text(users[number % len(users)], f"/ping{number}")
            with self._lock:
                self.ping_updates[number] = update_id
            due += interval
            stop.wait(max(due - time.monotonic(), 0.0))

    def killed(self) -> int:
        """The bot was just killed: the pings it had confirmed (getUpdates moved past them)
        and not answered are gone with it, as Telegram will not deliver them again."""
        with self._lock:
            gone = {
                number
                for number, update_id in self.ping_updates.items()
                if update_id < self.offset
                and number not in self.replies
                and number not in self.dropped_by_kills
            }
            self.dropped_by_kills |= gone
            return len(gone)

    def provoked_429(self) -> int:
        return self.conditions.refused[429]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            conditions = self.conditions
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {
                "received": self.received.tobytes(),
                "requests": conditions.requests.tobytes(),
                "refused": dict(conditions.refused),
                "pauses": len(conditions.throttled),
                "bursts": conditions.bursts,
                "throttled_at": [at for at, _ in conditions.throttled],
                "answers_lost": conditions.answers_lost,
                "pings": dict(self.pings),
                "replies": dict(self.replies),
                "dropped_by_kills": len(self.dropped_by_kills - self.replies.keys()),
                "unreached": 0,  # Telegram keeps the updates until the bot is back
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
    """The fake's process, driven by `broadcast.FakePlatform` (its commands: "chat",
    "progress", "summary", "stop"). `faults`: `Faults` fields besides the rate."""
    api = SoakBotAPI(
        recipients,
        Faults(latency=latency, rate=rate, jitter=tolerance, **faults),
        chatters=chatters,
        lost_answers=lost_answers,
    )
    api.start()
    answer(
        connection,
        api,
        {"base_url": api.base_url, "base_file_url": api.base_file_url},
        queries=("progress", "killed", "summary"),
    )

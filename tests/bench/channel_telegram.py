"""Telegram's part of the broadcast benchmark: everything `broadcast.py` needs to know about
the channel lives here, behind a few names (`NAME`, `READY`, `address`, `PERSON_ADDRESS`,
`config_section`, `environment`, `serve`); `channel_whatsapp.py` offers the same names, and
`broadcast.py --channel` chooses.

`serve` runs in a process of its own (so that its CPU is not the bot's): the tests' fake
Bot API (`tests.fakes.bot_api`), with `tests.fakes.bot_api_faults` adding the latency and
policing the overall rate with 429s, plus what a benchmark needs and a test does not:
- memory stays flat for 100,000 recipients: calls and messages are counted, not kept;
- one person chats with the bot during the broadcast (`/pingN` every ~100 ms, queued for
  getUpdates); the bot answers "Unknown command /pingN", so each reply names its message and
  its latency is measured exactly (update queued → reply's sendMessage read by the fake);
- that person's replies are not policed unless asked (`--police-replies`): the rate asked
  is the outbox's, and the conversation does not go through the outbox's limiter.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from array import array
from multiprocessing.connection import Connection
from typing import Any

from tests.bench.broadcast import Measured, answer
from tests.fakes.bot_api import TOKEN, FakeBotAPI, User
from tests.fakes.bot_api_faults import Conditions, Faults, Refusal

NAME = "telegram"
READY = "outbox started"  # in the bot's log: the person may write
FIRST_CHAT = 10_000_000
PERSON = User(9_000_001, "Chatty")
PERSON_ADDRESS = str(PERSON.id)
_PING = re.compile(r"/ping(\d+)")


def address(number: int) -> str:
    """The identity address (chat id) of recipient `number` (0-based)."""
    return str(FIRST_CHAT + number)


def config_section(urls: dict[str, str], rate: float) -> str:
    """The config file's channel section: the fake as the platform, the outbox's rate; and
    the web app (`/healthz`, `/metrics`, always served) on a free port, not 8080."""
    return (
        f'[telegram]\nbase_url = "{urls["base_url"]}"\n'
        f'base_file_url = "{urls["base_file_url"]}"\n'
        f"rate_limit_per_second = {rate:g}\n\n"
        f'[web]\nhost = "127.0.0.1"\nport = {free_port()}\n'
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment() -> dict[str, str]:
    """The credentials `formabot run` needs for this channel."""
    return {"FORMABOT_TELEGRAM_TOKEN": TOKEN}


class _Unkept(list):  # type: ignore[type-arg]
    """The fake's call log, not kept: 100,000 recorded calls would be the fake's memory."""

    def append(self, _: object) -> None:
        pass


class _Policed(Conditions):
    """The faults' rate policing, with 429s counted and the chatting person left out."""

    exempt: frozenset[str] = frozenset()
    refused_429 = 0

    async def admit(self, chat_id: str, at: float) -> None:
        if chat_id in self.exempt:
            return
        try:
            await super().admit(chat_id, at)
        except Refusal as refusal:
            if refusal.code == 429:
                self.refused_429 += 1
            raise


class BenchBotAPI(Measured, FakeBotAPI):
    def __init__(self, recipients: int, faults: Faults, *, police_replies: bool = False) -> None:
        self.recipients = recipients
        self._faults = faults
        self._police_replies = police_replies
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.calls = _Unkept()
        self.conditions = _Policed(self._faults)
        if not self._police_replies:
            self.conditions.exempt = frozenset({PERSON_ADDRESS})
        self.chats = {FIRST_CHAT + n: {} for n in range(self.recipients)}
        self.chats[PERSON.id] = {}
        self.received = array("I", bytes(4 * self.recipients))  # messages per recipient
        self.delivered_at = array("d")  # when each announcement message was read
        self.pings: dict[int, float] = {}  # ping number → when it was queued
        self.replies: dict[int, float] = {}  # ping number → when its reply was read
        self._chatting: threading.Event | None = None

    def _api_sendmessage(self, params: dict[str, Any], files: dict[str, Any]) -> dict:
        message = super()._api_sendmessage(params, files)  # Telegram's checks (HTML, length…)
        now = time.monotonic()
        chat_id = message["chat"]["id"]
        self.chats[chat_id].pop(message["message_id"], None)
        if chat_id == PERSON.id:
            match = _PING.search(message.get("text", ""))
            if match and int(match[1]) not in self.replies:
                self.replies[int(match[1])] = now
        else:
            self.received[chat_id - FIRST_CHAT] += 1
            self.delivered_at.append(now)
        return message

    # --- the person chatting, and what the benchmark reads (`Measured`) ---------------------

    def _write(self, interval: float, stop: threading.Event) -> None:
        number, due = 0, time.monotonic()
        while not stop.is_set():
            number += 1
            with self._lock:
                self.pings[number] = time.monotonic()
            self.text(PERSON, f"/ping{number}")
            due += interval
            stop.wait(max(due - time.monotonic(), 0.0))

    def provoked_429(self) -> int:
        return self.conditions.refused_429

    def pauses_asked(self) -> int:
        return len(self.conditions.throttled)


def serve(
    connection: Connection,
    *,
    recipients: int,
    rate: float,
    latency: float,
    tolerance: float,
    police_replies: bool,
) -> None:
    """The fake's process: answers the benchmark's commands on `connection` until "stop"
    (or until the benchmark goes away). Times in seconds."""
    api = BenchBotAPI(
        recipients,
        Faults(latency=latency, rate=rate, jitter=tolerance),
        police_replies=police_replies,
    )
    api.start()
    answer(connection, api, {"base_url": api.base_url, "base_file_url": api.base_file_url})

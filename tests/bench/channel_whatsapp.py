"""WhatsApp's part of the broadcast benchmark, behind the same names as Telegram's
(`NAME`, `READY`, `address`, `PERSON_ADDRESS`, `config_section`, `environment`, `serve`).

`serve` runs in a process of its own (so that its CPU is not the bot's): the tests' fake
Twilio (`tests.fakes.twilio_api`), policing the rate of the announcement's messages as
Twilio does (HTTP 429, error 20429, which formabot's `classify` turns into a pause) and
answering each accepted message `latency` late, plus what a benchmark needs and a test
does not:
- memory stays flat for 100,000 recipients: messages are counted, not kept;
- one person chats with the bot during the broadcast: every ~100 ms a signed POST to the
  bot's `/whatsapp/inbound` (signed as Twilio signs, over `public_url` + path, with the
  auth token), "/pingN"; the bot answers "Unknown command /pingN", so each reply names its
  message and its latency is measured exactly (POST sent → reply's Messages.json read by
  the fake);
- that person's replies are not policed unless asked (`--police-replies`): the rate asked
  is the outbox's, and the conversation does not go through the outbox's limiter.

The recipients are inside WhatsApp's 24-hour window (`broadcast.seed` stamps their last
message to us), so the announcement goes as free text, as most announcements do.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import re
import socket
import threading
import time
from array import array
from multiprocessing.connection import Connection
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.bench.broadcast import Measured, answer
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio, Recorded, Refusal

NAME = "whatsapp"
READY = "web app served on"  # the webhooks are up: the person may write
PUBLIC_URL = "https://bot.example.org"
INBOUND_PATH = "/whatsapp/inbound"
FIRST_NUMBER = 10_000_000  # recipient n is +2127 followed by FIRST_NUMBER + n
PERSON_ADDRESS = "+212612345678"
RATE_REFUSAL = Refusal(429, 20429, "Too Many Requests")
PAUSE_SECONDS = 1.0  # what formabot waits after a 429 (messages.RATE_PAUSE_SECONDS)
_PING = re.compile(r"/ping(\d+)")
_RECIPIENT = re.compile(r"whatsapp:\+2127(\d{8})")


def address(number: int) -> str:
    """The identity address (E.164) of recipient `number` (0-based)."""
    return f"+2127{FIRST_NUMBER + number}"


def config_section(urls: dict[str, str], rate: float) -> str:
    """The config file's channel sections: the fake as Twilio, the outbox's rate, and the
    web app (its webhooks) on the port the fake's person writes to."""
    return (
        f'[whatsapp]\napi_base_url = "{urls["api_base_url"]}"\nfrom = "{SENDER}"\n'
        f'public_url = "{PUBLIC_URL}"\nrate_limit_per_second = {rate:g}\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {urls["web_port"]}\n'
    )


def environment() -> dict[str, str]:
    """The credentials `formabot run` needs for this channel."""
    return {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _RatePolice:
    """Twilio's rate for one sender, with GCRA: a message arriving earlier than its
    theoretical time minus `tolerance` is refused (429, 20429). Twilio names no pause; the
    429s that came a pause's length after the previous counted one are counted apart
    (`pauses`), as the pauses they ask of formabot."""

    def __init__(self, rate: float, tolerance: float) -> None:
        self.interval = 1 / rate
        self.tolerance = tolerance
        self._theoretical = 0.0
        self.refused = 0
        self.pauses = 0
        self._last_pause = -PAUSE_SECONDS

    def admit(self, at: float) -> bool:
        if self._theoretical - self.tolerance > at:
            self.refused += 1
            if at - self._last_pause >= PAUSE_SECONDS:
                self.pauses += 1
                self._last_pause = at
            return False
        self._theoretical = max(self._theoretical, at) + self.interval
        return True


class BenchTwilio(Measured, FakeTwilio):
    def __init__(
        self,
        recipients: int,
        *,
        rate: float,
        latency: float,
        tolerance: float,
        police_replies: bool = False,
    ) -> None:
        self.recipients = recipients
        self.latency = latency
        self.police = _RatePolice(rate, tolerance)
        self.police_replies = police_replies
        self.received = array("I", bytes(4 * recipients))  # messages per recipient
        self.delivered_at = array("d")  # when each announcement message was read
        self.pings: dict[int, float] = {}  # ping number → when it was posted
        self.replies: dict[int, float] = {}  # ping number → when its reply was read
        self.strays = 0  # accepted messages to nobody we know
        self._chatting: threading.Event | None = None
        self.web_port = 0  # the bot's web app, where the person writes (set by `serve`)
        super().__init__()

    def record(self, recorded: Recorded) -> None:
        """Nothing kept: 100,000 recorded requests would be the fake's memory."""

    async def admit(self, recorded: Recorded) -> Refusal | None:
        to = recorded.field("To") or ""
        person = to == f"whatsapp:{PERSON_ADDRESS}"
        with self._lock:
            if (not person or self.police_replies) and not self.police.admit(recorded.at):
                return RATE_REFUSAL
            if person:
                match = _PING.search(recorded.field("Body") or "")
                if match and int(match[1]) not in self.replies:
                    self.replies[int(match[1])] = recorded.at
            elif (found := _RECIPIENT.fullmatch(to)) and (
                0 <= (number := int(found[1]) - FIRST_NUMBER) < self.recipients
            ):
                self.received[number] += 1
                self.delivered_at.append(recorded.at)
            else:
                self.strays += 1
        return None

    async def answered(self, recorded: Recorded) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)

    # --- the person chatting, and what the benchmark reads (`Measured`) ---------------------

    def _write(self, interval: float, stop: threading.Event) -> None:
        """One signed POST every `interval` seconds, from `_sender`, its outcome to `_posted`
        (the ping numbers go on from the last chat's)."""
        validator = RequestValidator(AUTH_TOKEN)
        connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
        sids = itertools.count(len(self.pings) + 1)
        number, due = len(self.pings), time.monotonic()
        try:
            while not stop.is_set():
                number += 1
                sender = self._sender(number)
                form = {
                    "MessageSid": f"SM{next(sids):032x}",
                    "AccountSid": ACCOUNT_SID,
                    "From": f"whatsapp:{sender}",
                    "To": SENDER,
                    "Body": f"/ping{number}",
                    "NumMedia": "0",
                    "ProfileName": "Chatty",
                    "WaId": sender.lstrip("+"),
                }
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": validator.compute_signature(
                        PUBLIC_URL + INBOUND_PATH, form
                    ),
                }
                with self._lock:
                    self.pings[number] = time.monotonic()
                try:
                    connection.request("POST", INBOUND_PATH, urlencode(form), headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()  # reconnects on the next request; this ping unanswered
                    status = 0
                self._posted(number, status)
                due += interval
                stop.wait(max(due - time.monotonic(), 0.0))
        finally:
            connection.close()

    def _sender(self, number: int) -> str:
        """Who writes ping `number`: the person."""
        return PERSON_ADDRESS

    def _posted(self, number: int, status: int) -> None:
        """Ping `number` was answered `status` by the bot (0: the bot was not reached)."""

    def provoked_429(self) -> int:
        return self.police.refused

    def pauses_asked(self) -> int:
        return self.police.pauses


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
    api = BenchTwilio(
        recipients, rate=rate, latency=latency, tolerance=tolerance, police_replies=police_replies
    )
    api.start()
    api.web_port = free_port()
    answer(connection, api, {"api_base_url": api.base_url, "web_port": str(api.web_port)})

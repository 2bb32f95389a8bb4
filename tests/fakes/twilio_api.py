"""A small fake of Twilio's Messages API, on 127.0.0.1, for the twilio SDK's real HTTP stack.

Served by uvicorn in a background thread, so that the SDK (on the test's event loop) talks
to it over real HTTP. It records every request — path, method, form fields (repeated ones
kept), Basic auth — and answers `POST …/Messages.json` with 201 and a Message resource shaped
like the examples in Twilio's OpenAPI description, and `GET /2010-04-01/Accounts/{Sid}.json`
with the Account resource (what `formabot doctor` fetches). It can be told to refuse (a status
and a Twilio error code, for the next requests or for one recipient) or to hang until released.
A subclass may police or delay the messages it accepts (`admit`, `answered`) and keep fewer
records (`record`): the broadcast benchmark's fake does (tests/bench/channel_whatsapp.py).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import LocalServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
SENDER = "whatsapp:+14155238886"
ACCOUNT_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    form: dict[str, list[str]]
    auth: tuple[str, str] | None
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def field(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Refusal:
    status: int
    code: int
    message: str = "refused by the fake"


class FakeTwilio(LocalServer):
    """Start with `start()`, point formabot at `base_url`, read `requests` afterwards."""

    graceful_seconds = 1

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.reset()

    # --- running -------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"])]

    def close(self) -> None:
        self.release()  # hung requests answer now
        super().close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.requests: list[Recorded] = []
            self._refusals: deque[Refusal] = deque()
            self._refusals_for: dict[str, Refusal] = {}
            self._hang = 0
            self._released = False
            # The Account resource's status ("active", "suspended", "closed") and type
            # ("Full", "Trial"), as GET Account answers them.
            self.account_status = "active"
            self.account_type = "Full"

    # --- scripting -----------------------------------------------------------------------

    def refuse_next(
        self, status: int, code: int, message: str = "refused", *, times: int = 1
    ) -> None:
        with self._lock:
            self._refusals.extend([Refusal(status, code, message)] * times)

    def refuse_for(self, to: str, status: int, code: int, message: str = "refused") -> None:
        """Refuse every message to `to` (E.164, without the `whatsapp:` prefix)."""
        with self._lock:
            self._refusals_for[to] = Refusal(status, code, message)

    def hang_next(self, times: int = 1) -> None:
        """The next requests get no answer until `release()` (or the client gives up)."""
        with self._lock:
            self._hang += times
            self._released = False

    def release(self) -> None:
        self._released = True

    # --- reading -------------------------------------------------------------------------

    @property
    def messages(self) -> list[Recorded]:
        return [
            request
            for request in self.requests
            if request.method == "POST" and request.path.endswith("/Messages.json")
        ]

    def bodies(self, to: str | None = None) -> list[str]:
        return [
            message.field("Body") or ""
            for message in self.messages
            if to is None or message.field("To") == f"whatsapp:{to}"
        ]

    # --- the endpoint --------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        raw = (await request.body()).decode()
        form: dict[str, list[str]] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            form.setdefault(name, []).append(value)
        recorded = Recorded(
            request.method, request.url.path, form, _basic(request), dict(request.headers)
        )
        with self._lock:
            self.record(recorded)
            hang = self._hang > 0
            if hang:
                self._hang -= 1
            to = (recorded.field("To") or "").removeprefix("whatsapp:")
            refusal = self._refusals_for.get(to) or (
                self._refusals.popleft() if self._refusals else None
            )
        if hang:
            while not self._released:
                await asyncio.sleep(0.005)
            return Response(status_code=503)
        if recorded.auth != (ACCOUNT_SID, AUTH_TOKEN):
            return _error(Refusal(401, 20003, "Authenticate"))
        if refusal is not None:
            return _error(refusal)
        if request.method == "GET" and request.url.path == ACCOUNT_PATH:
            return JSONResponse(self._account())
        if request.method != "POST" or not request.url.path.endswith("/Messages.json"):
            return _error(Refusal(404, 20404, "The requested resource was not found"))
        refused = await self.admit(recorded)
        if refused is not None:
            return _error(refused)
        answer = JSONResponse(self._message(recorded), status_code=201)
        await self.answered(recorded)
        return answer

    # --- for subclasses ------------------------------------------------------------------

    def record(self, recorded: Recorded) -> None:
        """Keep one request (called under the lock): all of them, here."""
        self.requests.append(recorded)

    async def admit(self, recorded: Recorded) -> Refusal | None:
        """A refusal for a message Twilio would refuse now (e.g. its rate); None: accepted."""
        return None

    async def answered(self, recorded: Recorded) -> None:
        """Called once a message is accepted, before its answer leaves (e.g. latency)."""

    def _account(self) -> dict[str, Any]:
        stamp = "Thu, 24 Aug 2023 05:01:45 +0000"
        return {
            "auth_token": AUTH_TOKEN,
            "date_created": stamp,
            "date_updated": stamp,
            "friendly_name": "Formabot test account",
            "owner_account_sid": ACCOUNT_SID,
            "sid": ACCOUNT_SID,
            "status": self.account_status,
            "type": self.account_type,
            "subresource_uris": {"messages": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"},
            "uri": ACCOUNT_PATH,
        }

    def _message(self, recorded: Recorded) -> dict[str, Any]:
        sid = f"SM{next(self._ids):032x}"
        stamp = "Thu, 24 Aug 2023 05:01:45 +0000"
        account = recorded.path.split("/")[3]
        return {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": recorded.field("Body") or "",
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": recorded.field("From"),
            "num_media": str(len(recorded.form.get("MediaUrl", []))),
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "messaging_service_sid": recorded.field("MessagingServiceSid"),
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"
            },
            "to": recorded.field("To"),
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _error(refusal: Refusal) -> Response:
    return JSONResponse(
        {
            "code": refusal.code,
            "message": refusal.message,
            "more_info": f"https://www.twilio.com/docs/errors/{refusal.code}",
            "status": refusal.status,
        },
        status_code=refusal.status,
    )

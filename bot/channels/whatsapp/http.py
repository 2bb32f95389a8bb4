"""The twilio SDK's async HTTP client, made fit for a long-running bot.

Measured with twilio 9.13 and aiohttp 3.14, `AsyncTwilioHttpClient` as shipped
- ignores its `timeout` (a hung Twilio request hangs the sender forever),
- passes `aiohttp.BasicAuth`, deprecated (a DeprecationWarning on every request),
- opens its `ClientSession` in `__init__`, outside any running loop,
- sends to whatever host the SDK computed, and the SDK rewrites it from `TWILIO_EDGE` /
  `TWILIO_REGION` in the environment.
This subclass keeps the SDK's request building and answer parsing (so what we send is what
the SDK sends) and replaces the transport: every request goes to `[whatsapp] api_base_url`
(scheme, host and any path prefix), within `timeout` seconds, with a plain Authorization
header, on one session opened lazily on the bot's loop.

That session's pool has no connection limit by default: the outbox bounds its own requests
in flight (`[dispatcher] concurrency`), and the conversation's replies share the session.
With the pool capped at 16, requests the rate limiter had spaced evenly queued for a
connection and then left in bursts (Twilio answers 429), a broadcast at 400 msg/s with 50 ms
of latency ran at ~260/s, and a person chatting meanwhile waited ~0.8 s for each reply
behind the announcement (tests/bench/broadcast.py --channel whatsapp).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

log = logging.getLogger(__name__)


class WhatsAppHttpClient(AsyncTwilioHttpClient):
    def __init__(
        self, base_url: str, *, timeout: float = 10.0, connections: int | None = None
    ) -> None:
        """`connections`: the pool's limit; None, no limit (see the module's docstring)."""
        super().__init__(pool_connections=False, timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))
        self.connections = connections
        self._client_session: aiohttp.ClientSession | None = None

    def rebase(self, url: str) -> str:
        """`url` with the configured scheme, host and path prefix: whatever host the SDK
        chose (api.twilio.com, or an edge/region host) is replaced."""
        parts = urlsplit(url)
        return urlunsplit(
            (self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, "")
        )

    async def _open(self) -> aiohttp.ClientSession:
        if self._client_session is None or self._client_session.closed:
            limit = self.connections or 0  # aiohttp: 0 is no limit
            connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
            self._client_session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        return self._client_session

    async def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """One request, bounded by `timeout` (else the client's): TimeoutError when over."""
        limit = timeout if timeout is not None else self.timeout
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        body = urlencode(_pairs(data or {})) if data else None
        session = await self._open()
        async with asyncio.timeout(limit):
            async with session.request(
                method.upper(),
                self.rebase(url),
                params=_pairs(params or {}) or None,
                data=body,
                headers=sent_headers,
                allow_redirects=allow_redirects,
            ) as response:
                text = await response.text()
        log.debug("twilio %s %s: HTTP %s", method.upper(), urlsplit(url).path, response.status)
        return Response(response.status, text, dict(response.headers))

    async def close(self) -> None:
        if self._client_session is not None:
            await self._client_session.close()
            self._client_session = None

    async def __aexit__(self, *excinfo: Any) -> None:
        await self.close()


def _pairs(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """Form fields as (name, value) pairs; a list (MediaUrl) becomes one pair per item."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, str(item)) for item in items if item is not None)
    return pairs

"""The project's one web app (Starlette on uvicorn): `/healthz`, `/metrics`, the optional
Telegram webhook, and the Twilio endpoints. Channel-neutral: a channel hands in a coroutine
that takes what was posted; health and metrics hand in what computes their answer.

The edge is open to anyone: a body is read only through `read_body`, which refuses a
declared `Content-Length` over the route's limit before reading a byte, stops reading (413)
as soon as a body without one passes it, and gives up (408) on a body that trickles in
slower than `BODY_SECONDS` — before any signature is checked, so that an unsigned request
costs at most the limit in memory and `BODY_SECONDS` of a connection. Headers are bounded
by the server (`bot.app`'s uvicorn settings).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.ops.health import Report

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's largest update is a few tens of kilobytes (4,096 characters of text or 1,024
# of caption, their entities, a reply's quoted message): 1 MiB leaves room to spare.
TELEGRAM_MAX_BYTES = 1024 * 1024
# How long a client may take to send a body once its headers arrived: Twilio and Telegram
# send a few kilobytes at once; only a client holding a connection open goes slower.
BODY_SECONDS = 10.0


class BodyRefused(Exception):
    """A request body not read: too large (413), too slow (408), or cut off (400)."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason

    def response(self) -> Response:
        text = {413: "payload too large", 408: "request timeout"}.get(self.status_code,
                                                                      "bad request")
        return PlainTextResponse(text, status_code=self.status_code,
                                 headers={"Connection": "close"})


async def read_body(request: Request, *, limit: int, seconds: float | None = None) -> bytes:
    """The body of `request`, at most `limit` bytes, read within `seconds` (by default the
    app's `read_timeout`, else `BODY_SECONDS`); `BodyRefused` otherwise. A declared
    `Content-Length` over `limit` is refused before a byte is read."""
    if seconds is None:
        seconds = float(getattr(request.app.state, "read_timeout", BODY_SECONDS))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and (
            len(declared) > 18 or int(declared) > limit):
        raise BodyRefused(413, f"declared {declared[:20]} bytes, more than {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413, f"more than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(408, f"body not received within {seconds:g} s ({size} bytes"
                               " read)") from None
    except ClientDisconnect:
        raise BodyRefused(400, f"client disconnected after {size} bytes") from None
    return b"".join(chunks)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class TelegramWebhook:
    """Where Telegram posts updates, the secret it must echo, and who takes the update."""

    path: str
    secret: str
    receive: Callable[[dict[str, Any]], Awaitable[None]]


def create_app(*, telegram: TelegramWebhook | None = None,
               routes: Sequence[BaseRoute] = (),
               health: Callable[[], Awaitable[Report]] | None = None,
               metrics: Callable[[], Awaitable[bytes]] | None = None,
               read_timeout: float = BODY_SECONDS) -> Starlette:
    """The app: `/healthz` (the `health` report, else a bare "ok"), `/metrics` when given,
    Telegram's webhook when given, and other channels' `routes`. A body must arrive within
    `read_timeout` seconds (`[web] read_timeout`)."""
    served: list[BaseRoute] = [
        Route("/healthz", _healthz(health) if health else _alive, methods=["GET"])]
    if metrics is not None:
        served.append(Route("/metrics", _metrics(metrics), methods=["GET"]))
    if telegram is not None:
        served.append(Route(telegram.path, _telegram_endpoint(telegram), methods=["POST"]))
    served.extend(routes)
    app = Starlette(routes=served)
    app.state.read_timeout = read_timeout
    return app


async def _alive(_: Request) -> Response:
    return PlainTextResponse("ok")


def _healthz(health: Callable[[], Awaitable[Report]]
             ) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        """200 and the details when healthy; 503 with the reasons when not."""
        report = await health()
        return JSONResponse(report.body, status_code=report.status_code,
                            headers={"Cache-Control": "no-store"})

    return endpoint


def _metrics(scrape: Callable[[], Awaitable[bytes]]
             ) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        """Prometheus text format."""
        return Response(await scrape(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _telegram_endpoint(webhook: TelegramWebhook) -> Callable[[Request], Awaitable[Response]]:
    expected = webhook.secret.encode()

    async def endpoint(request: Request) -> Response:
        """Only Telegram knows the secret set with setWebhook: anything else is refused."""
        given = request.headers.get(TELEGRAM_SECRET_HEADER)
        client = client_of(request)
        if given is None:
            log.warning("telegram webhook: refused a request from %s without secret token", client)
            return PlainTextResponse("forbidden", status_code=403)
        if not hmac.compare_digest(given.encode(), expected):
            log.warning("telegram webhook: refused a request from %s with a wrong secret token",
                        client)
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_body(request, limit=TELEGRAM_MAX_BYTES)
        except BodyRefused as refused:
            log.warning("telegram webhook: refused a request from %s: %s", client,
                        refused.reason)
            return refused.response()
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
            await webhook.receive(payload)
        except RecursionError:  # thousands of nested [ or {: no update nests so deep
            log.warning("telegram webhook: refused a malformed update from %s: nested too"
                        " deeply", client)
            return PlainTextResponse("bad request", status_code=400)
        except ValueError as error:
            log.warning("telegram webhook: refused a malformed update from %s: %s", client, error)
            return PlainTextResponse("bad request", status_code=400)
        return Response(status_code=200)

    return endpoint

"""The project's one web app (Starlette on uvicorn): `/healthz`, `/metrics`, the optional
Telegram webhook, and the Twilio endpoints. Channel-neutral: a channel hands in a coroutine
that takes what was posted; health and metrics hand in what computes their answer.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.health import Report

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class TelegramWebhook:
    """Where Telegram posts updates, the secret it must echo, and who takes the update."""

    path: str
    secret: str
    receive: Callable[[dict[str, Any]], Awaitable[None]]


def create_app(*, telegram: TelegramWebhook | None = None,
               routes: Sequence[BaseRoute] = (),
               health: Callable[[], Awaitable[Report]] | None = None,
               metrics: Callable[[], Awaitable[bytes]] | None = None) -> Starlette:
    """The app: `/healthz` (the `health` report, else a bare "ok"), `/metrics` when given,
    Telegram's webhook when given, and other channels' `routes`."""
    served: list[BaseRoute] = [
        Route("/healthz", _healthz(health) if health else _alive, methods=["GET"])]
    if metrics is not None:
        served.append(Route("/metrics", _metrics(metrics), methods=["GET"]))
    if telegram is not None:
        served.append(Route(telegram.path, _telegram_endpoint(telegram), methods=["POST"]))
    served.extend(routes)
    return Starlette(routes=served)


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
        client = request.client.host if request.client else "unknown"
        if given is None:
            log.warning("telegram webhook: refused a request from %s without secret token", client)
            return PlainTextResponse("forbidden", status_code=403)
        if not hmac.compare_digest(given.encode(), expected):
            log.warning("telegram webhook: refused a request from %s with a wrong secret token",
                        client)
            return PlainTextResponse("forbidden", status_code=403)
        try:
            payload = json.loads(await request.body())
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
            await webhook.receive(payload)
        except ValueError as error:
            log.warning("telegram webhook: refused a malformed update from %s: %s", client, error)
            return PlainTextResponse("bad request", status_code=400)
        return Response(status_code=200)

    return endpoint

"""Telegram's webhook route: where Telegram posts updates when `[telegram] mode = "webhook"`.
Only Telegram knows the secret set with setWebhook: a request without it is refused before
its body is read (`bot.web.edge.read_body`), and a body that is not an update gets a 400."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.edge import BodyRefused, client_of, read_body

log = logging.getLogger("bot.web")

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's largest update is a few tens of kilobytes (4,096 characters of text or 1,024
# of caption, their entities, a reply's quoted message): 1 MiB leaves room to spare.
TELEGRAM_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class TelegramWebhook:
    """Where Telegram posts updates, the secret it must echo, and who takes the update."""

    path: str
    secret: str
    receive: Callable[[dict[str, Any]], Awaitable[None]]


def telegram_routes(webhook: TelegramWebhook) -> list[BaseRoute]:
    """The one route Telegram posts to."""
    return [Route(webhook.path, _telegram_endpoint(webhook), methods=["POST"])]


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
            log.warning(
                "telegram webhook: refused a request from %s with a wrong secret token", client
            )
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_body(request, limit=TELEGRAM_MAX_BYTES)
        except BodyRefused as refused:
            log.warning("telegram webhook: refused a request from %s: %s", client, refused.reason)
            return refused.response()
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
            await webhook.receive(payload)
        except RecursionError:  # thousands of nested [ or {: no update nests so deep
            log.warning(
                "telegram webhook: refused a malformed update from %s: nested too deeply", client
            )
            return PlainTextResponse("bad request", status_code=400)
        except ValueError as error:
            log.warning("telegram webhook: refused a malformed update from %s: %s", client, error)
            return PlainTextResponse("bad request", status_code=400)
        return Response(status_code=200)

    return endpoint

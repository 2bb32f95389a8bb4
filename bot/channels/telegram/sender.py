"""The outbox's `Sender` for Telegram: one delivery becomes `sendMessage` requests to
`[telegram] base_url`, and Telegram's answer becomes a `SendResult` the dispatcher acts on.

Why not PTB's `Bot` here: its httpx stack spends 1.0-1.6 ms of CPU per request and httpcore's
pool degrades past ~32 connections, while a paid broadcast at 1,000 msg/s with 50 ms of
latency needs 50+ requests in flight. One shared aiohttp session (already installed for
Twilio's async client) with a pool sized to the dispatcher's concurrency costs ~0.2 ms a
request. Conversation replies still go through PTB; the rendering rules are shared
(`render.split_message`, `render.inline_keyboard`), so a notification looks like a reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.channels.telegram.inbound import CHANNEL
from bot.channels.telegram.render import inline_keyboard, split_message
from bot.outbox.dispatcher import SendResult
from handlers.types import Reply
from storage.deliveries import Delivery

log = logging.getLogger(__name__)

_JSON = {"Content-Type": "application/json"}
_CACHE_SIZE = 256
Pace = Callable[[str], Awaitable[None]]


class TelegramSender:
    """Open with `async with` (or `open`/`close`): the HTTP pool lives on the bot's loop."""

    channel = CHANNEL

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connections: int = 16,
        timeout: float = 10.0,
        pace: Pace | None = None,
    ) -> None:
        self._url = f"{base_url}{token}/sendMessage"
        self._connections = connections
        self._timeout = timeout
        self.pace = pace  # waits for the rate limits before a second part of a long message
        self._session: aiohttp.ClientSession | None = None
        self._parts: dict[Reply, list[dict[str, Any]] | str] = {}

    async def open(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connections, limit_per_host=self._connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout)
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> TelegramSender:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        parts = self._prepared(rendered)
        if isinstance(parts, str):
            return SendResult.failed(parts)
        first_id: str | None = None
        for number, part in enumerate(parts):
            if number:
                await (self.pace(delivery.address) if self.pace else asyncio.sleep(1.0))
            result = await self._post(delivery.address, part)
            if result.outcome != "sent":
                if number and result.outcome != "blocked":
                    # Resending would repeat the parts that arrived: stop here, say so.
                    return SendResult.failed(
                        f"only {number} of {len(parts)} parts sent; then {result.reason}"
                    )
                return result
            first_id = first_id or result.provider_message_id
        return SendResult.sent(first_id)

    def _prepared(self, reply: Reply) -> list[dict[str, Any]] | str:
        """The request bodies (without chat_id) for `reply`, computed once per message:
        a broadcast sends the same few replies to thousands of chats."""
        parts = self._parts.get(reply)
        if parts is None:
            if len(self._parts) >= _CACHE_SIZE:
                self._parts.clear()
            parts = self._parts[reply] = _bodies(reply)
        return parts

    async def _post(self, chat_id: str, part: dict[str, Any]) -> SendResult:
        if self._session is None:
            await self.open()
        assert self._session is not None
        body = json.dumps({"chat_id": chat_id, **part}, ensure_ascii=False).encode()
        try:
            async with self._session.post(self._url, data=body, headers=_JSON) as response:
                status, raw = response.status, await response.read()
        except TimeoutError:
            return SendResult.transient(f"timed out after {self._timeout:g} s")
        except (aiohttp.ClientError, OSError) as error:
            return SendResult.transient(f"network error: {type(error).__name__} {error}".strip())
        return interpret(status, raw)


def _bodies(reply: Reply) -> list[dict[str, Any]] | str:
    """HTML-escaped parts of at most 4,096 characters, the buttons on the last one; or why
    the reply cannot be sent (a button whose data is over 64 bytes)."""
    try:
        keyboard = inline_keyboard(reply.choices)
    except ValueError as error:
        return str(error)
    chunks = split_message(reply.text)
    bodies: list[dict[str, Any]] = [{"text": chunk, "parse_mode": "HTML"} for chunk in chunks]
    if not bodies:
        return "empty message"
    if keyboard is not None:
        bodies[-1]["reply_markup"] = keyboard.to_dict()
    return bodies


def interpret(status: int, raw: bytes) -> SendResult:
    """Telegram's answer as one of the outbox's outcomes."""
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        if status >= 500 or status == 429:
            return SendResult.transient(f"HTTP {status}")
        return SendResult.failed(f"HTTP {status}: not a Bot API answer")
    if answer.get("ok"):
        result = answer.get("result") or {}
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return SendResult.sent(str(message_id) if message_id is not None else None)
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") or {}
    if code == 429:
        return SendResult.rate_limited(_seconds(parameters.get("retry_after"), description))
    if code == 403:
        return SendResult.blocked(description)
    if code >= 500:
        return SendResult.transient(f"{code} {description}")
    if code in (401, 404):
        # The token or base_url is wrong for every row alike: retried, then failed, loudly.
        log.error("telegram refused the bot's credentials: %s", description)
        return SendResult.transient(f"{code} {description}")
    return SendResult.failed(description)


def _seconds(value: Any, description: str) -> float:
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        digits = "".join(ch for ch in description.rsplit(" ", 1)[-1] if ch.isdigit())
        return float(digits) if digits else 1.0

"""The conversation's requests on the same budget as the outbox's (PTB's rate-limiter hook).

Telegram's ceiling (about 30 messages a second overall) counts every message the bot sends,
replies included. A reply must not wait behind a broadcast, so it goes at once, and the
outbox's next slots move back by one (`TokenBucket.charge`). It goes even while the outbox
waits out a 429: that wait may be longer than the platform's (a pause is per channel), and a
person waiting for an answer should not pay for it. A reply refused with `RetryAfter` pauses
the whole channel, waits, and is sent again, a bounded number of times: a person's answer is
never dropped because a broadcast was running.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.outbox.dispatcher.limits import ChannelPause, TokenBucket

log = logging.getLogger(__name__)

# PTB 22 builds `RetryAfter` by reading its own `retry_after`, which warns that the int form is
# deprecated unless this opt-in to the timedelta form (PTB 23's only one) is set.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_RETRIES = 3
# Requests that put a message in a chat: what Telegram's "30 messages a second" counts
# (answering a button press, getMe or setMyCommands do not).
MESSAGE_METHODS = ("send", "edit", "copy", "forward")


class SharedPace(BaseRateLimiter[None]):
    """Unattached (no outbox running: `formabot sessions link`, tests) it only retries after
    a `RetryAfter`; `attach` puts it on the outbox's Telegram bucket and pause."""

    def __init__(self, *, max_retries: int = MAX_RETRIES) -> None:
        self.max_retries = max_retries
        self._bucket: TokenBucket | None = None
        self._pause: ChannelPause | None = None
        self._throttled: Callable[[], None] | None = None

    def attach(
        self,
        bucket: TokenBucket,
        pause: ChannelPause,
        *,
        throttled: Callable[[], None] | None = None,
    ) -> None:
        """Share `bucket` and `pause` with the outbox; `throttled` counts each 429."""
        self._bucket, self._pause, self._throttled = bucket, pause, throttled

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 0
        while True:
            if self._bucket is not None and endpoint.lower().startswith(MESSAGE_METHODS):
                self._bucket.charge()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                attempt += 1
                if attempt > self.max_retries:
                    raise
                seconds = retry_after_seconds(error)
                if self._throttled is not None:
                    self._throttled()
                log.warning(
                    "telegram %s: asked to wait %g s (429); the whole channel waits",
                    endpoint,
                    seconds,
                )
                if self._pause is not None:
                    self._pause.pause(seconds)
                    await self._pause.wait()
                else:
                    await asyncio.sleep(seconds)


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whichever type this PTB version returns."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

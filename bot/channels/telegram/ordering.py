"""Telegram updates handled side by side across people, in order for each person.

PTB handles one update at a time by default, and each answer waits on Telegram (~50 ms), so
the whole bot could answer only about twenty messages a second: at an announcement's peak,
when many people tap Register together, everyone's answers would queue behind everyone
else's. Here different people's updates run concurrently, while one person's run one at a
time, in the order they came, so that their conversation moves step by step and their
answers arrive in order.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates being handled or waiting for their person's turn. Waiting costs a task each, not a
# request: a person who sends many messages at once holds these while flood control drops them.
MAX_CONCURRENT_UPDATES = 512


class PerPersonOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._turns: dict[int, asyncio.Lock] = {}
        self._holders: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = _person_of(update)
        if person is None:
            await coroutine
            return
        turn = self._turns.setdefault(person, asyncio.Lock())
        self._holders[person] += 1
        try:
            async with turn:
                await coroutine
        finally:
            self._holders[person] -= 1
            if not self._holders[person]:  # nobody else waiting: forget the person
                del self._holders[person]
                del self._turns[person]

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""


def _person_of(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None

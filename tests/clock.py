"""The handlers' clock for tests: it stands still until the test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import NOW


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

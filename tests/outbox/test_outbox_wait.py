"""`formabot announce --wait`: the CLI follows a broadcast sent by a bot it does not run
(here a dispatcher in another thread, on its own connection) and prints the final report."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_fakes import FakeSender
from sqlite_utils import Database

from bot.outbox.dispatcher import Dispatcher, DispatcherSettings, SendResult, SystemClock
from storage import open_database
from storage.zones import zone


class Bot(threading.Thread):
    """A dispatcher running in a thread of its own, like a bot in another process."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(daemon=True)
        self.db_path = db_path
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        db = open_database(self.db_path)
        sender = FakeSender("whatsapp", SystemClock())  # type: ignore[arg-type]
        sender.by_address["+212612345678"] = deque([SendResult.failed("63016: outside the window")])
        telegram = FakeSender("telegram", SystemClock())  # type: ignore[arg-type]
        settings = DispatcherSettings(rate_per_second=50, poll_seconds=0.05, backoff_seconds=0.01)
        workers = [
            Dispatcher(db, one, zone=zone("Africa/Casablanca"), settings=settings)
            for one in (telegram, sender)
        ]
        try:
            self.loop.run_until_complete(
                asyncio.gather(*(worker.run(self.stop) for worker in workers))
            )
        finally:
            db.close()
            self.loop.close()

    def halt(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.join(timeout=5)


@pytest.fixture
def bot(people: Database, db_path: Path) -> Iterator[Bot]:
    running = Bot(db_path)
    running.start()
    yield running
    running.halt()


def test_announce_wait_shows_progress_then_the_final_report(run, bot: Bot) -> None:
    result = run("announce", "--topic", "soudage", "--text", "Session TIG", "--yes", "--wait")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[lines.index("1") + 1 :] == [
        "Announcement 1: sent",
        "  sent: 1",
        "  failed: 1",
        "    1 × 63016: outside the window",
    ]
    bar = result.stderr.splitlines()[-1]
    assert bar.startswith("sent ━") and "2/2" in bar

"""The dispatcher's commits in a thread of their own, on a connection of their own.

While another process holds the write lock (`formabot announce` writing 100,000 rows a page at
a time), a `BEGIN IMMEDIATE` waits in SQLite's busy handler; on the event loop that wait
stopped everything else — requests, answers, replies — and, the pacing keeping no credit,
the time was lost (tests/bench/broadcast.py at 100,000: a quarter of the loop's time in
`BEGIN IMMEDIATE` while the rows were written, the first 10 seconds the slowest). Here the wait
happens in a worker thread, and the loop awaits the commit, so that a row is still `sending`
on disk before its request leaves. A COMMIT that runs a WAL checkpoint runs it here too.

The lock is asked for every half millisecond (busy timeout 0, our own loop), not with
SQLite's growing sleeps (up to 100 ms): a writer pausing 5 ms between its pages leaves the
lock for a moment only, and a waiter asleep for 25 ms would miss that moment again and again.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from storage.db import BUSY_TIMEOUT_MS, open_database, unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_SECONDS = 0.0005


class ThreadedWrites:
    """One thread, one connection (opened in that thread on first use), one transaction
    per `run`, in the order asked."""

    def __init__(self, path: str | Path, *, name: str = "formabot-outbox-writer") -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._db: Database | None = None
        self._closed = threading.Event()
        # How the lock was waited for: commits, those that waited, over 10 ms, the longest.
        self.commits = 0
        self.waited = 0
        self.waited_long = 0
        self.longest_wait = 0.0

    async def run(self, work: Callable[[Database], T]) -> T:
        """`work` inside one write transaction, committed before this returns."""
        return await asyncio.wrap_future(self._pool.submit(self._transaction, work))

    def submit(self, work: Callable[[Database], T]) -> asyncio.Future[T]:
        """As `run`, as a future of the running loop (for a callback to pick up)."""
        return asyncio.wrap_future(self._pool.submit(self._transaction, work))

    def close(self) -> None:
        """After the writes asked so far; then the connection is closed."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._pool.submit(self._close_connection)
        self._pool.shutdown(wait=True)
        log.info(
            "outbox writer: %s commits; %s waited for the lock, %s over 10 ms, the longest %.1f ms",
            self.commits,
            self.waited,
            self.waited_long,
            self.longest_wait * 1000,
        )

    def _connection(self) -> Database:
        if self._db is None:
            self._db = open_database(self._path, migrate=False)
            self._db.execute("PRAGMA busy_timeout = 0")  # we poll ourselves (see above)
        return self._db

    def _close_connection(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _transaction(self, work: Callable[[Database], T]) -> T:
        db = self._connection()
        asked = time.monotonic()
        deadline = asked + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                self._count_wait(time.monotonic() - asked)
                break
            except sqlite3.OperationalError as error:
                if unavailable(error) != "busy" or time.monotonic() > deadline:
                    raise
                time.sleep(POLL_SECONDS)
        try:
            result = work(db)
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
        return result

    def _count_wait(self, waited: float) -> None:
        self.commits += 1
        if waited > 0.001:
            self.waited += 1
            self.waited_long += waited > 0.01
            self.longest_wait = max(self.longest_wait, waited)

"""Where the conversation touches the database: one worker thread, never the event loop.

SQLite makes a writer wait for another one (a CLI command, a backup, the dispatcher's
connection) up to its busy timeout. Waited on the event loop, that wait froze everything the
process does — the web app (`/healthz` took seconds), Telegram's requests in flight (lost to
`TimedOut`), Twilio's webhooks (a 500). Here the conversation's reads and writes run, one at a
time, in a thread of their own: a held lock makes people's messages wait (each person's in
order, nothing dropped) while the loop goes on serving, and a wait longer than the busy
timeout ends with "try again later" (`handlers.router.try_later`), not a traceback.

In `formabot run` the thread has a connection of its own (`opening`), whose busy timeout is
`WAIT_SECONDS`, so that a message outwaits a lock of several seconds; built from a context as
it is (`ConversationThread(context)`), it uses that context's connection, which nothing else
may use meanwhile (a test's connection, used between awaits).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from handlers import Context
from storage import open_database

# How long a person's message waits for another writer before "try again later": longer
# than any transaction of ours (short batches), short enough that they are still there.
WAIT_SECONDS = 30.0

P = ParamSpec("P")
T = TypeVar("T")


class ConversationThread:
    """Runs the conversation's database work in one worker thread, on `context.db`."""

    def __init__(self, context: Context, *, owns_connection: bool = False) -> None:
        self.context = context
        self._owns_connection = owns_connection
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="formabot-conversation"
        )

    @classmethod
    def opening(
        cls, context: Context, path: str | Path, wait_seconds: float = WAIT_SECONDS
    ) -> ConversationThread:
        """A thread on a new connection to the database at `path` (migrated already), whose
        writes wait up to `wait_seconds` for another writer; closed by `close`."""
        db = open_database(path, migrate=False)
        db.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
        return cls(dataclasses.replace(context, db=db), owns_connection=True)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args, **kwargs)` in the thread, after the work queued before it."""
        call = functools.partial(work, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def close(self) -> None:
        """Once the work queued is done; then the connection, when it is this thread's."""
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self._owns_connection:
            self.context.db.close()

"""Opening the database: WAL, foreign keys, busy timeout, and the schema brought up to date.

Several connections write to one file: the bot's event loop (the conversation, the
dispatchers), the scheduler's worker threads, the CLI in another process. SQLite lets one
write at a time and makes the others wait, up to the busy timeout — but only if they ask for
the write lock before reading: a transaction begun the default way (deferred) that reads and
then writes cannot wait for another writer, and fails at once with "database is locked". So
every transaction begins `IMMEDIATE` (see `write_transaction`), and long writers commit in
short batches (`storage.deliveries.enqueue`), so that a conversation's write waits a few
milliseconds, never a whole broadcast.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from storage import private_files
from storage.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5_000


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes the write lock as it begins (`BEGIN IMMEDIATE`), waiting up to
    the busy timeout for another writer to finish; committed at the end, rolled back on any
    error. Inside a transaction already open it is a savepoint of that one (which, begun here
    or by `db.atomic()` on a database from `open_database`, already holds the lock)."""
    if db.conn.in_transaction:
        with Database.atomic(db):
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()  # a no-op when the error already ended the transaction
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


class _WriteFirstDatabase(Database):
    """sqlite-utils' `Database`, whose `atomic()` begins like `write_transaction`: every
    module's read-then-write transaction (a registration checking the seats left, a link code
    used once) waits for its turn instead of failing while another connection writes."""

    @contextmanager
    def atomic(self) -> Generator[Database, None, None]:
        with write_transaction(self):
            yield self


def open_database(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (creating if needed, 0600) the database at `path` and apply pending migrations."""
    private_files.create_database_file(path)
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = _WriteFirstDatabase(connection)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    if migrate:
        MIGRATIONS.apply(db)
    return db


def unavailable(error: BaseException) -> str | None:
    """Why the database cannot take a write at the moment, when `error` says it: "full" (the
    disk or a size limit: `database or disk is full`, a write refused by the system) or
    "busy" (another connection held the write lock past the busy timeout); None for any
    other error, which is a bug to report rather than a moment to wait out."""
    if not isinstance(error, sqlite3.Error):
        return None
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")):
        return "full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy"
    return None


def pending_migrations(db: Database) -> list[str]:
    return [migration.name for migration in MIGRATIONS.pending(db)]


def applied_migrations(db: Database) -> list[str]:
    return [migration.name for migration in MIGRATIONS.applied(db)]


def backup(db: Database, target: str | Path) -> None:
    """A consistent copy through SQLite's online backup, safe while the bot writes, in the new
    file `target` created 0600 (FileExistsError if it exists); no file is left on an error."""
    private_files.create_empty(target)
    try:
        destination = sqlite3.connect(str(target))
        try:
            db.conn.backup(destination)
        finally:
            destination.close()
    except BaseException:
        Path(target).unlink(missing_ok=True)
        raise

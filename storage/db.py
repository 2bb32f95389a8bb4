"""Opening the database: WAL, foreign keys, busy timeout, and the schema brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5_000


def open_database(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database at `path` and apply pending migrations."""
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = Database(connection)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    if migrate:
        MIGRATIONS.apply(db)
    return db


def pending_migrations(db: Database) -> list[str]:
    return [migration.name for migration in MIGRATIONS.pending(db)]


def applied_migrations(db: Database) -> list[str]:
    return [migration.name for migration in MIGRATIONS.applied(db)]


def backup(db: Database, target: str | Path) -> None:
    """A consistent copy through SQLite's online backup, safe while the bot writes."""
    destination = sqlite3.connect(str(target))
    try:
        db.conn.backup(destination)
    finally:
        destination.close()

"""The database: migrations from empty and from an earlier version, pragmas, online backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from storage import contacts, open_database
from storage.db import applied_migrations, backup, pending_migrations
from storage.migrations import MIGRATIONS


def test_a_new_database_gets_every_migration(db_path: Path) -> None:
    db = open_database(db_path)
    assert applied_migrations(db) == [migration.name for migration in MIGRATIONS._migrations]
    assert pending_migrations(db) == []
    assert {"contacts", "identities", "sessions", "registrations", "audit_log"} <= set(
        db.table_names()
    )


def test_an_earlier_database_is_upgraded_on_open_and_keeps_its_rows(db_path: Path) -> None:
    earlier = Database(sqlite3.connect(str(db_path)))
    earlier.execute("PRAGMA foreign_keys = ON")
    MIGRATIONS.apply(earlier, stop_before="0002_registrations_coordinators_audit")
    earlier.execute(
        "INSERT INTO contacts (name, language, created_at, updated_at)"
        " VALUES ('Amina', 'fr', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00Z')"
    )
    assert "registrations" not in earlier.table_names()
    earlier.close()

    db = open_database(db_path)
    assert pending_migrations(db) == []
    assert "registrations" in db.table_names()
    amina = contacts.get(db, 1)
    assert amina is not None and amina.name == "Amina" and amina.state == {}


def test_connection_settings(db: Database) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_online_backup_is_a_consistent_copy_while_writes_continue(
    db: Database, tmp_path: Path
) -> None:
    contacts.create(db, name="Before")
    writer = open_database(db.conn.execute("PRAGMA database_list").fetchone()[2])
    writer.conn.execute("BEGIN")
    contacts.create(writer, name="Uncommitted")
    target = tmp_path / "copy.db"
    backup(db, target)
    writer.conn.execute("COMMIT")
    copy = open_database(target)
    assert [row["name"] for row in copy.query("SELECT name FROM contacts")] == ["Before"]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

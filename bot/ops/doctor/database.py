"""The database file is usable: its directory exists, it is writable, intact, and its
migrations are ones this formabot knows. It is only read, and never created here."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from bot.ops.doctor.findings import Finding
from storage import db as storage_db


def check_database(path: Path) -> list[Finding]:
    """Integrity and migrations, reading only. A missing file is not created here."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        return [
            Finding(
                "FAIL",
                "database",
                f"directory {directory} does not exist",
                f"create it, owned by the service user: install -d -o formabot {directory}",
            )
        ]
    if not path.exists():
        return [
            Finding(
                "WARN",
                "database",
                f"{path} does not exist yet",
                "`formabot db migrate` creates it (so does `formabot run`)",
            )
        ]
    findings = []
    if not (os.access(path, os.W_OK) and os.access(directory, os.W_OK)):
        findings.append(
            Finding(
                "FAIL",
                "database",
                f"{path} or its directory is not writable by this user",
                "give the service user write access to both"
                " (SQLite writes -wal and -shm files beside the database)",
            )
        )
    try:
        findings.extend(_inspect(path))
    except sqlite3.DatabaseError as error:
        findings.append(
            Finding(
                "FAIL",
                "database",
                f"{path}: {error}",
                "is it a formabot database? If it is, stop the bot and restore the last backup",
            )
        )
    return findings


def _inspect(path: Path) -> list[Finding]:
    connection = sqlite3.connect(str(path), timeout=storage_db.BUSY_TIMEOUT_MS / 1000)
    try:
        db = Database(connection)
        problems = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
            return [
                Finding(
                    "FAIL",
                    "database",
                    f"{path} is damaged: {shown}",
                    "stop the bot, keep a copy of the damaged file, restore the last"
                    " backup (cp it over the database), then start the bot",
                )
            ]
        applied = storage_db.applied_migrations(db)
        pending = storage_db.pending_migrations(db)
    finally:
        connection.close()
    known = set(storage_db.pending_migrations(Database(memory=True)))
    unknown = [name for name in applied if name not in known]
    if unknown:
        return [
            Finding(
                "FAIL",
                "database",
                f"{path} was upgraded by a newer formabot"
                f" (unknown migrations: {', '.join(unknown)})",
                "install that newer formabot again, or restore a backup made before the upgrade",
            )
        ]
    if pending:
        return [
            Finding(
                "WARN",
                "database",
                f"{path}: integrity ok, {len(pending)} migration(s) pending: {', '.join(pending)}",
                "back it up, then run `formabot db migrate` (`formabot run` applies them too)",
            )
        ]
    size = path.stat().st_size / 1_000_000
    return [
        Finding(
            "OK",
            "database",
            f"{path}: integrity ok, {len(applied)} migrations applied, {size:.1f} MB",
        )
    ]

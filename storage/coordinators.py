"""Who may act as a coordinator, by channel identity."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.zones import now_utc, to_utc_text


@dataclass(frozen=True)
class Coordinator:
    id: int
    channel: str
    address: str
    name: str
    added_at: str


def add(db: Database, *, channel: str, address: str, name: str = "") -> None:
    db.execute(
        """
        INSERT INTO coordinators (channel, address, name, added_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (channel, address) DO UPDATE SET name = excluded.name
        """,
        [channel, address, name, to_utc_text(now_utc())],
    )


def remove(db: Database, *, channel: str, address: str) -> bool:
    cursor = db.execute(
        "DELETE FROM coordinators WHERE channel = ? AND address = ?", [channel, address]
    )
    return cursor.rowcount > 0


def is_coordinator(db: Database, *, channel: str, address: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM coordinators WHERE channel = ? AND address = ?", [channel, address]
    ).fetchone()
    return row is not None


def all_coordinators(db: Database) -> list[Coordinator]:
    return [Coordinator(**row) for row in db.query("SELECT * FROM coordinators ORDER BY id")]

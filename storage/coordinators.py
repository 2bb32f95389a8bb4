"""Who may act as a coordinator, by channel identity."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.names import clean_name
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
        [channel, address, clean_name(name), to_utc_text(now_utc())],
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


@dataclass(frozen=True)
class CoordinatorChat:
    """Where a coordinator talks to the bot on one channel, and in which language."""

    address: str
    chat_id: str
    language: str | None
    coordinator_id: int = 0  # what logs name them by


def chats(db: Database, channel: str) -> list[CoordinatorChat]:
    """Coordinators on `channel`, with the chat and language of the contact behind them (the
    address itself and no language when they have not written to the bot yet)."""
    rows = db.execute(
        """
        SELECT k.address, coalesce(i.chat_id, k.address), c.language, k.id
        FROM coordinators k
        LEFT JOIN identities i ON i.channel = k.channel AND i.address = k.address
        LEFT JOIN contacts c ON c.id = i.contact_id
        WHERE k.channel = ? ORDER BY k.id
        """,
        [channel],
    ).fetchall()
    return [CoordinatorChat(*row) for row in rows]


def all_coordinators(db: Database) -> list[Coordinator]:
    return [Coordinator(**row) for row in db.query("SELECT * FROM coordinators ORDER BY id")]

"""Which topics a contact follows."""

from __future__ import annotations

from sqlite_utils import Database

from storage.zones import now_utc, to_utc_text


def topics_of(db: Database, contact_id: int) -> list[str]:
    rows = db.execute(
        "SELECT topic_slug FROM subscriptions WHERE contact_id = ? ORDER BY topic_slug",
        [contact_id],
    )
    return [row[0] for row in rows]


def subscribe(db: Database, contact_id: int, slug: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO subscriptions (contact_id, topic_slug, created_at) VALUES (?, ?, ?)",
        [contact_id, slug, to_utc_text(now_utc())],
    )


def unsubscribe(db: Database, contact_id: int, slug: str) -> None:
    db.execute(
        "DELETE FROM subscriptions WHERE contact_id = ? AND topic_slug = ?", [contact_id, slug]
    )


def toggle(db: Database, contact_id: int, slug: str) -> bool:
    """Flip one subscription; returns whether the contact now follows the topic."""
    if slug in topics_of(db, contact_id):
        unsubscribe(db, contact_id, slug)
        return False
    subscribe(db, contact_id, slug)
    return True

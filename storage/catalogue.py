"""The training catalogue: topics and sessions.

Titles and topic names are per-language JSON objects; session times are stored in UTC with
the IANA zone they were entered in, so that they can be shown again as local wall time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from storage.zones import from_utc_text, now_utc, to_utc_text


@dataclass(frozen=True)
class Topic:
    slug: str
    names: dict[str, str]


@dataclass(frozen=True)
class Session:
    id: str
    titles: dict[str, str]
    topics: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    place: str
    capacity: int
    status: str


def _topic(row: dict[str, Any]) -> Topic:
    return Topic(row["slug"], json.loads(row["names"]))


def upsert_topic(db: Database, slug: str, names: dict[str, str]) -> None:
    now = to_utc_text(now_utc())
    db.execute(
        """
        INSERT INTO topics (slug, names, created_at, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (slug) DO UPDATE SET names = excluded.names, updated_at = excluded.updated_at
        """,
        [slug, json.dumps(names, ensure_ascii=False), now, now],
    )


def topic(db: Database, slug: str) -> Topic | None:
    rows = list(db.query("SELECT * FROM topics WHERE slug = ?", [slug]))
    return _topic(rows[0]) if rows else None


def all_topics(db: Database) -> list[Topic]:
    return [_topic(row) for row in db.query("SELECT * FROM topics ORDER BY slug")]


def upsert_session(
    db: Database,
    *,
    id: str,
    titles: dict[str, str],
    topics: list[str],
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    place: str,
    capacity: int,
    status: str = "scheduled",
) -> None:
    now = to_utc_text(now_utc())
    with db.atomic():
        db.execute(
            """
            INSERT INTO sessions (id, titles, starts_at, ends_at, timezone, place, capacity, status,
                                  created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                titles = excluded.titles, starts_at = excluded.starts_at,
                ends_at = excluded.ends_at, timezone = excluded.timezone, place = excluded.place,
                capacity = excluded.capacity, status = excluded.status,
                updated_at = excluded.updated_at
            """,
            [
                id,
                json.dumps(titles, ensure_ascii=False),
                to_utc_text(starts_at),
                to_utc_text(ends_at),
                timezone,
                place,
                capacity,
                status,
                now,
                now,
            ],
        )
        db.execute("DELETE FROM session_topics WHERE session_id = ?", [id])
        for slug in topics:
            db.execute(
                "INSERT INTO session_topics (session_id, topic_slug) VALUES (?, ?)", [id, slug]
            )


_SESSION_SELECT = """
    SELECT s.*, (SELECT group_concat(topic_slug, ' ') FROM
                   (SELECT topic_slug FROM session_topics t WHERE t.session_id = s.id
                    ORDER BY topic_slug)) AS topic_list
    FROM sessions s
"""


def _session(row: dict[str, Any]) -> Session:
    return Session(
        id=row["id"],
        titles=json.loads(row["titles"]),
        topics=tuple((row["topic_list"] or "").split()),
        starts_at=from_utc_text(row["starts_at"]),
        ends_at=from_utc_text(row["ends_at"]),
        timezone=row["timezone"],
        place=row["place"],
        capacity=row["capacity"],
        status=row["status"],
    )


def session(db: Database, session_id: str) -> Session | None:
    rows = list(db.query(_SESSION_SELECT + " WHERE s.id = ?", [session_id]))
    return _session(rows[0]) if rows else None


def all_sessions(db: Database) -> list[Session]:
    return [_session(row) for row in db.query(_SESSION_SELECT + " ORDER BY s.starts_at, s.id")]


def upcoming_sessions(
    db: Database,
    *,
    after: datetime,
    topics: list[str] | None = None,
    offset: int = 0,
    limit: int = 5,
) -> list[Session]:
    """Scheduled sessions starting after `after`, soonest first; filtered by topics when given."""
    params: list[object] = [to_utc_text(after)]
    topic_filter = ""
    if topics:
        marks = ", ".join("?" * len(topics))
        topic_filter = (
            f" AND EXISTS (SELECT 1 FROM session_topics t WHERE t.session_id = s.id"
            f" AND t.topic_slug IN ({marks}))"
        )
        params.extend(topics)
    params.extend([limit, offset])
    rows = db.query(
        _SESSION_SELECT
        + " WHERE s.status = 'scheduled' AND s.starts_at > ?"
        + topic_filter
        + " ORDER BY s.starts_at, s.id LIMIT ? OFFSET ?",
        params,
    )
    return [_session(row) for row in rows]

"""`formabot catalogue import`: topics and sessions from a TOML or CSV file, all or nothing.

Every entry is checked before anything is written, so that one run lists every mistake;
then one transaction upserts topics by slug and sessions by id, so that a re-import updates
rather than duplicates, and a failure half-way leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.cli.imports import fields
from bot.cli.imports.catalogue_files import read_records
from bot.cli.imports.problems import Problems
from bot.cli.imports.records import Record
from bot.cli.imports.summary import Counts
from storage import audit
from storage import catalogue as catalogue_store

STATUSES = ("scheduled", "cancelled")
E = TypeVar("E")
_TOPIC_HINT = "define it in this file ([[topics]] or a topic row) or import it first"


@dataclass(frozen=True)
class TopicEntry:
    slug: str
    names: dict[str, str]


@dataclass(frozen=True)
class SessionEntry:
    id: str
    titles: dict[str, str]
    topics: tuple[str, ...]
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    timezone: str
    place: str
    capacity: int
    status: str | None  # None: keep the stored status (scheduled when new)


@dataclass(frozen=True)
class Catalogue:
    topics: tuple[TopicEntry, ...]
    sessions: tuple[SessionEntry, ...]


@dataclass(frozen=True)
class CatalogueSummary:
    topics: Counts
    sessions: Counts

    def __str__(self) -> str:
        return f"imported {self.topics} and {self.sessions}"


def import_catalogue(db: Database, path: Path, *, default_zone: str) -> CatalogueSummary:
    """Read, check and store the catalogue at `path`; raises FileProblem or ImportFailed."""
    problems = Problems(path.name)
    records = read_records(path, problems)
    stored_topics = {topic.slug for topic in catalogue_store.all_topics(db)}
    catalogue = validate(records, problems, stored_topics=stored_topics, default_zone=default_zone)
    problems.raise_if_any()
    return write(db, catalogue, source=path.name)


def validate(
    records: list[Record],
    problems: Problems,
    *,
    stored_topics: Collection[str],
    default_zone: str,
) -> Catalogue:
    """The checked catalogue; what is wrong is recorded in `problems`, not raised."""
    topic_records = [record for record in records if record.kind == "topic"]
    known = set(stored_topics) | {str(record.values.get("slug")) for record in topic_records}
    topics = _unique(
        [(record, _topic(record, problems)) for record in topic_records],
        problems,
        "slug",
        lambda entry: entry.slug,
    )
    sessions = _unique(
        [
            (record, _session(record, problems, known, default_zone))
            for record in records
            if record.kind == "session"
        ],
        problems,
        "id",
        lambda entry: entry.id,
    )
    return Catalogue(tuple(topics), tuple(sessions))


def _unique(
    pairs: list[tuple[Record, E | None]], problems: Problems, field: str, key: Callable[[E], str]
) -> list[E]:
    """Entries that parsed, the second use of an id in the file being an error."""
    seen: dict[str, Record] = {}
    entries: list[E] = []
    for record, entry in pairs:
        if entry is None:
            continue
        if key(entry) in seen:
            record.check(problems).fail(
                field, f'"{key(entry)}" is already used at {seen[key(entry)].position(field)}'
            )
            continue
        seen[key(entry)] = record
        entries.append(entry)
    return entries


def _topic(record: Record, problems: Problems) -> TopicEntry | None:
    check = record.check(problems)
    slug = check.get("slug", fields.topic_slug, record.values.get("slug"))
    names = check.get("name", fields.texts_by_language, record.values.get("name"))
    if not check.ok or slug is None or names is None:
        return None
    return TopicEntry(slug, names)


def _session(
    record: Record, problems: Problems, known_topics: set[str], default_zone: str
) -> SessionEntry | None:
    values = record.values
    check = record.check(problems)
    session_id = check.get("id", fields.session_id, values.get("id"))
    titles = check.get("title", fields.texts_by_language, values.get("title"))
    topics = check.get(
        "topics",
        lambda value: fields.known_slugs(value, known_topics, _TOPIC_HINT),
        values.get("topics"),
    )
    if topics == ():
        check.fail("topics", "a session needs at least one topic, so that subscribers hear of it")
    zone_name = check.get("timezone", fields.zone_name, values.get("timezone") or default_zone)
    starts = check.get("starts", fields.wall_time, values.get("starts"))
    ends = check.get("ends", fields.wall_time, values.get("ends"))
    place = check.get("place", fields.optional_name, values.get("place"))
    capacity = check.get("capacity", fields.capacity, values.get("capacity"))
    status = check.get("status", fields.one_of(*STATUSES), values.get("status"))
    starts_at = ends_at = None
    if zone_name is not None and starts is not None:
        starts_at = check.get("starts", lambda wall: fields.local_moment(wall, zone_name), starts)
    if zone_name is not None and ends is not None:
        ends_at = check.get("ends", lambda wall: fields.local_moment(wall, zone_name), ends)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        check.fail("ends", f'"{ends:%Y-%m-%dT%H:%M}" is not after starts "{starts:%Y-%m-%dT%H:%M}"')
    if (
        not check.ok
        or session_id is None
        or titles is None
        or topics is None
        or zone_name is None
        or starts_at is None
        or ends_at is None
        or place is None
        or capacity is None
    ):
        return None
    return SessionEntry(
        session_id, titles, topics, starts_at, ends_at, zone_name, place, capacity, status
    )


def write(db: Database, catalogue: Catalogue, *, source: str) -> CatalogueSummary:
    """Upsert everything in one transaction; a stored status is kept unless the file sets one."""
    topics_new = sessions_new = 0
    with db.atomic():
        for topic in catalogue.topics:
            topics_new += catalogue_store.topic(db, topic.slug) is None
            catalogue_store.upsert_topic(db, topic.slug, topic.names)
        for session in catalogue.sessions:
            stored = catalogue_store.session(db, session.id)
            sessions_new += stored is None
            catalogue_store.upsert_session(
                db,
                id=session.id,
                titles=session.titles,
                topics=list(session.topics),
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                timezone=session.timezone,
                place=session.place,
                capacity=session.capacity,
                status=session.status or (stored.status if stored else "scheduled"),
            )
        summary = CatalogueSummary(
            Counts("topic", "topics", topics_new, len(catalogue.topics) - topics_new),
            Counts("session", "sessions", sessions_new, len(catalogue.sessions) - sessions_new),
        )
        audit.record(
            db,
            actor="cli",
            action="catalogue.import",
            subject=source,
            topics_new=summary.topics.new,
            topics_updated=summary.topics.updated,
            sessions_new=summary.sessions.new,
            sessions_updated=summary.sessions.updated,
        )
    return summary

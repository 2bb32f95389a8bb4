"""Who receives a notification: the audience criteria and the recipients they select.

Only contacts who consented and did not opt out, with an active identity on one of the
channels asked, are recipients; each gets one identity — on the channel they chose, else the
one they last wrote from — so a person with Telegram and WhatsApp receives a notification
once. Recipients are read in pages
ordered by contact id (keyset), so a whole audience is never held in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from storage.registrations import SEAT_HOLDING

DEFAULT_CHANNELS = ("telegram", "whatsapp")
# Every channel a delivery row may name: the console is one when no platform is served (a
# trial with no credentials), so that a person in `formabot shell` receives what they would.
ALL_CHANNELS = (*DEFAULT_CHANNELS, "console")


@dataclass(frozen=True)
class Audience:
    """Criteria combine with AND; the values inside one criterion combine with OR.

    No criterion at all means every contact who may be notified.
    """

    topics: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()  # member ids
    registrants: str | None = None  # a session id
    statuses: tuple[str, ...] = SEAT_HOLDING  # which registrants
    contacts: tuple[int, ...] = ()

    @property
    def is_everyone(self) -> bool:
        return not (
            self.topics
            or self.roles
            or self.cities
            or self.companies
            or self.registrants
            or self.contacts
        )

    def to_json(self) -> str:
        values: dict[str, Any] = {
            "topics": list(self.topics),
            "roles": list(self.roles),
            "cities": list(self.cities),
            "companies": list(self.companies),
            "contacts": list(self.contacts),
        }
        if self.registrants:
            values["registrants"] = self.registrants
            values["statuses"] = list(self.statuses)
        return json.dumps(
            {key: value for key, value in values.items() if value}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> Audience:
        raw = json.loads(text or "{}")
        return cls(
            topics=tuple(raw.get("topics", ())),
            roles=tuple(raw.get("roles", ())),
            cities=tuple(raw.get("cities", ())),
            companies=tuple(raw.get("companies", ())),
            registrants=raw.get("registrants"),
            statuses=tuple(raw.get("statuses", SEAT_HOLDING)),
            contacts=tuple(int(value) for value in raw.get("contacts", ())),
        )

    def describe(self) -> str:
        """A one-line summary for coordinators (CLI listings, audit)."""
        parts = [
            f"{name}={','.join(map(str, values))}"
            for name, values in (
                ("topics", self.topics),
                ("roles", self.roles),
                ("cities", self.cities),
                ("companies", self.companies),
                ("contacts", self.contacts),
            )
            if values
        ]
        if self.registrants:
            parts.append(f"registrants={self.registrants}")
        return " ".join(parts) or "everyone"


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    identity_id: int
    channel: str
    address: str
    language: str


@dataclass(frozen=True)
class _Query:
    sql: str
    params: list[Any] = field(default_factory=list)


def _marks(values: tuple[Any, ...]) -> str:
    return ", ".join("?" * len(values))


def _query(audience: Audience, channels: tuple[str, ...], default_language: str) -> _Query:
    where = ["c.consent_at IS NOT NULL", "c.opted_out_at IS NULL"]
    params: list[Any] = [default_language, *channels]
    if audience.topics:
        where.append(
            "EXISTS (SELECT 1 FROM subscriptions s WHERE s.contact_id = c.id"
            f" AND s.topic_slug IN ({_marks(audience.topics)}))"
        )
        params += audience.topics
    if audience.roles:
        where.append(f"c.role IN ({_marks(audience.roles)})")
        params += audience.roles
    if audience.cities:
        where.append(
            "EXISTS (SELECT 1 FROM companies co WHERE co.id = c.company_id"
            f" AND co.city COLLATE NOCASE IN ({_marks(audience.cities)}))"
        )
        params += audience.cities
    if audience.companies:
        where.append(
            "EXISTS (SELECT 1 FROM companies co WHERE co.id = c.company_id"
            f" AND co.member_id IN ({_marks(audience.companies)}))"
        )
        params += audience.companies
    if audience.registrants:
        where.append(
            "EXISTS (SELECT 1 FROM registrations r WHERE r.contact_id = c.id"
            f" AND r.session_id = ? AND r.status IN ({_marks(audience.statuses)}))"
        )
        params += [audience.registrants, *audience.statuses]
    if audience.contacts:
        where.append(f"c.id IN ({_marks(audience.contacts)})")
        params += audience.contacts
    sql = f"""
        SELECT c.id AS contact_id, i.id AS identity_id, i.channel, i.address,
               coalesce(c.language, ?) AS language
        FROM contacts c
        JOIN identities i ON i.id = (
            SELECT i2.id FROM identities i2
            WHERE i2.contact_id = c.id AND i2.active = 1
              AND i2.channel IN ({_marks(channels)})
            -- SQLite 3.40 cannot see `c` in this ORDER BY: the preference is read again.
            ORDER BY i2.channel IS (SELECT preferred_channel FROM contacts
                                    WHERE id = i2.contact_id) DESC,
                     i2.last_inbound_at IS NULL, i2.last_inbound_at DESC, i2.id
            LIMIT 1)
        WHERE {" AND ".join(where)}
    """
    return _Query(sql, params)


def pages(
    db: Database,
    audience: Audience,
    *,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    default_language: str = "fr",
    page_size: int = 1000,
) -> Iterator[list[Recipient]]:
    """The recipients, a page at a time, in contact id order."""
    query = _query(audience, channels, default_language)
    after = 0
    while True:
        rows = db.execute(
            query.sql + " AND c.id > ? ORDER BY c.id LIMIT ?",
            [*query.params, after, page_size],
        ).fetchall()
        if not rows:
            return
        yield [Recipient(*row) for row in rows]
        after = rows[-1][0]


def preview(
    db: Database,
    audience: Audience,
    *,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
) -> dict[str, int]:
    """How many recipients per channel, counted by the database, before anything is sent."""
    query = _query(audience, channels, "fr")
    rows = db.execute(
        f"SELECT channel, count(*) FROM ({query.sql}) GROUP BY channel ORDER BY channel",
        query.params,
    ).fetchall()
    return dict(rows)


def languages(
    db: Database,
    audience: Audience,
    *,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    default_language: str = "fr",
) -> dict[str, int]:
    """How many recipients read each language (the default for those who chose none): the
    versions of a message that will be sent."""
    query = _query(audience, channels, default_language)
    rows = db.execute(
        f"SELECT language, count(*) FROM ({query.sql}) GROUP BY language ORDER BY language",
        query.params,
    ).fetchall()
    return dict(rows)


def preferred_identity(
    db: Database,
    contact_id: int,
    *,
    channels: tuple[str, ...],
    excluding: str = "",
) -> tuple[int, str, str] | None:
    """(identity id, channel, address) of the contact's best active identity on another channel."""
    others = tuple(channel for channel in channels if channel != excluding)
    if not others:
        return None
    row = db.execute(
        f"""
        SELECT id, channel, address FROM identities
        WHERE contact_id = ? AND active = 1 AND channel IN ({_marks(others)})
        ORDER BY last_inbound_at IS NULL, last_inbound_at DESC, id LIMIT 1
        """,
        [contact_id, *others],
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None

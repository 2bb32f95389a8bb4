"""Contacts of member companies, their channel identities and their conversation state.

A contact is a person; an identity is how a channel knows them (Telegram user id, WhatsApp
number, console name). Conversation state lives here, per contact, so that a restart or a
switch of channel loses nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from storage import audit
from storage.db import write_transaction
from storage.names import clean_name
from storage.zones import now_utc, to_utc_text

# The languages the bot speaks, French first: the one list every layer reads.
LANGUAGES = ("fr", "ar", "en")
ROLES = ("manager", "trainee")


@dataclass(frozen=True)
class Contact:
    id: int
    name: str | None
    role: str | None
    company_id: int | None
    company_other: str | None
    language: str | None
    phone: str | None
    consent_at: str | None
    opted_out_at: str | None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def may_be_notified(self) -> bool:
        return self.consent_at is not None and self.opted_out_at is None


@dataclass(frozen=True)
class Identity:
    id: int
    contact_id: int
    channel: str
    address: str
    chat_id: str | None
    last_inbound_at: str | None
    active: bool


def _contact(row: dict[str, Any]) -> Contact:
    return Contact(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        company_id=row["company_id"],
        company_other=row["company_other"],
        language=row["language"],
        phone=row["phone"],
        consent_at=row["consent_at"],
        opted_out_at=row["opted_out_at"],
        state=json.loads(row["state"] or "{}"),
    )


def _identity(row: dict[str, Any]) -> Identity:
    return Identity(
        id=row["id"],
        contact_id=row["contact_id"],
        channel=row["channel"],
        address=row["address"],
        chat_id=row["chat_id"],
        last_inbound_at=row["last_inbound_at"],
        active=bool(row["active"]),
    )


def get(db: Database, contact_id: int) -> Contact | None:
    rows = list(db.query("SELECT * FROM contacts WHERE id = ?", [contact_id]))
    return _contact(rows[0]) if rows else None


def count(db: Database) -> int:
    (number,) = db.execute("SELECT count(*) FROM contacts").fetchone()
    return int(number)


def find_by_phone(db: Database, phone: str) -> Contact | None:
    rows = list(db.query("SELECT * FROM contacts WHERE phone = ?", [phone]))
    return _contact(rows[0]) if rows else None


# Values a person or a file gives as free text, cleaned however they arrive (storage.names).
_NAMES = ("name", "company_other")


def _cleaned(values: dict[str, Any]) -> dict[str, Any]:
    return {
        column: clean_name(value) if column in _NAMES and isinstance(value, str) else value
        for column, value in values.items()
    }


def create(db: Database, **values: Any) -> int:
    now = to_utc_text(now_utc())
    values = _cleaned(values)
    values.setdefault("state", {})
    values["state"] = json.dumps(values["state"], ensure_ascii=False)
    columns = ", ".join([*values, "created_at", "updated_at"])
    marks = ", ".join("?" * (len(values) + 2))
    cursor = db.execute(
        f"INSERT INTO contacts ({columns}) VALUES ({marks})", [*values.values(), now, now]
    )
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid


_UPDATABLE = {
    "name",
    "role",
    "company_id",
    "company_other",
    "language",
    "phone",
    "consent_at",
    "opted_out_at",
}


def update(db: Database, contact_id: int, **values: Any) -> None:
    unknown = set(values) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = _cleaned(values)
    assignments = ", ".join(f"{column} = ?" for column in values)
    db.execute(
        f"UPDATE contacts SET {assignments}, updated_at = ? WHERE id = ?",
        [*values.values(), to_utc_text(now_utc()), contact_id],
    )


CONSENT_ACTIONS = ("privacy.consent", "privacy.decline", "privacy.opt_out", "privacy.opt_in")


def set_consent(
    db: Database, contact_id: int, *, agreed: bool, at: str, via: str, **details: Any
) -> str | None:
    """Record what the person just said about notifications, with its time, and audit it.

    The one place a person's own yes or no is stored, whatever way it came (button, old
    button, typed number, keyword, in any language), so that what is stored, what is audited
    and what the reply says cannot disagree. A yes keeps the first consent's time and clears
    any withdrawal; a no records the withdrawal's time (a first no is a refusal: consent_at
    stays empty). Saying again what is already stored changes nothing and audits nothing.
    Returns the audit action recorded, or None when nothing changed.
    """
    with write_transaction(db):
        current = get(db, contact_id)
        if current is None:
            return None
        if agreed:
            if current.may_be_notified:
                return None
            action = "privacy.consent" if current.consent_at is None else "privacy.opt_in"
            values: dict[str, Any] = {"opted_out_at": None, "consent_at": current.consent_at or at}
        else:
            if current.opted_out_at is not None:
                return None
            action = "privacy.opt_out" if current.consent_at is not None else "privacy.decline"
            values = {"opted_out_at": at}
        update(db, contact_id, **values)
        audit.record(
            db,
            actor=f"contact:{contact_id}",
            action=action,
            subject=f"contact:{contact_id}",
            via=via,
            **details,
        )
    return action


@dataclass(frozen=True)
class Unmatched:
    """A contact whose company is not (yet) a member company: what they typed, for a
    coordinator to match by hand."""

    contact_id: int
    name: str | None
    typed: str
    phone: str | None
    created_at: str


def unmatched_companies(db: Database) -> list[Unmatched]:
    """Contacts who chose "My company is not listed", oldest first."""
    rows = db.execute(
        "SELECT id, name, company_other, phone, created_at FROM contacts"
        " WHERE company_id IS NULL AND company_other IS NOT NULL ORDER BY id"
    ).fetchall()
    return [Unmatched(*row) for row in rows]


def match_company(db: Database, contact_id: int, company_id: int, *, actor: str) -> str | None:
    """Attach a contact to a member company a coordinator recognised in what they typed;
    what was typed is kept in the audit entry. Returns what was typed, None when the contact
    does not exist."""
    with write_transaction(db):
        found = get(db, contact_id)
        if found is None:
            return None
        update(db, contact_id, company_id=company_id, company_other=None)
        audit.record(
            db,
            actor=actor,
            action="contacts.match_company",
            subject=f"contact:{contact_id}",
            company_id=company_id,
            typed=found.company_other,
        )
    return found.company_other or ""


def set_state(db: Database, contact_id: int, state: dict[str, Any]) -> None:
    db.execute(
        "UPDATE contacts SET state = ?, updated_at = ? WHERE id = ?",
        [json.dumps(state, ensure_ascii=False), to_utc_text(now_utc()), contact_id],
    )


def identity(db: Database, channel: str, address: str) -> Identity | None:
    rows = list(
        db.query("SELECT * FROM identities WHERE channel = ? AND address = ?", [channel, address])
    )
    return _identity(rows[0]) if rows else None


def identities_of(db: Database, contact_id: int) -> list[Identity]:
    rows = db.query("SELECT * FROM identities WHERE contact_id = ? ORDER BY id", [contact_id])
    return [_identity(row) for row in rows]


def resolve(
    db: Database, *, channel: str, address: str, chat_id: str | None = None
) -> tuple[Contact, bool]:
    """The contact behind a channel identity, created on first contact; records the inbound time.

    Returns the contact and whether it was created now. The transaction takes the write lock
    before looking the identity up: begun the default way, it could not wait for a broadcast
    being written by another connection and would fail with "database is locked".
    """
    now = to_utc_text(now_utc())
    with write_transaction(db):
        found = identity(db, channel, address)
        created = found is None
        if found is None:
            contact_id = create(db)
            db.execute(
                """
                INSERT INTO identities (contact_id, channel, address, chat_id, last_inbound_at,
                                        created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [contact_id, channel, address, chat_id, now, now],
            )
        else:
            contact_id = found.contact_id
            db.execute(
                """
                UPDATE identities SET last_inbound_at = ?, chat_id = coalesce(?, chat_id),
                       active = 1, inactive_reason = NULL
                WHERE id = ?
                """,
                [now, chat_id, found.id],
            )
    contact = get(db, contact_id)
    assert contact is not None
    return contact, created


def mark_identity_inactive(db: Database, channel: str, address: str, reason: str) -> None:
    db.execute(
        "UPDATE identities SET active = 0, inactive_reason = ? WHERE channel = ? AND address = ?",
        [reason, channel, address],
    )


def attach_identity(db: Database, contact_id: int, *, channel: str, address: str) -> None:
    """Give an existing contact one more channel identity (e.g. imported WhatsApp number)."""
    db.execute(
        """
        INSERT INTO identities (contact_id, channel, address, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (channel, address) DO UPDATE SET contact_id = excluded.contact_id
        """,
        [contact_id, channel, address, to_utc_text(now_utc())],
    )


def erase(db: Database, contact_id: int) -> None:
    """Forget a person: personal data goes, anonymous counts stay.

    Registrations stay as anonymous rows (contact_id NULL) so that session counts hold;
    identities and subscriptions go with the contact row.
    """
    with write_transaction(db):
        db.execute("UPDATE registrations SET contact_id = NULL WHERE contact_id = ?", [contact_id])
        db.execute("DELETE FROM contacts WHERE id = ?", [contact_id])
        db.execute(
            """
            INSERT INTO anonymous_counts (name, value) VALUES ('contacts_erased', 1)
            ON CONFLICT (name) DO UPDATE SET value = value + 1
            """
        )
        audit.record(
            db,
            actor=f"contact:{contact_id}",
            action="privacy.erase",
            subject=f"contact:{contact_id}",
        )


def anonymous_count(db: Database, name: str) -> int:
    row = db.execute("SELECT value FROM anonymous_counts WHERE name = ?", [name]).fetchone()
    return row[0] if row else 0

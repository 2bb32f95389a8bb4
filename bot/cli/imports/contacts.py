"""`formabot contacts import`: an existing mailing list from CSV, all or nothing.

Only people who agreed to receive messages may be imported (WhatsApp's opt-in rule), so a
row without a consent date is refused. A contact is matched by WhatsApp number, the one key
a person keeps across lists; a re-import updates them, adds the listed topics to what they
follow (never removes one they chose), and never lifts an opt-out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.cli.imports import fields
from bot.cli.imports.files import read_csv
from bot.cli.imports.problems import FieldError, Problems
from bot.cli.imports.summary import Counts
from storage import audit, catalogue, companies, contacts, subscriptions
from storage.contacts import LANGUAGES, ROLES, Contact
from storage.zones import to_utc_text

REQUIRED = ("name", "company", "whatsapp", "consent_date")
OPTIONAL = ("role", "language", "topics")
_TOPIC_HINT = "add it to the catalogue first (formabot catalogue import)"


@dataclass(frozen=True)
class ContactEntry:
    name: str
    company_id: int
    role: str | None
    language: str | None
    topics: tuple[str, ...]
    phone: str  # E.164
    consent_at: datetime


@dataclass(frozen=True)
class ContactsSummary:
    contacts: Counts
    opted_out: int

    def __str__(self) -> str:
        text = f"imported {self.contacts}"
        if self.opted_out:
            who = "1 of them has" if self.opted_out == 1 else f"{self.opted_out} of them have"
            text += f"; {who} opted out and will receive nothing"
        return text


def company_in(db: Database) -> Callable[[Any], int]:
    """A parser from a member id or an exact company name to the company's id."""

    def parse(value: Any) -> int:
        text = fields.name(value)
        found = companies.by_member_id(db, text)
        if found is not None:
            return found.id
        named = companies.all_named(db, text)
        if len(named) == 1:
            return named[0].id
        if named:
            ids = ", ".join(company.member_id for company in named)
            raise FieldError(
                f'"{text}" is the name of {len(named)} companies; use the member id ({ids})'
            )
        raise FieldError(
            f'"{text}" is neither the member id nor the name of a known company;'
            " import the companies first"
        )

    return parse


def read_contacts(
    db: Database, path: Path, problems: Problems, *, default_zone: str, region: str
) -> list[ContactEntry]:
    """Checked entries; companies and topics must already be in `db`."""
    known_topics = {topic.slug for topic in catalogue.all_topics(db)}
    company = company_in(db)
    phone = fields.phone(region)
    consent = fields.consent(default_zone)
    entries: list[ContactEntry] = []
    first_line: dict[str, int] = {}
    for row in read_csv(path, problems, required=REQUIRED, optional=OPTIONAL):
        cells, check = row.cells, row.check(problems, path.name)
        name = check.get("name", fields.name, cells["name"])
        company_id = check.get("company", company, cells["company"])
        role = check.get("role", fields.one_of(*ROLES), cells.get("role"))
        language = check.get("language", fields.one_of(*LANGUAGES), cells.get("language"))
        topics = check.get(
            "topics",
            lambda value: fields.known_slugs(value, known_topics, _TOPIC_HINT),
            cells.get("topics"),
        )
        number = check.get("whatsapp", phone, cells["whatsapp"])
        consent_at = check.get("consent_date", consent, cells["consent_date"])
        if number is not None and number in first_line:
            check.fail("whatsapp", f"{number} is already used at line {first_line[number]}")
        elif number is not None:
            first_line[number] = row.line
        if (
            check.ok
            and name is not None
            and company_id is not None
            and topics is not None
            and number is not None
            and consent_at is not None
        ):
            entries.append(
                ContactEntry(name, company_id, role, language, topics, number, consent_at)
            )
    return entries


def import_contacts(
    db: Database, path: Path, *, default_zone: str, region: str = "MA"
) -> ContactsSummary:
    """Read, check and store the contacts at `path`; raises FileProblem or ImportFailed."""
    problems = Problems(path.name)
    entries = read_contacts(db, path, problems, default_zone=default_zone, region=region)
    problems.raise_if_any()
    new = opted_out = 0
    with db.atomic():
        for entry in entries:
            existing = _existing(db, entry.phone)
            new += existing is None
            opted_out += existing is not None and existing.opted_out_at is not None
            contact_id = _store(db, entry, existing)
            for slug in entry.topics:
                subscriptions.subscribe(db, contact_id, slug)
            contacts.attach_identity(db, contact_id, channel="whatsapp", address=entry.phone)
        summary = ContactsSummary(Counts("contact", "contacts", new, len(entries) - new), opted_out)
        audit.record(
            db,
            actor="cli",
            action="contacts.import",
            subject=path.name,
            new=summary.contacts.new,
            updated=summary.contacts.updated,
            opted_out=opted_out,
        )
    return summary


def _existing(db: Database, phone: str) -> Contact | None:
    """The contact with this number, or the one who already wrote from it on WhatsApp."""
    found = contacts.find_by_phone(db, phone)
    if found is not None:
        return found
    identity = contacts.identity(db, "whatsapp", phone)
    return contacts.get(db, identity.contact_id) if identity else None


def _store(db: Database, entry: ContactEntry, existing: Contact | None) -> int:
    """Create or update; an empty role or language keeps what the contact already chose."""
    values: dict[str, Any] = {
        "name": entry.name,
        "company_id": entry.company_id,
        "phone": entry.phone,
        "consent_at": to_utc_text(entry.consent_at),
    }
    if entry.role is not None or existing is None:
        values["role"] = entry.role
    if entry.language is not None or existing is None:
        values["language"] = entry.language
    if existing is None:
        # Topics chosen on the mailing list count as the onboarding's topics step.
        state = {"topics_chosen": True} if entry.topics else {}
        return contacts.create(db, **values, state=state)
    contacts.update(db, existing.id, **values)
    return existing.id

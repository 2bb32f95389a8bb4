"""One person on two channels: link codes, merging two contacts, the preferred channel.

A person who first wrote on WhatsApp and later on Telegram starts as two contacts. They
become one when the person proves both are theirs (the same phone number, or a one-time code
said on the other side): the identities, topics, registrations and outbox rows of one
contact move onto the other, whose empty fields are filled from it, and the first is deleted.

A code is the key to someone's profile, and any outstanding code matches whoever says it, so
guessing is made hopeless: a code has ten digits (10^10 values, valid ten minutes), and an
identity that says MAX_FAILURES wrong codes within FAILURE_WINDOW cannot link for LOCKOUT.
Each wrong code and each lockout is audited. With every identity held to 5 guesses an hour,
one identity guessing for a year against 10 codes outstanding at every moment succeeds with
odds of about 4 in 100,000.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage import audit
from storage.zones import from_utc_text, now_utc, to_utc_text

CODE_TTL = timedelta(minutes=10)
CODE_DIGITS = 10
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCKOUT = timedelta(hours=1)
# The channels one person may join into one profile (the console is for trying the bot).
CHANNELS = ("telegram", "whatsapp")
# Fields copied from the absorbed contact when the kept one has none.
_FILLED = ("name", "role", "company_id", "company_other", "language", "phone", "consent_at")


def issue_code(
    db: Database, contact_id: int, channel: str, *, now: datetime, ttl: timedelta = CODE_TTL
) -> str:
    """A fresh code of CODE_DIGITS digits for `contact_id`, replacing any earlier one, valid
    for `ttl`."""
    with db.atomic():
        db.execute(
            "DELETE FROM link_codes WHERE contact_id = ? OR expires_at < ?",
            [contact_id, to_utc_text(now)],
        )
        while True:
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            cursor = db.execute(
                "INSERT OR IGNORE INTO link_codes (code, contact_id, channel, expires_at)"
                " VALUES (?, ?, ?, ?)",
                [code, contact_id, channel, to_utc_text(now + ttl)],
            )
            if cursor.rowcount:
                return code


@dataclass(frozen=True)
class Redeemed:
    """The code was good: it was issued to `contact_id` on `channel`, and is now used up."""

    contact_id: int
    channel: str


@dataclass(frozen=True)
class Refused:
    """No link: the code is wrong or expired (counted), or the identity is locked out.
    `locked_until` is set when the identity may not link before then."""

    locked_until: datetime | None = None


def redeem_code(
    db: Database, code: str, *, channel: str, address: str, now: datetime, actor: str
) -> Redeemed | Refused:
    """Use `code`, said by the identity (`channel`, `address`): once, and only while that
    identity is not locked out. A wrong or expired code counts against the identity and is
    audited (`link.code_refused`); the MAX_FAILURES-th within FAILURE_WINDOW locks it out for
    LOCKOUT (`link.locked`). Said while locked, a code is not even looked at."""
    stamp = to_utc_text(now)
    with db.atomic():
        attempts = db.execute(
            "SELECT failures, first_failed_at, locked_until FROM link_attempts"
            " WHERE channel = ? AND address = ?",
            [channel, address],
        ).fetchone()
        failures, first_failed_at, locked_until = attempts or (0, None, None)
        if locked_until is not None and from_utc_text(locked_until) > now:
            return Refused(from_utc_text(locked_until))
        row = db.execute(
            "SELECT contact_id, channel, expires_at FROM link_codes WHERE code = ?", [code]
        ).fetchone()
        if row is not None:
            db.execute("DELETE FROM link_codes WHERE code = ?", [code])
            if from_utc_text(row[2]) >= now:
                return Redeemed(row[0], row[1])
        if first_failed_at is None or from_utc_text(first_failed_at) <= now - FAILURE_WINDOW:
            failures, first_failed_at = 0, stamp
        failures += 1
        locked = now + LOCKOUT if failures >= MAX_FAILURES else None
        db.execute(
            """
            INSERT INTO link_attempts (channel, address, failures, first_failed_at, locked_until)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (channel, address) DO UPDATE SET failures = excluded.failures,
                first_failed_at = excluded.first_failed_at, locked_until = excluded.locked_until
            """,
            [
                channel,
                address,
                0 if locked else failures,
                None if locked else first_failed_at,
                to_utc_text(locked) if locked else None,
            ],
        )
        # The channel, not the address: an audit entry outlives an erasure, a number must not.
        subject = f"identity:{channel}"
        audit.record(
            db,
            actor=actor,
            action="link.code_refused",
            subject=subject,
            reason="expired" if row is not None else "unknown",
            failures=failures,
        )
        if locked:
            audit.record(
                db,
                actor=actor,
                action="link.locked",
                subject=subject,
                until=to_utc_text(locked),
                failures=failures,
            )
        _forget_old_attempts(db, now)
    return Refused(locked)


def _forget_old_attempts(db: Database, now: datetime) -> None:
    """Rows of identities neither locked nor counting any more: nothing to remember."""
    db.execute(
        "DELETE FROM link_attempts WHERE coalesce(locked_until, first_failed_at) < ?",
        [to_utc_text(now - max(FAILURE_WINDOW, LOCKOUT))],
    )


def channels_of(db: Database, contact_id: int) -> set[str]:
    rows = db.execute(
        "SELECT DISTINCT channel FROM identities WHERE contact_id = ?", [contact_id]
    ).fetchall()
    return {row[0] for row in rows}


def has_history(db: Database, contact_id: int) -> bool:
    """Whether merging this contact away would hide something: registrations, outbox rows."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM registrations WHERE contact_id = ?)"
        " OR EXISTS (SELECT 1 FROM deliveries WHERE contact_id = ?)",
        [contact_id, contact_id],
    ).fetchone()
    return bool(row[0])


def merge(db: Database, *, keep: int, absorb: int, actor: str) -> None:
    """Move everything of contact `absorb` onto contact `keep`, then delete `absorb`.

    Where both have a row (a subscription, a registration for the same session, an outbox
    row for the same announcement and channel), `keep`'s stays. Audited.
    """
    if keep == absorb:
        return
    with db.atomic():
        columns = ", ".join(_FILLED)
        kept = db.execute(f"SELECT {columns} FROM contacts WHERE id = ?", [keep]).fetchone()
        gone = db.execute(f"SELECT {columns} FROM contacts WHERE id = ?", [absorb]).fetchone()
        if kept is None or gone is None:
            raise ValueError(f"no such contact: {keep if kept is None else absorb}")
        fills = {
            name: theirs
            for name, ours, theirs in zip(_FILLED, kept, gone, strict=True)
            if ours is None and theirs is not None
        }
        # A STOP said on either side still stands for the one person they turn out to be.
        (kept_out,), (gone_out,) = (
            db.execute("SELECT opted_out_at FROM contacts WHERE id = ?", [contact]).fetchone()
            for contact in (keep, absorb)
        )
        if kept_out is None and gone_out is not None:
            fills["opted_out_at"] = gone_out
        for table in ("identities", "link_codes"):
            db.execute(f"UPDATE {table} SET contact_id = ? WHERE contact_id = ?", [keep, absorb])
        for table in ("subscriptions", "registrations", "deliveries"):
            db.execute(
                f"UPDATE OR IGNORE {table} SET contact_id = ? WHERE contact_id = ?", [keep, absorb]
            )
        db.execute("DELETE FROM contacts WHERE id = ?", [absorb])
        if fills:
            assignments = ", ".join(f"{name} = ?" for name in fills)
            db.execute(
                f"UPDATE contacts SET {assignments}, updated_at = ? WHERE id = ?",
                [*fills.values(), to_utc_text(now_utc()), keep],
            )
        audit.record(
            db, actor=actor, action="contacts.merge", subject=f"contact:{keep}", absorbed=absorb
        )


def preferred_channel(db: Database, contact_id: int) -> str | None:
    row = db.execute("SELECT preferred_channel FROM contacts WHERE id = ?", [contact_id]).fetchone()
    return row[0] if row else None


def set_preferred_channel(db: Database, contact_id: int, channel: str | None) -> None:
    """Where notifications go first (None: the channel the person used last)."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"not a channel: {channel!r}")
    db.execute("UPDATE contacts SET preferred_channel = ? WHERE id = ?", [channel, contact_id])


def notification_identity(db: Database, contact_id: int) -> tuple[int, str, str] | None:
    """(identity id, channel, address) a notification goes to: the preferred channel when
    active, else the one the person used last."""
    row = db.execute(
        """
        SELECT i.id, i.channel, i.address FROM identities i JOIN contacts c ON c.id = i.contact_id
        WHERE i.contact_id = ? AND i.active = 1 AND i.channel IN ('telegram', 'whatsapp')
        ORDER BY i.channel IS c.preferred_channel DESC, i.last_inbound_at IS NULL,
                 i.last_inbound_at DESC, i.id
        LIMIT 1
        """,
        [contact_id],
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None

"""Numbered schema steps. Never edit a step that has shipped: add the next one.

Every time is UTC text (`storage.zones.to_utc_text`); JSON columns hold per-language texts.
"""

from __future__ import annotations

import re

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("formabot")


@MIGRATIONS(name="0001_members_and_catalogue")
def _members_and_catalogue(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE companies (
            id INTEGER PRIMARY KEY,
            member_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            city TEXT NOT NULL DEFAULT '',
            sector TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX companies_name ON companies (name COLLATE NOCASE);

        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            name TEXT,
            role TEXT CHECK (role IN ('manager', 'trainee')),
            company_id INTEGER REFERENCES companies (id) ON DELETE SET NULL,
            company_other TEXT,
            language TEXT CHECK (language IN ('fr', 'ar', 'en')),
            phone TEXT,
            consent_at TEXT,
            opted_out_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL;

        CREATE TABLE identities (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            channel TEXT NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'console')),
            address TEXT NOT NULL,
            chat_id TEXT,
            last_inbound_at TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (channel, address)
        );
        CREATE INDEX identities_contact ON identities (contact_id);

        CREATE TABLE topics (
            slug TEXT PRIMARY KEY,
            names TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            titles TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            timezone TEXT NOT NULL,
            place TEXT NOT NULL DEFAULT '',
            capacity INTEGER NOT NULL CHECK (capacity >= 0),
            status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX sessions_starts ON sessions (starts_at);

        CREATE TABLE session_topics (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            topic_slug TEXT NOT NULL REFERENCES topics (slug) ON DELETE CASCADE,
            PRIMARY KEY (session_id, topic_slug)
        );

        CREATE TABLE subscriptions (
            contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            topic_slug TEXT NOT NULL REFERENCES topics (slug) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            PRIMARY KEY (contact_id, topic_slug)
        );
        CREATE INDEX subscriptions_topic ON subscriptions (topic_slug);
        """
    )


@MIGRATIONS(name="0002_registrations_coordinators_audit")
def _registrations_coordinators_audit(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE registrations (
            id INTEGER PRIMARY KEY,
            contact_id INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN (
                'interested', 'registered', 'waitlisted', 'confirmed', 'declined',
                'cancelled', 'attended', 'no_show')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            interested_at TEXT,
            registered_at TEXT,
            waitlisted_at TEXT,
            confirmed_at TEXT,
            declined_at TEXT,
            cancelled_at TEXT,
            attended_at TEXT,
            no_show_at TEXT
        );
        CREATE UNIQUE INDEX registrations_once ON registrations (contact_id, session_id)
            WHERE contact_id IS NOT NULL;
        CREATE INDEX registrations_session ON registrations (session_id, status);

        CREATE TABLE coordinators (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'console')),
            address TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL,
            UNIQUE (channel, address)
        );

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        """
    )


@MIGRATIONS(name="0003_conversation_state_and_counts")
def _conversation_state_and_counts(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE contacts ADD COLUMN state TEXT NOT NULL DEFAULT '{}';

        CREATE TABLE anonymous_counts (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@MIGRATIONS(name="0004_announcements_and_deliveries")
def _announcements_and_deliveries(db: Database) -> None:
    # A reminder is an announcement row derived from its session: `offset_key` ("7d", "2h",
    # "cancel") makes it unique per session, so recomputing never doubles one. A delivery's
    # UNIQUE (announcement_id, contact_id, channel) is the outbox's idempotency key.
    db.executescript(
        """
        CREATE TABLE announcements (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN (
                'announcement', 'reminder', 'confirm_request', 'cancellation', 'promotion')),
            texts TEXT NOT NULL DEFAULT '{}',
            audience TEXT NOT NULL DEFAULT '{}',
            session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE,
            offset_key TEXT,
            due_at TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN (
                'scheduled', 'sending', 'sent', 'cancelled', 'missed')),
            note TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX announcements_due ON announcements (status, due_at);
        CREATE UNIQUE INDEX announcements_session_offset ON announcements (session_id, offset_key)
            WHERE offset_key IS NOT NULL;

        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
            contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            identity_id INTEGER REFERENCES identities (id) ON DELETE SET NULL,
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT 'fr',
            urgent INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
                'pending', 'sending', 'sent', 'delivered', 'read', 'failed', 'skipped',
                'unknown')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            provider_message_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sending_at TEXT,
            sent_at TEXT,
            UNIQUE (announcement_id, contact_id, channel)
        );
        CREATE INDEX deliveries_due ON deliveries (channel, status, next_attempt_at);
        CREATE INDEX deliveries_announcement ON deliveries (announcement_id, status);
        CREATE INDEX deliveries_provider ON deliveries (provider_message_id)
            WHERE provider_message_id IS NOT NULL;
        """
    )


@MIGRATIONS(name="0005_report_notices", transactional=False)
def _report_notices(db: Database) -> None:
    # The final report sent to a coordinator is an outbox row like any other, of kind
    # 'report'.
    _widen_announcement_kinds(db, "0005_report_notices", after="promotion", kind="report")


def _widen_announcement_kinds(db: Database, step: str, *, after: str, kind: str) -> None:
    """Add `kind` to the announcements' CHECK, after `after`. SQLite cannot alter a CHECK
    constraint: the table is rebuilt (SQLite's 12-step procedure), with foreign keys off so
    that dropping the old table does not cascade to the deliveries that point at it.
    Idempotent if interrupted."""
    (sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'announcements'"
    ).fetchone()
    if f"'{kind}'" in sql:
        return
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            db.execute("DROP TABLE IF EXISTS announcements_new")
            # After a rebuild's rename SQLite keeps the name quoted: CREATE TABLE "announcements".
            db.execute(
                re.sub(
                    r'^CREATE TABLE "?announcements"?', "CREATE TABLE announcements_new", sql
                ).replace(f"'{after}')", f"'{after}', '{kind}')", 1)
            )
            db.execute("INSERT INTO announcements_new SELECT * FROM announcements")
            db.execute("DROP TABLE announcements")
            db.execute("ALTER TABLE announcements_new RENAME TO announcements")
            db.execute("CREATE INDEX announcements_due ON announcements (status, due_at)")
            db.execute(
                "CREATE UNIQUE INDEX announcements_session_offset ON announcements"
                " (session_id, offset_key) WHERE offset_key IS NOT NULL"
            )
            if db.execute("PRAGMA foreign_key_check").fetchall():
                raise RuntimeError(f"{step}: foreign keys broken, rolled back")
    finally:
        db.execute("PRAGMA foreign_keys = ON")


@MIGRATIONS(name="0006_whatsapp")
def _whatsapp(db: Database) -> None:
    # Twilio retries a webhook it thinks failed: each MessageSid handled is kept (pruned after
    # a few days) so a retry is answered but not handled twice. A link code joins a person's
    # two channels; `preferred_channel` is where notifications go first (NULL: the last used).
    db.executescript(
        """
        CREATE TABLE inbound_messages (
            message_sid TEXT PRIMARY KEY,
            received_at TEXT NOT NULL
        );
        CREATE INDEX inbound_messages_received ON inbound_messages (received_at);

        CREATE TABLE link_codes (
            code TEXT PRIMARY KEY,
            contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            channel TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX link_codes_contact ON link_codes (contact_id);

        ALTER TABLE contacts ADD COLUMN preferred_channel TEXT
            CHECK (preferred_channel IN ('telegram', 'whatsapp'));
        """
    )


@MIGRATIONS(name="0007_link_attempts")
def _link_attempts(db: Database) -> None:
    # Link codes can be guessed: an identity (channel, address) that says wrong codes is
    # counted here, and locked out of linking for a while after a handful
    # (storage.account_links).
    db.executescript(
        """
        CREATE TABLE link_attempts (
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            first_failed_at TEXT,
            locked_until TEXT,
            PRIMARY KEY (channel, address)
        );
        """
    )


@MIGRATIONS(name="0008_notices", transactional=False)
def _notices(db: Database) -> None:
    # A notice is a short message to one person, already worded in their language (their
    # link code was used), sent through the outbox like a report: kind 'notice'.
    _widen_announcement_kinds(db, "0008_notices", after="report", kind="notice")


@MIGRATIONS(name="0009_deliveries_indexes_that_do_not_grow")
def _deliveries_indexes_that_do_not_grow(db: Database) -> None:
    # Questions whose cost grew with the deliveries table, answered from an index instead:
    # the urgent rows due during quiet hours (the dispatcher's poll, `/healthz`, `/metrics`)
    # read every pending row's table entry for its `urgent` column: 100,000 lookups per poll
    # during a broadcast; the partial index holds only the urgent pending rows. Erasing or
    # merging a contact (ON DELETE CASCADE / SET NULL, `links.has_history`) scanned the whole
    # table once per contact and identity.
    db.executescript(
        """
        CREATE INDEX deliveries_urgent_due ON deliveries (channel, next_attempt_at)
            WHERE status = 'pending' AND urgent = 1;
        CREATE INDEX deliveries_contact ON deliveries (contact_id);
        CREATE INDEX deliveries_identity ON deliveries (identity_id)
            WHERE identity_id IS NOT NULL;
        """
    )


@MIGRATIONS(name="0010_health_probe")
def _health_probe(db: Database) -> None:
    # `/healthz` proves that the database takes a write by committing one (a probe rolled
    # back before SQLite writes a page could not see a full disk): one row, replaced.
    db.execute(
        "CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " checked_at TEXT NOT NULL)"
    )


@MIGRATIONS(name="0011_release_lease")
def _release_lease(db: Database) -> None:
    # Who is writing an announcement's delivery rows, until when (`storage.outbox.release`):
    # `formabot announce` and the running bot's scheduler (which sees a due `scheduled` row
    # within a second) wrote the same 100,000 rows at once, holding the write lock twice as
    # long as sending started. The writer renews the lease at each page; a lease left by a
    # process that died lapses, and the next release resumes the rows missing.
    db.execute("ALTER TABLE announcements ADD COLUMN releasing_until TEXT")

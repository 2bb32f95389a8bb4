"""A large audience, written fast: N consenting contacts with one Telegram identity each.

Bulk inserts in one transaction (the handlers' path would take minutes for 50,000 people);
what is written is what onboarding leaves behind, so the audience query selects them all.
"""

from __future__ import annotations

import json
from pathlib import Path

from storage import open_database
from storage.zones import now_utc, to_utc_text

FIRST_ID = 1_000_000  # contact ids (and Telegram ids) far above the fixtures' own


def seed_crowd(path: Path, count: int) -> None:
    stamp = to_utc_text(now_utc())
    state = json.dumps({"welcomed": True, "topics_chosen": True})
    db = open_database(path)
    try:
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO contacts (id, name, role, language, consent_at, state, created_at,"
                " updated_at) VALUES (?, ?, 'trainee', 'fr', ?, ?, ?, ?)",
                ((FIRST_ID + n, f"R{n}", stamp, state, stamp, stamp) for n in range(count)),
            )
            db.conn.executemany(
                "INSERT INTO identities (contact_id, channel, address, last_inbound_at,"
                " created_at) VALUES (?, 'telegram', ?, ?, ?)",
                ((FIRST_ID + n, str(FIRST_ID + n), stamp, stamp) for n in range(count)),
            )
    finally:
        db.close()

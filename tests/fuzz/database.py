"""A database for fuzzing: restored to one saved state before each input, and fingerprinted
so that a refused input can be shown to have changed nothing.

Restoring through SQLite's backup API takes well under a millisecond for these small files,
so every input meets exactly the state it was written for.
"""

from __future__ import annotations

import hashlib
import sqlite3

from sqlite_utils import Database

# Columns that change on every input by design: when a person was last heard from, and when
# a row was last touched. Whether the input was refused shows in everything else.
VOLATILE = {"identities": {"last_inbound_at"}, "contacts": {"updated_at"}}

Fingerprint = dict[str, tuple[int, str]]


class Snapshot:
    """The state of `db` now, to come back to before each input."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._saved = sqlite3.connect(":memory:", check_same_thread=False)
        db.conn.backup(self._saved)
        self.fingerprint = fingerprint(db)  # what a restored database looks like

    def restore(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.rollback()
        self._saved.backup(self.db.conn)

    def close(self) -> None:
        self._saved.close()


def _selects(db: Database) -> dict[str, str]:
    """One SELECT per table, of its lasting columns (the schema does not change while
    fuzzing, so they are worked out once per connection)."""
    cached = _SELECTS.get(id(db.conn))
    if cached is None or cached[0] is not db.conn:
        selects = {}
        for table in db.table_names():
            skipped = VOLATILE.get(table, set())
            names = [column.name for column in db[table].columns if column.name not in skipped]
            selects[table] = f"SELECT {', '.join(f'[{name}]' for name in names)} FROM [{table}]"
        cached = _SELECTS[id(db.conn)] = (db.conn, selects)
    return cached[1]


_SELECTS: dict[int, tuple[sqlite3.Connection, dict[str, str]]] = {}


def fingerprint(db: Database) -> Fingerprint:
    """Per table: its row count and a hash of its rows (volatile columns left out)."""
    prints: Fingerprint = {}
    for table, select in _selects(db).items():
        rows = sorted(repr(row) for row in db.execute(select))
        digest = hashlib.blake2b(
            "\n".join(rows).encode("utf-8", "surrogatepass"), digest_size=16
        ).hexdigest()
        prints[table] = (len(rows), digest)
    return prints


def changed(before: Fingerprint, after: Fingerprint) -> list[str]:
    """The tables whose rows differ."""
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )

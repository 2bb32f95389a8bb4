"""What a database holds, as plain values, so that "nothing changed" is one comparison."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

Fingerprint = dict[str, list[tuple[Any, ...]]]


def fingerprint(
    db: Database,
    *,
    ignore: Mapping[str, Iterable[str]] = (),
    skip_tables: Iterable[str] = (),
    skip_audit: Iterable[str] = (),
) -> Fingerprint:
    """Every row of every table, in a stable order. `ignore` leaves columns out (per table),
    `skip_tables` whole tables, `skip_audit` the audit entries of those actions."""
    ignored = {table: set(columns) for table, columns in dict(ignore).items()}
    skipped = set(skip_tables)
    audits = set(skip_audit)
    prints: Fingerprint = {}
    for table in sorted(db.table_names()):
        if table in skipped or table.startswith("sqlite_"):
            continue
        columns = [
            column.name
            for column in db[table].columns
            if column.name not in ignored.get(table, set())
        ]
        rows = db.execute(f"SELECT * FROM [{table}]").fetchall()
        names = [column.name for column in db[table].columns]
        kept = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            if table == "audit_log" and values.get("action") in audits:
                continue
            kept.append(tuple(values[column] for column in columns))
        prints[table] = sorted(kept, key=repr)
    return prints


def differences(before: Fingerprint, after: Fingerprint) -> dict[str, dict[str, list[Any]]]:
    """Per table that changed: the rows gone and the rows new (empty when nothing changed)."""
    changed = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old != new:
            changed[table] = {
                "gone": [row for row in old if row not in new],
                "new": [row for row in new if row not in old],
            }
    return changed

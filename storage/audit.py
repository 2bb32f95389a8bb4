"""The audit log of coordinator and privacy actions. Rows are never updated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.zones import now_utc, to_utc_text


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def record(db: Database, *, actor: str, action: str, subject: str = "", **details: Any) -> None:
    db.execute(
        "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
        [to_utc_text(now_utc()), actor, action, subject, json.dumps(details, ensure_ascii=False)],
    )


def entries(db: Database, *, action: str | None = None) -> list[AuditEntry]:
    where, params = ("WHERE action = ?", [action]) if action else ("", [])
    rows = db.query(f"SELECT * FROM audit_log {where} ORDER BY id", params)
    return [
        AuditEntry(
            row["id"],
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            json.loads(row["details"]),
        )
        for row in rows
    ]

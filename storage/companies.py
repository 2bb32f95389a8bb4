"""Member companies of the federation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.names import clean_name
from storage.zones import now_utc, to_utc_text


@dataclass(frozen=True)
class Company:
    id: int
    member_id: str
    name: str
    city: str
    sector: str


def _company(row: dict[str, Any]) -> Company:
    return Company(row["id"], row["member_id"], row["name"], row["city"], row["sector"])


def upsert(db: Database, *, member_id: str, name: str, city: str = "", sector: str = "") -> int:
    """Insert or update by `member_id`; returns the company's id. Name, city and sector are
    cleaned (`storage.names`) whoever gives them."""
    now = to_utc_text(now_utc())
    name, city, sector = clean_name(name), clean_name(city), clean_name(sector)
    db.execute(
        """
        INSERT INTO companies (member_id, name, city, sector, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (member_id) DO UPDATE SET
            name = excluded.name, city = excluded.city, sector = excluded.sector,
            updated_at = excluded.updated_at
        """,
        [member_id, name, city, sector, now, now],
    )
    return int(
        db.execute("SELECT id FROM companies WHERE member_id = ?", [member_id]).fetchone()[0]
    )


def get(db: Database, company_id: int) -> Company | None:
    rows = list(db.query("SELECT * FROM companies WHERE id = ?", [company_id]))
    return _company(rows[0]) if rows else None


def search(db: Database, text: str, *, limit: int = 6) -> list[Company]:
    """Companies whose name contains `text` (case-insensitive), names starting with it first."""
    needle = text.strip()
    if not needle:
        return []
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.query(
        """
        SELECT * FROM companies
        WHERE name LIKE '%' || ? || '%' ESCAPE '\\' OR member_id = ?
        ORDER BY (name LIKE ? || '%' ESCAPE '\\') DESC, name COLLATE NOCASE
        LIMIT ?
        """,
        [escaped, needle, escaped, limit],
    )
    return [_company(row) for row in rows]


def count(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM companies").fetchone()[0])


def by_member_id(db: Database, member_id: str) -> Company | None:
    rows = list(db.query("SELECT * FROM companies WHERE member_id = ?", [member_id]))
    return _company(rows[0]) if rows else None


def all_named(db: Database, name: str) -> list[Company]:
    """Every company with this exact name (case aside), to tell a match from an ambiguity."""
    rows = db.query(
        "SELECT * FROM companies WHERE name = ? COLLATE NOCASE ORDER BY member_id", [name]
    )
    return [_company(row) for row in rows]


def cities(db: Database) -> list[str]:
    """The cities member companies are in, as written in the member list."""
    rows = db.execute(
        "SELECT DISTINCT city FROM companies WHERE city != '' ORDER BY city COLLATE NOCASE"
    ).fetchall()
    return [row[0] for row in rows]

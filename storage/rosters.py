"""A session's roster: who registered, with their status and when they reached it.

One query, shared by `formabot roster` and the coordinators' `/roster` in chat; the file made
of it (headers and statuses in the reader's language, local times, cells neutralised against
formulas) is `handlers.roster.document`, so the file a coordinator downloads is the CLI's.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage import audit

COLUMNS = (
    "name",
    "company",
    "role",
    "phone",
    "status",
    "registered_at",
    "confirmed_at",
    "declined_at",
)

Row = tuple[str | None, ...]


def rows(db: Database, session_id: str) -> list[Row]:
    """The session's registrations of contacts still known (erased ones are anonymous)."""
    return [
        tuple(row)
        for row in db.execute(
            """
        SELECT c.name, coalesce(co.name, c.company_other, ''), c.role, c.phone, r.status,
               r.registered_at, r.confirmed_at, r.declined_at
        FROM registrations r JOIN contacts c ON c.id = r.contact_id
        LEFT JOIN companies co ON co.id = c.company_id
        WHERE r.session_id = ? ORDER BY r.status, c.name
        """,
            [session_id],
        ).fetchall()
    ]


def export(db: Database, session_id: str, *, actor: str) -> list[Row]:
    """The roster as a coordinator asks for it: read, and the reading audited."""
    roster = rows(db, session_id)
    audit.record(
        db, actor=actor, action="session.roster", subject=f"session:{session_id}", rows=len(roster)
    )
    return roster

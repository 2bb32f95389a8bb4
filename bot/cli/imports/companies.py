"""`formabot companies import`: the federation's member list from CSV, all or nothing.

Header `member_id,name,city,sector`; a company is matched by its member id, so a re-import
updates names and cities in place. The member id is how contacts are tied to companies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.cli.imports import fields
from bot.cli.imports.files import read_csv
from bot.cli.imports.problems import FieldError, Problems
from bot.cli.imports.summary import Counts
from storage import audit, companies

REQUIRED = ("member_id", "name")
OPTIONAL = ("city", "sector")
MEMBER_ID_MAX = 40


@dataclass(frozen=True)
class CompanyEntry:
    member_id: str
    name: str
    city: str
    sector: str


@dataclass(frozen=True)
class CompaniesSummary:
    companies: Counts

    def __str__(self) -> str:
        return f"imported {self.companies}"


def member_id(value: Any) -> str:
    text = fields.required_text(value)
    if len(text) > MEMBER_ID_MAX or any(character.isspace() for character in text):
        raise FieldError(
            f'"{text}" is not a member id: up to {MEMBER_ID_MAX} characters, no spaces'
        )
    return text


def read_companies(path: Path, problems: Problems) -> list[CompanyEntry]:
    """Checked entries; problems (bad cells, a member id used twice) go to `problems`."""
    entries: list[CompanyEntry] = []
    first_line: dict[str, int] = {}
    for row in read_csv(path, problems, required=REQUIRED, optional=OPTIONAL):
        check = row.check(problems, path.name)
        member = check.get("member_id", member_id, row.cells["member_id"])
        name = check.get("name", fields.name, row.cells["name"])
        if member is not None and member in first_line:
            check.fail("member_id", f'"{member}" is already used at line {first_line[member]}')
            continue
        if member is not None:
            first_line[member] = row.line
        city = check.get("city", fields.optional_name, row.cells.get("city"))
        sector = check.get("sector", fields.optional_name, row.cells.get("sector"))
        if check.ok and member is not None and name is not None:
            entries.append(CompanyEntry(member, name, city or "", sector or ""))
    return entries


def import_companies(db: Database, path: Path) -> CompaniesSummary:
    """Read, check and upsert the companies at `path`; raises FileProblem or ImportFailed."""
    problems = Problems(path.name)
    entries = read_companies(path, problems)
    problems.raise_if_any()
    new = 0
    with db.atomic():
        for entry in entries:
            new += companies.by_member_id(db, entry.member_id) is None
            companies.upsert(
                db,
                member_id=entry.member_id,
                name=entry.name,
                city=entry.city,
                sector=entry.sector,
            )
        summary = CompaniesSummary(Counts("company", "companies", new, len(entries) - new))
        audit.record(
            db,
            actor="cli",
            action="companies.import",
            subject=path.name,
            new=summary.companies.new,
            updated=summary.companies.updated,
        )
    return summary

"""The two forms of a catalogue file, TOML and CSV, read into `Record`s.

TOML is the form to write by hand (`[[topics]]` and `[[sessions]]` entries); CSV is the form a
spreadsheet exports, one row per topic or session, told apart by the `kind` column.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bot.cli.imports.files import CsvRow, check_suffix, read_csv, read_text
from bot.cli.imports.problems import FileProblem, Problems
from bot.cli.imports.records import Record
from bot.cli.imports.toml_lines import TomlLines

TOPIC_FIELDS = ("slug", "name")
SESSION_FIELDS = (
    "id",
    "title",
    "topics",
    "starts",
    "ends",
    "timezone",
    "place",
    "capacity",
    "status",
)
_TABLES = {"topics": ("topic", TOPIC_FIELDS), "sessions": ("session", SESSION_FIELDS)}

CSV_REQUIRED = ("kind", "id")
CSV_OPTIONAL = (
    "title_fr",
    "title_ar",
    "title_en",
    "topics",
    "starts",
    "ends",
    "timezone",
    "place",
    "capacity",
    "status",
)
_TITLE_COLUMNS = {"title_fr": "fr", "title_ar": "ar", "title_en": "en"}
_SESSION_ONLY = ("topics", "starts", "ends", "timezone", "place", "capacity", "status")


def read_records(path: Path, problems: Problems) -> list[Record]:
    """Every topic and session entry of the file, in file order, not yet validated."""
    check_suffix(path, (".toml", ".csv"))
    if path.suffix.lower() == ".toml":
        return _toml_records(path, read_text(path, (".toml",)), problems)
    return _csv_records(path, problems)


# --- TOML ---------------------------------------------------------------------------------


def _toml_records(path: Path, text: str, problems: Problems) -> list[Record]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FileProblem(f"{path.name}: not valid TOML ({error})") from error
    lines = TomlLines(text)
    for key in document:
        if key not in _TABLES:
            problems.add(
                path.name,
                None,
                f'unknown table or key "{key}"; a catalogue has [[topics]] and [[sessions]]',
            )
    records: list[Record] = []
    for table, (kind, known) in _TABLES.items():
        entries = document.get(table, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.add(path.name, None, f'"{table}" must be written as [[{table}]] entries')
            continue
        for position, entry in enumerate(entries):
            order = lines.entry_line(table, position) or len(records)
            records.append(_toml_record(path.name, lines, table, kind, position, entry, order))
            for key in entry:
                if key not in known:
                    records[-1].check(problems).fail(
                        key, f"unknown field; a {kind} has {', '.join(known)}"
                    )
    if not records and not len(problems):
        raise FileProblem(f"{path.name}: no [[topics]] or [[sessions]] entries, nothing to import")
    return records


def _toml_record(
    source: str,
    lines: TomlLines,
    table: str,
    kind: str,
    position: int,
    entry: dict[str, Any],
    order: int,
) -> Record:
    def where(field: str) -> str:
        line = lines.field_line(table, position, field) if field else None
        line = line or lines.entry_line(table, position)
        place = f"{table}[{position + 1}]"
        return f"{place} (line {line})" if line else place

    return Record(kind, dict(entry), source, where, order)


# --- CSV ----------------------------------------------------------------------------------


def _csv_records(path: Path, problems: Problems) -> list[Record]:
    rows = read_csv(path, problems, required=CSV_REQUIRED, optional=CSV_OPTIONAL)
    if rows and not any(column in rows[0].cells for column in ("title_fr", "title_en")):
        raise FileProblem(
            f"{path.name}: missing column title_fr or title_en; every topic and session needs"
            " a French or English title"
        )
    return [_csv_record(path.name, row, problems) for row in rows]


def _csv_record(source: str, row: CsvRow, problems: Problems) -> Record:
    cells = row.cells
    kind = cells.get("kind", "").lower()
    titles = {lang: cells.get(column, "") for column, lang in _TITLE_COLUMNS.items()}
    title_column = "title_fr" if "title_fr" in cells else "title_en"

    def where(_field: str) -> str:
        return f"line {row.line}"

    if kind == "topic":
        record = Record(
            "topic",
            {"slug": cells["id"], "name": titles},
            source,
            where,
            row.line,
            {"slug": "id", "name": title_column},
        )
        check = record.check(problems)
        for column in _SESSION_ONLY:
            if cells.get(column):
                check.fail(column, "a topic row has no such value; leave the cell empty")
        return record
    values: dict[str, Any] = {
        column: cells[column] for column in _SESSION_ONLY if cells.get(column)
    }
    values.update(id=cells["id"], title=titles)
    record = Record("session", values, source, where, row.line, {"title": title_column})
    if kind != "session":
        shown = f'"{cells["kind"]}" is not' if cells.get("kind") else "is empty; expected"
        record.check(problems).fail("kind", f"{shown} topic or session")
    return record

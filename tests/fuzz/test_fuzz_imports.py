"""The importers (catalogue CSV and TOML, companies, contacts) given files with one cell or
field changed to anything, and files that are not what they claim at all.

A good file imports; a bad one raises `FileProblem` (one line naming the file) or
`ImportFailed`, whose errors name the line and the field that was changed; either way the
database is left as it was. Nothing else is ever raised.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.cli.imports import (
    FileProblem,
    ImportFailed,
    import_catalogue,
    import_companies,
    import_contacts,
)
from tests.fuzz.database import Snapshot, changed, fingerprint
from tests.fuzz.errors import Errors
from tests.fuzz.fuzzing import FUZZ, TEXT
from tests.fuzz.tally import count

DATA = Path(__file__).resolve().parents[1] / "data"
ZONE = "Africa/Casablanca"

Importer = Callable[[Database, Path], object]
IMPORTERS: dict[str, Importer] = {
    "catalogue.csv": lambda db, path: import_catalogue(db, path, default_zone=ZONE),
    "catalogue.toml": lambda db, path: import_catalogue(db, path, default_zone=ZONE),
    "companies.csv": import_companies,
    "contacts.csv": lambda db, path: import_contacts(db, path, default_zone=ZONE),
}

# Dates and times near the ends of the calendar, with and without a UTC offset: the
# conversions to and from UTC must refuse them, not overflow.
MOMENTS = st.builds(
    lambda day, clock, offset: f"{day}{clock}{offset}",
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-12-10", "2026-02-30"]),
    st.sampled_from(["", "T00:00", "T23:59", " 10:00", "T24:00"]),
    st.sampled_from(["", "Z", "+14:00", "-12:00"]),
)
FAR_ZONES = st.sampled_from(
    ["", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo", "America/Adak", "Europe/Paris", "Africa"]
)
VALUES = st.one_of(
    TEXT,
    MOMENTS,
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e3",
            "12.5",
            "٣",
            "²",
            "9" * 30,
            "true",
            "2026-12-10T10:00",
            "2026-12-10 10:00",
            "2026-12-10T10:00+01:00",
            "2026-12-10T10:00Z",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "0001-01-01",
            "9999-12-31",
            "0001-01-01T00:00+05:00",
            "9999-12-31T23:59-05:00",
            "2026-03-29T02:30",
            "2026-02-30",
            "2026-01-15T25:00",
            "2099-01-01",
            "2026-01-15",
            "٢٠٢٦-٠١-١٥",
            "Africa",
            "Europe/Paris",
            "Pacific/Kiritimati",
            "UTC",
            "soudage",
            "soudage;usinage",
            "nothing",
            "soudage,soudage",
            "M-0001",
            "Atlas Métallurgie",
            "06 12 34 56 78",
            "+212 7 12 34 56 78",
            "0612",
            "manager",
            "ADMIN",
            "fr",
            "xx",
            "scheduled",
            "CANCELLED",
            "topic",
            "session",
            "tig-2026-12",
            "Tig_2027",
            "a" * 41,
        ]
    ),
)


@dataclass
class Importing:
    db: Database
    snapshot: Snapshot
    directory: Path


@pytest.fixture
def importing(programme: Database, scratch: Path) -> Iterator[Importing]:
    """The suite's programme with the sample companies and catalogue: every sample file
    imports cleanly into it, so a changed cell is the only thing wrong."""
    import_companies(programme, DATA / "companies.csv")
    import_catalogue(programme, DATA / "catalogue.toml", default_zone=ZONE)
    snapshot = Snapshot(programme)
    yield Importing(programme, snapshot, scratch)
    snapshot.close()


def _import(importing: Importing, errors: Errors, name: str, content: bytes) -> Exception | None:
    """Import `content` as a file called `name`: the refusal, or None when it was imported.
    A refused file must leave the database as it was."""
    importing.snapshot.restore()
    path = importing.directory / name
    path.write_bytes(content)
    try:
        IMPORTERS[name](importing.db, path)
    except FileProblem as problem:
        message = str(problem)
        assert message.startswith(name) and "\n" not in message, message
        refusal: Exception | None = problem
    except ImportFailed as failed:
        assert failed.errors and failed.source == name
        assert all("\n" not in str(error) and "\r" not in str(error) for error in failed.errors)
        refusal = failed
    else:
        refusal = None
    finally:
        path.unlink()  # writing a new file is ten times faster than overwriting one
    errors.check(name)
    if refusal is not None:
        tables = changed(importing.snapshot.fingerprint, fingerprint(importing.db))
        assert tables == [], f"refused ({refusal}) but changed {tables}"
    return refusal


# --- CSV with one cell changed ------------------------------------------------------------


def _csv_rows(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((DATA / name).read_text(encoding="utf-8"))))


def _write_csv(rows: list[list[str]], delimiter: str, ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(rows)
    return out.getvalue()


CSV_FILES = ["catalogue.csv", "companies.csv", "contacts.csv"]
# The fields an error may name when a cell of this column was changed (a changed `kind`
# turns the row into another kind, whose every field may then be wrong): a title is named
# by the row's first title column, a time by the zone it is read in and the end after it.
RELATED = {
    "title_en": {"title_en", "title_fr"},
    "title_ar": {"title_ar", "title_fr"},
    "timezone": {"timezone", "starts", "ends"},
    "starts": {"starts", "ends"},
}


@settings(FUZZ, max_examples=600)
@given(
    name=st.sampled_from(CSV_FILES),
    data=st.data(),
    value=VALUES,
    delimiter=st.sampled_from([",", ";"]),
    ending=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_a_csv_with_one_cell_changed(
    importing: Importing,
    errors: Errors,
    name: str,
    data: st.DataObject,
    value: str,
    delimiter: str,
    ending: str,
    bom: bool,
) -> None:
    count(f"bot.cli.imports {name}")
    rows = _csv_rows(name)
    row = data.draw(st.integers(1, len(rows) - 1), label="row")
    column = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    rows[row][column] = value
    text = _write_csv(rows, delimiter, ending)
    if delimiter == ";" and text.splitlines()[0].count(",") >= text.splitlines()[0].count(";"):
        return  # a header that reads as comma-separated: not the case under test
    refusal = _import(
        importing,
        errors,
        name,
        ("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass"),
    )
    if not isinstance(refusal, ImportFailed) or re.search(r"[\r\n\x00]", value):
        return  # imported, or a file problem (checked above), or a value that moves lines
    line = 1 + row  # one header line, then one line per row
    for error in refusal.errors:
        here = error.where == f"{name} line {line}"
        assert here or f"line {line}" in error.message, (value, str(error))
        if here and error.field is not None and rows[0][column] != "kind":
            assert error.field in RELATED.get(rows[0][column], {rows[0][column]}), (
                rows[0][column],
                value,
                str(error),
            )


@settings(FUZZ, max_examples=250)
@given(data=st.data(), moment=MOMENTS, zone_name=FAR_ZONES)
def test_a_csv_with_a_moment_at_the_ends_of_the_calendar(
    importing: Importing, errors: Errors, data: st.DataObject, moment: str, zone_name: str
) -> None:
    name, column = data.draw(
        st.sampled_from(
            [
                ("catalogue.csv", "starts"),
                ("catalogue.csv", "ends"),
                ("contacts.csv", "consent_date"),
            ]
        ),
        label="cell",
    )
    count(f"bot.cli.imports {name}")
    rows = _csv_rows(name)
    row = data.draw(st.integers(1, len(rows) - 1), label="row")
    rows[row][rows[0].index(column)] = moment
    if "timezone" in rows[0]:
        rows[row][rows[0].index("timezone")] = zone_name
    refusal = _import(importing, errors, name, _write_csv(rows, ",", "\n").encode())
    if isinstance(refusal, ImportFailed):
        assert {error.where for error in refusal.errors} == {f"{name} line {row + 1}"}


# --- TOML with one field changed ----------------------------------------------------------


def _toml_value(value: Any) -> str:
    """`value` written as TOML (strings as JSON strings, which TOML reads the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("inf", "inf").replace("nan", "nan")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(
                f"{json.dumps(str(key), ensure_ascii=False)} = {_toml_value(item)}"
                for key, item in value.items()
            )
            + " }"
        )
    return json.dumps(value, ensure_ascii=False)


TOML_VALUES = st.recursive(
    st.one_of(
        VALUES,
        st.integers(-(2**63), 2**63 - 1),
        st.floats(),
        st.booleans(),
        st.dates(),
        st.datetimes(),
        st.times(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["fr", "ar", "en", "de", "", "FR"]), inner, max_size=3),
    ),
    max_leaves=6,
)
ENTRY_FIELDS = [
    "slug",
    "name",
    "id",
    "title",
    "topics",
    "starts",
    "ends",
    "timezone",
    "place",
    "capacity",
    "status",
    "capcity",
    "title.fr",
]


@settings(FUZZ, max_examples=300)
@given(data=st.data(), field=st.sampled_from(ENTRY_FIELDS), value=TOML_VALUES, remove=st.booleans())
def test_a_toml_catalogue_with_one_field_changed(
    importing: Importing, errors: Errors, data: st.DataObject, field: str, value: Any, remove: bool
) -> None:
    count("bot.cli.imports catalogue.toml")
    document = tomllib.loads((DATA / "catalogue.toml").read_text(encoding="utf-8"))
    table = data.draw(st.sampled_from(["topics", "sessions"]), label="table")
    position = data.draw(st.integers(0, len(document[table]) - 1), label="entry")
    entry = document[table][position]
    if remove:
        entry.pop(field, None)
    else:
        entry[field] = value
    lines: list[str] = []
    for name, entries in document.items():
        for each in entries:
            lines += [
                f"[[{name}]]",
                *(
                    f"{json.dumps(key, ensure_ascii=False)} = {_toml_value(item)}"
                    for key, item in each.items()
                ),
                "",
            ]
    text = "\n".join(lines)
    refusal = _import(importing, errors, "catalogue.toml", text.encode("utf-8", "surrogatepass"))
    if not isinstance(refusal, ImportFailed):
        return
    place = f"catalogue.toml {table}[{position + 1}]"
    for error in refusal.errors:
        here = error.where.startswith(place)
        assert here or f"{table}[{position + 1}]" in error.message, (field, value, str(error))
        if here:
            assert error.field in (field, None) or field.startswith(f"{error.field}."), (
                field,
                value,
                str(error),
            )


# --- files that are not what they claim ---------------------------------------------------

LINES = st.lists(
    st.lists(
        st.one_of(
            VALUES,
            st.sampled_from(
                [
                    "kind",
                    "id",
                    "title_fr",
                    "member_id",
                    "name",
                    "company",
                    "whatsapp",
                    "consent_date",
                    "[[sessions]]",
                    "[[topics]]",
                    'slug = "x"',
                    "id = 1",
                    '"',
                ]
            ),
        ),
        max_size=6,
    ),
    max_size=6,
)


@settings(FUZZ, max_examples=250)
@given(
    name=st.sampled_from(sorted(IMPORTERS)),
    content=st.one_of(
        st.binary(max_size=200),
        LINES.map(
            lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
        ),
        LINES.map(
            lambda rows: "\n".join(" = ".join(row) for row in rows).encode("utf-8", "surrogatepass")
        ),
    ),
)
def test_a_file_of_anything(
    importing: Importing, errors: Errors, name: str, content: bytes
) -> None:
    count(f"bot.cli.imports {name}")
    _import(importing, errors, name, content)

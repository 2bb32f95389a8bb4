"""Reading import files: the checks every importer shares, and CSV rows with their line numbers.

Spreadsheets save CSV in many ways; these are accepted: UTF-8 with or without the BOM Excel
writes, and `,` or `;` between cells (French Excel uses `;`), detected from the header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.cli.imports.problems import FileProblem, Problems, RowCheck


@dataclass(frozen=True)
class CsvRow:
    """One data row: its first line in the file, and its cells by column name."""

    line: int
    cells: dict[str, str]

    def where(self, source: str) -> str:
        return f"{source} line {self.line}"

    def check(self, problems: Problems, source: str) -> RowCheck:
        """A checker whose errors all name this row's line."""
        return RowCheck(problems, lambda _field: self.where(source), order=self.line)


def check_suffix(path: Path, suffixes: Sequence[str]) -> None:
    """The extension says the format; anything else is refused before the file is opened."""
    if path.suffix.lower() not in suffixes:
        found = path.suffix or "no extension"
        raise FileProblem(f"{path.name}: expected a {' or '.join(suffixes)} file, found {found}")


def read_text(path: Path, suffixes: Sequence[str]) -> str:
    """The text of `path`, refusing a wrong extension, a missing file, non-UTF-8 or no content."""
    check_suffix(path, suffixes)
    if not path.exists():
        raise FileProblem(f"{path}: no such file")
    if path.is_dir():
        raise FileProblem(f"{path}: is a folder, not a file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"{path.name}: not UTF-8 text (byte {error.start}); save it again as"
            ' "CSV UTF-8" or UTF-8 text'
        ) from error
    except OSError as error:
        raise FileProblem(f"{path}: cannot be read ({error.strerror})") from error
    if not text.strip():
        raise FileProblem(f"{path.name}: the file is empty")
    return text


def read_csv(
    path: Path,
    problems: Problems,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> list[CsvRow]:
    """The data rows of a CSV file whose header has every `required` column.

    Column names are matched without regard to case or surrounding spaces; an unknown column
    is refused, since it is most often a misspelt one whose values would be silently lost.
    Columns with an empty name (trailing separators) are ignored.
    Cells are stripped; wholly blank rows are skipped; a row with more cells than the header
    is recorded in `problems`; missing trailing cells count as empty.
    """
    text = read_text(path, (".csv",))
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except csv.Error as error:
        raise FileProblem(f"{path.name}: the header is not valid CSV ({error})") from error
    except StopIteration as error:  # only separators: "," or ";;" lines, and nothing else
        raise FileProblem(f"{path.name}: no header, only empty cells") from error
    columns = _columns(path.name, header, required, optional)
    rows: list[CsvRow] = []
    previous_end = reader.line_num
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                problems.add(
                    f"{path.name} line {line}",
                    None,
                    f"{len(cells)} cells for {len(columns)} columns; quote a value that holds"
                    f' "{delimiter}"',
                    order=line,
                )
                continue
            padded = [*cells, *([""] * (len(columns) - len(cells)))]
            named = zip(columns, padded, strict=True)
            rows.append(CsvRow(line, {name: cell.strip() for name, cell in named if name}))
    except csv.Error as error:
        raise FileProblem(f"{path.name} line {reader.line_num}: not valid CSV ({error})") from error
    if not rows and not len(problems):
        raise FileProblem(f"{path.name}: no rows below the header, nothing to import")
    return rows


def _columns(
    source: str, header: list[str], required: Sequence[str], optional: Sequence[str]
) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    expected = f"the header is: {','.join([*required, *optional])}"
    duplicates = sorted({name for name in columns if columns.count(name) > 1 and name})
    if duplicates:
        raise FileProblem(f"{source}: column {', '.join(duplicates)} appears twice; {expected}")
    unknown = [name for name in columns if name and name not in (*required, *optional)]
    missing = [name for name in required if name not in columns]
    wrong = [
        *([f"missing column {', '.join(missing)}"] if missing else []),
        *([f"unknown column {', '.join(f'{n!r}' for n in unknown)}"] if unknown else []),
    ]
    if wrong:
        raise FileProblem(f"{source}: {'; '.join(wrong)}; {expected}")
    return columns

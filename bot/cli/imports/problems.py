"""What can be wrong with an import file, collected so that the operator sees all of it at once.

Two kinds: a `FileProblem` stops reading at once (no such file, not UTF-8, no header), while
row problems are gathered in `Problems` so that one run lists every bad cell; an import with
any of them writes nothing (`ImportFailed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.oneline import one_line

T = TypeVar("T")


class FileProblem(Exception):
    """The file as a whole cannot be used; the message names the file and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class FieldError(ValueError):
    """One value is wrong; the message quotes the value and says what was expected."""


@dataclass(frozen=True)
class RowError:
    where: str  # "catalogue.csv line 4" or "catalogue.toml sessions[3] (line 17)"
    field: str | None
    message: str
    order: int = 0  # the row's line, so that errors are listed in file order

    def __str__(self) -> str:
        if self.field is None:
            return one_line(f"{self.where}: {self.message}")
        return one_line(f'{self.where}, field "{self.field}": {self.message}')


class ImportFailed(Exception):
    """Some rows were wrong, so nothing of the file was written."""

    def __init__(self, source: str, errors: tuple[RowError, ...]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in {source}")


class Problems:
    """Row errors of one file, in the order they were found."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._errors: list[RowError] = []

    def add(self, where: str, field: str | None, message: str, *, order: int = 0) -> None:
        self._errors.append(RowError(where, field, message, order))

    def __len__(self) -> int:
        return len(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            ordered = sorted(self._errors, key=lambda error: error.order)
            raise ImportFailed(self.source, tuple(ordered))


class RowCheck:
    """Checks the fields of one row, recording each failure instead of stopping at the first.

    `where(field)` says where a field is in the file: a CSV row has one line for all fields, a
    TOML entry may spread its fields over several lines.
    """

    def __init__(
        self,
        problems: Problems,
        where: Callable[[str], str],
        *,
        order: int,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self._problems = problems
        self._where = where
        self._order = order
        self._aliases = aliases or {}
        self.ok = True

    def fail(self, field: str | None, message: str) -> None:
        self.ok = False
        shown = self._aliases.get(field, field) if field is not None else None
        self._problems.add(self._where(field or ""), shown, message, order=self._order)

    def get(self, field: str, parse: Callable[[Any], T], value: Any) -> T | None:
        """`parse(value)`, or None after recording why the value is refused."""
        try:
            return parse(value)
        except FieldError as error:
            self.fail(field, str(error))
            return None

"""A row or entry of an import file before validation, with where it is in the file.

CSV rows and TOML entries become the same `Record`, so that one validator serves both forms
and an error names the CSV line, or the TOML entry and its line, of the exact field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.cli.imports.problems import Problems, RowCheck


@dataclass(frozen=True)
class Record:
    kind: str
    values: dict[str, Any]
    source: str
    position: Callable[[str], str]  # field -> "line 4" or "sessions[3] (line 17)"
    order: int  # the entry's first line, to list errors in file order
    aliases: dict[str, str] = field(default_factory=dict)  # field -> name shown (CSV column)

    def where(self, field_name: str = "") -> str:
        return f"{self.source} {self.position(field_name)}"

    def check(self, problems: Problems) -> RowCheck:
        return RowCheck(problems, self.where, order=self.order, aliases=self.aliases)

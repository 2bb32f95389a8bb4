"""Line numbers for TOML entries, which `tomllib` does not give.

An error in the third `[[sessions]]` entry is easier to fix with its line. The text is
scanned for array-of-tables headers; within an entry, a field is found by its key at the
start of a line (`starts = …`, `title.fr = …`) or by its sub-table header
(`[sessions.title]`). When nothing is found (inline arrays), only the entry is named.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")


class TomlLines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._headers: list[tuple[int, bool, str]] = []  # (line index, is array, name)
        for index, line in enumerate(self._lines):
            match = _HEADER.match(line)
            if match:
                name = match.group(2).replace('"', "").replace("'", "").replace(" ", "")
                self._headers.append((index, match.group(1) == "[[", name))

    def entry_line(self, table: str, position: int) -> int | None:
        """1-based line of the header of the `position`-th (0-based) `[[table]]` entry."""
        start = self._entry_start(table, position)
        return None if start is None else start + 1

    def field_line(self, table: str, position: int, field: str) -> int | None:
        """1-based line where `field` of that entry is set, else the entry's header line."""
        start = self._entry_start(table, position)
        if start is None:
            return None
        end = len(self._lines)
        for index, is_array, name in self._headers:
            if index <= start:
                continue
            if name == f"{table}.{field}":
                return index + 1
            if is_array or not name.startswith(f"{table}."):
                end = index
                break
        key = re.compile(rf"\s*[\"']?{re.escape(field)}[\"']?\s*[=.]")
        for index in range(start + 1, end):
            if key.match(self._lines[index]):
                return index + 1
        return start + 1

    def _entry_start(self, table: str, position: int) -> int | None:
        starts = [index for index, is_array, name in self._headers if is_array and name == table]
        return starts[position] if position < len(starts) else None

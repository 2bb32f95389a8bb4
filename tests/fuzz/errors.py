"""What was logged at ERROR while the fuzz suite ran one input."""

from __future__ import annotations

import logging


class Errors(logging.Handler):
    """What was logged at ERROR or above: an exception handled by a catch-all is a bug the
    person only sees as "something went wrong"."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self, what: object) -> None:
        """Fail naming the first error logged since the last check, then forget them."""
        records, self.records = self.records, []
        if records:
            first = records[0]
            detail = self.format(first) if first.exc_info else first.getMessage()
            raise AssertionError(f"{what!r} logged an error: {detail}")

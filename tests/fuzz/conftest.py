"""The fuzz suite: hypothesis throws generated inputs at every parser and entry point.

Each input must meet a specific answer, no traceback (nothing logged at ERROR), and, when
it is refused, a database left as it was. The number of inputs is printed at the end.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.errors import Errors
from tests.fuzz.tally import COUNTS, summary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.write_line(summary())


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


RAM_DISK = Path("/dev/shm")


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder for the thousands of files a property writes: in memory where the system has
    such a place (creating and removing files on a disk costs a millisecond each)."""
    if not RAM_DISK.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=RAM_DISK, prefix="formabot-fuzz-") as directory:
        yield Path(directory)

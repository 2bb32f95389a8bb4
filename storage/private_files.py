"""Files that hold people's data are created readable by their owner only, whatever the umask.

The database, its `-wal` and `-shm` files, every backup and every export hold phone numbers
and names. Created the usual way they get `0666 & ~umask`: under the common umask 022 every
local user may read them. So they are created here with an explicit mode — 0600 for files,
0700 for directories — and the mode is set again after creation (`fchmod`/`chmod`), because a
umask can only take bits away and some file systems or ACLs hand out more than asked.

SQLite creates a database's `-wal`, `-shm` and journal files with the mode of the database
file itself, so creating the database 0600 (`create_database_file`) is what makes them 0600.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def _write(path: str | Path, content: bytes, flags: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | flags, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(descriptor, FILE_MODE)
        handle.write(content)


def write_new(path: str | Path, content: bytes) -> None:
    """Write `content` to the new file `path`, 0600; FileExistsError if it exists."""
    _write(path, content, os.O_EXCL)


def replace(path: str | Path, content: bytes) -> None:
    """Write `content` to `path` (created or overwritten), leaving it 0600."""
    _write(path, content, os.O_TRUNC)


def create_empty(path: str | Path) -> None:
    """Create the empty file `path`, 0600, for SQLite to fill; FileExistsError if it exists."""
    write_new(path, b"")


def create_database_file(path: str | Path) -> None:
    """Before SQLite opens a database that does not exist yet: create it empty and 0600, so
    that the database and the -wal/-shm files SQLite derives from its mode are private.
    Nothing happens to a file that exists (its mode is the operator's; `doctor` warns), nor
    when it cannot be created (a missing directory, no permission): SQLite, opening it next,
    then fails with the error its callers already report."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    with contextlib.suppress(OSError):  # FileExistsError included
        create_empty(path)


def make_directory(path: str | Path) -> None:
    """Create the directory `path` (and missing parents) 0700; an existing one is left."""
    directory = Path(path)
    if directory.is_dir():
        return
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    directory.chmod(DIRECTORY_MODE)


def readable_by_everyone(path: str | Path) -> bool:
    """Whether every local user may read `path` (the "others" read bit)."""
    return bool(os.stat(path).st_mode & stat.S_IROTH)

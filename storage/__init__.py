"""SQLite storage: the only layer that names tables. Imports neither `handlers` nor `bot`."""

from __future__ import annotations

from storage import zones as _zones  # noqa: F401  (pins zoneinfo to the tzdata package)
from storage.db import open_database

__all__ = ["open_database"]

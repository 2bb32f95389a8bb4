"""Renders a delivery row with the handlers' catalogues, caching what it looks up.

A broadcast renders the same message for thousands of rows: the `Reply` is kept per
(announcement, language), so formatting dates with Babel happens a few times, not once per
recipient. The cache is forgotten every `ttl` seconds, so that a session renamed or moved
during a long broadcast shows as it is now.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from handlers.notifications import render
from handlers.types import Reply
from storage import announcements, catalogue
from storage.deliveries import Delivery

_CACHE_SIZE = 256


class Renderer:
    def __init__(self, db: Database, zone: ZoneInfo, *, ttl: float = 60.0) -> None:
        self._db = db
        self._zone = zone
        self._ttl = ttl
        self._replies: dict[tuple[int, str], Reply | None] = {}
        self._since = time.monotonic()

    def __call__(self, delivery: Delivery) -> Reply | None:
        """The message for `delivery`, or None when its announcement is gone."""
        if time.monotonic() - self._since > self._ttl or len(self._replies) >= _CACHE_SIZE:
            self._replies.clear()
            self._since = time.monotonic()
        key = (delivery.announcement_id, delivery.language)
        if key not in self._replies:
            self._replies[key] = self._render(delivery)
        return self._replies[key]

    def _render(self, delivery: Delivery) -> Reply | None:
        announcement = announcements.get(self._db, delivery.announcement_id)
        if announcement is None:
            return None
        session = None
        if announcement.session_id:
            session = catalogue.session(self._db, announcement.session_id)
        return render(announcement, session, delivery.language, self._zone)

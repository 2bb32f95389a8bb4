"""Renders a delivery row with the handlers' catalogues, caching the few rows it looks up."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlite_utils import Database

from handlers.notifications import render
from handlers.types import Reply
from storage import announcements, catalog
from storage.announcements import Announcement
from storage.catalog import Session
from storage.deliveries import Delivery

_CACHE_SIZE = 256


class Renderer:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone
        self._announcements: dict[int, Announcement | None] = {}
        self._sessions: dict[str, Session | None] = {}

    def __call__(self, delivery: Delivery) -> Reply | None:
        """The message for `delivery`, or None when its announcement is gone."""
        if delivery.announcement_id not in self._announcements:
            if len(self._announcements) > _CACHE_SIZE:
                self._announcements.clear()
                self._sessions.clear()
            self._announcements[delivery.announcement_id] = announcements.get(
                self._db, delivery.announcement_id)
        announcement = self._announcements[delivery.announcement_id]
        if announcement is None:
            return None
        session = None
        if announcement.session_id:
            if announcement.session_id not in self._sessions:
                self._sessions[announcement.session_id] = catalog.session(
                    self._db, announcement.session_id)
            session = self._sessions[announcement.session_id]
        return render(announcement, session, delivery.language, self._zone)

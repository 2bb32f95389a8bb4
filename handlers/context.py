"""What every handler is given: the database and the few settings that shape replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from handlers.brand import Brand
from handlers.flood import FloodGate
from storage.audience import DEFAULT_CHANNELS
from storage.zones import now_utc, zone


@dataclass(frozen=True)
class Context:
    db: Database
    timezone: str = "Africa/Casablanca"
    default_language: str = "fr"
    page_size: int = 5
    clock: Callable[[], datetime] = field(default=now_utc)
    # The channels notifications may go to: those the deployment serves.
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    # "21:00-08:00" or "": when non-urgent notifications wait (coordinators are told).
    quiet_hours: str = ""
    # Inbound flood control's buckets: one per running bot, shared by its channels.
    flood: FloodGate = field(default_factory=FloodGate, compare=False, repr=False)
    # Whom people read as the sender ([brand]); empty, the texts say "the federation".
    brand: Brand = field(default_factory=Brand)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def now(self) -> datetime:
        return self.clock()

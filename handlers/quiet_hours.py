"""Quiet hours in local time (e.g. "21:00-08:00"): non-urgent notifications wait for their end.

Here, not in the dispatcher alone, because a coordinator scheduling an announcement is told
when it will really go out: the outbox that holds rows back and the chat that warns about it
read the same span the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> QuietHours | None:
        """None for "" (no quiet hours); ValueError for anything but "HH:MM-HH:MM"."""
        if not text:
            return None
        match = SPAN.match(text)
        if not match:
            raise ValueError(f'quiet hours {text!r}: expected "HH:MM-HH:MM"')
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        return cls(time(h1, m1), time(h2, m2), zone)

    def ends_at(self, moment: datetime) -> datetime | None:
        """When the quiet hours around `moment` end (UTC), or None when it is not quiet."""
        local = moment.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return None
        overnight = self.start > self.end
        quiet = (
            (now >= self.start or now < self.end) if overnight else (self.start <= now < self.end)
        )
        if not quiet:
            return None
        day = local.date()
        if overnight and now >= self.start:
            day += timedelta(days=1)
        end = datetime.combine(day, self.end).replace(tzinfo=self.zone)
        return end.astimezone(UTC)

    def describe(self) -> str:
        """ "21:00–08:00", as people read a span."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

"""Quiet hours in local time (e.g. "21:00-08:00"): non-urgent rows wait for their end.

The span is read by `handlers.quiet_hours`, which the announce flow shares to tell a
coordinator when their announcement will really go out.
"""

from __future__ import annotations

from handlers.quiet_hours import QuietHours

__all__ = ["QuietHours"]

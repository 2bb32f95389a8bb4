"""Durations and daily spans as written in config.toml: "7d", "2h", "30m"; "21:00-08:00"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from handlers.quiet_hours import SPAN

_DURATION = re.compile(r"^(\d{1,4})([dhms])$")
__all__ = ["SPAN", "is_duration", "is_durations", "is_span", "parse_duration"]
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f'{text!r}: expected a number and a unit, e.g. "7d", "2h", "30m"')
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def is_duration(value: Any) -> bool:
    return isinstance(value, str) and bool(_DURATION.match(value.strip()))


def is_durations(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_duration(item) for item in value)


def is_span(text: str) -> bool:
    """A local "HH:MM-HH:MM" span, or "" for none."""
    return text == "" or bool(SPAN.match(text))

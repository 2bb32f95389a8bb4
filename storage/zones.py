"""Time zones from the `tzdata` package, never from the system's files.

Morocco moved to permanent UTC+00 on 2026-09-20; many systems' zone files still carry the
old rule. `zoneinfo` looks at the system's TZPATH before `tzdata`, so the path is emptied
here, once, for the whole process: every `ZoneInfo` then comes from the pinned package.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

zoneinfo.reset_tzpath(to=[])
zoneinfo.ZoneInfo.clear_cache()


class UnknownZone(ValueError):
    """A name that is not an IANA zone known to the tzdata package."""


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        # OSError: a folder of the tzdata package ("Africa") or a name too long for a file.
        raise UnknownZone(name) from error


def to_utc_text(moment: datetime) -> str:
    """An aware datetime as sortable UTC text: 2026-12-10T10:00:00Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach its zone before storing it")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def local_to_utc(wall_time: datetime, zone_name: str) -> datetime:
    """Wall time as entered (naive) in `zone_name`, as an aware UTC datetime; ValueError when
    that moment falls outside the years 1 to 9999 (0001-01-01 00:00 in Tokyo)."""
    try:
        return wall_time.replace(tzinfo=zone(zone_name)).astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{wall_time:%Y-%m-%d %H:%M} in {zone_name} is out of range") from error


LOCAL_FORMAT = "%Y-%m-%d %H:%M"
# Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits, as phones in Arabic type them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_LOCAL = re.compile(
    r"""^\s*
    (?: (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})           # 2026-12-09
      | (?P<d>\d{1,2})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2}) )  # 9/12/26
    (?: \s*[T,،]\s* | \s+ (?:(?:à|a|at|الساعة)\s+)? )
    (?P<hour>\d{1,2}) \s* (?: :\s*(?P<minute>\d{2}) | [hH]\s*(?P<minute_h>\d{2})? )
    \s*$""",
    re.VERBOSE,
)


def parse_local(text: str, zone_name: str) -> datetime:
    """A typed local date and time as aware UTC; ValueError when it is not one. Read as people
    type them in Morocco and France: `2026-12-09 09:00` (the catalogue's form), `09/12/2026
    09:00`, `9/12/26 9h` or `9.12.2026 à 9h30` (always day first), in Latin or Arabic-Indic
    digits. The CLI's `--at` and the chat's announce flow read times the same way."""
    match = _LOCAL.match(text.translate(_DIGITS))
    if match is None:
        raise ValueError(f"not a local date and time: {text[:40]!r}")
    parts = match.groupdict()
    if parts["year"] is not None:
        year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
    else:
        year, month, day = int(parts["y"]), int(parts["m"]), int(parts["d"])
        if len(parts["y"]) == 2:
            year += 2000
    minute = parts["minute"] or parts["minute_h"] or "0"
    wall_time = datetime(year, month, day, int(parts["hour"]), int(minute))
    return local_to_utc(wall_time, zone_name)


def now_utc() -> datetime:
    return datetime.now(UTC)
